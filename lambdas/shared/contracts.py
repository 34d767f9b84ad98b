"""Domain event contracts: one module for producers, consumers and the infrastructure's rules.

Every event: source (``orders`` or ``payments``), detail-type = the event name, and a detail with
``version``, ``occurredAt``, ``eventId`` (added by the outbox relay) and the business fields.
Consumers call :func:`parse`, which accepts the versions it knows, upgrades old ones to the
latest model, and rejects the rest with :class:`UnsupportedEventError`. :func:`pattern` builds
EventBridge event patterns from the same names, so rules and code cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class UnsupportedEventError(ValueError):
    """An event this consumer does not know: unknown name or version, or an invalid detail."""


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: int
    occurredAt: str  # noqa: N815 - the wire name
    eventId: str | None = None  # noqa: N815


class OrderPlacedV1(_Detail):
    orderId: str  # noqa: N815
    customerId: str  # noqa: N815
    currency: str
    totalAmount: Decimal  # noqa: N815


class OrderPlacedV2(OrderPlacedV1):
    itemCount: int | None = None  # noqa: N815 - v2 adds it; v1 events upgrade with None


class OrderPaidV1(_Detail):
    orderId: str  # noqa: N815
    customerId: str | None = None  # noqa: N815
    paymentId: str  # noqa: N815
    totalAmount: Decimal  # noqa: N815
    currency: str


class OrderCancelledV1(_Detail):
    orderId: str  # noqa: N815
    reason: str


class OrderExpiredV1(_Detail):
    orderId: str  # noqa: N815
    reason: str


class PaymentFailedV1(_Detail):
    orderId: str  # noqa: N815
    paymentId: str  # noqa: N815
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Contract:
    name: str
    source: str
    versions: Mapping[int, type[_Detail]]
    upgrades: Mapping[int, Callable[[dict[str, Any]], dict[str, Any]]] = None  # type: ignore[assignment]

    @property
    def latest(self) -> int:
        return max(self.versions)


CONTRACTS: dict[str, Contract] = {c.name: c for c in (
    Contract("OrderPlaced", "orders", {1: OrderPlacedV1, 2: OrderPlacedV2},
             upgrades={1: lambda detail: {**detail, "version": 2, "itemCount": detail.get("itemCount")}}),
    Contract("OrderPaid", "payments", {1: OrderPaidV1}),
    Contract("OrderCancelled", "orders", {1: OrderCancelledV1}),
    Contract("OrderExpired", "orders", {1: OrderExpiredV1}),
    Contract("PaymentFailed", "payments", {1: PaymentFailedV1}),
)}
ORDER_EVENTS = ("OrderPlaced", "OrderPaid", "OrderCancelled", "OrderExpired")


def parse(event: Mapping[str, Any], accepted: tuple[str, ...] | None = None) -> tuple[str, _Detail]:
    """An EventBridge event (``source``, ``detail-type``, ``detail``) as its latest model."""
    name = event.get("detail-type")
    contract = CONTRACTS.get(name)  # type: ignore[arg-type]
    if contract is None or (accepted is not None and name not in accepted):
        raise UnsupportedEventError(f"unsupported event {name!r}")
    if event.get("source") != contract.source:
        raise UnsupportedEventError(f"{name} must come from {contract.source!r}, not {event.get('source')!r}")
    detail = dict(event.get("detail") or {})
    version = detail.get("version")
    if version not in contract.versions:
        raise UnsupportedEventError(f"{name} version {version!r} is not one of {sorted(contract.versions)}")
    while version != contract.latest:
        detail = (contract.upgrades or {})[version](detail)
        version = detail["version"]
    try:
        return name, contract.versions[version].model_validate(detail)
    except ValidationError as error:
        raise UnsupportedEventError(f"{name} v{version} detail is invalid: {error.error_count()} problem(s)") from error


def pattern(*names: str, detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An EventBridge event pattern for these events, optionally with content filters on the detail."""
    unknown = [n for n in names if n not in CONTRACTS]
    if unknown or not names:
        raise ValueError(f"unknown events {unknown}; known: {sorted(CONTRACTS)}")
    result: dict[str, Any] = {
        "source": sorted({CONTRACTS[n].source for n in names}),
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
