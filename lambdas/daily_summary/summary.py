"""The previous local day's orders by state and total value, written as a summary item and a
DailySummary outbox event in one transaction. Re-running for the same day overwrites both."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shared.dynamo import from_dynamo, to_dynamo
from shared.money import amount_text
from shared.orders_schema import (
    DAY_INDEX,
    DAY_INDEX_PARTITION_KEY,
    DAY_INDEX_SORT_KEY,
    INDEX_SHARDS,
    OUTBOX_PREFIX,
    PARTITION_KEY,
    SORT_KEY,
    SUMMARY_PREFIX,
)
from shared.outbox import iso, outbox_item


def previous_day(now: datetime, zone: str) -> tuple[date, datetime, datetime]:
    """Yesterday in ``zone`` and its [start, end) in UTC (23, 24 or 25 hours long)."""
    tz = ZoneInfo(zone)
    day = now.astimezone(tz).date() - timedelta(days=1)
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    return day, start, end


class DailySummary:
    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def orders_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Orders created in [start, end), from every shard of each UTC date the range touches."""
        found = []
        utc_day = start.date()
        while utc_day <= (end - timedelta(milliseconds=1)).date():
            for shard in range(INDEX_SHARDS):
                request: dict[str, Any] = {
                    "TableName": self.table_name, "IndexName": DAY_INDEX,
                    "KeyConditionExpression": "#day = :day AND #created BETWEEN :start AND :end",
                    "ExpressionAttributeNames": {"#day": DAY_INDEX_PARTITION_KEY, "#created": DAY_INDEX_SORT_KEY},
                    "ExpressionAttributeValues": {":day": {"S": f"DAY#{utc_day.isoformat()}#{shard}"},
                                                  ":start": {"S": iso(start)}, ":end": {"S": iso(end)}},
                }
                while True:
                    page = self.client.query(**request)
                    found += [from_dynamo(i) for i in page.get("Items", [])
                              if i[DAY_INDEX_SORT_KEY]["S"] < iso(end)]  # BETWEEN is inclusive
                    if "LastEvaluatedKey" not in page:
                        break
                    request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            utc_day += timedelta(days=1)
        return found

    def run(self, now: datetime, zone: str) -> dict[str, Any]:
        day, start, end = previous_day(now, zone)
        by_state: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "totals": defaultdict(Decimal)})
        orders = self.orders_between(start, end)
        for order in orders:
            bucket = by_state[order["state"]]
            bucket["count"] += 1
            bucket["totals"][order["currency"]] += Decimal(order["totalAmount"])
        summary = {
            "date": day.isoformat(), "timeZone": zone, "orders": len(orders),
            "byState": {state: {"count": v["count"], "totals": {c: amount_text(t) for c, t in v["totals"].items()}}
                        for state, v in sorted(by_state.items())},
        }
        key = f"{SUMMARY_PREFIX}{day.isoformat()}"
        event = outbox_item(None, "DailySummary", "orders", summary, now, event_id=f"daily-summary-{day.isoformat()}",
                            key={PARTITION_KEY: key, SORT_KEY: f"{OUTBOX_PREFIX}DailySummary"})
        self.client.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.table_name, "Item": to_dynamo({
                PARTITION_KEY: key, SORT_KEY: "DAILY", "entity": "summary", **summary, "generatedAt": iso(now)})}},
            {"Put": {"TableName": self.table_name, "Item": to_dynamo(event)}},
        ])
        return summary
