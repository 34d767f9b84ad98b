"""Names a stream processor's infrastructure and handler agree on."""

from __future__ import annotations

# The processor's on-failure queue: where a record that can never be processed is parked, whole.
ON_FAILURE_QUEUE_URL_ENV = "ON_FAILURE_QUEUE_URL"
EVENT_BUS_ENV = "EVENT_BUS_NAME"
