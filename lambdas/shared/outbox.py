"""Outbox items: a domain event written in the same DynamoDB transaction as the state change.

The outbox relay (table stream -> event bus) publishes them; the TTL removes them afterwards.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.orders_schema import OUTBOX_PREFIX, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, order_key

OUTBOX_RETENTION = timedelta(days=7)
EVENT_VERSION = 1


def iso(moment: datetime) -> str:
    """UTC, millisecond precision, sortable as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def outbox_item(order_id: str | None, event_type: str, source: str, detail: dict[str, Any], now: datetime,
                event_id: str | None = None, key: dict[str, str] | None = None,
                version: int = EVENT_VERSION) -> dict[str, Any]:
    """An outbox item beside its order (same partition, so the stream keeps an order's events in
    order), or at ``key`` for events that belong to no order (a daily summary)."""
    event_id = event_id or str(uuid.uuid4())
    occurred_at = iso(now)
    if key is None:
        if order_id is None:
            raise ValueError("an outbox item needs an order id or an explicit key")
        key = {PARTITION_KEY: order_key(order_id)[PARTITION_KEY], SORT_KEY: f"{OUTBOX_PREFIX}{occurred_at}#{event_id}"}
    return {
        **key,
        "entity": "outbox",
        "eventId": event_id,
        "eventType": event_type,
        "source": source,
        "occurredAt": occurred_at,
        "detail": {"version": version, "occurredAt": occurred_at, **detail},
        TTL_ATTRIBUTE: int((now + OUTBOX_RETENTION).timestamp()),
    }
