"""End to end in moto: the bus, rules and queues from the definitions the component uses, real
contract events put on the bus, and the reference consumers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from lambdas.shared import contracts
from lambdas.shared.orders_schema import ORDERS_TABLE_ENV
from system.fanout import patterns
from tests.conftest import settings_for
from tests.lambdas.conftest import REGION, fresh_import
from tests.lambdas.orders_fixtures import TABLE, orders_table, scan

BUS = "orders-e2e-events"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def detail(name: str, **fields) -> dict:
    return {"version": 1, "occurredAt": "2026-11-23T12:00:00.000Z", "eventId": f"evt-{name}-{fields.get('orderId')}",
            **fields}


def entry(name: str, **fields) -> dict:
    return {"Source": contracts.CONTRACTS[name].source, "DetailType": name, "EventBusName": BUS,
            "Detail": json.dumps(detail(name, **fields))}


@pytest.fixture
def bus(aws):
    events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name=BUS)
    queues = {}
    for name, pattern in patterns(settings_for("prod")).items():
        url = sqs.create_queue(QueueName=f"e2e-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=name, EventBusName=BUS, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])
        queues[name] = url

    def received(name: str) -> list[dict]:
        found = sqs.receive_message(QueueUrl=queues[name], MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in found]

    return events, received


def test_each_event_lands_only_where_its_pattern_says(bus) -> None:
    events, received = bus
    response = events.put_events(Entries=[
        entry("OrderPlaced", orderId="small", customerId="c", currency="EUR", totalAmount="30",
              totalAmountRoundedUp=30),
        entry("OrderPlaced", orderId="edge", customerId="c", currency="EUR", totalAmount="1000.00",
              totalAmountRoundedUp=1000),  # exactly the threshold: not above it
        entry("OrderPlaced", orderId="big", customerId="c", currency="EUR", totalAmount="1000.0001",
              totalAmountRoundedUp=1001),
        entry("OrderPaid", orderId="small", paymentId="p", totalAmount="30", currency="EUR"),
        entry("PaymentFailed", orderId="other", paymentId="p2", amount="1", currency="EUR"),
    ])
    assert response["FailedEntryCount"] == 0

    def routed(name: str) -> list[str]:
        return sorted(f"{m['detail-type']}:{m['detail']['orderId']}" for m in received(name))

    assert routed("fulfilment") == ["OrderPaid:small"]
    assert routed("high-value-review") == ["OrderPlaced:big"]  # numeric routing on the rounded-up total > 1000
    expected = ["OrderPaid:small", "OrderPlaced:big", "OrderPlaced:edge", "OrderPlaced:small"]
    assert routed("notifications") == expected and routed("analytics") == expected
    # PaymentFailed matches no subscriber: it landed nowhere.


def sqs_event(*bodies: dict) -> dict:
    return {"Records": [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": json.dumps(b), "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": REGION}
                        for i, b in enumerate(bodies)]}


def bridge_event(name: str, **fields) -> dict:
    return {"version": "0", "id": "eb-1", "source": contracts.CONTRACTS[name].source, "detail-type": name,
            "detail": detail(name, **fields)}


@pytest.fixture
def consumers(aws, monkeypatch):
    client = orders_table()
    monkeypatch.setenv(ORDERS_TABLE_ENV, TABLE)
    return client


def test_notification_is_recorded_once_even_when_delivered_twice(consumers, lambda_context) -> None:
    module = fresh_import("notifications.handler")
    event = bridge_event("OrderPlaced", orderId="o-1", customerId="c", currency="EUR", totalAmount=30)
    assert module.handler(sqs_event(event, event), lambda_context) == {"batchItemFailures": []}
    assert module.handler(sqs_event(event), lambda_context) == {"batchItemFailures": []}
    notifications = [i for i in scan(consumers) if i.get("entity") == "notification"]
    assert len(notifications) == 1 and notifications[0]["template"] == "OrderPlaced"


def test_high_value_review_opens_once(consumers, lambda_context) -> None:
    module = fresh_import("high_value_review.handler")
    event = bridge_event("OrderPlaced", orderId="big", customerId="c", currency="EUR", totalAmount=5000)
    assert module.handler(sqs_event(event, event), lambda_context) == {"batchItemFailures": []}
    assert module.handler(sqs_event(event), lambda_context) == {"batchItemFailures": []}
    reviews = [i for i in scan(consumers) if i.get("entity") == "review"]
    assert [(r["orderId"], r["status"], r["totalAmount"]) for r in reviews] == [("big", "OPEN", 5000)]


def test_analytics_forwards_each_event_once(consumers, monkeypatch, lambda_context) -> None:
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="activity-e2e", ShardCount=1)
    monkeypatch.setenv("ACTIVITY_STREAM_NAME", "activity-e2e")
    module = fresh_import("analytics_forwarder.handler")
    event = bridge_event("OrderPlaced", orderId="o-9", customerId="c", currency="EUR", totalAmount=12)
    module.handler(sqs_event(event, event), lambda_context)
    shard = kinesis.describe_stream(StreamName="activity-e2e")["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="activity-e2e", ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [json.loads(r["Data"])["type"] for r in records] == ["OrderPlaced"]
    assert records[0]["PartitionKey"] == "o-9"


def test_unknown_versions_are_rejected_and_a_failing_message_reaches_the_dlq(consumers, lambda_context) -> None:
    module = fresh_import("notifications.handler")
    from shared.subscriber import BatchFailedError  # the module as the handler imports it (after its environment)

    future = bridge_event("OrderPlaced", orderId="o-2", customerId="c", currency="EUR", totalAmount=1)
    future["detail"]["version"] = 9
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="notifications-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    max_receive = settings_for("dev").queue_max_receive_count
    url = sqs.create_queue(QueueName="notifications", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive})})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(future))
    for _ in range(max_receive + 1):
        messages = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", [])
        if messages:
            with pytest.raises(BatchFailedError):  # every record failed: the invocation fails too
                module.handler(sqs_event(json.loads(messages[0]["Body"])), lambda_context)
    assert [json.loads(m["Body"])["detail"]["version"] for m in sqs.receive_message(QueueUrl=dlq).get("Messages", [])] == [9]
