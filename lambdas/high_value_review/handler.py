"""High-value review: each OrderPlaced above the threshold (the rule filters) opens one review.
Fed by its queue in batches; a record that keeps failing goes to the queue's DLQ."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.environment import read_environment
from components.runtime.observability import logger, observed
from shared.dynamo import to_dynamo
from shared.orders_schema import PARTITION_KEY, SORT_KEY
from shared.subscriber import APPLIED, FAILED, Delivery, OrdersSubscriberEnvironment, failed_ids, put_once, sqs_batch, write_each

environment = read_environment(OrdersSubscriberEnvironment)
dynamodb = boto3.client("dynamodb")
TABLE = environment.orders_table


def open_reviews(deliveries: list[Delivery]) -> list[str]:
    """One review per order, whatever the deliveries; the message ids that failed."""
    outcomes = write_each(dynamodb, [put_once(delivery.message_id, TABLE, to_dynamo({
        PARTITION_KEY: f"REVIEW#{delivery.detail.orderId}", SORT_KEY: "REVIEW", "entity": "review",
        "orderId": delivery.detail.orderId, "totalAmount": delivery.detail.totalAmount,
        "currency": delivery.detail.currency, "status": "OPEN",
    })) for delivery in deliveries])
    for delivery in deliveries:
        if outcomes[delivery.message_id] != FAILED:
            logger.info("high-value review", extra={"orderId": delivery.detail.orderId,
                                                    "opened": outcomes[delivery.message_id] == APPLIED})
    return failed_ids(outcomes)


batch = sqs_batch(("OrderPlaced",), open_reviews)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return batch(event, context)
