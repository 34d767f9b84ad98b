"""Subscribers of the orders domain events: fulfilment, notifications, analytics, high-value review."""

from __future__ import annotations

from components.api_service import ApiService
from components.core.function import FunctionSpec
from components.core.iam import Grant
from components.fan_out import LAMBDA, Subscriber
from components.settings import Settings
from components.stream_processor import StreamProcessor
from lambdas.shared import contracts
from lambdas.shared.activity_schema import ACTIVITY_STREAM_ENV
from lambdas.shared.orders_schema import ORDERS_TABLE_ENV


def patterns(settings: Settings) -> dict[str, dict]:
    """Each subscriber's event pattern, from the contracts module (infra and e2e tests share them)."""
    return {
        "fulfilment": contracts.pattern("OrderPaid"),
        "notifications": contracts.pattern(*contracts.ORDER_EVENTS),
        "analytics": contracts.pattern(*contracts.ORDER_EVENTS),
        "high-value-review": contracts.pattern(
            # Amounts are strings (exact); EventBridge compares numbers, so the rule reads the whole-unit
            # ceiling, which is exact for "greater than a whole threshold".
            "OrderPlaced", detail={"totalAmountRoundedUp": contracts.greater_than(
                settings.events.high_value_order_threshold)}),
    }


def subscribers(settings: Settings, orders: ApiService, activity: StreamProcessor) -> list[Subscriber]:
    table = orders.tables["orders"].table
    environment = {ORDERS_TABLE_ENV: table.name}

    def consumer(folder: str, description: str, *grants: Grant, **extra_environment: object) -> FunctionSpec:
        return FunctionSpec(folder=folder, function_class="worker", description=description,
                            environment={**environment, **extra_environment}, grants=grants)

    assert activity.stream is not None, "analytics forwards to the activity Kinesis stream"
    pattern = patterns(settings)
    return [
        Subscriber("fulfilment", pattern["fulfilment"], consumer(
            "fulfilment", "Starts fulfilment of paid orders", Grant(["dynamodb:UpdateItem"], [table.arn]))),
        Subscriber("notifications", pattern["notifications"], consumer(
            "notifications", "Records the notifications order events call for",
            Grant(["dynamodb:PutItem"], [table.arn]))),
        Subscriber("analytics", pattern["analytics"], consumer(
            "analytics_forwarder", "Forwards order events to the activity stream",
            Grant(["dynamodb:PutItem", "dynamodb:UpdateItem"], [table.arn]),  # the PENDING/DONE marker
            Grant(["kinesis:PutRecord"], [activity.stream.arn]),
            **{ACTIVITY_STREAM_ENV: activity.stream.name})),
        Subscriber("high-value-review", pattern["high-value-review"], consumer(
            "high_value_review", "Opens a review for high-value orders", Grant(["dynamodb:PutItem"], [table.arn])),
            target=LAMBDA),
    ]

