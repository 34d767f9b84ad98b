"""Names a StreamProcessor tells the function it connects (its environment) and the handler reads."""

from __future__ import annotations

# The processor's on-failure queue: where a record that can never be processed is parked, whole.
ON_FAILURE_QUEUE_URL_ENV = "ON_FAILURE_QUEUE_URL"

__all__ = ["ON_FAILURE_QUEUE_URL_ENV"]
