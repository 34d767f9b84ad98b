"""Activity aggregator: Kinesis activity events -> counts and order value per window and type."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from activity_aggregator.aggregator import Aggregator
from components.runtime.environment import read_environment, variable
from components.runtime.observability import logger, metrics, observed
from components.runtime.stream_schema import ON_FAILURE_QUEUE_URL_ENV
from shared.activity_schema import AGGREGATES_TABLE_ENV, DEFAULT_WINDOW_SECONDS, WINDOW_SECONDS_ENV


@dataclass(frozen=True)
class Environment:
    aggregates_table: str = variable(AGGREGATES_TABLE_ENV)
    window_seconds: int = variable(WINDOW_SECONDS_ENV, parse=int, default=DEFAULT_WINDOW_SECONDS)
    failure_queue_url: str | None = variable(ON_FAILURE_QUEUE_URL_ENV, default=None)


environment = read_environment(Environment)
sqs = boto3.client("sqs")
FAILURE_QUEUE_URL = environment.failure_queue_url


def park(record: dict[str, Any], reason: str) -> None:
    """A record that breaks the activity contract, kept whole on the on-failure queue (its depth alarms)."""
    sqs.send_message(QueueUrl=FAILURE_QUEUE_URL, MessageBody=json.dumps({"reason": reason, "record": record}))


aggregator = Aggregator(boto3.client("dynamodb"), environment.aggregates_table, environment.window_seconds,
                        park if FAILURE_QUEUE_URL else None)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = aggregator.process(event.get("Records", []))
    metrics.add_metric(name="ActivityApplied", unit=MetricUnit.Count, value=result.applied)
    if result.skipped:
        metrics.add_metric(name="ActivityAlreadyApplied", unit=MetricUnit.Count, value=result.skipped)
    if result.parked:
        metrics.add_metric(name="ActivityParked", unit=MetricUnit.Count, value=result.parked)
    if result.failures:
        logger.warning("poison activity record", extra={"sequenceNumber": result.failed_sequence})
    # Kinesis retries from the first failure; bisection and bounded retries then move it to the
    # on-failure queue (shard and sequence range), so it neither blocks the shard nor vanishes.
    return {"batchItemFailures": result.failures}
