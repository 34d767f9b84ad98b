"""The orders service's scheduled jobs: expire unpaid orders, and the daily summary."""

from __future__ import annotations

from components.api_service import ApiService
from components.core.context import StackContext
from components.core.iam import Grant
from components.scheduled_job import ScheduledJobArgs
from lambdas.shared import orders_schema as schema
from system.functions import app_function
from system.settings import Settings

EXPIRE_UNPAID_ORDERS = "expire-unpaid-orders"
DAILY_SUMMARY = "daily-summary"
JOBS = (EXPIRE_UNPAID_ORDERS, DAILY_SUMMARY)


def job_args(settings: Settings, orders: ApiService, stack: StackContext | None = None) -> list[ScheduledJobArgs]:
    unknown = sorted(set(settings.jobs.disabled) - set(JOBS))
    if unknown:
        raise ValueError(f"disabledJobs names unknown jobs {unknown}; the jobs are {list(JOBS)}")
    jobs = settings.jobs
    stack = stack or StackContext(settings.defaults)
    environment = {schema.ORDERS_TABLE_ENV: orders.table_name("orders")}
    table_arn = orders.table_arn("orders")
    pending_index = orders.index_arn("orders", schema.PENDING_INDEX)
    day_index = orders.index_arn("orders", schema.DAY_INDEX)
    common = {"time_zone": jobs.time_zone, "maximum_event_age_seconds": jobs.maximum_event_age_seconds,
              "maximum_retry_attempts": jobs.maximum_retry_attempts, "stack": stack}
    return [
        ScheduledJobArgs(
            job=EXPIRE_UNPAID_ORDERS,
            expression="rate(15 minutes)",
            enabled=EXPIRE_UNPAID_ORDERS not in jobs.disabled,
            **common,
            function=app_function(
                "expire_unpaid_orders", "Expires PENDING orders nobody paid for",
                environment={**environment,
                             schema.EXPIRE_AFTER_MINUTES_ENV: str(settings.jobs.expire_unpaid_after_minutes)},
                grants=(Grant(["dynamodb:Query"], [pending_index]),
                        Grant(["dynamodb:UpdateItem", "dynamodb:PutItem"], [table_arn])),
            ),
        ),
        ScheduledJobArgs(
            job=DAILY_SUMMARY,
            expression="cron(0 2 * * ? *)",  # 02:00 in the stack's time zone
            interval_seconds=24 * 3600,
            flexible_window_minutes=15,
            enabled=DAILY_SUMMARY not in jobs.disabled,
            **common,
            function=app_function(
                "daily_summary", "Writes yesterday's orders by state and value",
                environment={**environment, schema.TIME_ZONE_ENV: settings.jobs.time_zone},
                grants=(Grant(["dynamodb:Query"], [day_index]), Grant(["dynamodb:PutItem"], [table_arn])),
            ),
        ),
    ]
