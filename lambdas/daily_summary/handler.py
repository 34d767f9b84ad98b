"""Scheduled job: yesterday's orders (in the stack's time zone) by state and total value."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.observability import logger, observed
from daily_summary.summary import DailySummary
from shared.lease import Lease
from shared.orders_schema import ORDERS_TABLE_ENV, TIME_ZONE_ENV

JOB = "daily-summary"
client = boto3.client("dynamodb")
summaries = DailySummary(client, os.environ[ORDERS_TABLE_ENV])


def now() -> datetime:
    return datetime.now(UTC)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    lease = Lease(client, summaries.table_name, JOB)
    if not lease.acquire(now(), context.get_remaining_time_in_millis() // 1000 + 1):
        logger.info("another summary run holds the lease; skipping")
        return {"skipped": True}
    try:
        summary = summaries.run(now(), os.environ.get(TIME_ZONE_ENV, "UTC"))
    finally:
        lease.release(now())
    logger.info("daily summary written", extra={"date": summary["date"], "orders": summary["orders"]})
    return {"date": summary["date"], "orders": summary["orders"]}
