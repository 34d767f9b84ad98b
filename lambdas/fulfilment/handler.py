"""The fulfilment saga's task function: Step Functions invokes it once per step with ``{"step": ...}``.

A step that fails raises: the state machine's retriers and catchers decide what happens next
(a named error such as OutOfStockError starts the compensations; a transient one is retried).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from components.runtime.environment import read_environment, variable
from components.runtime.observability import logger, observed
from fulfilment.steps import FulfilmentSteps
from shared.orders_schema import HIGH_VALUE_THRESHOLD_ENV, ORDERS_TABLE_ENV


@dataclass(frozen=True)
class FulfilmentEnvironment:
    orders_table: str = variable(ORDERS_TABLE_ENV)
    high_value_threshold: int = variable(HIGH_VALUE_THRESHOLD_ENV, parse=int)  # whole currency units


environment = read_environment(FulfilmentEnvironment)
steps = FulfilmentSteps(boto3.client("dynamodb"), environment.orders_table,
                        Decimal(environment.high_value_threshold))


@observed(correlation_id_path="orderId")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = steps.run(event)
    logger.info("fulfilment step done", extra={"step": event.get("step"), "result": result})
    return result
