"""Notifications subscriber: records one notification to send per order event, once per event."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.observability import logger, observed
from shared.contracts import ORDER_EVENTS
from shared.dynamo import to_dynamo
from shared.orders_schema import ORDERS_TABLE_ENV, PARTITION_KEY, SORT_KEY
from shared.subscriber import event_id, put_once, sqs_batch

dynamodb = boto3.client("dynamodb")
TABLE = os.environ[ORDERS_TABLE_ENV]


def notify(name: str, detail: Any, event: dict[str, Any]) -> None:
    key = event_id(detail, event)
    created = put_once(dynamodb, TABLE, to_dynamo({
        PARTITION_KEY: f"NOTIFY#{key}", SORT_KEY: "NOTIFICATION", "entity": "notification", "template": name,
        "orderId": detail.orderId, "status": "TO_SEND", "eventTime": detail.occurredAt,
    }))
    logger.info("notification recorded" if created else "notification already recorded",
                extra={"eventId": key, "template": name})


batch = sqs_batch(ORDER_EVENTS, notify)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return batch(event, context)
