"""Payment events from the webhook queue applied to orders, each webhook once: its idempotency
marker is written in the same transaction as its effect (two DynamoDB calls per webhook).

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

from components.runtime.idempotency_schema import IDEMPOTENCY_KEY_ATTRIBUTE, IDEMPOTENCY_TTL_ATTRIBUTE
from components.runtime.webhook_schema import ENVELOPE_ENCODING
from shared.dynamo import cancellation_codes, from_dynamo, to_dynamo
from shared.money import amount_text
from shared.orders_schema import LEAVE_PENDING, OUTBOX_PREFIX, PARTITION_KEY, SORT_KEY, order_key
from shared.outbox import iso, outbox_item

SOURCE = "payments"
PENDING, PAID = "PENDING", "PAID"


class PoisonMessageError(ValueError):
    """A message that will never be processable: it fails until the queue dead-letters it."""


class TransientWriteError(RuntimeError):
    """A transaction cancelled by a conflict or throttling, not by a condition: the record is retried."""


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

    def __init__(self, client: Any, table_name: str, markers_table: str, marker_ttl_seconds: int) -> None:
        self.client = client
        self.table_name = table_name
        self.markers_table = markers_table
        self.marker_ttl_seconds = marker_ttl_seconds

    def _marker(self, webhook_id: str, outcome: str, now: datetime) -> dict[str, Any]:
        """The webhook's idempotency marker, written in the same transaction as its effect: a
        redelivery's transaction fails on it, so the webhook has no second effect (or metric)."""
        return {"Put": {
            "TableName": self.markers_table,
            "Item": to_dynamo({IDEMPOTENCY_KEY_ATTRIBUTE: f"webhook#{webhook_id}", "status": "COMPLETED",
                               "outcome": outcome,
                               IDEMPOTENCY_TTL_ATTRIBUTE: int(now.timestamp()) + self.marker_ttl_seconds}),
            "ConditionExpression": "attribute_not_exists(#id)",
            "ExpressionAttributeNames": {"#id": IDEMPOTENCY_KEY_ATTRIBUTE},
        }}

    def _write_once(self, actions: list[dict[str, Any]]) -> list[str]:
        """Run the transaction; [] when it was applied, else the cancellation reason of each action."""
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise  # transient: only this record fails and is retried
            return cancellation_codes(error.response) or ["Unknown"]
        return []

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
        reasons = self._write_once([
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
            self._marker(webhook_id, "paid", now),
        ])
        if not reasons:
            return "paid"
        if reasons[-1] == "ConditionalCheckFailed":
            return "duplicate"  # this webhook was applied already
        problem = self._problem(self._order(data.orderId), data)  # it changed under us (expired, cancelled)
        if problem == "duplicate":
            return "duplicate"
        if not problem:
            raise TransientWriteError(f"payment transaction cancelled: {reasons}")
        return self._record_exception(webhook_id, data, problem, now)

    @staticmethod
    def _problem(order: dict[str, Any] | None, data: PaymentData) -> str | None:
        if order is None:
            return "unknown-order"
        if order.get("paymentId") == data.paymentId:
            return "duplicate"  # paid by this payment, whatever happened to the order since
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
        reasons = self._write_once([
            {"Put": {"TableName": self.table_name, "Item": to_dynamo(event),
                     "ConditionExpression": "attribute_not_exists(#pk)", "ExpressionAttributeNames": {"#pk": PARTITION_KEY}}},
            self._marker(webhook_id, "failed-recorded", now),
        ])
        if not reasons:
            return "failed-recorded"
        if "ConditionalCheckFailed" in reasons:
            return "duplicate"
        raise TransientWriteError(f"payment-failed transaction cancelled: {reasons}")

    def _record_exception(self, webhook_id: str, data: PaymentData, reason: str, now: datetime) -> str:
        """Kept for an operator (refund, investigation); the message itself is acknowledged."""
        outcome = f"exception:{reason}"
        reasons = self._write_once([
            {"Put": {"TableName": self.table_name, "Item": to_dynamo({
                PARTITION_KEY: f"PAYMENT#{data.paymentId}", SORT_KEY: f"EXCEPTION#{webhook_id}",
                "entity": "payment_exception", "reason": reason, "orderId": data.orderId, "paymentId": data.paymentId,
                "amount": data.amount, "currency": data.currency, "webhookId": webhook_id, "recordedAt": iso(now),
            })}},
            self._marker(webhook_id, outcome, now),
        ])
        if not reasons:
            return outcome
        if reasons[-1] == "ConditionalCheckFailed":
            return "duplicate"  # recorded (and reported) once already
        raise TransientWriteError(f"payment exception transaction cancelled: {reasons}")
