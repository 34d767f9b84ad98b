"""Analytics subscriber: order events -> the activity Kinesis stream (partition key = order id),
once per event id, a whole batch at a time.

A marker per event id says how far forwarding got: PENDING before the put, DONE after it. A
delivery finds DONE and stops; it finds PENDING (a put that failed, or a run that died before
marking) and forwards again, so no event is lost whatever fails (a put that succeeded just before
the run died is forwarded twice: the one window, and the record carries the event id). A record
that Kinesis did not accept fails its message: SQS delivers it again, and after maxReceiveCount it
lands in the DLQ.

Per batch of up to 100 events: one or two transactions of claims, one PutRecords, one transaction
of DONE marks. Kinesis does not keep a PutRecords call's order within a shard; neither does the
standard queue in front, and the aggregates are order-independent.
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
from components.runtime.observability import logger, observed
from shared.activity_schema import ACTIVITY_STREAM_ENV
from shared.contracts import ORDER_EVENTS
from shared.money import amount_text
from shared.orders_schema import ORDERS_TABLE_ENV, PARTITION_KEY, SORT_KEY
from shared.subscriber import APPLIED, FAILED, Delivery, Write, sqs_batch, write_each


@dataclass(frozen=True)
class Environment:
    orders_table: str = variable(ORDERS_TABLE_ENV)
    activity_stream: str = variable(ACTIVITY_STREAM_ENV)


environment = read_environment(Environment)
dynamodb = boto3.client("dynamodb")
kinesis = boto3.client("kinesis")
TABLE, STREAM = environment.orders_table, environment.activity_stream
MARKER_TTL_SECONDS = 7 * 24 * 3600
# PutRecords takes at most 500 records (botocore's kinesis model: PutRecordsRequestEntryList, max 500).
PUT_RECORDS_LIMIT = 500

PENDING, DONE = "PENDING", "DONE"


def marker_key(delivery: Delivery) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": f"SEEN#analytics#{delivery.event_id}"}, SORT_KEY: {"S": "SEEN"}}


def claim(delivery: Delivery) -> Write:
    """Mark the event PENDING unless it is DONE: APPLIED when this delivery must forward it."""
    key = marker_key(delivery)
    return Write(delivery.message_id, (delivery.event_id,), {"Put": {
        "TableName": TABLE,
        "Item": {**key, "state": {"S": PENDING}, "expiresAt": {"N": str(int(time.time()) + MARKER_TTL_SECONDS)}},
        "ConditionExpression": "attribute_not_exists(pk) OR #state = :pending",
        "ExpressionAttributeNames": {"#state": "state"},
        "ExpressionAttributeValues": {":pending": {"S": PENDING}},
    }})


def mark_done(delivery: Delivery) -> Write:
    return Write(delivery.message_id, (delivery.event_id,), {"Update": {
        "TableName": TABLE, "Key": marker_key(delivery), "UpdateExpression": "SET #state = :done",
        "ExpressionAttributeNames": {"#state": "state"}, "ExpressionAttributeValues": {":done": {"S": DONE}},
    }})


def activity(delivery: Delivery) -> dict[str, Any]:
    detail = delivery.detail
    amount = getattr(detail, "totalAmount", None)
    record = {"type": delivery.name, "occurredAt": detail.occurredAt, "orderId": detail.orderId,
              "eventId": delivery.event_id, **({"amount": amount_text(amount)} if amount is not None else {})}
    return {"PartitionKey": detail.orderId, "Data": json.dumps(record).encode()}


def put_records(deliveries: list[Delivery]) -> set[str]:
    """Each delivery's activity record on the stream: the message ids Kinesis did not take."""
    rejected: set[str] = set()
    for start in range(0, len(deliveries), PUT_RECORDS_LIMIT):
        chunk = deliveries[start:start + PUT_RECORDS_LIMIT]
        try:
            response = kinesis.put_records(StreamName=STREAM, Records=[activity(delivery) for delivery in chunk])
        except ClientError as error:
            logger.warning("activity records not put", extra={"error": error.response["Error"]["Code"],
                                                              "records": len(chunk)})
            rejected.update(delivery.message_id for delivery in chunk)
            continue
        # One result per record, in the request's order; a failed one has an ErrorCode.
        for delivery, result in zip(chunk, response["Records"], strict=True):
            if result.get("ErrorCode"):
                logger.warning("activity record not put", extra={"eventId": delivery.event_id,
                                                                 "error": result["ErrorCode"]})
                rejected.add(delivery.message_id)
    return rejected


def forward(deliveries: list[Delivery]) -> list[str]:
    """Forward the events not forwarded yet; the message ids that failed."""
    claims = write_each(dynamodb, [claim(delivery) for delivery in deliveries])
    to_forward = [delivery for delivery in deliveries if claims[delivery.message_id] == APPLIED]
    rejected = put_records(to_forward)
    forwarded = [delivery for delivery in to_forward if delivery.message_id not in rejected]
    marks = write_each(dynamodb, [mark_done(delivery) for delivery in forwarded])
    if FAILED in marks.values():
        # Forwarded but still PENDING: acknowledged (a redelivery would duplicate it); a later
        # duplicate delivery of the same event would forward it again, the documented window.
        logger.warning("forwarded events not marked done", extra={"events": list(marks.values()).count(FAILED)})
    return [delivery.message_id for delivery in deliveries if claims[delivery.message_id] == FAILED
            or delivery.message_id in rejected]


batch = sqs_batch(ORDER_EVENTS, forward)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return batch(event, context)
