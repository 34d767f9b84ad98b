"""Physical names: readable, unique per stack, within each service's length limit."""

from __future__ import annotations

import hashlib

from components.core.defaults import StackDefaults

__all__ = ["physical_name"]


def physical_name(settings: StackDefaults, name: str, *, max_length: int = 64, suffix: str = "") -> str:
    """``<service>-<stack>-<name><suffix>``, shortened with a stable hash when it would not fit.

    Explicit names keep log groups (``/aws/lambda/<function name>``) and alarms predictable.
    """
    full = f"{settings.service}-{settings.stack}-{name}"
    if len(full) + len(suffix) <= max_length:
        return full + suffix
    digest = hashlib.sha256(full.encode()).hexdigest()[:7]
    keep = max_length - len(suffix) - len(digest) - 1
    return f"{full[:keep]}-{digest}{suffix}"
