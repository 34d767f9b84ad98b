from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from components.runtime.stream_schema import ON_FAILURE_QUEUE_URL_ENV
from shared.orders_schema import EVENT_BUS_ENV
from system.outbox import OUTBOX_INSERTS
from tests.lambdas.conftest import REGION, fresh_import
from tests.lambdas.orders_fixtures import TABLE, cancel, orders_table, pay, place

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BUS = "orders-test-events"


def stream_records(client) -> list[dict]:
    """The table's stream as Lambda hands it to the relay: every record since the table was created,
    read from moto's DynamoDB Streams (reachable once account-based endpoints are off, see the aws
    fixture), with the eventSourceARN and epoch-seconds creation time Lambda adds."""
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if isinstance(created, datetime):
                record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
            records.append({**record, "eventSourceARN": arn})
    return records


def outbox_inserts(records: list[dict]) -> list[dict]:
    """What Lambda's filter (OUTBOX_INSERTS) lets through."""
    wanted = OUTBOX_INSERTS["dynamodb"]["NewImage"]["entity"]["S"]
    return [r for r in records if r["eventName"] in OUTBOX_INSERTS["eventName"]
            and r["dynamodb"].get("NewImage", {}).get("entity", {}).get("S") in wanted]


@pytest.fixture
def relay(aws, monkeypatch, lambda_context):
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # else botocore asks <account>.streams-ddb...
    client = orders_table()
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name=BUS)
    sink = sqs.create_queue(QueueName="published")["QueueUrl"]
    sink_arn = sqs.get_queue_attributes(QueueUrl=sink, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": ["orders", "payments"]}))
    events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "sink", "Arn": sink_arn}])
    failures = sqs.create_queue(QueueName="relay-failures")["QueueUrl"]
    monkeypatch.setenv(EVENT_BUS_ENV, BUS)
    monkeypatch.setenv(ON_FAILURE_QUEUE_URL_ENV, failures)
    module = fresh_import("outbox_relay.handler")

    def run(records: list[dict]) -> list[str]:
        return [f["itemIdentifier"] for f in module.handler({"Records": records}, lambda_context)["batchItemFailures"]]

    def drain(url: str) -> list[dict]:
        found = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            found += [json.loads(m["Body"]) for m in messages]
            sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                             for i, m in enumerate(messages)])
        return found

    run.client, run.module = client, module
    run.published = lambda: drain(sink)
    run.parked = lambda: drain(failures)
    return run


def test_outbox_items_become_contract_events_on_the_bus(relay) -> None:
    client = relay.client
    order = place(client, NOW, total="30.00")
    pay(client, order, NOW + timedelta(minutes=1), amount="30.00")
    records = outbox_inserts(stream_records(client))
    assert len(records) == 2
    assert relay(records) == []
    published = relay.published()
    assert [(e["source"], e["detail-type"]) for e in published] == [("orders", "OrderPlaced"), ("payments", "OrderPaid")]
    placed = published[0]["detail"]
    assert placed["orderId"] == order and placed["totalAmount"] == "30.00" and placed["version"] == 3
    assert placed["eventId"] and placed["occurredAt"].startswith("2026-11-23T12:00:00")


def test_only_outbox_inserts_pass_the_filter(relay) -> None:
    client = relay.client
    order = place(client, NOW)
    cancel(client, order, NOW)
    records = stream_records(client)
    assert len(records) > 2  # order insert, order modify, two outbox inserts
    assert [r["dynamodb"]["NewImage"]["eventType"]["S"] for r in outbox_inserts(records)] == [
        "OrderPlaced", "OrderCancelled"]


def test_failed_entries_fail_only_from_that_record_and_keep_order(relay, monkeypatch) -> None:
    client = relay.client
    first, second = place(client, NOW), place(client, NOW)
    cancel(client, first, NOW + timedelta(minutes=1))
    records = outbox_inserts(stream_records(client))
    keys = [r["dynamodb"]["NewImage"]["pk"]["S"] for r in records]
    assert len(records) == 3 and keys.count(f"ORDER#{first}") == 2
    events = relay.module.relay.events
    original = events.put_events
    sent: list[list[str]] = []

    def flaky(Entries):  # noqa: N803 - boto3's parameter name
        """EventBridge rejects first's OrderPlaced and accepts the rest of the request."""
        sent.append([json.loads(e["Detail"])["orderId"] + ":" + e["DetailType"] for e in Entries])
        rejected = [e["DetailType"] == "OrderPlaced" and json.loads(e["Detail"])["orderId"] == first for e in Entries]
        accepted = [e for e, no in zip(Entries, rejected, strict=True) if not no]
        results = iter(original(Entries=accepted)["Entries"] if accepted else [])
        entries = [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"} if no else next(results)
                   for no in rejected]
        return {"FailedEntryCount": sum(rejected), "Entries": entries}

    monkeypatch.setattr(events, "put_events", flaky)
    failed = relay(records)
    first_placed = next(r for r in records if r["dynamodb"]["NewImage"]["pk"]["S"] == f"ORDER#{first}")
    assert failed == [first_placed["dynamodb"]["SequenceNumber"]]
    # first's cancellation is never sent before its placement
    flat = [e for chunk in sent for e in chunk]
    assert f"{first}:OrderCancelled" not in flat
    monkeypatch.setattr(events, "put_events", original)
    retry_from = records.index(first_placed)
    assert relay(records[retry_from:]) == []
    published = relay.published()
    assert [e["detail-type"] for e in published if e["detail"]["orderId"] == first] == ["OrderPlaced", "OrderCancelled"]
    assert [e["detail-type"] for e in published if e["detail"]["orderId"] == second][:1] == ["OrderPlaced"]


def test_a_record_that_can_never_be_an_event_is_parked_whole(relay) -> None:
    client = relay.client
    place(client, NOW)
    order_insert = next(r for r in stream_records(client) if r["dynamodb"]["NewImage"]["entity"]["S"] == "order")
    assert relay([order_insert]) == []
    parked = relay.parked()
    assert len(parked) == 1 and parked[0]["record"]["dynamodb"]["SequenceNumber"] == order_insert["dynamodb"][
        "SequenceNumber"]
    assert relay.published() == []


def test_chunks_hold_ten_entries_and_one_event_per_order() -> None:
    from outbox_relay.relay import chunks

    items = [(f"ORDER#{i % 12}", {}, {}) for i in range(30)]
    groups = chunks(items)
    assert all(len(g) <= 10 and len({k for k, _, _ in g}) == len(g) for g in groups)
    assert [k for g in groups for k, _, _ in g] == [k for k, _, _ in items]  # stream order kept
    assert len(chunks([("ORDER#1", {}, {})] * 3)) == 3
