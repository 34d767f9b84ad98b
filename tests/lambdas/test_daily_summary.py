from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from lambdas.shared import orders_schema as schema
from tests.lambdas.conftest import fresh_import
from tests.lambdas.orders_fixtures import TABLE, cancel, orders_table, pay, place, scan

UTC = UTC
# 02:30 in Berlin on 24 November: "yesterday" is 23 November, 22 Nov 23:00 to 23 Nov 23:00 UTC.
NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


@pytest.fixture
def job(aws, monkeypatch, lambda_context):
    client = orders_table()
    monkeypatch.setenv(schema.ORDERS_TABLE_ENV, TABLE)
    monkeypatch.setenv(schema.TIME_ZONE_ENV, "Europe/Berlin")
    module = fresh_import("daily_summary.handler")
    monkeypatch.setattr(module, "now", lambda: NOW)

    def run() -> dict:
        return module.handler({"job": "daily-summary"}, lambda_context)

    run.client = client
    return run


def summary_items(client) -> tuple[list[dict], list[dict]]:
    items = scan(client)
    return ([i for i in items if i.get("entity") == "summary"],
            [i for i in items if i.get("entity") == "outbox" and i["eventType"] == "DailySummary"])


def test_previous_local_day_by_state_and_value(job) -> None:
    client = job.client
    day_start = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    place(client, day_start - timedelta(milliseconds=1), total="100.00")         # 22 Nov local: not counted
    first = place(client, day_start, total="10.00")                               # 00:00 local: counted
    paid = place(client, day_start + timedelta(hours=5), total="20.00")
    pay(client, paid, day_start + timedelta(hours=6), amount="20.00")
    cancelled = place(client, day_start + timedelta(hours=7), total="5.50")
    cancel(client, cancelled, day_start + timedelta(hours=8))
    place(client, day_start + timedelta(hours=8), total="7.00", currency="USD")
    place(client, datetime(2026, 11, 23, 22, 59, 59, tzinfo=UTC), total="1.00")   # 23:59:59 local: counted
    place(client, datetime(2026, 11, 23, 23, 0, tzinfo=UTC), total="1000.00")     # 24 Nov local: not counted
    assert first
    assert job() == {"date": "2026-11-23", "orders": 5}
    summaries, events = summary_items(client)
    assert len(summaries) == 1 and len(events) == 1
    by_state = summaries[0]["byState"]
    assert by_state["PENDING"]["count"] == 3
    # Totals are exact decimal text (shared/money.py), in the summary item and its event alike.
    assert by_state["PENDING"]["totals"] == {"EUR": "11.00", "USD": "7.00"}
    assert by_state["PAID"] == {"count": 1, "totals": {"EUR": "20.00"}}
    assert by_state["CANCELLED"] == {"count": 1, "totals": {"EUR": "5.50"}}
    assert sum(Decimal(t) for t in by_state["PENDING"]["totals"].values()) == Decimal("18.00")
    assert events[0]["detail"]["byState"] == by_state and events[0]["source"] == "orders"


def test_running_twice_writes_the_same_summary_once(job) -> None:
    place(job.client, datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    job()
    first = summary_items(job.client)
    job()
    assert summary_items(job.client) == first


def test_a_day_without_orders_still_gets_a_summary(job) -> None:
    assert job() == {"date": "2026-11-23", "orders": 0}
    summaries, events = summary_items(job.client)
    assert summaries[0]["orders"] == 0 and len(events) == 1


def test_previous_day_handles_daylight_saving_changes() -> None:
    import sys

    sys.modules.pop("daily_summary.summary", None)
    from daily_summary.summary import previous_day

    # The night Berlin leaves summer time (25 October 2026) has 25 hours.
    day, start, end = previous_day(datetime(2026, 10, 26, 3, 0, tzinfo=UTC), "Europe/Berlin")
    assert day.isoformat() == "2026-10-25" and end - start == timedelta(hours=25)


def test_a_second_run_while_the_first_holds_the_lease_does_nothing(job) -> None:
    from lambdas.shared.lease import Lease

    running = Lease(job.client, TABLE, "daily-summary")
    assert running.acquire(NOW, 300)
    assert job() == {"skipped": True}
    assert summary_items(job.client) == ([], [])
    running.release(NOW)
    assert job()["date"] == "2026-11-23"
