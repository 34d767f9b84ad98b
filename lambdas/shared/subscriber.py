"""What every event subscriber shares: EventBridge events out of SQS batches (partial batch
responses), contract parsing, and effects that happen once per event id."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

from components.runtime.environment import variable
from shared.contracts import parse
from shared.orders_schema import ORDERS_TABLE_ENV

Apply = Callable[[str, Any, dict[str, Any]], None]


@dataclass(frozen=True)
class OrdersSubscriberEnvironment:
    """What system/fanout.py gives every orders subscriber: the orders table."""

    orders_table: str = variable(ORDERS_TABLE_ENV)


def sqs_batch(accepted: tuple[str, ...], apply: Apply) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A batch handler: each SQS message is an EventBridge event; an event this subscriber does not
    accept fails its record (and reaches the DLQ after maxReceiveCount), the rest proceed."""
    processor = BatchProcessor(event_type=EventType.SQS)

    def record_handler(record: SQSRecord) -> None:
        event = json.loads(record.body)
        name, detail = parse(event, accepted)
        apply(name, detail, event)

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)

    return handle


def event_id(detail: Any, event: dict[str, Any]) -> str:
    """The producer's event id (from the outbox), else EventBridge's own id."""
    return detail.eventId or event["id"]


def put_once(client: Any, table: str, item: dict[str, Any]) -> bool:
    """Write ``item`` unless its key exists: True the first time, False for a repeat delivery."""
    try:
        client.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True
