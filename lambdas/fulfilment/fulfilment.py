"""Starting fulfilment of paid orders: once, and only while each is PAID, a whole batch at a time."""

from __future__ import annotations

from typing import Any

from components.runtime.observability import logger
from shared.dynamo import to_dynamo
from shared.orders_schema import order_key
from shared.subscriber import REJECTED, Delivery, Write, failed_ids, write_each


class Fulfilment:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def write(self, delivery: Delivery) -> Write:
        """Mark the order's fulfilment STARTED, on condition it is PAID and not started yet."""
        detail = delivery.detail
        key = order_key(detail.orderId)
        return Write(delivery.message_id, tuple(key.values()), {"Update": {
            "TableName": self.table, "Key": to_dynamo(key),
            "UpdateExpression": "SET fulfilment = :started, fulfilmentStartedAt = :at",
            "ConditionExpression": "#state = :paid AND attribute_not_exists(fulfilment)",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": to_dynamo({":started": "STARTED", ":paid": "PAID", ":at": detail.occurredAt}),
        }})

    def start(self, deliveries: list[Delivery]) -> list[str]:
        """Start each order's fulfilment; the message ids that failed (a repeat, or an order not PAID, does not)."""
        outcomes = write_each(self.dynamodb, [self.write(delivery) for delivery in deliveries])
        for delivery in deliveries:
            if outcomes[delivery.message_id] == REJECTED:
                logger.info("fulfilment already started or order not paid", extra={"orderId": delivery.detail.orderId})
        return failed_ids(outcomes)
