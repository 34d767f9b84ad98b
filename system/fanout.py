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


def subscribers(settings: Settings, orders: ApiService, activity: StreamProcessor) -> list[Subscriber]:
    table = orders.tables["orders"].table
    environment = {ORDERS_TABLE_ENV: table.name}

    def consumer(folder: str, description: str, *grants: Grant, **extra_environment: object) -> FunctionSpec:
        return FunctionSpec(folder=folder, function_class="worker", description=description,
                            environment={**environment, **extra_environment}, grants=grants)

    assert activity.stream is not None, "analytics forwards to the activity Kinesis stream"
    return [
        Subscriber("fulfilment", contracts.pattern("OrderPaid"), consumer(
            "fulfilment", "Starts fulfilment of paid orders", Grant(["dynamodb:UpdateItem"], [table.arn]))),
        Subscriber("notifications", contracts.pattern(*contracts.ORDER_EVENTS), consumer(
            "notifications", "Records the notifications order events call for",
            Grant(["dynamodb:PutItem"], [table.arn]))),
        Subscriber("analytics", contracts.pattern(*contracts.ORDER_EVENTS), consumer(
            "analytics_forwarder", "Forwards order events to the activity stream",
            Grant(["dynamodb:PutItem", "dynamodb:DeleteItem"], [table.arn]),
            Grant(["kinesis:PutRecord"], [activity.stream.arn]),
            **{ACTIVITY_STREAM_ENV: activity.stream.name})),
        Subscriber("high-value-review", contracts.pattern(
            "OrderPlaced", detail={"totalAmount": contracts.greater_than(settings.events.high_value_order_threshold)}),
            consumer("high_value_review", "Opens a review for high-value orders", Grant(["dynamodb:PutItem"], [table.arn])),
            target=LAMBDA),
    ]

