"""A function's environment, typed and read once at init: a frozen dataclass whose fields name the
variables the component set. A missing or malformed variable fails the cold start with one line
naming each, instead of a KeyError deep in the first request."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["EnvironmentConfigError", "read_environment", "variable"]

T = TypeVar("T")
_UNSET: Any = object()


class EnvironmentConfigError(RuntimeError):
    """The function was deployed without a variable its handler needs (a wiring bug, not a request's fault)."""


def variable(name: str, *, default: Any = _UNSET, parse: Callable[[str], Any] = str) -> Any:
    """A field read from the environment variable ``name``, parsed by ``parse``."""
    metadata = {"variable": name, "parse": parse}
    if default is _UNSET:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def read_environment(cls: type[T], environ: Mapping[str, str] = os.environ) -> T:
    values: dict[str, Any] = {}
    problems = []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = field.metadata["variable"]
        if name not in environ:
            if field.default is dataclasses.MISSING:
                problems.append(f"{name} is not set")
            continue
        try:
            values[field.name] = field.metadata["parse"](environ[name])
        except ValueError:
            problems.append(f"{name} is malformed")  # the value itself may be a secret's ARN: not echoed
    if problems:
        raise EnvironmentConfigError(f"{cls.__name__}: " + "; ".join(problems))
    return cls(**values)
