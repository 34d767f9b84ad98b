"""Handlers for the local runtime's own tests (tests/e2e/test_event_sources.py)."""

from __future__ import annotations

import json
from typing import Any


def stream(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails the whole batch when any record is poison (bisect then isolates it)."""
    if any("poison" in r["dynamodb"].get("NewImage", {}) for r in event["Records"]):
        raise ValueError("poison record in the batch")
    return {}


def queue(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Reports the messages that ask to fail; the rest succeed."""
    failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"]).get("fail")]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def async_target(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An EventBridge rule's Lambda target: fails the events that ask to."""
    if event["detail"].get("fail"):
        raise RuntimeError("asked to fail")
    return {"ok": event["detail"]["n"]}
