"""Recording the notifications order events call for: one item per event, written once, a batch at a time."""

from __future__ import annotations

from typing import Any

from components.runtime.observability import logger
from shared.dynamo import to_dynamo
from shared.orders_schema import PARTITION_KEY, SORT_KEY
from shared.subscriber import APPLIED, FAILED, Delivery, failed_ids, put_once, write_each


class Notifications:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def record(self, deliveries: list[Delivery]) -> list[str]:
        """The notification of each event (its template is the event's name); the message ids that failed.
        An event already recorded is not recorded again."""
        outcomes = write_each(self.dynamodb, [put_once(delivery.message_id, self.table, to_dynamo({
            PARTITION_KEY: f"NOTIFY#{delivery.event_id}", SORT_KEY: "NOTIFICATION", "entity": "notification",
            "template": delivery.name, "orderId": delivery.detail.orderId, "status": "TO_SEND",
            "eventTime": delivery.detail.occurredAt,
        })) for delivery in deliveries])
        for delivery in deliveries:
            outcome = outcomes[delivery.message_id]
            if outcome != FAILED:
                logger.info("notification recorded" if outcome == APPLIED else "notification already recorded",
                            extra={"eventId": delivery.event_id, "template": delivery.name})
        return failed_ids(outcomes)
