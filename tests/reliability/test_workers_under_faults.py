"""Workers under retries and partial failure: at-most-once in effect, at-least-once in delivery,
and what cannot be applied is seen by someone."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.lambdas.conftest import REGION
from tests.lambdas.test_payments_worker import IDEMPOTENCY as MARKERS_TABLE
from tests.lambdas.test_payments_worker import (  # noqa: F401
    ORDERS,
    exceptions,
    markers,
    message,
    order,
    outbox,
    put_order,
    worker,
)

THROTTLED = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                        "PutItem")


def test_a_throttled_transaction_writes_nothing_and_the_redelivery_emits_one_payment_failed(
        worker, monkeypatch) -> None:  # noqa: F811
    order_id = put_order()
    client = worker.module.dynamodb
    original, calls = client.transact_write_items, []

    def throttled_once(**request):
        calls.append(request)
        if len(calls) == 1:
            raise THROTTLED
        return original(**request)

    monkeypatch.setattr(client, "transact_write_items", throttled_once)
    body = message("wh-fail", "payment.failed", order_id)
    assert worker([body]) == ["m0"]  # the record fails and SQS delivers it again
    assert outbox("PaymentFailed") == [] and markers() == []  # the event and its marker, or neither
    assert worker([body]) == []
    assert len(outbox("PaymentFailed")) == 1 and [m["outcome"] for m in markers()] == ["failed-recorded"]
    assert worker([body]) == []  # and a third delivery is a no-op
    assert len(outbox("PaymentFailed")) == 1


def test_a_redelivered_exception_is_recorded_and_counted_once(worker, capsys) -> None:  # noqa: F811
    import json

    order_id = put_order(state="CANCELLED")
    body = message("wh-late", "payment.succeeded", order_id)
    assert worker([body]) == [] and worker([body]) == []
    assert [e["reason"] for e in exceptions()] == ["order-cancelled"]
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    counted = [m.get("PaymentExceptions") for m in emitted if "PaymentExceptions" in m]
    duplicates = [m.get("Payment_duplicate") for m in emitted if "Payment_duplicate" in m]
    assert (counted, duplicates) == ([[1.0]] if isinstance(counted[0], list) else [1.0], [[1.0]] if
                                     isinstance(duplicates[0], list) else [1.0])


def test_the_paying_webhook_redelivered_after_the_order_moved_on_is_a_duplicate(worker) -> None:  # noqa: F811
    """Beyond the marker's TTL too: the order keeps the payment that paid it."""
    order_id = put_order()
    assert worker([message("wh-paid", "payment.succeeded", order_id)]) == []
    boto3.resource("dynamodb", region_name=REGION).Table(MARKERS_TABLE).delete_item(Key={"id": "webhook#wh-paid"})
    boto3.resource("dynamodb", region_name=REGION).Table(ORDERS).update_item(
        Key={"pk": order(order_id)["pk"], "sk": order(order_id)["sk"]}, UpdateExpression="SET #s = :f",
        ExpressionAttributeNames={"#s": "state"}, ExpressionAttributeValues={":f": "FULFILLED"})
    assert worker([message("wh-paid", "payment.succeeded", order_id)]) == []
    assert exceptions() == [] and len(outbox("OrderPaid")) == 1


def test_a_late_payment_failed_for_a_paid_order_is_an_exception_not_an_event(worker) -> None:  # noqa: F811
    order_id = put_order()
    assert worker([message("wh-ok", "payment.succeeded", order_id)]) == []
    assert worker([message("wh-late", "payment.failed", order_id, payment_id="pay-2")]) == []
    assert order(order_id)["state"] == "PAID"
    assert outbox("PaymentFailed") == []
    assert [e["reason"] for e in exceptions()] == ["failed-after-paid"]


