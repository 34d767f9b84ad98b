"""Function specs of the orders system's code for component tests (``system.functions.app_function``)."""

from __future__ import annotations

from typing import Any

from components.core.function import FunctionSpec
from system.functions import app_function


def spec(folder: str, function_class: str | None = None, **fields: Any) -> FunctionSpec:
    return app_function(folder, fields.pop("description", ""), function_class=function_class, **fields)
