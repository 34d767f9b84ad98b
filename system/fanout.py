"""Subscribers of the orders domain events: the fulfilment saga, notifications, analytics, high-value review."""

from __future__ import annotations

import pulumi

from components.api_service import ApiService
from components.core.context import StackContext
from components.core.function import FunctionSpec
from components.core.iam import Grant
from components.fan_out import WORKFLOW, FanOutArgs, Subscriber
from components.stream_processor import StreamProcessor
from components.workflow import Workflow
from lambdas.shared import event_catalog
from lambdas.shared.activity_schema import ACTIVITY_STREAM_ENV
from lambdas.shared.orders_schema import ORDERS_TABLE_ENV
from system.functions import app_function
from system.settings import Settings


def patterns(settings: Settings) -> dict[str, dict]:
    """Each subscriber's event pattern, from the event catalog (infra and e2e tests share them)."""
    return {
        "fulfilment": event_catalog.pattern("OrderPaid"),
        "notifications": event_catalog.pattern(*event_catalog.ORDER_EVENTS),
        "analytics": event_catalog.pattern(*event_catalog.ORDER_EVENTS),
        "high-value-review": event_catalog.pattern(
            # Amounts are strings (exact); EventBridge compares numbers, so the rule reads the whole-unit
            # ceiling, which is exact for "greater than a whole threshold".
            "OrderPlaced", detail={"totalAmountRoundedUp": event_catalog.greater_than(
                settings.events.high_value_order_threshold)}),
    }


def events_args(settings: Settings, stack: StackContext, bus_name: pulumi.Input[str], orders: ApiService,
                activity: StreamProcessor, fulfilment: Workflow) -> FanOutArgs:
    """The orders events' subscribers on the stack's bus, with the stack's retry policy."""
    events = settings.events
    return FanOutArgs(bus_name=bus_name, subscribers=subscribers(settings, orders, activity, fulfilment),
                      maximum_event_age_seconds=events.maximum_event_age_seconds,
                      maximum_retry_attempts=events.maximum_retry_attempts, stack=stack)


def subscribers(settings: Settings, orders: ApiService, activity: StreamProcessor,
                fulfilment: Workflow) -> list[Subscriber]:
    table_arn = orders.table_arn("orders")
    environment = {ORDERS_TABLE_ENV: orders.table_name("orders")}

    def consumer(folder: str, description: str, *grants: Grant, **extra_environment: object) -> FunctionSpec:
        return app_function(folder, description, environment={**environment, **extra_environment}, grants=grants)

    if activity.stream_name is None:
        raise ValueError("analytics forwards to the activity Kinesis stream: the activity processor needs one")
    pattern = patterns(settings)
    return [
        # One saga execution per OrderPaid (system/fulfilment.py); a duplicate delivery stops at its claim.
        Subscriber("fulfilment", pattern["fulfilment"], target=WORKFLOW, workflow=fulfilment),
        Subscriber("notifications", pattern["notifications"], consumer(
            "notifications", "Records the notifications order events call for",
            Grant(["dynamodb:PutItem"], [table_arn]))),
        Subscriber("analytics", pattern["analytics"], consumer(
            "analytics_forwarder", "Forwards order events to the activity stream",
            Grant(["dynamodb:PutItem", "dynamodb:UpdateItem"], [table_arn]),  # the PENDING/DONE marker
            Grant(["kinesis:PutRecords"], [activity.stream_arn]),
            **{ACTIVITY_STREAM_ENV: activity.stream_name})),
        # Behind a queue like the others (not a Lambda target, one event per invocation), so reviews
        # are opened a batch at a time.
        Subscriber("high-value-review", pattern["high-value-review"], consumer(
            "high_value_review", "Opens a review for high-value orders", Grant(["dynamodb:PutItem"], [table_arn]))),
    ]

