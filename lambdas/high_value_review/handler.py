"""High-value review: an OrderPlaced above the threshold (the rule filters) opens one review.
Invoked directly by EventBridge; failures go to the target's DLQ after the retries."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.environment import read_environment
from components.runtime.observability import logger, observed
from shared.contracts import parse
from shared.dynamo import to_dynamo
from shared.orders_schema import PARTITION_KEY, SORT_KEY
from shared.subscriber import OrdersSubscriberEnvironment, put_once

environment = read_environment(OrdersSubscriberEnvironment)
dynamodb = boto3.client("dynamodb")
TABLE = environment.orders_table


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _, detail = parse(event, ("OrderPlaced",))
    opened = put_once(dynamodb, TABLE, to_dynamo({
        PARTITION_KEY: f"REVIEW#{detail.orderId}", SORT_KEY: "REVIEW", "entity": "review", "orderId": detail.orderId,
        "totalAmount": detail.totalAmount, "currency": detail.currency, "status": "OPEN",
    }))
    logger.info("high-value review", extra={"orderId": detail.orderId, "opened": opened})
    return {"opened": opened}
