from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lambdas.shared import orders_schema as schema
from tests.lambdas.conftest import fresh_import
from tests.lambdas.orders_fixtures import TABLE, bulk_pending, cancel, orders_table, pay, place, scan, state_of

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LIMIT_MINUTES = 60
# moto spends ~16 ms per transaction, so the suite drains 500 orders; bench/expire_backlog.py
# drains the 5,000 the same way and prints how many runs it took.
BACKLOG = 500


class ShortLivedContext:
    """A Lambda context whose remaining time shrinks with every check: a run that must stop early."""

    function_name, memory_limit_in_mb, aws_request_id = "expire", 256, "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:expire"

    def __init__(self, checks_allowed: int) -> None:
        self.remaining = 10_000 + checks_allowed * 10

    def get_remaining_time_in_millis(self) -> int:
        self.remaining -= 10
        return self.remaining


@pytest.fixture
def job(aws, monkeypatch):
    client = orders_table()
    monkeypatch.setenv(schema.ORDERS_TABLE_ENV, TABLE)
    monkeypatch.setenv(schema.EXPIRE_AFTER_MINUTES_ENV, str(LIMIT_MINUTES))
    module = fresh_import("expire_unpaid_orders.handler")
    monkeypatch.setattr(module, "now", lambda: NOW)

    def run(context=None) -> dict:
        return module.handler({"job": "expire-unpaid-orders"}, context or ShortLivedContext(1_000_000))

    run.client = client
    return run


def outbox(client, event_type: str) -> list[dict]:
    return [i for i in scan(client) if i.get("entity") == "outbox" and i["eventType"] == event_type]


def test_only_old_pending_orders_expire_with_an_outbox_event(job) -> None:
    client = job.client
    old = place(client, NOW - timedelta(minutes=LIMIT_MINUTES + 1))
    young = place(client, NOW - timedelta(minutes=LIMIT_MINUTES - 1))
    old_paid = place(client, NOW - timedelta(hours=5))
    pay(client, old_paid, NOW - timedelta(hours=4))
    old_cancelled = place(client, NOW - timedelta(hours=5))
    cancel(client, old_cancelled, NOW - timedelta(hours=4))
    result = job()
    assert result == {"expired": 1, "lostRace": 0, "complete": True}
    assert state_of(client, old) == "EXPIRED"
    assert (state_of(client, young), state_of(client, old_paid), state_of(client, old_cancelled)) == (
        "PENDING", "PAID", "CANCELLED")
    expired_events = outbox(client, "OrderExpired")
    assert [e["detail"]["orderId"] for e in expired_events] == [old]


def test_a_payment_racing_the_expiry_wins(job) -> None:
    """The index still lists the order; the conditional transaction sees it is PAID and skips it."""
    client = job.client
    order_id = place(client, NOW - timedelta(hours=2))
    pay(client, order_id, NOW)
    # Put the order back into the PENDING index as a lagging index would still show it.
    stamp = client.get_item(TableName=TABLE, Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}})["Item"]
    keys = schema.index_keys(order_id, stamp["createdAt"]["S"])
    client.update_item(TableName=TABLE, Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}},
                       UpdateExpression="SET pendingShard = :s, pendingSince = :p",
                       ExpressionAttributeValues={":s": {"S": keys["pendingShard"]}, ":p": {"S": keys["pendingSince"]}})
    assert job()["lostRace"] == 1
    assert state_of(client, order_id) == "PAID" and outbox(client, "OrderExpired") == []


def test_running_twice_has_no_second_effect(job) -> None:
    client = job.client
    for _ in range(3):
        place(client, NOW - timedelta(hours=3))
    assert job()["expired"] == 3
    before = scan(client)
    assert job() == {"expired": 0, "lostRace": 0, "complete": True}
    assert scan(client) == before


def test_a_large_backlog_completes_across_several_short_runs(job, monkeypatch) -> None:
    import types

    import moto.dynamodb.models as moto_dynamodb

    # moto deep-copies the whole table before every transaction so it can roll back a failed one
    # (~100 ms per transaction at this size). None of these transactions fails (asserted below),
    # so the backup is skipped for this test only.
    monkeypatch.setattr(moto_dynamodb, "copy", types.SimpleNamespace(deepcopy=lambda table: table))
    client = job.client
    bulk_pending(client, NOW - timedelta(days=1), BACKLOG)
    runs, total = 0, 0
    while True:
        runs += 1
        result = job(ShortLivedContext(checks_allowed=BACKLOG // 3))
        assert result["lostRace"] == 0
        total += result["expired"]
        if result["complete"]:
            break
        assert result["expired"] > 0, "a run that stops early must still make progress"
        assert runs < 10
    assert total == BACKLOG and runs >= 3
    assert {i["state"] for i in scan(client) if i.get("entity") == "order"} == {"EXPIRED"}
    assert len(outbox(client, "OrderExpired")) == BACKLOG


def test_a_second_run_while_the_first_holds_the_lease_does_nothing(job) -> None:
    """The overlap guard: without reserved concurrency (sandbox accounts) two runs may start."""
    from lambdas.shared.lease import Lease

    client = job.client
    old = place(client, NOW - timedelta(minutes=LIMIT_MINUTES + 1))
    running = Lease(client, TABLE, "expire-unpaid-orders")
    assert running.acquire(NOW, 300)
    assert job() == {"skipped": True}
    assert state_of(client, old) == "PENDING"
    running.release(NOW)
    assert job()["expired"] == 1
    assert state_of(client, old) == "EXPIRED"


def test_a_lease_left_by_a_run_that_died_expires_with_its_timeout(job) -> None:
    from lambdas.shared.lease import Lease

    client = job.client
    place(client, NOW - timedelta(minutes=LIMIT_MINUTES + 1))
    assert Lease(client, TABLE, "expire-unpaid-orders").acquire(NOW - timedelta(seconds=301), 300)
    assert job()["expired"] == 1  # the dead run's lease ended a second ago
    assert job()["expired"] == 0  # and this run released its own


def test_releasing_never_ends_another_runs_lease(job) -> None:
    from lambdas.shared.lease import Lease

    client = job.client
    late = Lease(client, TABLE, "expire-unpaid-orders")
    assert late.acquire(NOW - timedelta(seconds=400), 300)  # outlived its lease
    current = Lease(client, TABLE, "expire-unpaid-orders")
    assert current.acquire(NOW, 300)
    late.release(NOW)
    assert not Lease(client, TABLE, "expire-unpaid-orders").acquire(NOW, 300)
