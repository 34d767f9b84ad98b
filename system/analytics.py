"""Activity analytics: a Kinesis stream of activity events aggregated per window and type."""

from __future__ import annotations

from components.core.context import StackContext
from components.core.table import TableAccess, TableSpec
from components.stream_processor import KinesisSource, StreamProcessorArgs
from lambdas.shared import activity_schema as schema
from system.functions import app_function
from system.settings import Settings

AGGREGATES_TABLE = TableSpec(
    name="activity-aggregates",
    partition_key=schema.PARTITION_KEY,
    sort_key=schema.SORT_KEY,
    attributes={schema.PARTITION_KEY: "S", schema.SORT_KEY: "S"},
)


def activity_args(settings: Settings, stack: StackContext) -> StreamProcessorArgs:
    return StreamProcessorArgs(
        source=KinesisSource("activity", shards=settings.streams.activity_shards,
                             retention_hours=settings.stream_retention_hours),
        function=app_function("activity_aggregator", "Counts activity and sums order value per window and type",
                              environment={schema.WINDOW_SECONDS_ENV: str(schema.DEFAULT_WINDOW_SECONDS)}),
        **settings.stream_mapping(),
        stack=stack,
        keeps_shard_state=True,  # per-shard checkpoint: one batch per shard at a time
        environment_variable=schema.ACTIVITY_STREAM_ENV,
        tables=(AGGREGATES_TABLE,),
        table_access=(TableAccess(AGGREGATES_TABLE.name, ("dynamodb:GetItem", "dynamodb:UpdateItem"),
                                  schema.AGGREGATES_TABLE_ENV),),
    )
