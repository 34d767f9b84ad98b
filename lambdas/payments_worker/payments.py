"""Payment events from the webhook queue applied to orders.

A payment that cannot be applied (unknown order, wrong amount or currency, order no longer
PENDING) is recorded as a payment exception and reported, not retried forever.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from components.runtime.webhook_schema import ENVELOPE_ENCODING
from shared.dynamo import from_dynamo, to_dynamo
from shared.money import amount_text
from shared.orders_schema import LEAVE_PENDING, OUTBOX_PREFIX, PARTITION_KEY, SORT_KEY, order_key
from shared.outbox import iso, outbox_item

SOURCE = "payments"
PENDING, PAID = "PENDING", "PAID"


class PoisonMessageError(ValueError):
    """A message that will never be processable: it fails until the queue dead-letters it."""


class Envelope(BaseModel):
    """What the receiver enqueues."""

    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1)
    source: str
    timestamp: int | None = None
    encoding: str | None = None  # "base64": ``body`` is the exact signed bytes (older messages: the text)
    body: str

    def payload(self) -> bytes:
        if self.encoding is None:
            return self.body.encode()
        if self.encoding != ENVELOPE_ENCODING:
            raise ValueError(f"unknown body encoding {self.encoding!r}")
        return base64.b64decode(self.body, validate=True)


class PaymentData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    orderId: str = Field(min_length=1, max_length=64)  # noqa: N815
    paymentId: str = Field(min_length=1, max_length=128)  # noqa: N815
    amount: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    @field_validator("amount")
    @classmethod
    def finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < 0:
            raise ValueError("amount must be a finite, non-negative number")
        return value


class PaymentEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    data: dict[str, Any] = Field(default_factory=dict)


def parse_message(body: str) -> tuple[Envelope, PaymentEvent]:
    """The queue message's envelope and payload, or PoisonMessageError."""
    try:
        envelope = Envelope.model_validate_json(body)
        event = PaymentEvent.model_validate_json(envelope.payload())  # not UTF-8 or not JSON: poison
    except (ValidationError, ValueError, binascii.Error) as error:
        raise PoisonMessageError(f"unparseable webhook message: {error}") from error
    return envelope, event


class PaymentsLedger:
    """Applies payment events to the orders table."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def _order(self, order_id: str) -> dict[str, Any] | None:
        key = to_dynamo(order_key(order_id))
        item = self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")
        return from_dynamo(item) if item else None

    def apply(self, webhook_id: str, event: PaymentEvent, now: datetime) -> str:
        """The outcome: paid, duplicate, failed-recorded, exception:<reason> or ignored:<type>."""
        if event.type not in ("payment.succeeded", "payment.failed"):
            return f"ignored:{event.type}"
        try:
            data = PaymentData.model_validate(event.data)
        except ValidationError as error:
            raise PoisonMessageError(f"payment data is not valid: {error}") from error
        if event.type == "payment.failed":
            return self._failed(webhook_id, data, now)
        return self._succeeded(webhook_id, data, now)

    def _succeeded(self, webhook_id: str, data: PaymentData, now: datetime) -> str:
        order = self._order(data.orderId)
        problem = self._problem(order, data)
        if problem == "duplicate":
            return "duplicate"
        if problem:
            return self._record_exception(webhook_id, data, problem, now)
        assert order is not None
        paid_at = iso(now)
        event = outbox_item(data.orderId, "OrderPaid", SOURCE, {
            "orderId": data.orderId, "customerId": order.get("customerId"), "paymentId": data.paymentId,
            "totalAmount": amount_text(order["totalAmount"]), "currency": data.currency,
        }, now, version=2)
        try:
            self.client.transact_write_items(TransactItems=[
                {"Update": {
                    "TableName": self.table_name,
                    "Key": to_dynamo(order_key(data.orderId)),
                    "UpdateExpression": "SET #state = :paid, paymentId = :payment, paidAt = :now, updatedAt = :now"
                                        + LEAVE_PENDING,
                    "ConditionExpression": "#state = :pending AND currency = :currency AND totalAmount = :amount",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": to_dynamo({
                        ":paid": PAID, ":pending": PENDING, ":payment": data.paymentId, ":now": paid_at,
                        ":currency": data.currency, ":amount": order["totalAmount"],
                    }),
                }},
                {"Put": {"TableName": self.table_name, "Item": to_dynamo(event)}},
            ])
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise  # transient: only this record fails and is retried
            problem = self._problem(self._order(data.orderId), data)  # it changed under us (expired, cancelled)
            if problem == "duplicate":
                return "duplicate"
            if not problem:
                raise
            return self._record_exception(webhook_id, data, problem, now)
        return "paid"

    @staticmethod
    def _problem(order: dict[str, Any] | None, data: PaymentData) -> str | None:
        if order is None:
            return "unknown-order"
        if order["state"] == PAID and order.get("paymentId") == data.paymentId:
            return "duplicate"
        if order["state"] != PENDING:
            return f"order-{order['state'].lower()}"
        if order["currency"] != data.currency:
            return "currency-mismatch"
        if Decimal(order["totalAmount"]) != data.amount:
            return "amount-mismatch"
        return None

    def _failed(self, webhook_id: str, data: PaymentData, now: datetime) -> str:
        order = self._order(data.orderId)
        if order is None:
            return self._record_exception(webhook_id, data, "unknown-order", now)
        if order["state"] != PENDING:
            # A late failure for an order already paid (or cancelled, expired) changes nothing and
            # must not announce a failed payment; it is kept for an operator instead.
            return self._record_exception(webhook_id, data, f"failed-after-{order['state'].lower()}", now)
        # One event per webhook, whatever the retries: its key comes from the webhook id, written once.
        key = {PARTITION_KEY: order_key(data.orderId)[PARTITION_KEY], SORT_KEY: f"{OUTBOX_PREFIX}PaymentFailed#{webhook_id}"}
        event = outbox_item(data.orderId, "PaymentFailed", SOURCE, {
            "orderId": data.orderId, "paymentId": data.paymentId, "amount": amount_text(data.amount),
            "currency": data.currency,
        }, now, event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"payment-failed/{webhook_id}")), key=key, version=2)
        try:
            self.client.put_item(TableName=self.table_name, Item=to_dynamo(event),
                                 ConditionExpression="attribute_not_exists(#pk)",
                                 ExpressionAttributeNames={"#pk": PARTITION_KEY})
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return "duplicate"
        return "failed-recorded"

    def _record_exception(self, webhook_id: str, data: PaymentData, reason: str, now: datetime) -> str:
        """Kept for an operator (refund, investigation); the message itself is acknowledged."""
        self.client.put_item(TableName=self.table_name, Item=to_dynamo({
            PARTITION_KEY: f"PAYMENT#{data.paymentId}", SORT_KEY: f"EXCEPTION#{webhook_id}", "entity": "payment_exception",
            "reason": reason, "orderId": data.orderId, "paymentId": data.paymentId, "amount": data.amount,
            "currency": data.currency, "webhookId": webhook_id, "recordedAt": iso(now),
        }))
        return f"exception:{reason}"
