"""Fulfilment subscriber: an OrderPaid starts fulfilment (once; the warehouse marks it FULFILLED later)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.environment import read_environment, variable
from components.runtime.observability import observed
from fulfilment.fulfilment import Fulfilment
from shared.orders_schema import ORDERS_TABLE_ENV
from shared.subscriber import sqs_batch


@dataclass(frozen=True)
class Environment:
    orders_table: str = variable(ORDERS_TABLE_ENV)


environment = read_environment(Environment)
dynamodb = boto3.client("dynamodb")
fulfilment = Fulfilment(dynamodb, environment.orders_table)
batch = sqs_batch(("OrderPaid",), lambda name, detail, event: fulfilment.start(detail))


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return batch(event, context)
