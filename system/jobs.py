"""The orders service's scheduled jobs: expire unpaid orders, and the daily summary."""

from __future__ import annotations

from components.api_service import ApiService
from components.core.function import FunctionSpec
from components.core.iam import Grant
from components.scheduled_job import ScheduledJobArgs
from components.settings import Settings
from lambdas.shared import orders_schema as schema

EXPIRE_UNPAID_ORDERS = "expire-unpaid-orders"
DAILY_SUMMARY = "daily-summary"
JOBS = (EXPIRE_UNPAID_ORDERS, DAILY_SUMMARY)


def job_args(settings: Settings, orders: ApiService) -> list[ScheduledJobArgs]:
    unknown = sorted(set(settings.jobs.disabled) - set(JOBS))
    if unknown:
        raise ValueError(f"disabledJobs names unknown jobs {unknown}; the jobs are {list(JOBS)}")
    table = orders.tables["orders"]
    environment = {schema.ORDERS_TABLE_ENV: table.table.name}
    pending_index = table.index_arn(schema.PENDING_INDEX)
    day_index = table.index_arn(schema.DAY_INDEX)
    return [
        ScheduledJobArgs(
            job=EXPIRE_UNPAID_ORDERS,
            expression="rate(15 minutes)",
            function=FunctionSpec(
                folder="expire_unpaid_orders", function_class="job",
                description="Expires PENDING orders nobody paid for",
                environment={**environment,
                             schema.EXPIRE_AFTER_MINUTES_ENV: str(settings.jobs.expire_unpaid_after_minutes)},
                grants=(Grant(["dynamodb:Query"], [pending_index]),
                        Grant(["dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"],
                              [table.table.arn])),
            ),
        ),
        ScheduledJobArgs(
            job=DAILY_SUMMARY,
            expression="cron(0 2 * * ? *)",  # 02:00 in the stack's time zone
            interval_seconds=24 * 3600,
            flexible_window_minutes=15,
            function=FunctionSpec(
                folder="daily_summary", function_class="job",
                description="Writes yesterday's orders by state and value",
                environment={**environment, schema.TIME_ZONE_ENV: settings.jobs.time_zone},
                grants=(Grant(["dynamodb:Query"], [day_index]), Grant(["dynamodb:PutItem"], [table.table.arn])),
            ),
        ),
    ]
