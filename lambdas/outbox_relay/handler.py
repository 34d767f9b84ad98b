"""Outbox relay: the orders table stream's new outbox items, published as contract events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.environment import read_environment, variable
from components.runtime.observability import logger, metrics, observed
from components.runtime.stream_schema import ON_FAILURE_QUEUE_URL_ENV
from outbox_relay.relay import OutboxRelay
from shared.orders_schema import EVENT_BUS_ENV


@dataclass(frozen=True)
class Environment:
    event_bus: str = variable(EVENT_BUS_ENV)
    failure_queue_url: str = variable(ON_FAILURE_QUEUE_URL_ENV)


environment = read_environment(Environment)
relay = OutboxRelay(boto3.client("events"), boto3.client("sqs"), environment.event_bus, environment.failure_queue_url)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = relay.relay(event.get("Records", []))
    metrics.add_metric(name="EventsRelayed", unit=MetricUnit.Count, value=result.published)
    if result.parked:
        metrics.add_metric(name="OutboxRecordsParked", unit=MetricUnit.Count, value=result.parked)
        logger.error("outbox records parked on the failure queue", extra={"count": result.parked})
    return {"batchItemFailures": result.failures}
