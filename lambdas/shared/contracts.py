"""Domain event contracts: one module for producers, consumers and the infrastructure's rules.

Every event: source (``orders`` or ``payments``), detail-type = the event name, and a detail with
``version``, ``occurredAt``, ``eventId`` (added by the outbox relay) and the business fields.
Consumers call :func:`parse`, which accepts the versions it knows, upgrades old ones to the
latest model, and rejects the rest with :class:`UnsupportedEventError`. :func:`pattern` builds
EventBridge event patterns from the same names, so rules and code cannot drift apart.

Amounts (``totalAmount``, ``amount``) are JSON strings with the exact decimal text from the
latest versions on (OrderPlaced v3, OrderPaid v2, PaymentFailed v2; see shared/money.py); older
versions carried JSON numbers and are upgraded. OrderPlaced v3 adds ``totalAmountRoundedUp``, a
whole number for EventBridge's numeric filters (exact for "greater than a whole threshold"),
never money.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from .event_catalog import EVENT_SOURCES, ORDER_EVENTS, anything_but, exists, greater_than, pattern, prefix
from .money import amount_text, parse_amount, rounded_up  # relative: imported as shared.* and lambdas.shared.*

__all__ = ["CONTRACTS", "ORDER_EVENTS", "UnsupportedEventError", "anything_but", "exists", "greater_than", "parse",
           "pattern", "prefix"]

# An amount on the wire from v3/v2 on: its decimal text only (a JSON number would be a float).
Amount = Annotated[Decimal, BeforeValidator(parse_amount)]


class UnsupportedEventError(ValueError):
    """An event this consumer does not know: unknown name or version, or an invalid detail."""


class _Detail(BaseModel):
    # Built on first use: a consumer pays only for the versions it receives (~4 ms each), not for all of them at import.
    model_config = ConfigDict(extra="ignore", defer_build=True)
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


class OrderPlacedV3(OrderPlacedV2):
    totalAmount: Amount  # noqa: N815 - a decimal string from v3 on
    totalAmountRoundedUp: int  # noqa: N815 - for numeric routing only


class OrderPaidV1(_Detail):
    orderId: str  # noqa: N815
    customerId: str | None = None  # noqa: N815
    paymentId: str  # noqa: N815
    totalAmount: Decimal  # noqa: N815
    currency: str


class OrderPaidV2(OrderPaidV1):
    totalAmount: Amount  # noqa: N815


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


class PaymentFailedV2(PaymentFailedV1):
    amount: Amount


class OrderFulfilledV1(_Detail):
    orderId: str  # noqa: N815
    shipmentId: str  # noqa: N815
    trackingId: str | None = None  # noqa: N815


class OrderFulfilmentFailedV1(_Detail):
    orderId: str  # noqa: N815
    reason: str  # the error that stopped the saga (OutOfStock, ApprovalRejected, States.Timeout, ...)


class RefundRequestedV1(_Detail):
    orderId: str  # noqa: N815
    paymentId: str  # noqa: N815
    amount: Amount
    currency: str
    reason: str


def _as_text(field: str, version: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Upgrade an event whose amount was a JSON number to the version that carries its text."""
    def upgrade(detail: dict[str, Any]) -> dict[str, Any]:
        value = detail.get(field)
        text = amount_text(Decimal(str(value))) if isinstance(value, (int, float, Decimal)) else value
        return {**detail, "version": version, field: text}
    return upgrade


def _order_placed_v3(detail: dict[str, Any]) -> dict[str, Any]:
    upgraded = _as_text("totalAmount", 3)(detail)
    try:
        rounded = rounded_up(parse_amount(upgraded["totalAmount"]))
    except (KeyError, ValueError, TypeError):
        rounded = None  # the v3 model reports the invalid amount
    return {**upgraded, "totalAmountRoundedUp": rounded}


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
    Contract("OrderPlaced", EVENT_SOURCES["OrderPlaced"], {1: OrderPlacedV1, 2: OrderPlacedV2, 3: OrderPlacedV3},
             upgrades={1: lambda detail: {**detail, "version": 2, "itemCount": detail.get("itemCount")},
                       2: _order_placed_v3}),
    Contract("OrderPaid", EVENT_SOURCES["OrderPaid"], {1: OrderPaidV1, 2: OrderPaidV2}, upgrades={1: _as_text("totalAmount", 2)}),
    Contract("OrderCancelled", EVENT_SOURCES["OrderCancelled"], {1: OrderCancelledV1}),
    Contract("OrderExpired", EVENT_SOURCES["OrderExpired"], {1: OrderExpiredV1}),
    Contract("PaymentFailed", EVENT_SOURCES["PaymentFailed"], {1: PaymentFailedV1, 2: PaymentFailedV2},
             upgrades={1: _as_text("amount", 2)}),
    Contract("OrderFulfilled", EVENT_SOURCES["OrderFulfilled"], {1: OrderFulfilledV1}),
    Contract("OrderFulfilmentFailed", EVENT_SOURCES["OrderFulfilmentFailed"], {1: OrderFulfilmentFailedV1}),
    Contract("RefundRequested", EVENT_SOURCES["RefundRequested"], {1: RefundRequestedV1}),
)}
if set(CONTRACTS) != set(EVENT_SOURCES):  # one list of events: the catalog the rules are built from
    raise RuntimeError(f"contracts {sorted(CONTRACTS)} differ from the event catalog {sorted(EVENT_SOURCES)}")


def parse(event: Mapping[str, Any], accepted: tuple[str, ...] | None = None) -> tuple[str, _Detail]:
    """An EventBridge event (``source``, ``detail-type``, ``detail``) as its latest model."""
    if not isinstance(event, Mapping):
        raise UnsupportedEventError("an event must be a JSON object")
    name = event.get("detail-type")
    contract = CONTRACTS.get(name) if isinstance(name, str) else None
    if contract is None or (accepted is not None and name not in accepted):
        raise UnsupportedEventError(f"unsupported event {name!r}")
    if event.get("source") != contract.source:
        raise UnsupportedEventError(f"{name} must come from {contract.source!r}, not {event.get('source')!r}")
    raw_detail = event.get("detail") or {}
    if not isinstance(raw_detail, Mapping):
        raise UnsupportedEventError(f"{name} detail must be a JSON object")
    detail = dict(raw_detail)
    version = detail.get("version")
    if isinstance(version, Decimal) and version.is_finite() and version == version.to_integral_value():
        version = int(version)  # read back from DynamoDB
    if not isinstance(version, int) or isinstance(version, bool) or version not in contract.versions:
        raise UnsupportedEventError(f"{name} version {version!r} is not one of {sorted(contract.versions)}")
    try:
        while version != contract.latest:
            detail = (contract.upgrades or {})[version](detail)
            version = detail["version"]
    except (ArithmeticError, TypeError, ValueError, KeyError) as error:
        raise UnsupportedEventError(f"{name} v{version} detail cannot be upgraded: {error}") from error
    try:
        return name, contract.versions[version].model_validate(detail)
    except ValidationError as error:
        raise UnsupportedEventError(f"{name} v{version} detail is invalid: {error.error_count()} problem(s)") from error
