"""The order fulfilment saga: a Workflow started by OrderPaid (system/fanout.py subscribes it).

Forward: claim the order -> (above the high-value threshold: wait for a reviewer's approval) ->
reserve every line's stock (Map) -> create the shipment and send the confirmation (Parallel) ->
wait for the carrier's pickup callback (task token, heartbeat and timeout) -> FULFILLED with its
OrderFulfilled event. A failure after the payment runs the compensations in reverse order of the
forward steps: cancel the shipment, release the reservations, request the refund, then
FULFILMENT_FAILED with its OrderFulfilmentFailed event, and the execution fails (its alarm). A
second execution for the same order stops at the claim with no effect; every step is idempotent
(lambdas/fulfilment/steps.py), so a redriven execution repeats nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.api_service import ApiService
from components.core.asl import lambda_task
from components.core.bounds import bounded
from components.core.context import StackContext
from components.core.iam import Grant
from components.workflow import WorkflowArgs
from lambdas.shared.orders_schema import HIGH_VALUE_THRESHOLD_ENV, ORDERS_TABLE_ENV
from system.functions import app_function

STEPS = "steps"  # the one task function: lambdas/fulfilment, dispatching on "step"
STEP_TIMEOUT_SECONDS = 30
MAP_CONCURRENCY = 5  # lines reserved at once: enough for an order, gentle on one SKU's stock item
# Inside a Map item or a Parallel branch: fail with the caught error itself (OutOfStockError, not a
# generic name), so the outer Catch and the order's fulfilmentFailure say what went wrong.
PASS_ERROR_ON = {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}


# A Standard execution lasts at most a year; each wait must leave room for the rest of the saga.
_MAX_WAIT = 180 * 86_400


@dataclass(frozen=True)
class SagaTimeouts:
    approval_seconds: int = bounded(86_400, 60, _MAX_WAIT, " seconds")
    """@default one day for a reviewer to approve a high-value order."""
    carrier_seconds: int = bounded(172_800, 60, _MAX_WAIT, " seconds")
    """@default two days for the carrier's pickup callback."""
    carrier_heartbeat_seconds: int = bounded(21_600, 60, _MAX_WAIT, " seconds")
    """@default six hours: the carrier's integration reports progress (SendTaskHeartbeat) at least this often;
    less than ``carrier_seconds``."""

    @property
    def machine_seconds(self) -> int:
        """The whole execution: both waits, plus an hour for the steps and their retries."""
        return self.approval_seconds + self.carrier_seconds + 3600


def _step(step: str, next_state: str | None, catch_next: str, *, result_path: str | None = None,
          catch_result_path: str = "$.error", **fields: Any) -> dict[str, Any]:
    payload = {"step": step, "orderId.$": "$.order.value.orderId", "execution.$": "$$.Execution.Id", **fields}
    return lambda_task(STEPS, payload, timeout_seconds=STEP_TIMEOUT_SECONDS, next_state=next_state,
                       catch_next=catch_next, result_path=result_path, catch_result_path=catch_result_path)


def _each_line(step: str, next_state: str, catch_next: str, *, catch_result_path: str = "$.error") -> dict[str, Any]:
    """A Map over the order's lines running ``step`` on each."""
    inner = lambda_task(STEPS, {"step": step, "orderId.$": "$.orderId", "execution.$": "$.execution", "line.$": "$.line"},
                        timeout_seconds=STEP_TIMEOUT_SECONDS, catch_next="LineFailed", result_path=None)
    return {
        "Type": "Map", "ItemsPath": "$.order.value.items", "MaxConcurrency": MAP_CONCURRENCY,
        "ItemSelector": {"orderId.$": "$.order.value.orderId", "execution.$": "$$.Execution.Id", "line.$": "$$.Map.Item.Value"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Line", "States": {
            "Line": inner, "LineFailed": PASS_ERROR_ON}},
        "ResultPath": None, "Next": next_state,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": catch_result_path, "Next": catch_next}],
    }


