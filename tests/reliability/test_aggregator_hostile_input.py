"""The activity aggregator: a record that breaks the contract costs only itself (parked on the
on-failure queue), and sequence numbers of any allowed length compare as numbers."""

from __future__ import annotations

import json

import boto3
import pytest

from components.runtime.stream_schema import ON_FAILURE_QUEUE_URL_ENV
from lambdas.shared import activity_schema as schema
from system.analytics import AGGREGATES_TABLE
from tests.lambdas.conftest import REGION, create_table, fresh_import
from tests.lambdas.test_activity_aggregator import SHARD, TABLE, activity, record, totals


@pytest.fixture
def aggregator(aws, monkeypatch, lambda_context):
    create_table(AGGREGATES_TABLE, TABLE)
    sqs = boto3.client("sqs", region_name=REGION)
    failures = sqs.create_queue(QueueName="activity-failures")["QueueUrl"]
    monkeypatch.setenv(schema.AGGREGATES_TABLE_ENV, TABLE)
    monkeypatch.setenv(schema.WINDOW_SECONDS_ENV, "300")
    monkeypatch.setenv(ON_FAILURE_QUEUE_URL_ENV, failures)
    module = fresh_import("activity_aggregator.handler")

    def run(records: list[dict]) -> list[str]:
        return [f["itemIdentifier"] for f in module.handler({"Records": records}, lambda_context)["batchItemFailures"]]

    def parked() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=failures, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    run.parked = parked
    return run


POISON = [
    {"type": "OrderPlaced", "occurredAt": "0001-01-01T00:00:00+01:00"},
    {"type": "OrderPlaced", "occurredAt": "9999-12-31T23:59:59-01:00"},
    {"type": "OrderPlaced", "occurredAt": "2026-11-23T12:00:00"},  # no offset
    {"type": "OrderPlaced", "occurredAt": "2026-11-23T12:00:00Z", "amount": "1e200"},
    {"type": "OrderPlaced", "occurredAt": "2026-11-23T12:00:00Z", "amount": "1" * 39},
    {"type": "OrderPlaced", "occurredAt": "2026-11-23T12:00:00Z", "amount": "-0.01"},
    {"type": "OrderPlaced", "occurredAt": "2026-11-23T12:00:00Z", "amount": "0.00001"},
    {"type": "OrderPlaced", "occurredAt": "2026-11-23T12:00:00Z", "amount": 12.5},  # a float, not text
    {"type": "OrderPlaced", "occurredAt": "2026-11-23T12:00:00Z", "amount": "NaN"},
    {"type": "", "occurredAt": "2026-11-23T12:00:00Z"},
]


@pytest.mark.parametrize("poison", POISON)
def test_a_record_breaking_the_contract_is_parked_and_the_batch_commits(aggregator, poison) -> None:
    good_before = record(1, activity("OrderPlaced", 1, "10.00"))
    bad = record(2, poison)
    good_after = record(3, activity("OrderPlaced", 2, "5.25"))
    assert aggregator([good_before, bad, good_after]) == []
    assert totals() == {("AGG#2026-11-23T12:00:00Z", "OrderPlaced"): (2, 15.25)}
    [parked] = aggregator.parked()
    assert parked["record"]["kinesis"]["sequenceNumber"] == bad["kinesis"]["sequenceNumber"]
    assert aggregator([good_before, bad, good_after]) == []  # redelivered: nothing counted twice
    assert totals() == {("AGG#2026-11-23T12:00:00Z", "OrderPlaced"): (2, 15.25)}


def long_sequence(value: int, digits: int) -> dict:
    seq = str(value).rjust(digits, "9")[:digits]
    base = record(0, activity("OrderPlaced", 1, "1.00"))
    base["eventID"] = f"{SHARD}:{seq}"
    base["kinesis"]["sequenceNumber"] = seq
    return base


def test_sequence_numbers_longer_than_64_digits_compare_as_numbers(aggregator) -> None:
    """Padded to 64 characters, a 100-digit number sorted below a 65-digit one: later records were skipped."""
    first = long_sequence(1, 65)
    later = record(0, activity("OrderPlaced", 1, "2.00"))
    later["kinesis"]["sequenceNumber"] = "1" + "0" * 99
    later["eventID"] = f"{SHARD}:{later['kinesis']['sequenceNumber']}"
    assert aggregator([first]) == []
    assert aggregator([later]) == []
    assert totals() == {("AGG#2026-11-23T12:00:00Z", "OrderPlaced"): (2, 3)}
    assert aggregator([first, later]) == []  # both at or below the checkpoint now
    assert totals() == {("AGG#2026-11-23T12:00:00Z", "OrderPlaced"): (2, 3)}
