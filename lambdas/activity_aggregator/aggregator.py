"""Activity aggregates per time window and event type, exact under retries and bisection.

Each shard's last applied sequence number is stored with the aggregates, in the same transaction
and under a condition on its previous value: a record at or below the checkpoint was already
counted and is skipped, so a re-delivered or bisected batch is never counted twice. Writes are
batched: one read of the checkpoint and one transaction per batch (up to 99 aggregates).
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.activity_schema import (
    AGGREGATE_PREFIX,
    AMOUNT_DECIMALS,
    CHECKPOINT_SORT_KEY,
    EARLIEST_YEAR,
    LATEST_YEAR,
    MAX_AMOUNT,
    MAX_SEQUENCE_DIGITS,
    PARTITION_KEY,
    SHARD_PREFIX,
    SORT_KEY,
)
from shared.money import parse_amount

MAX_AGGREGATES_PER_TRANSACTION = 99  # plus the checkpoint: DynamoDB's limit is 100 items


class PoisonRecordError(ValueError):
    pass


@dataclass
class Activity:
    type: str
    window: str
    amount: Decimal


@dataclass
class BatchResult:
    applied: int = 0
    skipped: int = 0
    parked: int = 0
    failed_sequence: str | None = None
    calls: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)


def sequence_value(sequence: str) -> int:
    """A Kinesis sequence number (or a checkpoint, padded or not) as the number it is."""
    if not isinstance(sequence, str) or not sequence.isascii() or not sequence.isdigit() \
            or len(sequence.lstrip("0")) > MAX_SEQUENCE_DIGITS:
        raise ValueError(f"not a sequence number: {str(sequence)[:40]!r}")
    return int(sequence)


def window_start(occurred_at: str, window_seconds: int) -> str:
    if not isinstance(occurred_at, str) or len(occurred_at) > 40:
        raise ValueError("occurredAt must be an ISO-8601 time")
    moment = datetime.fromisoformat(occurred_at.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("occurredAt needs a UTC offset")
    moment = moment.astimezone(UTC)  # OverflowError at the ends of the calendar: caught as poison
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"occurredAt year {moment.year} is outside {EARLIEST_YEAR}-{LATEST_YEAR}")
    start = int(moment.timestamp()) // window_seconds * window_seconds
    return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def activity_amount(raw: object) -> Decimal:
    """The contract's amount: decimal text, 0 <= amount < 10^15, at most four decimals (DynamoDB
    refuses more than 38 significant digits and magnitudes like 1e200, failing the whole batch)."""
    amount = parse_amount(raw) if raw is not None else Decimal(0)  # type: ignore[arg-type]
    if not 0 <= amount < MAX_AMOUNT or -amount.as_tuple().exponent > AMOUNT_DECIMALS:  # type: ignore[operator]
        raise ValueError(f"amount {raw!r} is outside the activity contract")
    return amount


def parse(record: dict[str, Any], window_seconds: int) -> Activity:
    try:
        data = json.loads(base64.b64decode(record["kinesis"]["data"]))
        kind = data["type"]
        if not isinstance(kind, str) or not kind or len(kind) > 64:
            raise ValueError("type must be a short string")
        amount = activity_amount(data.get("amount"))
        return Activity(kind, window_start(data["occurredAt"], window_seconds), amount)
    except (ValueError, KeyError, TypeError, InvalidOperation, AttributeError, OverflowError, RecursionError) as error:
        raise PoisonRecordError(str(error)) from error


class Aggregator:
    """``park(record, reason)`` puts a poison record on the on-failure queue; without it the
    first poison record is reported instead (Lambda retries, bisects, then gives the batch range
    to the on-failure destination)."""

    def __init__(self, client: Any, table_name: str, window_seconds: int,
                 park: Callable[[dict[str, Any], str], None] | None = None) -> None:
        self.client = client
        self.table_name = table_name
        self.window_seconds = window_seconds
        self.park = park

    def process(self, records: list[dict[str, Any]]) -> BatchResult:
        """Apply a batch (one shard, in order). A poison record is parked whole and counted past,
        so it costs only itself; the batch's good records commit."""
        result = BatchResult()
        by_shard: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in records:
            by_shard[record["eventID"].split(":", 1)[0]].append(record)
        for shard, shard_records in by_shard.items():
            self._process_shard(shard, shard_records, result)
        return result

    def _process_shard(self, shard: str, records: list[dict[str, Any]], result: BatchResult) -> None:
        checkpoint = self._checkpoint(shard, result)
        pending: dict[tuple[str, str], list[Any]] = {}
        last = checkpoint
        for record in records:
            sequence = record["kinesis"]["sequenceNumber"]
            if checkpoint is not None and sequence_value(sequence) <= sequence_value(checkpoint):
                result.skipped += 1
                continue
            try:
                activity = parse(record, self.window_seconds)
            except PoisonRecordError as poison:
                if self.park is None:
                    result.failed_sequence = sequence
                    result.failures.append({"itemIdentifier": sequence})
                    break
                self.park(record, str(poison))  # before the checkpoint passes it: never lost
                result.calls += 1
                result.parked += 1
                last = sequence
                continue
            if (activity.window, activity.type) not in pending and len(pending) == MAX_AGGREGATES_PER_TRANSACTION:
                checkpoint = self._commit(shard, pending, checkpoint, last, result)
                pending = {}
            totals = pending.setdefault((activity.window, activity.type), [0, Decimal(0)])
            totals[0] += 1
            totals[1] += activity.amount
            last = sequence
            result.applied += 1
        if pending or (last is not None and last != checkpoint):
            self._commit(shard, pending, checkpoint, last, result)

    def _checkpoint(self, shard: str, result: BatchResult) -> str | None:
        result.calls += 1
        item = self.client.get_item(
            TableName=self.table_name, ConsistentRead=True,
            Key={PARTITION_KEY: {"S": f"{SHARD_PREFIX}{shard}"}, SORT_KEY: {"S": CHECKPOINT_SORT_KEY}},
        ).get("Item")
        return item["lastSequence"]["S"] if item else None

    def _commit(self, shard: str, totals: dict[tuple[str, str], list[Any]], previous: str | None, last: str,
                result: BatchResult) -> str:
        items: list[dict[str, Any]] = [
            {"Update": {
                "TableName": self.table_name,
                "Key": {PARTITION_KEY: {"S": f"{AGGREGATE_PREFIX}{window}"}, SORT_KEY: {"S": kind}},
                "UpdateExpression": "ADD #count :count, #amount :amount",
                "ExpressionAttributeNames": {"#count": "count", "#amount": "amount"},
                "ExpressionAttributeValues": {":count": {"N": str(count)}, ":amount": {"N": str(amount)}},
            }}
            for (window, kind), (count, amount) in totals.items()
        ]
        checkpoint: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {PARTITION_KEY: {"S": f"{SHARD_PREFIX}{shard}"}, SORT_KEY: {"S": CHECKPOINT_SORT_KEY}},
            "UpdateExpression": "SET lastSequence = :last",
            "ExpressionAttributeValues": {":last": {"S": last}},
        }
        if previous is None:
            checkpoint["ConditionExpression"] = "attribute_not_exists(lastSequence)"
        else:
            checkpoint["ConditionExpression"] = "lastSequence = :previous"
            checkpoint["ExpressionAttributeValues"][":previous"] = {"S": previous}
        # A concurrent writer for this shard fails the condition: the whole batch retries, exactly.
        self.client.transact_write_items(TransactItems=[*items, {"Update": checkpoint}])
        result.calls += 1
        return last
