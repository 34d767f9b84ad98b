"""Analytics subscriber: order events -> the activity Kinesis stream (partition key = order id),
once per event id.

A marker per event id says how far forwarding got: PENDING before the put, DONE after it. A
delivery finds DONE and stops; it finds PENDING (a put that failed, or a run that died before
marking) and forwards again, so no event is lost whatever fails (a put that succeeded just before
the run died is forwarded twice: the one window, and the record carries the event id). A failed
put fails the record: SQS delivers it again, and after maxReceiveCount it lands in the DLQ.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from components.runtime.environment import read_environment, variable
from components.runtime.observability import observed
from shared.activity_schema import ACTIVITY_STREAM_ENV
from shared.contracts import ORDER_EVENTS
from shared.money import amount_text
from shared.orders_schema import ORDERS_TABLE_ENV, PARTITION_KEY, SORT_KEY
from shared.subscriber import event_id, sqs_batch


@dataclass(frozen=True)
class Environment:
    orders_table: str = variable(ORDERS_TABLE_ENV)
    activity_stream: str = variable(ACTIVITY_STREAM_ENV)


environment = read_environment(Environment)
dynamodb = boto3.client("dynamodb")
kinesis = boto3.client("kinesis")
TABLE, STREAM = environment.orders_table, environment.activity_stream
MARKER_TTL_SECONDS = 7 * 24 * 3600


PENDING, DONE = "PENDING", "DONE"


def claim(key: dict[str, Any]) -> bool:
    """Mark the event PENDING unless it is DONE: True when this delivery must forward it."""
    try:
        dynamodb.put_item(
            TableName=TABLE,
            Item={**key, "state": {"S": PENDING}, "expiresAt": {"N": str(int(time.time()) + MARKER_TTL_SECONDS)}},
            ConditionExpression="attribute_not_exists(pk) OR #state = :pending",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":pending": {"S": PENDING}},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False  # DONE: a repeat delivery
        raise
    return True


def forward(name: str, detail: Any, event: dict[str, Any]) -> None:
    identifier = event_id(detail, event)
    key = {PARTITION_KEY: {"S": f"SEEN#analytics#{identifier}"}, SORT_KEY: {"S": "SEEN"}}
    if not claim(key):
        return
    amount = getattr(detail, "totalAmount", None)
    activity = {"type": name, "occurredAt": detail.occurredAt, "orderId": detail.orderId, "eventId": identifier,
                **({"amount": amount_text(amount)} if amount is not None else {})}
    kinesis.put_record(StreamName=STREAM, PartitionKey=detail.orderId, Data=json.dumps(activity).encode())
    dynamodb.update_item(TableName=TABLE, Key=key, UpdateExpression="SET #state = :done",
                         ExpressionAttributeNames={"#state": "state"}, ExpressionAttributeValues={":done": {"S": DONE}})


batch = sqs_batch(ORDER_EVENTS, forward)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return batch(event, context)
