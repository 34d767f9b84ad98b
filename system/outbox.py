"""The outbox relay: the orders table stream to the stack's event bus."""

from __future__ import annotations

from typing import Any

from components.api_service import ApiService
from components.core.function import FunctionSpec
from components.core.iam import Grant
from components.stream_processor import DynamoDbSource, StreamProcessorArgs
from lambdas.shared.stream_schema import EVENT_BUS_ENV

# Only new outbox items wake the relay: order updates and TTL deletions are filtered out by Lambda.
OUTBOX_INSERTS = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["outbox"]}}}}


def outbox_relay_args(orders: ApiService, bus: Any) -> StreamProcessorArgs:
    return StreamProcessorArgs(
        source=DynamoDbSource(orders.tables["orders"]),
        function=FunctionSpec(
            folder="outbox_relay", function_class="stream",
            description="Publishes outbox items to the event bus, in order per order",
            environment={EVENT_BUS_ENV: bus.name},
            grants=(Grant(["events:PutEvents"], [bus.arn]),),
        ),
        filter_patterns=(OUTBOX_INSERTS,),
        keeps_shard_state=True,
    )
