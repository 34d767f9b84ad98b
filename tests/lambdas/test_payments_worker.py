from __future__ import annotations

import base64
import json
import uuid
from decimal import Decimal

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from components.core.table import idempotency_table
from components.runtime import idempotency_schema as idem
from lambdas.shared import orders_schema as schema
from system.orders import ORDERS_TABLE
from tests.lambdas.conftest import REGION, create_table, fresh_import

ORDERS, IDEMPOTENCY = "orders-test", "payments-idempotency-test"


@pytest.fixture
def worker(aws, monkeypatch, lambda_context):
    create_table(ORDERS_TABLE, ORDERS)
    create_table(idempotency_table("payments-idempotency"), IDEMPOTENCY)
    monkeypatch.setenv(schema.ORDERS_TABLE_ENV, ORDERS)
    monkeypatch.setenv(idem.IDEMPOTENCY_TABLE_ENV, IDEMPOTENCY)
    module = fresh_import("payments_worker.handler")

    def run(bodies: list[str]) -> list[str]:
        """Invoke with one SQS batch; the ids of the records that failed."""
        records = [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": body, "attributes": {},
                    "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": REGION}
                   for i, body in enumerate(bodies)]
        try:
            response = module.handler({"Records": records}, lambda_context)
        except BatchProcessingError:
            return [r["messageId"] for r in records]  # Powertools fails the invocation when every record failed
        return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]

    run.module = module
    return run


def put_order(total: str = "30.00", currency: str = "EUR", state: str = "PENDING") -> str:
    order_id = str(uuid.uuid4())
    boto3.resource("dynamodb", region_name=REGION).Table(ORDERS).put_item(Item={
        **schema.order_key(order_id), "entity": "order", "orderId": order_id, "customerId": "c-1", "state": state,
        "currency": currency, "totalAmount": Decimal(total), "items": [], "createdAt": "2026-11-23T10:00:00.000Z",
        "updatedAt": "2026-11-23T10:00:00.000Z"})
    return order_id


def message(webhook_id: str, event_type: str, order_id: str, amount: str = "30.00", currency: str = "EUR",
            payment_id: str = "pay-1") -> str:
    payload = {"type": event_type, "data": {"orderId": order_id, "paymentId": payment_id, "amount": amount,
                                            "currency": currency}}
    return json.dumps({"id": webhook_id, "source": "payments", "timestamp": 1, "body": json.dumps(payload)})


def table_items() -> list[dict]:
    return boto3.resource("dynamodb", region_name=REGION).Table(ORDERS).scan()["Items"]


def order(order_id: str) -> dict:
    return boto3.resource("dynamodb", region_name=REGION).Table(ORDERS).get_item(Key=schema.order_key(order_id))["Item"]


def outbox(event_type: str) -> list[dict]:
    return [i for i in table_items() if i.get("entity") == "outbox" and i["eventType"] == event_type]


def markers() -> list[dict]:
    """The webhook idempotency markers the worker wrote with its effects."""
    return boto3.resource("dynamodb", region_name=REGION).Table(IDEMPOTENCY).scan()["Items"]


def exceptions() -> list[dict]:
    return [i for i in table_items() if i.get("entity") == "payment_exception"]


def test_succeeded_payment_marks_the_order_paid_with_an_outbox_event(worker) -> None:
    order_id = put_order()
    assert worker([message("wh-1", "payment.succeeded", order_id)]) == []
    assert order(order_id)["state"] == "PAID" and order(order_id)["paymentId"] == "pay-1"
    paid = outbox("OrderPaid")
    assert len(paid) == 1 and paid[0]["detail"]["orderId"] == order_id and paid[0]["source"] == "payments"


def test_mixed_batch_good_duplicate_mismatched_unknown_poison(worker) -> None:
    good, mismatched, wrong_currency = put_order(), put_order(), put_order()
    failed = worker([
        message("wh-good", "payment.succeeded", good),
        message("wh-good", "payment.succeeded", good),                       # the same webhook delivered twice
        message("wh-mismatch", "payment.succeeded", mismatched, amount="29.99"),
        message("wh-currency", "payment.succeeded", wrong_currency, currency="USD"),
        message("wh-unknown", "payment.succeeded", str(uuid.uuid4())),
        "this is not json",
        message("wh-other", "refund.created", good),
    ])
    assert failed == ["m5"]  # only the poison message fails
    assert order(good)["state"] == "PAID" and len(outbox("OrderPaid")) == 1
    assert order(mismatched)["state"] == "PENDING" and order(wrong_currency)["state"] == "PENDING"
    reasons = sorted(e["reason"] for e in exceptions())
    assert reasons == ["amount-mismatch", "currency-mismatch", "unknown-order"]


