"""Payments worker: applies verified webhook messages from SQS, with partial batch responses.

Idempotent on the webhook id: its marker (in the component's idempotency table, with a TTL) is
written in the same DynamoDB transaction as its effect, so a redelivered webhook has no second
effect, for two calls per webhook (Powertools idempotency would add two more: its INPROGRESS and
COMPLETED records around the transaction). A transient fault fails only its record; an
unparseable message keeps failing until the queue moves it to the dead-letter queue after
maxReceiveCount receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.environment import read_environment, variable
from components.runtime.idempotency_schema import IDEMPOTENCY_TABLE_ENV
from components.runtime.idempotency_schema import ttl_seconds as idempotency_ttl_seconds
from components.runtime.observability import logger, metrics, observed
from payments_worker.payments import PaymentsLedger, parse_message
from shared.orders_schema import ORDERS_TABLE_ENV, PAYMENT_EXCEPTIONS_METRIC


@dataclass(frozen=True)
class Environment:
    orders_table: str = variable(ORDERS_TABLE_ENV)
    idempotency_table: str = variable(IDEMPOTENCY_TABLE_ENV)


environment = read_environment(Environment)
dynamodb = boto3.client("dynamodb")
ledger = PaymentsLedger(dynamodb, environment.orders_table, environment.idempotency_table, idempotency_ttl_seconds())
processor = BatchProcessor(event_type=EventType.SQS)


def now() -> datetime:
    return datetime.now(UTC)


def record_handler(record: SQSRecord) -> str:
    envelope, event = parse_message(record.body)  # poison fails here, before any write
    outcome = ledger.apply(envelope.id, event, now())
    kind = outcome.split(":", 1)[0]
    metrics.add_metric(name=f"Payment_{kind}", unit=MetricUnit.Count, value=1)
    if kind == "exception":
        metrics.add_metric(name=PAYMENT_EXCEPTIONS_METRIC, unit=MetricUnit.Count, value=1)
    if kind in ("exception", "ignored"):
        logger.warning("payment webhook not applied", extra={"webhookId": envelope.id, "outcome": outcome})
    return outcome


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
