"""Nightly: would list stale branches (the example keeps it to a log line)."""

from __future__ import annotations

from typing import Any

from components.runtime.observability import logger, observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.info("stale branch sweep", extra={"job": event.get("job")})
    return {"checked": 0}
