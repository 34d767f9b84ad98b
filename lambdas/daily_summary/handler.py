"""Scheduled job: yesterday's orders (in the stack's time zone) by state and total value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.environment import read_environment, variable
from components.runtime.observability import logger, observed
from daily_summary.summary import DailySummary
from shared.lease import Lease
from shared.orders_schema import ORDERS_TABLE_ENV, TIME_ZONE_ENV

JOB = "daily-summary"


@dataclass(frozen=True)
class Environment:
    orders_table: str = variable(ORDERS_TABLE_ENV)
    time_zone: str = variable(TIME_ZONE_ENV, default="UTC")


environment = read_environment(Environment)
client = boto3.client("dynamodb")
summaries = DailySummary(client, environment.orders_table)


def now() -> datetime:
    return datetime.now(UTC)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    lease = Lease(client, summaries.table_name, JOB)
    if not lease.acquire(now(), context.get_remaining_time_in_millis() // 1000 + 1):
        logger.info("another summary run holds the lease; skipping")
        return {"skipped": True}
    try:
        summary = summaries.run(now(), environment.time_zone)
    finally:
        lease.release(now())
    logger.info("daily summary written", extra={"date": summary["date"], "orders": summary["orders"]})
    return {"date": summary["date"], "orders": summary["orders"]}
