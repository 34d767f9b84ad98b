"""The events of the system and their EventBridge patterns, as plain data.

The infrastructure builds its rules from this module alone, so deploying imports no handler-only
library (the detail models, with pydantic, live in contracts.py, which checks it has one model per
event named here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["EVENT_SOURCES", "ORDER_EVENTS", "anything_but", "exists", "greater_than", "pattern", "prefix"]

# Event name (the detail-type) -> the source that publishes it.
EVENT_SOURCES: Mapping[str, str] = {
    "OrderPlaced": "orders",
    "OrderPaid": "payments",
    "OrderCancelled": "orders",
    "OrderExpired": "orders",
    "PaymentFailed": "payments",
    # The fulfilment saga's outcomes (its outbox events, published by the relay like every other).
    "OrderFulfilled": "fulfilment",
    "OrderFulfilmentFailed": "fulfilment",
    "RefundRequested": "fulfilment",
}
ORDER_EVENTS = ("OrderPlaced", "OrderPaid", "OrderCancelled", "OrderExpired")


def pattern(*names: str, detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An EventBridge event pattern for these events, optionally with content filters on the detail."""
    unknown = [n for n in names if n not in EVENT_SOURCES]
    if unknown or not names:
        raise ValueError(f"unknown events {unknown}; known: {sorted(EVENT_SOURCES)}")
    result: dict[str, Any] = {
        "source": sorted({EVENT_SOURCES[n] for n in names}),
        "detail-type": list(names),
    }
    if detail:
        result["detail"] = dict(detail)
    return result


# Content filters (EventBridge pattern operators).
def greater_than(value: float) -> list[dict[str, Any]]:
    return [{"numeric": [">", value]}]


def prefix(value: str) -> list[dict[str, Any]]:
    return [{"prefix": value}]


def anything_but(*values: Any) -> list[dict[str, Any]]:
    return [{"anything-but": list(values)}]


def exists(present: bool = True) -> list[dict[str, Any]]:
    return [{"exists": present}]
