"""The fulfilment saga executed for real: moto runs the synthesized definition (its ASL interpreter),
each Lambda task runs the real handler (tools/local/sfn.py, the one adapter), on moto's DynamoDB.

Nothing here re-implements the saga: a path is an input, the outcome is what the table holds and
what the execution's history says. Waits are on the execution's own status, bounded.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas.shared.orders_schema import HIGH_VALUE_THRESHOLD_ENV, ORDERS_TABLE_ENV
from system.fulfilment import SagaTimeouts, saga_definition
from tests.lambdas.conftest import REGION, LambdaContext, fresh_import
from tests.lambdas.orders_fixtures import TABLE, orders_table, payments_ledger, scan
from tools.local.sfn import serve_lambda_tasks

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders-test-fulfilment-steps:live"
THRESHOLD = 1000


class Saga:
    """A deployed saga: its state machine in moto, its steps answered by the handler."""

    def __init__(self, client: Any, timeouts: SagaTimeouts, faults: dict[str, int]) -> None:
        from components.core.asl import render

        self.dynamodb, self.faults = client, faults
        self.handler = fresh_import("fulfilment.handler")
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName=f"saga-{uuid.uuid4().hex[:6]}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.arn = self.sfn.create_state_machine(name=f"saga-{uuid.uuid4().hex[:6]}", roleArn=role, definition=render(
            saga_definition(timeouts), {"steps": FUNCTION_ARN}))["stateMachineArn"]
        self.steps: list[str] = []

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        assert function == FUNCTION_ARN
        step = event.get("step")
        self.steps.append(step)
        if self.faults.get(step, 0) > 0:  # a step that keeps failing (a bug, a dependency down)
            self.faults[step] -= 1
            raise RuntimeError(f"injected fault in {step}")
        return self.handler.handler(event, LambdaContext())

    def order(self, *lines: tuple[str, int], unit_price: str = "10.00") -> str:
        """A placed and paid order with these (sku, quantity) lines."""
        from orders_api.models import CreateOrder
        from orders_api.repository import OrdersRepository
        from payments_worker.payments import PaymentEvent

        command = CreateOrder.model_validate({"customerId": "c-1", "currency": "EUR", "items": [
            {"sku": sku, "quantity": quantity, "unitPrice": unit_price} for sku, quantity in lines]})
        order_id = OrdersRepository(self.dynamodb, TABLE).place(command, NOW)["orderId"]
        total = str(command.total())
        payments_ledger(self.dynamodb).apply(f"wh-{order_id}", PaymentEvent(type="payment.succeeded", data={
            "orderId": order_id, "paymentId": f"pay-{order_id}", "amount": total, "currency": "EUR"}), NOW)
        return order_id

    def stock(self, **available: int) -> None:
        for sku, count in available.items():
            self.dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"STOCK#{sku}"}, "sk": {"S": "STOCK"},
                                                          "available": {"N": str(count)}})

    def available(self, sku: str) -> int:
        item = self.dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": f"STOCK#{sku}"}, "sk": {"S": "STOCK"}})
        return int(item["Item"]["available"]["N"])

    def start(self, order_id: str) -> str:
        """What the rule sends: the OrderPaid event (EventBridge names the execution, moto does not)."""
        event = {"version": "0", "id": str(uuid.uuid4()), "source": "payments", "detail-type": "OrderPaid",
                 "detail": {"version": 2, "orderId": order_id, "paymentId": f"pay-{order_id}", "currency": "EUR",
                            "totalAmount": "10.00", "occurredAt": "2026-12-02T09:00:00.000Z"}}
        return self.sfn.start_execution(stateMachineArn=self.arn, name=str(uuid.uuid4()),
                                        input=json.dumps(event))["executionArn"]

    def wait(self, execution: str, *, until_callback: str | None = None, order_id: str = "",
             seconds: float = 30) -> str:
        """The execution's status once it ended (or RUNNING once it waits for ``until_callback``)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status = self.sfn.describe_execution(executionArn=execution)["status"]
            if status != "RUNNING" or (until_callback and self.token(order_id, until_callback)):
                return status
            time.sleep(0.05)
        raise AssertionError(f"{execution} still running after {seconds} s; steps so far: {self.steps}")

    def errors(self, execution: str) -> list[str]:
        """The failures the execution's history records (what a test says when a path goes wrong)."""
        found = []
        for event in self.sfn.get_execution_history(executionArn=execution)["events"]:
            for key, value in event.items():
                if key.endswith("EventDetails") and isinstance(value, dict) and "error" in value:
                    found.append(f"{event['type']}: {value.get('error')} {str(value.get('cause'))[:300]}")
        return found

    def token(self, order_id: str, callback: str) -> str | None:
        item = self.dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": f"ORDER#{order_id}"},
                                                            "sk": {"S": f"CALLBACK#{callback}"}}).get("Item")
        return item["taskToken"]["S"] if item else None

    def complete(self, order_id: str, callback: str, output: dict[str, Any]) -> None:
        token = self.token(order_id, callback)
        assert token, f"no {callback} callback is waiting for {order_id}"
        self.sfn.send_task_success(taskToken=token, output=json.dumps(output))
        self.dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": f"ORDER#{order_id}"},
                                                        "sk": {"S": f"CALLBACK#{callback}"}})

    def order_item(self, order_id: str) -> dict[str, Any]:
        return next(i for i in scan(self.dynamodb) if i.get("entity") == "order" and i["orderId"] == order_id)

    def events(self, order_id: str) -> list[tuple[str, dict[str, Any]]]:
        return sorted((i["eventType"], i["detail"]) for i in scan(self.dynamodb)
                      if i.get("entity") == "outbox" and i["detail"].get("orderId") == order_id
                      and i.get("source") == "fulfilment")

    def failure(self, execution: str) -> tuple[str | None, str | None]:
        described = self.sfn.describe_execution(executionArn=execution)
        return described.get("error"), described["status"]


