"""The one base of every error the library raises for a configuration it refuses."""

from __future__ import annotations

__all__ = ["ComponentConfigError"]


class ComponentConfigError(ValueError):
    """A component's arguments (or a stack's settings) describe something that cannot be deployed
    safely; raised before the resource in question is registered. Catch this one class to report
    any of them."""