@pytest.mark.parametrize(("setup", "event", "reason"), [
    ("CANCELLED", "payment.succeeded", "order-cancelled"),
    ("EXPIRED", "payment.succeeded", "order-expired"),
    ("PENDING", "payment.succeeded:wrong-amount", "amount-mismatch"),
])
def test_payments_we_cannot_apply_are_counted_for_the_alarm(worker, capsys, setup, event, reason) -> None:  # noqa: F811
    import json

    order_id = put_order(state=setup)
    kind, _, variant = event.partition(":")
    amount = "29.99" if variant == "wrong-amount" else "30.00"
    assert worker([message(f"wh-{reason}", kind, order_id, amount=amount)]) == []
    assert [e["reason"] for e in exceptions()] == [reason]
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    values = [m["PaymentExceptions"] for m in emitted if "PaymentExceptions" in m]
    assert sum(sum(v) if isinstance(v, list) else v for v in values) == 1


def test_the_payment_exceptions_alarm_is_critical_and_on_the_dashboard(synth_stack) -> None:
    import json
    import re

    prod = synth_stack("prod")
    alarm = prod.named("payments-webhook-worker-payment-exceptions")["inputs"]
    assert (alarm["namespace"], alarm["metricName"], alarm["dimensions"]) == (
        "orders", "PaymentExceptions", {"service": "orders"})
    assert alarm["tags"]["severity"] == "critical" and alarm["threshold"] == 1
    health = prod.named("orders-health", "aws:cloudwatch/compositeAlarm:CompositeAlarm")["inputs"]["alarmRule"]
    assert alarm["name"] in re.findall(r'ALARM\("([^"]+)"\)', health)
    dashboard = json.loads(prod.one("aws:cloudwatch/dashboard:Dashboard")["inputs"]["dashboardBody"])
    assert alarm["name"] in {w["properties"].get("title") for w in dashboard["widgets"]}


def kinesis_records(stream: str) -> list[dict]:
    import json

    kinesis = boto3.client("kinesis", region_name=REGION)
    shard = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return [json.loads(r["Data"]) for r in kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]]


@pytest.fixture
def forwarder(aws, monkeypatch, lambda_context):
    from lambdas.shared.orders_schema import ORDERS_TABLE_ENV
    from tests.lambdas.conftest import fresh_import
    from tests.lambdas.orders_fixtures import TABLE, orders_table

    orders_table()
    boto3.client("kinesis", region_name=REGION).create_stream(StreamName="activity-faults", ShardCount=1)
    monkeypatch.setenv(ORDERS_TABLE_ENV, TABLE)
    monkeypatch.setenv("ACTIVITY_STREAM_NAME", "activity-faults")
    module = fresh_import("analytics_forwarder.handler")

    def run(*events: dict) -> list[str]:
        from shared.subscriber import BatchFailedError
        from tests.lambdas.test_fan_out_e2e import sqs_event

        try:
            response = module.handler(sqs_event(*events), lambda_context)
        except BatchFailedError:
            return [f"m{i}" for i in range(len(events))]  # every record failed: so does the invocation
        return [f["itemIdentifier"] for f in response["batchItemFailures"]]

    run.module = module
    return run


def placed_event(suffix: str = "f") -> dict:
    from tests.lambdas.test_fan_out_e2e import bridge_event

    event = bridge_event("OrderPlaced", orderId=f"o-{suffix}", customerId="c", currency="EUR", totalAmount="12.50",
                         totalAmountRoundedUp=13)
    event["detail"]["eventId"] = f"evt-{suffix}"
    return event


def marker_states() -> dict[str, str]:
    from tests.lambdas.orders_fixtures import TABLE

    items = boto3.resource("dynamodb", region_name=REGION).Table(TABLE).scan()["Items"]
    return {i["pk"].rsplit("#", 1)[1]: i["state"] for i in items if i["pk"].startswith("SEEN#analytics#")}


def failing(*_: object, **__: object) -> None:
    raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, "PutRecord")


def test_a_failed_put_records_call_is_forwarded_on_redelivery_never_lost(forwarder, monkeypatch) -> None:
    monkeypatch.setattr(forwarder.module.kinesis, "put_records", failing)
    assert forwarder(placed_event()) == ["m0"]  # fails its record: SQS redelivers, then the DLQ
    assert marker_states() == {"evt-f": "PENDING"}
    monkeypatch.undo()
    assert forwarder(placed_event()) == []
    assert [r["eventId"] for r in kinesis_records("activity-faults")] == ["evt-f"]
    assert marker_states() == {"evt-f": "DONE"}
    assert forwarder(placed_event()) == []  # DONE: a repeat delivery forwards nothing
    assert len(kinesis_records("activity-faults")) == 1
    assert kinesis_records("activity-faults")[0]["amount"] == "12.50"


