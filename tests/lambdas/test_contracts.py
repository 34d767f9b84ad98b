"""The event contracts, and every producer's outbox detail validated against them (both sides pinned)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from lambdas.shared import contracts
from tests.lambdas.orders_fixtures import cancel, orders_table, pay, place, scan

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def event(name: str, detail: dict) -> dict:
    return {"source": contracts.CONTRACTS[name].source, "detail-type": name, "detail": detail}


def test_v1_order_placed_is_upgraded_to_the_latest() -> None:
    name, model = contracts.parse(event("OrderPlaced", {"version": 1, "occurredAt": "t", "orderId": "o", "customerId": "c",
                                                         "currency": "EUR", "totalAmount": 12.5}))
    assert name == "OrderPlaced" and model.version == 3 and model.itemCount is None
    assert model.totalAmount == Decimal("12.5") and model.totalAmountRoundedUp == 13


@pytest.mark.parametrize(("name", "detail"), [
    ("OrderPlaced", {"version": 3, "occurredAt": "t", "orderId": "o", "customerId": "c", "currency": "EUR",
                     "totalAmount": 12.5, "totalAmountRoundedUp": 13}),
    ("OrderPaid", {"version": 2, "occurredAt": "t", "orderId": "o", "paymentId": "p", "totalAmount": 1.1,
                   "currency": "EUR"}),
    ("PaymentFailed", {"version": 2, "occurredAt": "t", "orderId": "o", "paymentId": "p", "amount": "1e3",
                       "currency": "EUR"}),
])
def test_from_the_string_versions_on_an_amount_must_be_decimal_text(name, detail) -> None:
    with pytest.raises(contracts.UnsupportedEventError):
        contracts.parse(event(name, detail))


@pytest.mark.parametrize(("name", "detail", "source"), [
    ("OrderPlaced", {"version": 4, "occurredAt": "t"}, None),           # unknown version
    ("OrderShipped", {"version": 1, "occurredAt": "t"}, "orders"),      # unknown event
    ("OrderPaid", {"version": 1, "occurredAt": "t", "orderId": "o"}, None),  # invalid detail
    ("OrderPaid", {"version": 1, "occurredAt": "t", "orderId": "o", "paymentId": "p", "totalAmount": 1,
                   "currency": "EUR"}, "orders"),                       # wrong source
])
def test_unknown_or_invalid_events_are_rejected_clearly(name, detail, source) -> None:
    candidate = {"source": source or contracts.CONTRACTS[name].source, "detail-type": name, "detail": detail}
    with pytest.raises(contracts.UnsupportedEventError):
        contracts.parse(candidate)


def test_consumers_may_limit_what_they_accept() -> None:
    with pytest.raises(contracts.UnsupportedEventError):
        contracts.parse(event("OrderCancelled", {"version": 1, "occurredAt": "t", "orderId": "o", "reason": "x"}),
                        accepted=("OrderPaid",))


def test_patterns_name_sources_and_detail_types_and_refuse_unknown_events() -> None:
    assert contracts.pattern("OrderPaid", "OrderPlaced") == {"source": ["orders", "payments"],
                                                             "detail-type": ["OrderPaid", "OrderPlaced"]}
    with pytest.raises(ValueError):
        contracts.pattern("OrderShipped")
    assert contracts.prefix("EU") == [{"prefix": "EU"}]
    assert contracts.anything_but("test") == [{"anything-but": ["test"]}]
    assert contracts.exists() == [{"exists": True}]


def test_every_producer_writes_details_its_contract_accepts(aws) -> None:
    from expire_unpaid_orders.expiry import Expirer

    from tests.lambdas.orders_fixtures import TABLE

    client = orders_table()
    paid, cancelled, unpaid = (place(client, NOW - timedelta(hours=3)) for _ in range(3))
    failed = place(client, NOW)  # still PENDING after the expiry run: its failed payment is an event
    pay(client, paid, NOW)
    cancel(client, cancelled, NOW)
    Expirer(client, TABLE).run(NOW, NOW - timedelta(hours=1), lambda: 10**9)
    from payments_worker.payments import PaymentEvent

    from tests.lambdas.orders_fixtures import payments_ledger

    payments_ledger(client).apply("wh-f", PaymentEvent(type="payment.failed", data={
        "orderId": failed, "paymentId": "p-f", "amount": "10.00", "currency": "EUR"}), NOW)
    produced = {}
    for item in scan(client):
        if item.get("entity") == "outbox" and item["eventType"] in contracts.CONTRACTS:
            name, model = contracts.parse({"source": item["source"], "detail-type": item["eventType"],
                                           "detail": {**item["detail"], "eventId": item["eventId"]}})
            produced.setdefault(name, model)
            # Producers write the latest version, so no consumer ever runs an upgrade on them.
            assert item["detail"]["version"] == contracts.CONTRACTS[name].latest, name
    assert set(produced) == {"OrderPlaced", "OrderPaid", "OrderCancelled", "OrderExpired", "PaymentFailed"}
    assert unpaid
