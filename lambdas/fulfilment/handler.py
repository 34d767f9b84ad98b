"""Fulfilment subscriber: an OrderPaid starts fulfilment (once; the warehouse marks it FULFILLED later)."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from components.runtime.observability import logger, observed
from shared.dynamo import to_dynamo
from shared.orders_schema import ORDERS_TABLE_ENV, order_key
from shared.subscriber import sqs_batch

dynamodb = boto3.client("dynamodb")
TABLE = os.environ[ORDERS_TABLE_ENV]


def start_fulfilment(name: str, detail: Any, event: dict[str, Any]) -> None:
    try:
        dynamodb.update_item(
            TableName=TABLE, Key=to_dynamo(order_key(detail.orderId)),
            UpdateExpression="SET fulfilment = :started, fulfilmentStartedAt = :at",
            ConditionExpression="#state = :paid AND attribute_not_exists(fulfilment)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_dynamo({":started": "STARTED", ":paid": "PAID", ":at": detail.occurredAt}),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        logger.info("fulfilment already started or order not paid", extra={"orderId": detail.orderId})


batch = sqs_batch(("OrderPaid",), start_fulfilment)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return batch(event, context)
