"""Activity aggregator: Kinesis activity events -> counts and order value per window and type."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from activity_aggregator.aggregator import Aggregator
from components.runtime.observability import logger, metrics, observed
from components.runtime.stream_schema import ON_FAILURE_QUEUE_URL_ENV
from shared.activity_schema import AGGREGATES_TABLE_ENV, DEFAULT_WINDOW_SECONDS, WINDOW_SECONDS_ENV

sqs = boto3.client("sqs")
FAILURE_QUEUE_URL = os.environ.get(ON_FAILURE_QUEUE_URL_ENV)


def park(record: dict[str, Any], reason: str) -> None:
    """A record that breaks the activity contract, kept whole on the on-failure queue (its depth alarms)."""
    sqs.send_message(QueueUrl=FAILURE_QUEUE_URL, MessageBody=json.dumps({"reason": reason, "record": record}))


aggregator = Aggregator(boto3.client("dynamodb"), os.environ[AGGREGATES_TABLE_ENV],
                        int(os.environ.get(WINDOW_SECONDS_ENV, DEFAULT_WINDOW_SECONDS)),
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
