"""What every event subscriber shares: EventBridge events out of SQS batches (partial batch
responses), contract parsing, and conditional writes made a whole batch at a time, once per event.

Why not Powertools' BatchProcessor here: it hands the code one record at a time, so a batch of 100
costs at least 100 DynamoDB calls. These subscribers parse every record first (a record that does not
parse fails alone), then write the batch in TransactWriteItems calls of up to 100 actions, and report
each record's outcome in the same ``batchItemFailures`` response Powertools builds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from components.runtime.environment import variable
from components.runtime.observability import logger
from shared.contracts import UnsupportedEventError, parse
from shared.dynamo import cancellation_codes
from shared.orders_schema import ORDERS_TABLE_ENV, PARTITION_KEY, SORT_KEY

# TransactWriteItems takes at most 100 actions (botocore's dynamodb model: TransactWriteItemList, max 100).
TRANSACTION_ACTIONS = 100
# A transaction cancelled by other items' conditions or a conflict is tried again without the items
# whose own condition failed; after this many calls the rest fail their records (SQS redelivers them).
TRANSACTION_ATTEMPTS = 3
APPLIED, REJECTED, FAILED = "applied", "rejected", "failed"


@dataclass(frozen=True)
class OrdersSubscriberEnvironment:
    """What system/fanout.py gives every orders subscriber: the orders table."""

    orders_table: str = variable(ORDERS_TABLE_ENV)


@dataclass(frozen=True)
class Delivery:
    """One SQS message of a batch, parsed: the event's name, its detail (latest contract) and the event."""

    message_id: str
    name: str
    detail: Any
    event: dict[str, Any]
    event_id: str


ApplyBatch = Callable[[list[Delivery]], Collection[str]]


class BatchFailedError(RuntimeError):
    """Every record of the batch failed: the invocation fails too (its Errors alarm), as Powertools does."""


def sqs_batch(accepted: tuple[str, ...], apply: ApplyBatch) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A batch handler: each SQS message is an EventBridge event. An event this subscriber does not
    accept fails its record (and reaches the DLQ after maxReceiveCount); ``apply`` gets the others at
    once and returns the message ids that failed."""

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event.get("Records") or []
        failed: set[str] = set()
        deliveries: list[Delivery] = []
        for record in records:
            try:
                body = json.loads(record["body"])
                name, detail = parse(body, accepted)
                delivery = Delivery(record["messageId"], name, detail, body, event_id(detail, body))
            except (UnsupportedEventError, ValueError, TypeError) as error:
                # Our own reasons are safe to log; a parser's message may repeat the input (customer data).
                reason = str(error) if isinstance(error, UnsupportedEventError) else type(error).__name__
                logger.warning("event not accepted", extra={"messageId": record["messageId"], "reason": reason})
                failed.add(record["messageId"])
                continue
            deliveries.append(delivery)
        if deliveries:
            failed |= set(apply(deliveries))
        failures = [record["messageId"] for record in records if record["messageId"] in failed]
        if records and len(failures) == len(records):
            raise BatchFailedError(f"all {len(records)} records failed")
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}

    return handle


def event_id(detail: Any, event: dict[str, Any]) -> str:
    """The producer's event id (from the outbox), else EventBridge's own id."""
    identifier = detail.eventId or event.get("id")
    if not isinstance(identifier, str) or not identifier:
        raise UnsupportedEventError("an event needs an id (detail.eventId or the envelope's id)")
    return identifier


@dataclass(frozen=True)
class Write:
    """One conditional write for one message: ``key`` names the item (a repeat in the same batch has
    the same key), ``action`` is its TransactWriteItems action ({"Put": ...} or {"Update": ...})."""

    message_id: str
    key: tuple[str, ...]
    action: dict[str, Any]


def write_each(client: Any, writes: Sequence[Write]) -> dict[str, str]:
    """Each write made once, in transactions of up to 100 actions: the outcome per message id is
    APPLIED, REJECTED (its condition failed: a repeat delivery, or the item is not in the state the
    write needs) or FAILED (a fault: the message must be delivered again).

    A repeat inside the batch is not sent (a transaction may not touch one item twice): it is
    REJECTED, or FAILED when the first one failed. Transactional writes cost twice the write units of
    single writes; at these item sizes that is cents per million events, for 1-3 calls per 100."""
    outcomes: dict[str, str] = {}
    first_by_key: dict[tuple[str, ...], Write] = {}
    for write in writes:
        first_by_key.setdefault(write.key, write)
    unique = list(first_by_key.values())
    for start in range(0, len(unique), TRANSACTION_ACTIONS):
        _transact(client, unique[start:start + TRANSACTION_ACTIONS], outcomes)
    for write in writes:
        if write.message_id not in outcomes:
            outcomes[write.message_id] = FAILED if outcomes[first_by_key[write.key].message_id] == FAILED else REJECTED
    return outcomes


def _transact(client: Any, chunk: list[Write], outcomes: dict[str, str]) -> None:
    for _ in range(TRANSACTION_ATTEMPTS):
        if not chunk:
            return
        try:
            client.transact_write_items(TransactItems=[write.action for write in chunk])
        except ClientError as error:
            code = error.response["Error"]["Code"]
            reasons = cancellation_codes(error.response)
            if code != "TransactionCanceledException" or len(reasons) != len(chunk):
                logger.warning("batch write failed", extra={"error": code, "records": len(chunk)})
                break
            # Reasons come in the order of the actions; "None" marks an action cancelled only
            # because another one failed. Conflicts and throttling are worth another try too.
            for write, reason in zip(chunk, reasons, strict=True):
                if reason == "ConditionalCheckFailed":
                    outcomes[write.message_id] = REJECTED
            chunk = [write for write in chunk if write.message_id not in outcomes]
            continue
        for write in chunk:
            outcomes[write.message_id] = APPLIED
        return
    for write in chunk:
        outcomes[write.message_id] = FAILED


def put_once(message_id: str, table: str, item: dict[str, Any]) -> Write:
    """Write ``item`` (DynamoDB attribute values) unless its key exists: REJECTED for a repeat."""
    key = (item[PARTITION_KEY]["S"], item[SORT_KEY]["S"])
    return Write(message_id, key, {"Put": {"TableName": table, "Item": item,
                                           "ConditionExpression": "attribute_not_exists(pk)"}})


def failed_ids(outcomes: dict[str, str]) -> list[str]:
    return [message_id for message_id, outcome in outcomes.items() if outcome == FAILED]
