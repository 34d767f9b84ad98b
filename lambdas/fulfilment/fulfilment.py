"""Starting fulfilment of a paid order: once, and only while it is PAID."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from components.runtime.observability import logger
from shared.dynamo import to_dynamo
from shared.orders_schema import order_key


class Fulfilment:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def start(self, detail: Any) -> bool:
        """Mark the order's fulfilment STARTED; False when it already was, or the order is not PAID."""
        try:
            self.dynamodb.update_item(
                TableName=self.table, Key=to_dynamo(order_key(detail.orderId)),
                UpdateExpression="SET fulfilment = :started, fulfilmentStartedAt = :at",
                ConditionExpression="#state = :paid AND attribute_not_exists(fulfilment)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_dynamo({":started": "STARTED", ":paid": "PAID", ":at": detail.occurredAt}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            logger.info("fulfilment already started or order not paid", extra={"orderId": detail.orderId})
            return False
        return True
