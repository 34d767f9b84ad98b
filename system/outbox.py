"""The outbox relay: the orders table stream to the stack's event bus."""

from __future__ import annotations

import pulumi

from components.api_service import ApiService
from components.core.context import StackContext
from components.core.iam import Grant
from components.stream_processor import DynamoDbSource, StreamProcessorArgs
from lambdas.shared.orders_schema import EVENT_BUS_ENV
from system.functions import app_function
from system.settings import Settings

# Only new outbox items wake the relay: order updates and TTL deletions are filtered out by Lambda.
OUTBOX_INSERTS = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["outbox"]}}}}


def outbox_relay_args(settings: Settings, stack: StackContext, orders: ApiService, bus_name: pulumi.Input[str],
                      bus_arn: pulumi.Input[str]) -> StreamProcessorArgs:
    return StreamProcessorArgs(
        source=DynamoDbSource(orders.tables["orders"]),
        function=app_function(
            "outbox_relay", "Publishes outbox items to the event bus, in order per order",
            environment={EVENT_BUS_ENV: bus_name},
            grants=(Grant(["events:PutEvents"], [bus_arn]),),
        ),
        **settings.stream_mapping(),
        stack=stack,
        filter_patterns=(OUTBOX_INSERTS,),
        keeps_shard_state=True,
    )
