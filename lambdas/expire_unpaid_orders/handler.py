"""Scheduled job: expire PENDING orders older than EXPIRE_AFTER_MINUTES (every 15 minutes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.environment import read_environment, variable
from components.runtime.observability import logger, metrics, observed
from expire_unpaid_orders.expiry import Expirer
from shared.lease import Lease
from shared.orders_schema import EXPIRE_AFTER_MINUTES_ENV, ORDERS_TABLE_ENV

JOB = "expire-unpaid-orders"


@dataclass(frozen=True)
class Environment:
    orders_table: str = variable(ORDERS_TABLE_ENV)
    expire_after_minutes: int = variable(EXPIRE_AFTER_MINUTES_ENV, parse=int)


environment = read_environment(Environment)
client = boto3.client("dynamodb")
expirer = Expirer(client, environment.orders_table)
EXPIRE_AFTER = timedelta(minutes=environment.expire_after_minutes)


def now() -> datetime:
    return datetime.now(UTC)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    moment = now()
    lease = Lease(client, expirer.table_name, JOB)
    # The lease lasts as long as this invocation can: a run that dies frees it by its timeout.
    if not lease.acquire(moment, context.get_remaining_time_in_millis() // 1000 + 1):
        logger.info("another expiry run holds the lease; skipping")
        return {"skipped": True}
    try:
        result = expirer.run(moment, moment - EXPIRE_AFTER, context.get_remaining_time_in_millis)
    finally:
        lease.release(now())
    metrics.add_metric(name="OrdersExpired", unit=MetricUnit.Count, value=result.expired)
    logger.info("expiry run finished", extra=result.as_dict())
    return result.as_dict()
