"""Analytics subscriber: order events -> the activity Kinesis stream (partition key = order id),
once per event id: a marker is written first, and removed again if the put fails."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.activity_schema import ACTIVITY_STREAM_ENV
from shared.contracts import ORDER_EVENTS
from shared.observability import logger, metrics, tracer
from shared.orders_schema import ORDERS_TABLE_ENV
from shared.subscriber import event_id, put_once, sqs_batch

dynamodb = boto3.client("dynamodb")
kinesis = boto3.client("kinesis")
TABLE, STREAM = os.environ[ORDERS_TABLE_ENV], os.environ[ACTIVITY_STREAM_ENV]
MARKER_TTL_SECONDS = 7 * 24 * 3600


def forward(name: str, detail: Any, event: dict[str, Any]) -> None:
    key = {"pk": {"S": f"SEEN#analytics#{event_id(detail, event)}"}, "sk": {"S": "SEEN"}}
    marker = {**key, "expiresAt": {"N": str(int(time.time()) + MARKER_TTL_SECONDS)}}
    if not put_once(dynamodb, TABLE, marker):
        return
    amount = getattr(detail, "totalAmount", None)
    activity = {"type": name, "occurredAt": detail.occurredAt, "orderId": detail.orderId,
                **({"amount": str(amount)} if amount is not None else {})}
    try:
        kinesis.put_record(StreamName=STREAM, PartitionKey=detail.orderId, Data=json.dumps(activity).encode())
    except Exception:
        dynamodb.delete_item(TableName=TABLE, Key=key)  # let the retry forward it
        raise


batch = sqs_batch(ORDER_EVENTS, forward)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return batch(event, context)
