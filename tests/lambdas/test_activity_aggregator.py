from __future__ import annotations

import base64
import json
from decimal import Decimal

import boto3
import pytest

from lambdas.shared import activity_schema as schema
from system.analytics import AGGREGATES_TABLE
from tests.lambdas.conftest import REGION, create_table, fresh_import

TABLE = "aggregates-test"
SHARD = "shardId-000000000000"


def record(sequence: int, data: object, shard: str = SHARD) -> dict:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    seq = f"4959{sequence:052d}"
    return {"eventID": f"{shard}:{seq}", "eventSource": "aws:kinesis",
            "kinesis": {"sequenceNumber": seq, "partitionKey": "c-1", "data": base64.b64encode(raw).decode()}}


def activity(kind: str, minute: int, amount: str | None = None) -> dict:
    event = {"type": kind, "occurredAt": f"2026-11-23T12:{minute:02d}:30Z", "customerId": "c-1"}
    if amount is not None:
        event["amount"] = amount
    return event


@pytest.fixture
def aggregator(aws, monkeypatch, lambda_context):
    create_table(AGGREGATES_TABLE, TABLE)
    monkeypatch.setenv(schema.AGGREGATES_TABLE_ENV, TABLE)
    monkeypatch.setenv(schema.WINDOW_SECONDS_ENV, "300")
    module = fresh_import("activity_aggregator.handler")

    def run(records: list[dict]) -> list[str]:
        return [f["itemIdentifier"] for f in module.handler({"Records": records}, lambda_context)["batchItemFailures"]]

    run.module = module
    return run


def totals() -> dict[tuple[str, str], tuple[int, Decimal]]:
    items = boto3.resource("dynamodb", region_name=REGION).Table(TABLE).scan()["Items"]
    return {(i["pk"], i["sk"]): (int(i["count"]), i["amount"]) for i in items if i["pk"].startswith("AGG#")}


BATCH = [record(i, activity("OrderPlaced" if i % 3 else "PageView", minute=i % 10,
                              amount="10.50" if i % 3 else None)) for i in range(1, 31)]


def expected() -> dict[tuple[str, str], tuple[int, Decimal]]:
    result: dict[tuple[str, str], list] = {}
    for i in range(1, 31):
        kind = "OrderPlaced" if i % 3 else "PageView"
        window = "AGG#2026-11-23T12:00:00Z" if i % 10 < 5 else "AGG#2026-11-23T12:05:00Z"
        entry = result.setdefault((window, kind), [0, Decimal(0)])
        entry[0] += 1
        entry[1] += Decimal("10.50") if i % 3 else Decimal(0)
    return {key: (count, amount) for key, (count, amount) in result.items()}


def test_counts_and_sums_per_window_and_type(aggregator) -> None:
    assert aggregator(BATCH) == []
    assert totals() == expected()


def test_a_batch_delivered_twice_is_counted_once(aggregator) -> None:
    aggregator(BATCH)
    aggregator(BATCH)
    assert totals() == expected()


def test_bisected_redelivery_stays_exact(aggregator) -> None:
    """Lambda bisects a failing batch: halves (and the whole) may arrive again in any mix."""
    aggregator(BATCH[:15])
    aggregator(BATCH[:7])
    aggregator(BATCH[7:15])
    aggregator(BATCH)
    assert totals() == expected()


def test_a_poison_record_fails_alone_and_the_records_before_it_commit(aggregator) -> None:
    poison = record(16, b"\xff not json")
    batch = [*BATCH[:15], poison, *BATCH[15:]]
    assert aggregator(batch) == [poison["kinesis"]["sequenceNumber"]]
    first_half = {k: v for k, v in totals().items()}
    assert sum(count for count, _ in first_half.values()) == 15
    # Kinesis retries from the poison record; after the bounded retries it is skipped (sent to
    # the on-failure queue) and the rest is delivered: nothing counted twice, nothing lost.
    assert aggregator(batch[15:]) == [poison["kinesis"]["sequenceNumber"]]
    assert aggregator(batch[16:]) == []
    assert sum(count for count, _ in totals().values()) == 30


@pytest.mark.parametrize("data", [b"[]", json.dumps({"type": "x"}).encode(),
                                  json.dumps({"type": "x", "occurredAt": "yesterday"}).encode(),
                                  json.dumps({"type": "x", "occurredAt": "2026-11-23T12:00:00Z", "amount": "NaN"}).encode()])
def test_malformed_activity_is_poison(aggregator, data) -> None:
    assert aggregator([record(1, data)]) == [record(1, data)["kinesis"]["sequenceNumber"]]


def test_two_aws_calls_per_batch(aggregator) -> None:
    result = aggregator.module.aggregator.process([record(i, activity("OrderPlaced", 1, "1")) for i in range(1, 101)])
    assert result.applied == 100 and result.calls <= 8
    assert result.calls == 2