@pytest.fixture
def saga_factory(monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv(ORDERS_TABLE_ENV, TABLE)
    monkeypatch.setenv(HIGH_VALUE_THRESHOLD_ENV, str(THRESHOLD))
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = orders_table()
        sagas: list[Saga] = []

        def make(timeouts: SagaTimeouts | None = None, **faults: int) -> Saga:
            saga = Saga(client, timeouts or SagaTimeouts(), dict(faults))
            sagas.append(saga)
            return saga

        with serve_lambda_tasks(lambda function, event: sagas[-1].invoke(function, event)):
            yield make


def test_a_paid_order_is_reserved_shipped_confirmed_and_fulfilled_after_the_carrier_calls_back(saga_factory) -> None:
    saga = saga_factory()
    saga.stock(widget=5, gadget=1)
    order = saga.order(("widget", 2), ("gadget", 1))
    execution = saga.start(order)
    assert saga.wait(execution, until_callback="carrier", order_id=order) == "RUNNING", saga.errors(execution)
    assert (saga.available("widget"), saga.available("gadget")) == (3, 0)
    saga.complete(order, "carrier", {"trackingId": "TRK-1"})
    assert saga.wait(execution) == "SUCCEEDED"
    assert saga.order_item(order)["fulfilment"] == "FULFILLED"
    ((name, detail),) = saga.events(order)
    assert (name, detail["orderId"], detail["shipmentId"], detail["trackingId"], detail["version"]) == (
        "OrderFulfilled", order, f"SHP-{order}", "TRK-1", 1)
    assert saga.steps[:3] == ["begin", "reserve", "reserve"]
    assert sorted(saga.steps[3:5]) == ["create_shipment", "send_confirmation"]  # the Parallel's branches
    assert saga.steps[5:] == ["await_callback", "mark_fulfilled"]
    kinds = {i.get("entity") for i in scan(saga.dynamodb) if i["pk"] == f"ORDER#{order}"}
    assert {"shipment", "notification"} <= kinds


def test_out_of_stock_releases_what_was_reserved_refunds_and_fails_the_order(saga_factory) -> None:
    saga = saga_factory()
    saga.stock(widget=5, gadget=0)
    order = saga.order(("widget", 2), ("gadget", 1))
    execution = saga.start(order)
    assert saga.wait(execution) == "FAILED"
    assert saga.failure(execution) == ("FulfilmentFailed", "FAILED")
    assert (saga.available("widget"), saga.available("gadget")) == (5, 0)  # the widget reservation was released
    assert saga.order_item(order)["fulfilment"] == "FULFILMENT_FAILED"
    assert saga.order_item(order)["fulfilmentFailure"] == "OutOfStockError"
    names = [name for name, _ in saga.events(order)]
    assert names == ["OrderFulfilmentFailed", "RefundRequested"]
    refund = dict(saga.events(order))["RefundRequested"]
    assert (refund["paymentId"], refund["amount"], refund["reason"]) == (f"pay-{order}", "30.00", "OutOfStockError")
    assert "create_shipment" not in saga.steps
    compensations = [s for s in saga.steps if s in ("cancel_shipment", "release", "refund", "mark_failed")]
    assert compensations == ["release", "release", "refund", "mark_failed"]  # reverse order, no shipment to cancel


@pytest.mark.parametrize(("step", "reserved_after", "compensations"), [
    ("create_shipment", 5, ["cancel_shipment", "release", "refund", "mark_failed"]),
    ("send_confirmation", 5, ["cancel_shipment", "release", "refund", "mark_failed"]),
    ("mark_fulfilled", 5, ["cancel_shipment", "release", "refund", "mark_failed"]),
])
def test_a_step_that_keeps_failing_after_reservation_runs_every_compensation_in_reverse(saga_factory, step,
                                                                                         reserved_after,
                                                                                         compensations) -> None:
    # The task's retrier handles Lambda's transient errors only: a handler error goes straight to the Catch.
    saga = saga_factory(**{step: 10})
    saga.stock(widget=5)
    order = saga.order(("widget", 2))
    execution = saga.start(order)
    if step == "mark_fulfilled":
        saga.wait(execution, until_callback="carrier", order_id=order)
        saga.complete(order, "carrier", {"trackingId": "TRK-2"})
    assert saga.wait(execution) == "FAILED"
    assert saga.available("widget") == reserved_after
    assert [s for s in saga.steps if s in ("cancel_shipment", "release", "refund", "mark_failed")] == compensations
    assert saga.order_item(order)["fulfilment"] == "FULFILMENT_FAILED"
    assert [name for name, _ in saga.events(order)] == ["OrderFulfilmentFailed", "RefundRequested"]


def test_a_carrier_that_never_calls_back_times_out_into_the_compensations(saga_factory) -> None:
    saga = saga_factory(SagaTimeouts(carrier_seconds=2, carrier_heartbeat_seconds=1))
    saga.stock(widget=5)
    order = saga.order(("widget", 1))
    execution = saga.start(order)
    assert saga.wait(execution, seconds=30) == "FAILED"
    assert saga.order_item(order)["fulfilmentFailure"] in ("States.HeartbeatTimeout", "States.Timeout")
    assert saga.available("widget") == 5
    shipment = next(i for i in scan(saga.dynamodb) if i.get("entity") == "shipment" and i["pk"] == f"ORDER#{order}")
    assert shipment["status"] == "CANCELLED"


def test_a_high_value_order_waits_for_approval_and_a_rejection_refunds_without_reserving(saga_factory) -> None:
    saga = saga_factory()
    saga.stock(widget=5)
    approved = saga.order(("widget", 1), unit_price="1500.00")
    execution = saga.start(approved)
    assert saga.wait(execution, until_callback="approval", order_id=approved) == "RUNNING"
    assert saga.available("widget") == 5  # nothing reserved before the approval
    saga.complete(approved, "approval", {"approved": True})
    assert saga.wait(execution, until_callback="carrier", order_id=approved) == "RUNNING"
    assert saga.available("widget") == 4

    rejected = saga.order(("widget", 1), unit_price="2000.00")
    second = saga.start(rejected)
    saga.wait(second, until_callback="approval", order_id=rejected)
    saga.complete(rejected, "approval", {"approved": False})
    assert saga.wait(second) == "FAILED"
    assert saga.order_item(rejected)["fulfilmentFailure"] == "ApprovalRejected"
    assert saga.available("widget") == 4
    assert [name for name, _ in saga.events(rejected)] == ["OrderFulfilmentFailed", "RefundRequested"]


def test_an_order_at_the_threshold_is_not_high_value(saga_factory) -> None:
    saga = saga_factory()
    saga.stock(widget=5)
    order = saga.order(("widget", 1), unit_price="1000.00")  # exactly the threshold: not above it
    execution = saga.start(order)
    assert saga.wait(execution, until_callback="carrier", order_id=order) == "RUNNING"
    assert saga.token(order, "approval") is None


def test_a_duplicate_start_for_the_same_order_has_no_second_effect(saga_factory) -> None:
    saga = saga_factory()
    saga.stock(widget=5)
    order = saga.order(("widget", 2))
    first = saga.start(order)
    saga.wait(first, until_callback="carrier", order_id=order)
    second = saga.start(order)  # EventBridge delivered OrderPaid twice
    assert saga.wait(second) == "SUCCEEDED"
    assert saga.available("widget") == 3  # reserved once
    saga.complete(order, "carrier", {"trackingId": "TRK-3"})
    assert saga.wait(first) == "SUCCEEDED"
    assert [name for name, _ in saga.events(order)] == ["OrderFulfilled"]
    history = saga.sfn.get_execution_history(executionArn=second)["events"]
    assert any(e.get("stateEnteredEventDetails", {}).get("name") == "NotOurs" for e in history)


def test_an_unpaid_order_is_not_fulfilled(saga_factory) -> None:
    from orders_api.models import CreateOrder
    from orders_api.repository import OrdersRepository

    saga = saga_factory()
    command = CreateOrder.model_validate({"customerId": "c", "currency": "EUR",
                                          "items": [{"sku": "widget", "quantity": 1, "unitPrice": "5"}]})
    order = OrdersRepository(saga.dynamodb, TABLE).place(command, NOW)["orderId"]
    assert saga.wait(saga.start(order)) == "SUCCEEDED"
    assert "fulfilment" not in saga.order_item(order) and saga.events(order) == []
