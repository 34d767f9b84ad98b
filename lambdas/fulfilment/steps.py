"""The fulfilment saga's steps (system/fulfilment.py writes the state machine that runs them).

Every step is idempotent on the order and step, and the saga is claimed by one execution: a step
run twice (Step Functions retried it, or the execution was redriven) has no second effect, and a
second execution for the same OrderPaid (EventBridge delivers at least once) stops at the claim.
Effects on other services leave as outbox events in the same transaction as the state they
belong to, with an id fixed by order and step, so a repeat writes nothing new.

Stock: one item per SKU (``STOCK#<sku>`` / ``STOCK``, ``available``), and one reservation per
order and SKU (``STOCK#<sku>`` / ``RESERVATION#<orderId>``, RESERVED then RELEASED) written in the
same transaction as the decrement; a release that finds none leaves a RELEASED marker, so a reserve
still in flight when the saga compensates (a Map stops its other items, not their invocations) takes
nothing. Callbacks keep their task token beside the order (``CALLBACK#<name>``) for
whoever completes them (the reviewer, the carrier's integration).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from shared.dynamo import cancellation_codes, from_dynamo, to_dynamo
from shared.money import amount_text, parse_amount
from shared.orders_schema import PARTITION_KEY, SORT_KEY, order_key
from shared.outbox import outbox_item

SOURCE = "fulfilment"
PAID = "PAID"
STARTED, FULFILLED, FAILED = "STARTED", "FULFILLED", "FULFILMENT_FAILED"
STOCK_PREFIX, STOCK_SORT_KEY, RESERVATION_PREFIX = "STOCK#", "STOCK", "RESERVATION#"
RESERVED, RELEASED = "RESERVED", "RELEASED"
SHIPMENT_SORT_KEY, CONFIRMATION_SORT_KEY, CALLBACK_PREFIX = "SHIPMENT", "NOTIFICATION#confirmation", "CALLBACK#"
CALLBACKS = ("approval", "carrier")


class AlreadyFulfillingError(Exception):
    """Another execution claimed this order: this one stops without an effect."""


class OrderNotPaidError(Exception):
    """The order is not PAID (cancelled, expired, unknown): there is nothing to fulfil."""


class OutOfStockError(Exception):
    """A line cannot be reserved: the saga compensates."""


class StepInputError(ValueError):
    """The state machine passed something the step cannot use (a bug in the definition)."""


def stock_key(sku: str) -> dict[str, str]:
    return {PARTITION_KEY: f"{STOCK_PREFIX}{sku}", SORT_KEY: STOCK_SORT_KEY}


def reservation_key(sku: str, order_id: str) -> dict[str, str]:
    return {PARTITION_KEY: f"{STOCK_PREFIX}{sku}", SORT_KEY: f"{RESERVATION_PREFIX}{order_id}"}


def _text(payload: Mapping[str, Any], field: str) -> str:
    value = payload.get(field)
    if not isinstance(value, str) or not value or len(value) > 2048:
        raise StepInputError(f"{field} must be a non-empty string")
    return value


def _quantity(line: Mapping[str, Any]) -> int:
    quantity = line.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 10_000:
        raise StepInputError("a line's quantity must be a whole number from 1 to 10000")
    return quantity


class FulfilmentSteps:
    def __init__(self, dynamodb: Any, table: str, high_value_threshold: Decimal,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.dynamodb, self.table, self.threshold, self.now = dynamodb, table, high_value_threshold, now
        self.steps: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "begin": self.begin, "reserve": self.reserve, "release": self.release,
            "create_shipment": self.create_shipment, "send_confirmation": self.send_confirmation,
            "await_callback": self.await_callback, "mark_fulfilled": self.mark_fulfilled,
            "cancel_shipment": self.cancel_shipment, "refund": self.refund, "mark_failed": self.mark_failed,
        }

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(payload, Mapping):
            raise StepInputError("a step's payload must be an object")
        step = self.steps.get(payload.get("step"))  # type: ignore[arg-type]
        if step is None:
            raise StepInputError(f"unknown step {payload.get('step')!r}")
        return step(payload)

    # --- helpers -------------------------------------------------------------------------------

    def _order(self, order_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo(order_key(order_id)), ConsistentRead=True)
        if "Item" not in item:
            raise OrderNotPaidError(f"order {order_id} does not exist")
        return from_dynamo(item["Item"])

    def _transact(self, actions: list[dict[str, Any]]) -> list[str]:
        """The actions in one transaction; the per-action cancellation codes ([] when it applied)."""
        try:
            self.dynamodb.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            return cancellation_codes(error.response)
        return []

    def _event(self, order_id: str, event_type: str, step: str, detail: dict[str, Any]) -> dict[str, Any]:
        """The step's outbox event, its id fixed by order and step: a repeat cannot write a second one."""
        item = outbox_item(order_id, event_type, SOURCE, {"orderId": order_id, **detail}, self.now(),
                           event_id=f"{order_id}:{step}")
        item[SORT_KEY] = f"OUTBOX#{SOURCE}#{step}"  # one per order and step, whenever it is written
        return {"Put": {"TableName": self.table, "Item": to_dynamo(item),
                        "ConditionExpression": "attribute_not_exists(#pk)", "ExpressionAttributeNames": {"#pk": PARTITION_KEY}}}

    def _put_once(self, item: dict[str, Any]) -> bool:
        """Put ``item`` unless it exists; whether this call wrote it."""
        try:
            self.dynamodb.put_item(TableName=self.table, Item=to_dynamo(item), ConditionExpression="attribute_not_exists(#pk)",
                                   ExpressionAttributeNames={"#pk": PARTITION_KEY})
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    # --- forward steps -------------------------------------------------------------------------

    def begin(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Claim the order for this execution (only while PAID), and return what the saga needs."""
        execution = _text(payload, "execution")
        detail = payload.get("event") or {}
        order_id = _text(detail, "orderId") if isinstance(detail, Mapping) else _text({}, "orderId")
        try:
            self.dynamodb.update_item(
                TableName=self.table, Key=to_dynamo(order_key(order_id)),
                UpdateExpression="SET fulfilment = :started, fulfilmentExecution = :execution, fulfilmentStartedAt = :at",
                ConditionExpression="#state = :paid AND (attribute_not_exists(fulfilment) OR fulfilmentExecution = :execution)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_dynamo({":started": STARTED, ":paid": PAID, ":execution": execution,
                                                     ":at": self.now().isoformat()}))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            order = self._order(order_id)
            if order.get("fulfilmentExecution") not in (None, execution):
                raise AlreadyFulfillingError(f"order {order_id} is fulfilled by {order['fulfilmentExecution']}") from None
            if order.get("fulfilmentExecution") == execution:  # this execution's claim, already past this step
                return self._summary(order)
            raise OrderNotPaidError(f"order {order_id} is {order.get('state')}, not PAID") from None
        return self._summary(self._order(order_id))

    def _summary(self, order: dict[str, Any]) -> dict[str, Any]:
        total = Decimal(str(order["totalAmount"]))
        return {"orderId": order["orderId"], "customerId": order.get("customerId"), "paymentId": order.get("paymentId"),
                "totalAmount": amount_text(total), "currency": order.get("currency"),
                "items": [{"sku": i["sku"], "quantity": int(i["quantity"])} for i in order.get("items", [])],
                "highValue": total > self.threshold}

    def reserve(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Take one line's quantity from its SKU's stock, once per order (the reservation is the marker).
        A reservation already RELEASED (the saga compensated while this call was in flight) takes nothing."""
        order_id, line = _text(payload, "orderId"), payload.get("line")
        if not isinstance(line, Mapping):
            raise StepInputError("line must be an object")
        sku, quantity = _text(line, "sku"), _quantity(line)
        codes = self._transact([
            {"Update": {"TableName": self.table, "Key": to_dynamo(stock_key(sku)),
                        "UpdateExpression": "SET available = available - :quantity",
                        "ConditionExpression": "available >= :quantity",
                        "ExpressionAttributeValues": to_dynamo({":quantity": quantity})}},
            {"Put": {"TableName": self.table, "Item": to_dynamo({**reservation_key(sku, order_id), "quantity": quantity,
                                                                 "orderId": order_id, "entity": "reservation",
                                                                 "status": RESERVED}),
                     "ConditionExpression": "attribute_not_exists(#pk)", "ExpressionAttributeNames": {"#pk": PARTITION_KEY}}},
        ])
        if not codes:
            return {"sku": sku, "reserved": quantity}
        if codes[1] == "ConditionalCheckFailed":  # this order's reservation exists: an earlier attempt, or released
            existing = self._reservation(sku, order_id) or {}
            return {"sku": sku, "reserved": int(existing.get("quantity", 0)) if existing.get("status") == RESERVED else 0}
        if codes[0] == "ConditionalCheckFailed":
            raise OutOfStockError(f"{sku}: fewer than {quantity} available")
        raise RuntimeError(f"reserving {sku} was cancelled: {codes}")  # a conflict: the task's retrier tries again

    def _reservation(self, sku: str, order_id: str) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo(reservation_key(sku, order_id)),
                                      ConsistentRead=True).get("Item")
        return from_dynamo(item) if item else None

    def create_shipment(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        order_id = _text(payload, "orderId")
        shipment_id = f"SHP-{order_id}"
        self._put_once({**order_key(order_id), SORT_KEY: SHIPMENT_SORT_KEY, "shipmentId": shipment_id,
                        "status": "REQUESTED", "entity": "shipment", "requestedAt": self.now().isoformat()})
        return {"shipmentId": shipment_id}

    def send_confirmation(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        order_id = _text(payload, "orderId")
        sent = self._put_once({**order_key(order_id), SORT_KEY: CONFIRMATION_SORT_KEY, "entity": "notification",
                               "template": "order-confirmation", "customerId": payload.get("customerId"),
                               "requestedAt": self.now().isoformat()})
        return {"confirmation": "sent" if sent else "already sent"}

    def await_callback(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Keep the task token where whoever completes the callback finds it (a retry replaces it)."""
        order_id, token, callback = _text(payload, "orderId"), _text(payload, "taskToken"), payload.get("callback")
        if callback not in CALLBACKS:
            raise StepInputError(f"callback must be one of {CALLBACKS}")
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo({
            **order_key(order_id), SORT_KEY: f"{CALLBACK_PREFIX}{callback}", "entity": "callback", "taskToken": token,
            "execution": payload.get("execution"), "requestedAt": self.now().isoformat()}))
        return {"waiting": callback}

    def mark_fulfilled(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        order_id, execution, shipment_id = _text(payload, "orderId"), _text(payload, "execution"), _text(payload, "shipmentId")
        carrier = payload.get("carrier") if isinstance(payload.get("carrier"), Mapping) else {}
        tracking = carrier.get("trackingId") if isinstance(carrier.get("trackingId"), str) else None
        codes = self._transact([
            {"Update": {"TableName": self.table, "Key": to_dynamo(order_key(order_id)),
                        "UpdateExpression": "SET fulfilment = :done, fulfilledAt = :at",
                        "ConditionExpression": "fulfilmentExecution = :execution AND fulfilment IN (:started, :done)",
                        "ExpressionAttributeValues": to_dynamo({":done": FULFILLED, ":started": STARTED,
                                                                ":execution": execution, ":at": self.now().isoformat()})}},
            self._event(order_id, "OrderFulfilled", "fulfilled", {"shipmentId": shipment_id, "trackingId": tracking}),
        ])
        if codes and codes[1] != "ConditionalCheckFailed":  # the event exists: done before
            raise RuntimeError(f"marking {order_id} fulfilled was cancelled: {codes}")
        return {"fulfilment": FULFILLED}

    # --- compensations (each a no-op when there is nothing to undo) --------------------------------

    def release(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Give one line's reservation back, if this order holds one. With none, leave a RELEASED marker:
        a reserve of this line still in flight (the Map stopped while it ran) then takes nothing."""
        order_id, line = _text(payload, "orderId"), payload.get("line")
        if not isinstance(line, Mapping):
            raise StepInputError("line must be an object")
        sku = _text(line, "sku")
        for _ in range(3):  # each turn loses only to a concurrent reserve or release of the same line
            existing = self._reservation(sku, order_id)
            if existing is None:
                if self._put_once({**reservation_key(sku, order_id), "quantity": 0, "orderId": order_id,
                                   "entity": "reservation", "status": RELEASED}):
                    return {"sku": sku, "released": 0}
                continue
            if existing.get("status") != RESERVED:
                return {"sku": sku, "released": 0}
            quantity = int(existing["quantity"])
            codes = self._transact([
                {"Update": {"TableName": self.table, "Key": to_dynamo(reservation_key(sku, order_id)),
                            "UpdateExpression": "SET #status = :released", "ConditionExpression": "#status = :reserved",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": to_dynamo({":released": RELEASED, ":reserved": RESERVED})}},
                {"Update": {"TableName": self.table, "Key": to_dynamo(stock_key(sku)),
                            "UpdateExpression": "SET available = available + :quantity",
                            "ExpressionAttributeValues": to_dynamo({":quantity": quantity})}},
            ])
            if not codes:
                return {"sku": sku, "released": quantity}
            if codes[0] != "ConditionalCheckFailed":
                raise RuntimeError(f"releasing {sku} was cancelled: {codes}")
        raise RuntimeError(f"releasing {sku} kept racing another step: the task's retrier tries again")

    def cancel_shipment(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        order_id = _text(payload, "orderId")
        try:
            self.dynamodb.update_item(
                TableName=self.table, Key=to_dynamo({**order_key(order_id), SORT_KEY: SHIPMENT_SORT_KEY}),
                UpdateExpression="SET #status = :cancelled", ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#status": "status", "#pk": PARTITION_KEY},
                ExpressionAttributeValues=to_dynamo({":cancelled": "CANCELLED"}))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return {"shipment": "none"}
        return {"shipment": "cancelled"}

    def refund(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Ask the payments service to refund (RefundRequested), once per order."""
        order_id = _text(payload, "orderId")
        order = self._order(order_id)
        if not order.get("paymentId"):
            return {"refund": "nothing was paid"}
        codes = self._transact([self._event(order_id, "RefundRequested", "refund", {
            "paymentId": order["paymentId"], "amount": amount_text(parse_amount(str(order["totalAmount"]))),
            "currency": order.get("currency"), "reason": _reason(payload)})])
        return {"refund": "already requested" if codes else "requested"}

    def mark_failed(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        order_id, execution = _text(payload, "orderId"), _text(payload, "execution")
        reason = _reason(payload)
        codes = self._transact([
            {"Update": {"TableName": self.table, "Key": to_dynamo(order_key(order_id)),
                        "UpdateExpression": "SET fulfilment = :failed, fulfilmentFailure = :reason, fulfilmentFailedAt = :at",
                        "ConditionExpression": "fulfilmentExecution = :execution",
                        "ExpressionAttributeValues": to_dynamo({":failed": FAILED, ":reason": reason,
                                                                ":execution": execution, ":at": self.now().isoformat()})}},
            self._event(order_id, "OrderFulfilmentFailed", "failed", {"reason": reason}),
        ])
        if codes and codes[1] != "ConditionalCheckFailed":
            raise RuntimeError(f"marking {order_id} failed was cancelled: {codes}")
        return {"fulfilment": FAILED, "reason": reason}


def _reason(payload: Mapping[str, Any]) -> str:
    """The error that sent the saga into compensation (``Error`` of the Catch's result), bounded."""
    error = payload.get("error")
    name = error.get("Error") if isinstance(error, Mapping) else None
    return name[:200] if isinstance(name, str) and name else "Unknown"
