"""Notifications subscriber: records one notification to send per order event, once per event."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.environment import read_environment
from components.runtime.observability import observed
from notifications.notifications import Notifications
from shared.contracts import ORDER_EVENTS
from shared.subscriber import OrdersSubscriberEnvironment, sqs_batch

environment = read_environment(OrdersSubscriberEnvironment)
dynamodb = boto3.client("dynamodb")
notifications = Notifications(dynamodb, environment.orders_table)
batch = sqs_batch(ORDER_EVENTS, notifications.record)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return batch(event, context)
