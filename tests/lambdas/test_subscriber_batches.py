"""The subscribers' batch writer and batch handler, under moto (which answers TransactWriteItems with
DynamoDB's cancellation reasons, in the order of the actions) and botocore's own limits."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.lambdas.orders_fixtures import TABLE, orders_table, scan


@pytest.fixture
def batches(aws):
    """The module as the handlers import it (after the aws fixture's environment) and the orders table."""
    from shared import subscriber

    return subscriber, orders_table()


def item(key: str, **extra: str) -> dict:
    return {"pk": {"S": key}, "sk": {"S": "X"}, **{k: {"S": v} for k, v in extra.items()}}


class Calls:
    """Counts a client's TransactWriteItems calls and their sizes; ``fail`` replaces the n-th call's answer."""

    def __init__(self, client, fail: dict[int, Exception] | None = None) -> None:
        self.client, self.sizes, self.fail = client, [], fail or {}

    def transact_write_items(self, TransactItems):  # noqa: N803 - boto3's parameter name
        self.sizes.append(len(TransactItems))
        if len(self.sizes) in self.fail:
            raise self.fail[len(self.sizes)]
        return self.client.transact_write_items(TransactItems=TransactItems)


def test_the_chunk_size_is_what_dynamodb_accepts(batches) -> None:
    subscriber, _ = batches
    model = botocore.session.get_session().get_service_model("dynamodb")
    items = model.operation_model("TransactWriteItems").input_shape.members["TransactItems"]
    assert subscriber.TRANSACTION_ACTIONS == items.metadata["max"] == 100


def test_new_items_are_applied_existing_ones_rejected_in_two_calls(batches) -> None:
    subscriber, client = batches
    client.put_item(TableName=TABLE, Item=item("k3", v="old"))
    calls = Calls(client)
    writes = [subscriber.put_once(f"m{i}", TABLE, item(f"k{i}", v="new")) for i in range(5)]
    outcomes = subscriber.write_each(calls, writes)
    assert outcomes == {"m0": "applied", "m1": "applied", "m2": "applied", "m3": "rejected", "m4": "applied"}
    assert calls.sizes == [5, 4]  # cancelled once by k3's condition, then without it
    assert {i["pk"]: i["v"] for i in scan(client)} == {"k0": "new", "k1": "new", "k2": "new", "k3": "old", "k4": "new"}


def test_250_writes_go_in_three_transactions_of_at_most_100(batches) -> None:
    subscriber, client = batches
    calls = Calls(client)
    outcomes = subscriber.write_each(calls, [subscriber.put_once(f"m{i}", TABLE, item(f"k{i}")) for i in range(250)])
    assert calls.sizes == [100, 100, 50]
    assert set(outcomes.values()) == {"applied"} and len(outcomes) == 250 == len(scan(client))


def test_a_repeat_inside_the_batch_is_not_sent_and_shares_the_first_ones_fate(batches) -> None:
    subscriber, client = batches
    calls = Calls(client)
    writes = [subscriber.put_once("m0", TABLE, item("same")), subscriber.put_once("m1", TABLE, item("other")),
              subscriber.put_once("m2", TABLE, item("same"))]
    assert subscriber.write_each(calls, writes) == {"m0": "applied", "m1": "applied", "m2": "rejected"}
    assert calls.sizes == [2]
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "TransactWriteItems")
    failing = Calls(client, fail={1: throttled})
    writes = [subscriber.put_once("m0", TABLE, item("again")), subscriber.put_once("m1", TABLE, item("again"))]
    assert subscriber.write_each(failing, writes) == {"m0": "failed", "m1": "failed"}


def test_a_fault_fails_only_its_chunk(batches) -> None:
    subscriber, client = batches
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "TransactWriteItems")
    calls = Calls(client, fail={2: throttled})
    outcomes = subscriber.write_each(calls, [subscriber.put_once(f"m{i}", TABLE, item(f"k{i}")) for i in range(150)])
    assert [outcomes[f"m{i}"] for i in (0, 99, 100, 149)] == ["applied", "applied", "failed", "failed"]
    assert calls.sizes == [100, 50] and len(scan(client)) == 100


def cancelled(*codes: str) -> ClientError:
    reasons = [{"Code": code} for code in codes]
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                        "CancellationReasons": reasons}, "TransactWriteItems")


def test_conflicts_are_retried_and_give_up_after_the_attempts(batches) -> None:
    subscriber, client = batches
    calls = Calls(client, fail={1: cancelled("None", "TransactionConflict")})
    writes = [subscriber.put_once("m0", TABLE, item("a")), subscriber.put_once("m1", TABLE, item("b"))]
    assert subscriber.write_each(calls, writes) == {"m0": "applied", "m1": "applied"}
    assert calls.sizes == [2, 2]
    stuck = cancelled("TransactionConflict")
    calls = Calls(client, fail={n: stuck for n in range(1, 10)})
    assert subscriber.write_each(calls, [subscriber.put_once("m0", TABLE, item("c"))]) == {"m0": "failed"}
    assert calls.sizes == [1] * subscriber.TRANSACTION_ATTEMPTS


def test_a_cancellation_without_reasons_fails_the_chunk(batches) -> None:
    subscriber, client = batches
    calls = Calls(client, fail={1: ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "x"}},
                                              "TransactWriteItems")})
    assert subscriber.write_each(calls, [subscriber.put_once("m0", TABLE, item("d"))]) == {"m0": "failed"}
    assert calls.sizes == [1] and scan(client) == []


def record(message_id: str, body: object) -> dict:
    return {"messageId": message_id, "body": body if isinstance(body, str) else json.dumps(body)}


def placed(event_id: str | None, envelope_id: object = "eb-1") -> dict:
    detail = {"version": 1, "occurredAt": "2026-11-23T12:00:00.000Z", "orderId": "o", "customerId": "c",
              "currency": "EUR", "totalAmount": "1", "totalAmountRoundedUp": 1}
    if event_id is not None:
        detail["eventId"] = event_id
    return {"id": envelope_id, "source": "orders", "detail-type": "OrderPlaced", "detail": detail}


def test_records_that_do_not_parse_fail_alone_and_the_rest_are_applied_together(batches) -> None:
    subscriber, _ = batches
    seen: list[list[str]] = []

    def apply(deliveries):
        seen.append([(d.message_id, d.event_id) for d in deliveries])
        return ["m4"]

    handle = subscriber.sqs_batch(("OrderPlaced",), apply)
    event = {"Records": [record("m0", "{not json"), record("m1", placed("evt-1")), record("m2", [1, 2]),
                         record("m3", placed(None, envelope_id=["x"])), record("m4", placed(None)),
                         record("m5", {**placed("evt-5"), "detail-type": "OrderPaid"})]}
    assert handle(event, None) == {"batchItemFailures": [{"itemIdentifier": m} for m in ("m0", "m2", "m3", "m4", "m5")]}
    assert seen == [[("m1", "evt-1"), ("m4", "eb-1")]]  # one call for the batch; EventBridge's id as the fallback


def test_a_batch_where_every_record_failed_fails_the_invocation(batches) -> None:
    subscriber, _ = batches
    handle = subscriber.sqs_batch(("OrderPlaced",), lambda deliveries: [d.message_id for d in deliveries])
    with pytest.raises(subscriber.BatchFailedError, match="all 2 records failed"):
        handle({"Records": [record("m0", "{"), record("m1", placed("evt-1"))]}, None)
    assert handle({"Records": []}, None) == {"batchItemFailures": []}
