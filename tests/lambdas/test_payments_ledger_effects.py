"""The payments ledger's effects, item by item: exactly what a payment writes, for each outcome.

These pin the stored shapes (the order's fields, the outbox detail consumers read, the exception
an operator reconciles) that a broken mutation of payments.py would change silently."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from tests.lambdas.orders_fixtures import cancel, orders_table, payments_ledger, place, scan

NOW = datetime(2026, 11, 23, 12, 0, 30, 123000, tzinfo=UTC)
STAMP = "2026-11-23T12:00:30.123Z"


@pytest.fixture
def ledger(aws):
    client = orders_table()
    return payments_ledger(client), client


def event(kind: str, order_id: str, amount: str = "10.00", currency: str = "EUR", payment: str = "pay-1"):
    from payments_worker.payments import PaymentEvent

    return PaymentEvent(type=kind, data={"orderId": order_id, "paymentId": payment, "amount": amount,
                                         "currency": currency})


def items_of(client, entity: str) -> list[dict]:
    return [i for i in scan(client) if i.get("entity") == entity]


def test_a_matching_payment_writes_exactly_the_paid_order_and_its_event(ledger) -> None:
    payments, client = ledger
    order_id = place(client, NOW)
    assert payments.apply("wh-1", event("payment.succeeded", order_id), NOW) == "paid"
    [order] = items_of(client, "order")
    assert (order["state"], order["paymentId"], order["paidAt"], order["updatedAt"]) == ("PAID", "pay-1", STAMP, STAMP)
    assert "pendingShard" not in order and "pendingSince" not in order  # gone from the PENDING index
    paid = [o for o in items_of(client, "outbox") if o["eventType"] == "OrderPaid"]
    assert len(paid) == 1
    assert (paid[0]["source"], paid[0]["occurredAt"]) == ("payments", STAMP)
    assert paid[0]["detail"] == {"version": 2, "occurredAt": STAMP, "orderId": order_id, "customerId": "c-1",
                                 "paymentId": "pay-1", "totalAmount": "10.00", "currency": "EUR"}


def test_a_failed_payment_writes_one_event_under_the_webhooks_key(ledger) -> None:
    payments, client = ledger
    order_id = place(client, NOW)
    assert payments.apply("wh-f", event("payment.failed", order_id, amount="10.50"), NOW) == "failed-recorded"
    assert payments.apply("wh-f", event("payment.failed", order_id, amount="10.50"), NOW) == "duplicate"
    [failed] = [o for o in items_of(client, "outbox") if o["eventType"] == "PaymentFailed"]
    assert failed["pk"] == f"ORDER#{order_id}" and failed["sk"] == "OUTBOX#PaymentFailed#wh-f"
    assert failed["eventId"] == str(uuid.uuid5(uuid.NAMESPACE_URL, "payment-failed/wh-f"))
    assert (failed["source"], failed["occurredAt"]) == ("payments", STAMP)
    assert failed["detail"] == {"version": 2, "occurredAt": STAMP, "orderId": order_id, "paymentId": "pay-1",
                                "amount": "10.50", "currency": "EUR"}
    assert items_of(client, "order")[0]["state"] == "PENDING"  # a failure changes nothing else


@pytest.mark.parametrize(("setup", "kind", "amount", "currency", "outcome"), [
    ("none", "payment.succeeded", "10.00", "EUR", "exception:unknown-order"),
    ("none", "payment.failed", "10.00", "EUR", "exception:unknown-order"),
    ("pending", "payment.succeeded", "10.01", "EUR", "exception:amount-mismatch"),
    ("pending", "payment.succeeded", "10.00", "USD", "exception:currency-mismatch"),
    ("cancelled", "payment.succeeded", "10.00", "EUR", "exception:order-cancelled"),
    ("cancelled", "payment.failed", "10.00", "EUR", "exception:failed-after-cancelled"),
])
def test_payments_that_cannot_be_applied_are_recorded_exactly(ledger, setup, kind, amount, currency, outcome) -> None:
    payments, client = ledger
    order_id = str(uuid.uuid4())
    if setup != "none":
        order_id = place(client, NOW)
    if setup == "cancelled":
        cancel(client, order_id, NOW)
    assert payments.apply("wh-x", event(kind, order_id, amount=amount, currency=currency), NOW) == outcome
    [exception] = items_of(client, "payment_exception")
    assert exception == {"pk": "PAYMENT#pay-1", "sk": "EXCEPTION#wh-x", "entity": "payment_exception",
                         "reason": outcome.split(":", 1)[1], "orderId": order_id, "paymentId": "pay-1",
                         "amount": Decimal(amount), "currency": currency, "webhookId": "wh-x", "recordedAt": STAMP}
    assert not [o for o in items_of(client, "outbox") if o["eventType"] in ("OrderPaid", "PaymentFailed")]


def test_a_second_different_payment_for_a_paid_order_is_an_exception_and_the_same_one_a_duplicate(ledger) -> None:
    payments, client = ledger
    order_id = place(client, NOW)
    assert payments.apply("wh-1", event("payment.succeeded", order_id), NOW) == "paid"
    assert payments.apply("wh-2", event("payment.succeeded", order_id), NOW) == "duplicate"
    assert payments.apply("wh-3", event("payment.succeeded", order_id, payment="pay-2"), NOW) == "exception:order-paid"
    assert len([o for o in items_of(client, "outbox") if o["eventType"] == "OrderPaid"]) == 1


def test_other_event_types_change_nothing(ledger) -> None:
    payments, client = ledger
    order_id = place(client, NOW)
    before = scan(client)
    assert payments.apply("wh-r", event("payment.refunded", order_id), NOW) == "ignored:payment.refunded"
    assert scan(client) == before


def test_a_cancel_that_wins_the_race_turns_the_payment_into_an_exception(ledger, monkeypatch) -> None:
    payments, client = ledger
    order_id = place(client, NOW)
    original = client.transact_write_items

    def cancelled_first(**kwargs):
        monkeypatch.setattr(client, "transact_write_items", original)
        cancel(client, order_id, NOW)  # lands between the ledger's read and its transaction
        return original(**kwargs)

    monkeypatch.setattr(client, "transact_write_items", cancelled_first)
    assert payments.apply("wh-race", event("payment.succeeded", order_id), NOW) == "exception:order-cancelled"
    assert items_of(client, "order")[0]["state"] == "CANCELLED"


def test_a_transient_fault_in_the_transaction_fails_the_record(ledger, monkeypatch) -> None:
    payments, client = ledger
    order_id = place(client, NOW)

    def throttled(**_):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "TransactWriteItems")

    monkeypatch.setattr(client, "transact_write_items", throttled)
    with pytest.raises(ClientError):
        payments.apply("wh-t", event("payment.succeeded", order_id), NOW)
    assert items_of(client, "payment_exception") == []


@pytest.mark.parametrize("amount", ["-1", "NaN", "Infinity"])
def test_invalid_payment_data_is_poison(ledger, amount) -> None:
    from payments_worker.payments import PoisonMessageError

    payments, client = ledger
    with pytest.raises(PoisonMessageError):
        payments.apply("wh-p", event("payment.succeeded", place(client, NOW), amount=amount), NOW)
