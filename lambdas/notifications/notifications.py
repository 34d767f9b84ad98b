"""Recording the notification an order event calls for: one item per event, written once."""

from __future__ import annotations

from typing import Any

from components.runtime.observability import logger
from shared.dynamo import to_dynamo
from shared.orders_schema import PARTITION_KEY, SORT_KEY
from shared.subscriber import event_id, put_once


class Notifications:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def record(self, template: str, detail: Any, event: dict[str, Any]) -> bool:
        """The notification of ``event`` to send with ``template``; False when it was already recorded."""
        key = event_id(detail, event)
        created = put_once(self.dynamodb, self.table, to_dynamo({
            PARTITION_KEY: f"NOTIFY#{key}", SORT_KEY: "NOTIFICATION", "entity": "notification", "template": template,
            "orderId": detail.orderId, "status": "TO_SEND", "eventTime": detail.occurredAt,
        }))
        logger.info("notification recorded" if created else "notification already recorded",
                    extra={"eventId": key, "template": template})
        return created
