"""Numeric ranges of args fields, declared once next to the field and its default.

``bounded(default, low, high)`` is a dataclass field whose range is data: the builder checks an
instance with :func:`out_of_bounds`, and a program's config reader checks the key it maps onto the
field with :func:`bounds`, so a bad stack setting is reported (by its key) before anything is
registered, against the same numbers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["bounded", "bounds", "out_of_bounds"]


def bounded(default: int, low: int, high: int, unit: str = "") -> Any:
    return dataclasses.field(default=default, metadata={"bounds": (low, high, unit)})


def bounds(cls: type, name: str) -> tuple[int, int, str]:
    """``(low, high, unit)`` of one bounded field of an args class."""
    for candidate in dataclasses.fields(cls):
        if candidate.name == name and "bounds" in candidate.metadata:
            return candidate.metadata["bounds"]
    raise KeyError(f"{cls.__name__}.{name} is not a bounded field")


def out_of_bounds(instance: Any) -> list[str]:
    """One line per bounded field of ``instance`` outside its range."""
    problems = []
    for candidate in dataclasses.fields(instance):
        if "bounds" not in candidate.metadata:
            continue
        low, high, unit = candidate.metadata["bounds"]
        value = getattr(instance, candidate.name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(f"{candidate.name} must be between {low} and {high}{unit} (got {value!r})")
    return problems
