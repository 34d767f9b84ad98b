"""The builders every component is made of (functions, queues, tables, HTTP APIs, alarms) and the
stack-wide objects a program hands the components (:class:`StackDefaults`, :class:`StackContext`)."""

from __future__ import annotations

from components.core.context import StackContext
from components.core.defaults import StackDefaults
from components.core.errors import ComponentConfigError

__all__ = ["ComponentConfigError", "StackContext", "StackDefaults"]
