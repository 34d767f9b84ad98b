"""The saga's steps one by one under moto: each repeated has no second effect, hostile payloads are
refused with StepInputError (the state machine's Catch), and the adapter answers as Lambda does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.lambdas.orders_fixtures import TABLE, orders_table, payments_ledger, scan

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:saga:one"


@pytest.fixture
def steps(aws):
    from fulfilment.steps import FulfilmentSteps

    client = orders_table()
    return FulfilmentSteps(client, TABLE, Decimal(1000), now=lambda: NOW)


def paid_order(steps, quantity: int = 2) -> str:
    from orders_api.models import CreateOrder
    from orders_api.repository import OrdersRepository
    from payments_worker.payments import PaymentEvent

    command = CreateOrder.model_validate({"customerId": "c", "currency": "EUR",
                                          "items": [{"sku": "widget", "quantity": quantity, "unitPrice": "10"}]})
    order = OrdersRepository(steps.dynamodb, TABLE).place(command, NOW)["orderId"]
    payments_ledger(steps.dynamodb).apply(f"wh-{order}", PaymentEvent(type="payment.succeeded", data={
        "orderId": order, "paymentId": f"pay-{order}", "amount": str(command.total()), "currency": "EUR"}), NOW)
    steps.dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "STOCK#widget"}, "sk": {"S": "STOCK"}, "available": {"N": "5"}})
    return order


def snapshot(steps) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True, default=str) for item in scan(steps.dynamodb))


def test_every_step_run_twice_writes_nothing_the_first_run_did_not(steps) -> None:
    order = paid_order(steps)
    base = {"orderId": order, "execution": EXECUTION}
    payloads = [
        {"step": "begin", "execution": EXECUTION, "event": {"orderId": order}},
        {"step": "reserve", **base, "line": {"sku": "widget", "quantity": 2}},
        {"step": "create_shipment", **base},
        {"step": "send_confirmation", **base, "customerId": "c"},
        {"step": "mark_fulfilled", **base, "shipmentId": f"SHP-{order}", "carrier": {"trackingId": "T"}},
        {"step": "cancel_shipment", **base},
        {"step": "release", **base, "line": {"sku": "widget", "quantity": 2}},
        {"step": "refund", **base, "error": {"Error": "OutOfStockError"}},
        {"step": "mark_failed", **base, "error": {"Error": "OutOfStockError"}},
    ]
    outcomes = []
    for payload in payloads:
        steps.run(payload)
        after_first = snapshot(steps)
        outcomes.append((payload["step"], steps.run(payload), after_first == snapshot(steps)))
    assert [(step, same) for step, _, same in outcomes] == [(p["step"], True) for p in payloads]
    answers = {step: answer for step, answer, _ in outcomes}
    assert answers["reserve"] == {"sku": "widget", "reserved": 2}
    assert answers["release"] == {"sku": "widget", "released": 0}  # the second run: nothing left to give back
    assert answers["refund"] == {"refund": "already requested"}
    events = sorted(i["eventType"] for i in scan(steps.dynamodb) if i.get("entity") == "outbox" and i["source"] == "fulfilment")
    assert events == ["OrderFulfilled", "OrderFulfilmentFailed", "RefundRequested"]


def test_another_execution_cannot_claim_a_claimed_order_and_an_unpaid_one_is_not_claimed(steps) -> None:
    from fulfilment.steps import AlreadyFulfillingError, OrderNotPaidError

    order = paid_order(steps)
    claimed = steps.run({"step": "begin", "execution": EXECUTION, "event": {"orderId": order}})
    assert (claimed["orderId"], claimed["items"], claimed["highValue"], claimed["totalAmount"]) == (
        order, [{"sku": "widget", "quantity": 2}], False, "20")
    with pytest.raises(AlreadyFulfillingError, match=EXECUTION):
        steps.run({"step": "begin", "execution": EXECUTION + "-again", "event": {"orderId": order}})
    with pytest.raises(OrderNotPaidError, match="does not exist"):
        steps.run({"step": "begin", "execution": EXECUTION, "event": {"orderId": "no-such-order"}})


def test_a_line_beyond_the_stock_is_out_of_stock_and_takes_nothing(steps) -> None:
    from fulfilment.steps import OutOfStockError

    order = paid_order(steps)
    with pytest.raises(OutOfStockError, match="widget: fewer than 6 available"):
        steps.run({"step": "reserve", "orderId": order, "execution": EXECUTION, "line": {"sku": "widget", "quantity": 6}})
    with pytest.raises(OutOfStockError):  # an unknown SKU has no stock at all
        steps.run({"step": "reserve", "orderId": order, "execution": EXECUTION, "line": {"sku": "nope", "quantity": 1}})
    stock = next(i for i in scan(steps.dynamodb) if i["pk"] == "STOCK#widget" and i["sk"] == "STOCK")
    assert stock["available"] == 5 and not [i for i in scan(steps.dynamodb) if i.get("entity") == "reservation"]


@pytest.mark.parametrize("payload", [
    None, [], "begin", {}, {"step": "nope"}, {"step": 7},
    {"step": "reserve", "orderId": "o", "line": {"sku": "widget", "quantity": 0}},
    {"step": "reserve", "orderId": "o", "line": {"sku": "widget", "quantity": True}},
    {"step": "reserve", "orderId": "o", "line": {"sku": "widget", "quantity": 1.5}},
    {"step": "reserve", "orderId": "o", "line": {"sku": "", "quantity": 1}},
    {"step": "reserve", "orderId": "o", "line": "widget"},
    {"step": "reserve", "orderId": "x" * 5000, "line": {"sku": "widget", "quantity": 1}},
    {"step": "begin", "execution": EXECUTION, "event": "not an object"},
    {"step": "begin", "event": {"orderId": "o"}},
    {"step": "await_callback", "orderId": "o", "taskToken": "t", "callback": "someone-else"},
    {"step": "mark_fulfilled", "orderId": "o", "execution": EXECUTION},
])
def test_hostile_payloads_are_refused_as_step_input_errors(steps, payload) -> None:
    from fulfilment.steps import StepInputError

    before = snapshot(steps)
    with pytest.raises(StepInputError):
        steps.run(payload)
    assert snapshot(steps) == before


def test_the_reason_is_bounded_and_defaults_when_the_error_is_missing(steps) -> None:
    order = paid_order(steps)
    steps.run({"step": "begin", "execution": EXECUTION, "event": {"orderId": order}})
    answer = steps.run({"step": "mark_failed", "orderId": order, "execution": EXECUTION, "error": {"Error": "E" * 500}})
    assert answer == {"fulfilment": "FULFILMENT_FAILED", "reason": "E" * 200}
    other = paid_order(steps)
    steps.run({"step": "begin", "execution": EXECUTION + "2", "event": {"orderId": other}})
    assert steps.run({"step": "mark_failed", "orderId": other, "execution": EXECUTION + "2"})["reason"] == "Unknown"


def test_the_adapter_answers_like_lambda() -> None:
    import io

    from tools.local.sfn import LambdaTaskClient

    def invoke(function: str, event: dict) -> dict:
        if event.get("fail"):
            raise KeyError("missing")
        return {"echo": event, "function": function}

    client = LambdaTaskClient(invoke)
    ok = client.invoke(FunctionName="fn", Payload=json.dumps({"a": 1}).encode())
    assert "FunctionError" not in ok and json.load(ok["Payload"]) == {"echo": {"a": 1}, "function": "fn"}
    failed = client.invoke(FunctionName="fn", Payload=b'{"fail": true}')
    assert failed["FunctionError"] == "Unhandled"
    assert json.load(failed["Payload"]) == {"errorType": "KeyError", "errorMessage": "'missing'"}
    assert isinstance(client.invoke(FunctionName="fn")["Payload"], io.BytesIO)
    assert client.calls == [("fn", {"a": 1}), ("fn", {"fail": True}), ("fn", {})]


def test_a_reserve_still_in_flight_when_the_saga_compensated_takes_nothing(steps) -> None:
    # A Map stops its other items when one fails, not the invocations already running: the release can
    # run before a reserve of the same line lands. Found by `make demo` (a two-line order, one out of stock).
    order = paid_order(steps)
    line = {"sku": "widget", "quantity": 2}
    assert steps.run({"step": "release", "orderId": order, "execution": EXECUTION, "line": line}) == {
        "sku": "widget", "released": 0}
    assert steps.run({"step": "reserve", "orderId": order, "execution": EXECUTION, "line": line}) == {
        "sku": "widget", "reserved": 0}
    stock = next(i for i in scan(steps.dynamodb) if i["pk"] == "STOCK#widget" and i["sk"] == "STOCK")
    assert stock["available"] == 5
    # and the usual order: reserved, then released once, whatever the repeats
    other = paid_order(steps)
    steps.run({"step": "reserve", "orderId": other, "execution": EXECUTION, "line": line})
    released = [steps.run({"step": "release", "orderId": other, "execution": EXECUTION, "line": line})["released"]
                for _ in range(2)]
    stock = next(i for i in scan(steps.dynamodb) if i["pk"] == "STOCK#widget" and i["sk"] == "STOCK")
    assert (released, stock["available"]) == ([2, 0], 5)
