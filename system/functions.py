"""How the orders system's functions are packaged: a folder of ``lambdas/``, the shared helpers in
``lambdas/shared`` beside it, and the library runtime modules every handler imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.core.function import FunctionSpec

LAMBDAS_ROOT = Path(__file__).resolve().parent.parent / "lambdas"
SHARED_FOLDERS = ("shared",)
# Every handler logs, traces and measures through components.runtime.observability and reads its
# environment with components.runtime.environment; shared/http.py builds on components.runtime.http.
RUNTIME_MODULES = ("observability", "environment", "http")


def app_function(folder: str, description: str, **fields: Any) -> FunctionSpec:
    """A function of the orders system, by its folder under ``lambdas/``."""
    runtime = tuple(dict.fromkeys((*RUNTIME_MODULES, *fields.pop("runtime_modules", ()))))
    return FunctionSpec(folder=folder, description=description, code_root=LAMBDAS_ROOT, shared=SHARED_FOLDERS,
                        runtime_modules=runtime, **fields)
