"""Activity aggregator: Kinesis activity events -> counts and order value per window and type."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from activity_aggregator.aggregator import Aggregator
from shared.activity_schema import AGGREGATES_TABLE_ENV, DEFAULT_WINDOW_SECONDS, WINDOW_SECONDS_ENV
from shared.observability import logger, metrics, tracer

aggregator = Aggregator(boto3.client("dynamodb"), os.environ[AGGREGATES_TABLE_ENV],
                        int(os.environ.get(WINDOW_SECONDS_ENV, DEFAULT_WINDOW_SECONDS)))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = aggregator.process(event.get("Records", []))
    metrics.add_metric(name="ActivityApplied", unit=MetricUnit.Count, value=result.applied)
    if result.skipped:
        metrics.add_metric(name="ActivityAlreadyApplied", unit=MetricUnit.Count, value=result.skipped)
    if result.failures:
        logger.warning("poison activity record", extra={"sequenceNumber": result.failed_sequence})
    # Kinesis retries from the first failure; bisection and bounded retries then move it to the
    # on-failure queue (shard and sequence range), so it neither blocks the shard nor vanishes.
    return {"batchItemFailures": result.failures}