def test_a_record_kinesis_refuses_fails_only_its_own_message(forwarder, monkeypatch) -> None:
    """PutRecords answers per record: the refused one is retried, the others are done."""
    real = forwarder.module.kinesis.put_records

    def refuse_the_second(StreamName, Records):  # noqa: N803 - boto3's parameter names
        accepted = real(StreamName=StreamName, Records=[Records[0], *Records[2:]])["Records"]
        refused = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "rate exceeded"}
        return {"FailedRecordCount": 1, "Records": [accepted[0], refused, *accepted[1:]]}

    monkeypatch.setattr(forwarder.module.kinesis, "put_records", refuse_the_second)
    batch = [placed_event("a"), placed_event("b"), placed_event("c")]
    assert forwarder(*batch) == ["m1"]
    assert marker_states() == {"evt-a": "DONE", "evt-b": "PENDING", "evt-c": "DONE"}
    monkeypatch.undo()
    assert forwarder(*batch) == []  # the whole batch again, as a redelivery of the failed one would be
    assert sorted(r["eventId"] for r in kinesis_records("activity-faults")) == ["evt-a", "evt-b", "evt-c"]


def test_a_forwarded_event_whose_done_mark_fails_is_acknowledged_not_forwarded_twice(forwarder, monkeypatch) -> None:
    """At-least-once: the marker stays PENDING, so only a later duplicate delivery forwards it again
    (the one window, and the record carries the event id for it)."""
    client = forwarder.module.dynamodb
    real = client.transact_write_items

    def marks_fail(TransactItems):  # noqa: N803 - boto3's parameter name
        if any("Update" in action for action in TransactItems):
            failing()
        return real(TransactItems=TransactItems)

    monkeypatch.setattr(client, "transact_write_items", marks_fail)
    assert forwarder(placed_event()) == []
    assert [r["eventId"] for r in kinesis_records("activity-faults")] == ["evt-f"]
    assert marker_states() == {"evt-f": "PENDING"}
    monkeypatch.undo()
    assert forwarder(placed_event()) == []
    assert [r["eventId"] for r in kinesis_records("activity-faults")] == ["evt-f", "evt-f"]
    assert marker_states() == {"evt-f": "DONE"}


def test_the_relay_parks_an_unpublishable_record_once_across_retries_of_its_batch(aws, monkeypatch,
                                                                                  lambda_context) -> None:
    """A failure before the bad record is reported first; the bad record is parked only when its
    turn comes, so Lambda's retry from the failure parks it exactly once."""
    from datetime import UTC, datetime

    from tests.lambdas.orders_fixtures import place
    from tests.lambdas.test_outbox_relay import outbox_inserts, stream_records
    from tests.lambdas.test_outbox_relay import relay as relay_fixture

    run = relay_fixture.__wrapped__(aws, monkeypatch, lambda_context)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    first, second = place(run.client, now), place(run.client, now)
    records = stream_records(run.client)
    good = outbox_inserts(records)
    bad = next(r for r in records if r["dynamodb"]["NewImage"]["entity"]["S"] == "order")
    batch = [good[0], bad, good[1]]
    events = run.module.relay.events
    original = events.put_events
    throttled = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "x"}]}
    monkeypatch.setattr(events, "put_events", lambda Entries: throttled)  # noqa: N803
    assert run(batch) == [good[0]["dynamodb"]["SequenceNumber"]]
    assert run.parked() == []  # its turn never came
    monkeypatch.setattr(events, "put_events", original)
    assert run(batch) == []  # Lambda retries from the failed record: here, the whole batch
    parked = run.parked()
    assert [p["record"]["dynamodb"]["SequenceNumber"] for p in parked] == [bad["dynamodb"]["SequenceNumber"]]
    assert {e["detail"]["orderId"] for e in run.published()} == {first, second}