def saga_definition(timeouts: SagaTimeouts = SagaTimeouts()) -> dict[str, Any]:
    """The state machine, as ASL (the Workflow component checks it and fills in the function ARN)."""
    compensation = {"catch_result_path": "$.compensationError"}
    await_carrier = lambda_task(
        STEPS, {"step": "await_callback", "callback": "carrier", "orderId.$": "$.order.value.orderId",
                "execution.$": "$$.Execution.Id"},
        callback=True, timeout_seconds=timeouts.carrier_seconds, heartbeat_seconds=timeouts.carrier_heartbeat_seconds,
        next_state="MarkFulfilled", catch_next="CancelShipment", result_path="$.carrier")
    approval = lambda_task(
        STEPS, {"step": "await_callback", "callback": "approval", "orderId.$": "$.order.value.orderId",
                "execution.$": "$$.Execution.Id"},
        callback=True, timeout_seconds=timeouts.approval_seconds, next_state="Approved", catch_next="RequestRefund",
        result_path="$.approval")
    begin = lambda_task(STEPS, {"step": "begin", "event.$": "$.detail", "execution.$": "$$.Execution.Id"},
                        timeout_seconds=STEP_TIMEOUT_SECONDS, next_state="HighValue", catch_next="NotOurs",
                        result_path="$.order")
    # Another execution's order or one no longer PAID: stop with no effect. Anything else: fail
    # without compensating (the claim was not made, so nothing of the order is ours to undo).
    begin["Catch"] = [{"ErrorEquals": ["AlreadyFulfillingError", "OrderNotPaidError"], "ResultPath": "$.error",
                       "Next": "NotOurs"},
                      {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "CouldNotStart"}]
    return {
        "Comment": "Order fulfilment saga: reserve, ship, confirm, wait for the carrier; compensate in reverse on failure",
        "TimeoutSeconds": timeouts.machine_seconds,
        "StartAt": "Begin",
        "States": {
            "Begin": begin,
            "HighValue": {"Type": "Choice", "Choices": [
                {"Variable": "$.order.value.highValue", "BooleanEquals": True, "Next": "RequestApproval"}],
                "Default": "ReserveStock"},
            "RequestApproval": approval,
            "Approved": {"Type": "Choice", "Choices": [
                {"Variable": "$.approval.approved", "BooleanEquals": True, "Next": "ReserveStock"}],
                "Default": "Rejected"},
            "Rejected": {"Type": "Pass", "Result": {"Error": "ApprovalRejected", "Cause": "a reviewer rejected the order"},
                         "ResultPath": "$.error", "Next": "RequestRefund"},
            "ReserveStock": _each_line("reserve", "ShipAndConfirm", "ReleaseStock"),
            "ShipAndConfirm": {
                "Type": "Parallel", "ResultPath": "$.shipping", "Next": "AwaitCarrier",
                "ResultSelector": {"shipmentId.$": "$[0].shipment.value.shipmentId"},
                "Branches": [
                    {"StartAt": "CreateShipment", "States": {"CreateShipment": lambda_task(
                        STEPS, {"step": "create_shipment", "orderId.$": "$.order.value.orderId"},
                        timeout_seconds=STEP_TIMEOUT_SECONDS, catch_next="ShipmentFailed", result_path="$.shipment"),
                        "ShipmentFailed": PASS_ERROR_ON}},
                    {"StartAt": "SendConfirmation", "States": {"SendConfirmation": lambda_task(
                        STEPS, {"step": "send_confirmation", "orderId.$": "$.order.value.orderId",
                                "customerId.$": "$.order.value.customerId"},
                        timeout_seconds=STEP_TIMEOUT_SECONDS, catch_next="ConfirmationFailed", result_path="$.confirmation"),
                        "ConfirmationFailed": PASS_ERROR_ON}},
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "CancelShipment"}],
            },
            "AwaitCarrier": await_carrier,
            "MarkFulfilled": _step("mark_fulfilled", None, "CancelShipment", **{
                "shipmentId.$": "$.shipping.shipmentId", "carrier.$": "$.carrier"}),
            # Compensations, in reverse order of the forward steps; each undoes nothing if its step never ran.
            "CancelShipment": _step("cancel_shipment", "ReleaseStock", "CompensationFailed", **compensation),
            "ReleaseStock": _each_line("release", "RequestRefund", "CompensationFailed", **compensation),
            "RequestRefund": _step("refund", "MarkFailed", "CompensationFailed", **{"error.$": "$.error"}, **compensation),
            "MarkFailed": _step("mark_failed", "Failed", "CompensationFailed", **{"error.$": "$.error"}, **compensation),
            "Failed": {"Type": "Fail", "Error": "FulfilmentFailed", "Cause": "compensated: see the order's fulfilmentFailure"},
            "CompensationFailed": {"Type": "Fail", "Error": "CompensationFailed",
                                   "Cause": "a compensation failed after its retries: an operator must finish it"},
            "CouldNotStart": {"Type": "Fail", "Error": "CouldNotStart", "Cause": "the order could not be claimed"},
            "NotOurs": {"Type": "Succeed", "Comment": "another execution fulfils the order, or it is no longer PAID"},
        },
    }


def fulfilment_args(settings: Any, stack: StackContext, orders: ApiService) -> WorkflowArgs:
    """The saga on the orders table, with the stack's high-value threshold and callback timeouts."""
    table_arn = orders.table_arn("orders")
    steps = app_function(
        "fulfilment", "Runs the steps of the order fulfilment saga",
        environment={ORDERS_TABLE_ENV: orders.table_name("orders"),
                     HIGH_VALUE_THRESHOLD_ENV: str(settings.events.high_value_order_threshold)},
        grants=(Grant(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [table_arn]),))
    return WorkflowArgs(definition=saga_definition(settings.fulfilment), functions={STEPS: steps}, stack=stack)