def test_redelivered_webhook_has_no_second_effect(worker) -> None:
    order_id = put_order()
    worker([message("wh-1", "payment.succeeded", order_id)])
    before = table_items()
    assert worker([message("wh-1", "payment.succeeded", order_id)]) == []
    assert table_items() == before


def test_another_webhook_for_an_already_paid_order_is_a_duplicate_not_an_exception(worker) -> None:
    order_id = put_order()
    worker([message("wh-1", "payment.succeeded", order_id)])
    assert worker([message("wh-2", "payment.succeeded", order_id)]) == []
    assert exceptions() == [] and len(outbox("OrderPaid")) == 1


def test_payment_for_a_cancelled_order_is_recorded_for_a_refund(worker) -> None:
    order_id = put_order(state="CANCELLED")
    assert worker([message("wh-1", "payment.succeeded", order_id)]) == []
    assert [e["reason"] for e in exceptions()] == ["order-cancelled"]
    assert order(order_id)["state"] == "CANCELLED"


def test_failed_payment_writes_a_payment_failed_event(worker) -> None:
    order_id = put_order()
    assert worker([message("wh-f", "payment.failed", order_id)]) == []
    assert len(outbox("PaymentFailed")) == 1 and order(order_id)["state"] == "PENDING"


@pytest.mark.parametrize("body", [
    "{}", json.dumps({"id": "x", "source": "payments", "body": "not json"}),
    json.dumps({"id": "x", "source": "payments", "body": json.dumps({"type": "payment.succeeded", "data": {}})}),
    json.dumps({"id": "x", "source": "payments", "body": json.dumps(
        {"type": "payment.succeeded", "data": {"orderId": "o", "paymentId": "p", "amount": "NaN", "currency": "EUR"}})}),
])
def test_unparseable_messages_fail(worker, body) -> None:
    assert worker([body]) == ["m0"]


def test_a_transient_fault_fails_only_its_record(worker, monkeypatch) -> None:
    from botocore.exceptions import ClientError

    first, second = put_order(), put_order()
    ledger = worker.module.ledger
    original = ledger._succeeded

    def flaky(webhook_id, data, now):
        if data.orderId == first:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                              "TransactWriteItems")
        return original(webhook_id, data, now)

    monkeypatch.setattr(ledger, "_succeeded", flaky)
    assert worker([message("wh-a", "payment.succeeded", first), message("wh-b", "payment.succeeded", second)]) == ["m0"]
    assert order(second)["state"] == "PAID"
    monkeypatch.setattr(ledger, "_succeeded", original)
    assert worker([message("wh-a", "payment.succeeded", first)]) == []  # the retry succeeds: no marker left
    assert order(first)["state"] == "PAID"


def test_poison_reaches_the_dlq_after_max_receive_count(worker) -> None:
    """SQS + Lambda as the event source mapping runs them: failed records are not deleted."""
    from tests.conftest import settings_for

    max_receive = settings_for("dev").queue_max_receive_count
    sqs = boto3.client("sqs", region_name=REGION)
    dlq_url = sqs.create_queue(QueueName="payments-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName="payments", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive})})["QueueUrl"]
    good = put_order()
    sqs.send_message(QueueUrl=url, MessageBody="{broken")
    sqs.send_message(QueueUrl=url, MessageBody=message("wh-ok", "payment.succeeded", good))
    for _ in range(max_receive + 2):
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        if not received:
            continue
        failed = worker([m["Body"] for m in received])
        for index, m in enumerate(received):
            if f"m{index}" not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["{broken"]
    assert order(good)["state"] == "PAID"
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []


def test_the_base64_envelope_the_receiver_sends_is_applied(worker) -> None:
    from components.runtime.webhook_schema import envelope

    order_id = put_order()
    payload = json.dumps({"type": "payment.succeeded", "data": {"orderId": order_id, "paymentId": "pay-b",
                                                               "amount": "30.00", "currency": "EUR"}}).encode()
    body = envelope("wh-b64", "payments", 1, base64.b64encode(payload).decode())
    assert worker([body]) == []
    assert order(order_id)["state"] == "PAID"


@pytest.mark.parametrize("payload", [b'{"type":"payment.succeeded","data":{"x":"\xff"}}', b"not json", b""])
def test_signed_bytes_that_are_not_a_utf8_json_event_are_poison(worker, payload) -> None:
    """They fail until the queue dead-letters them: kept for an operator, never dropped."""
    from components.runtime.webhook_schema import envelope

    good = put_order()
    bodies = [envelope("wh-bad", "payments", 1, base64.b64encode(payload).decode()),
              message("wh-good", "payment.succeeded", good)]
    assert worker(bodies) == ["m0"]
    assert order(good)["state"] == "PAID"
