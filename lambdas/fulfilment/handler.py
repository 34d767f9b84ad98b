"""Fulfilment subscriber: an OrderPaid starts fulfilment (once; the warehouse marks it FULFILLED later)."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.environment import read_environment
from components.runtime.observability import observed
from fulfilment.fulfilment import Fulfilment
from shared.subscriber import OrdersSubscriberEnvironment, sqs_batch

environment = read_environment(OrdersSubscriberEnvironment)
dynamodb = boto3.client("dynamodb")
fulfilment = Fulfilment(dynamodb, environment.orders_table)
batch = sqs_batch(("OrderPaid",), fulfilment.start)


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return batch(event, context)
