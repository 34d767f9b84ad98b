"""StreamProcessor: ordered, retried stream records where one bad record neither blocks a shard
forever nor vanishes.

Source: a Kinesis data stream the component creates, or an existing DynamoDB table's stream.
The event source mapping bisects failing batches, bounds retries and record age, reports
partial batch failures and sends what it finally gives up on to an on-failure SQS queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.alarms import AlarmSpec, build_alarm
from components.core.bounds import bounded, out_of_bounds
from components.core.context import StackContext
from components.core.errors import ComponentConfigError
from components.core.function import BuiltFunction, FunctionSpec, build_function
from components.core.iam import Grant
from components.core.naming import physical_name
from components.core.queue import build_dead_letter_queue
from components.core.rollout import build_rollout
from components.core.table import BuiltTable, TableAccess, TableSpec, build_table, table_wiring
from components.runtime.stream_schema import ON_FAILURE_QUEUE_URL_ENV

__all__ = ["DynamoDbSource", "KinesisSource", "StreamConfigError", "StreamProcessor", "StreamProcessorArgs",
           "mapping_defaults"]

COMPONENT_TYPE = "serverless:index:StreamProcessor"
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")
# What Lambda's Kinesis poller calls: the actions of the AWS managed policy
# AWSLambdaKinesisExecutionRole, each on the narrowest resource its IAM resource type allows.
KINESIS_CONSUMER_ACTIONS = ("kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
                            "kinesis:GetShardIterator", "kinesis:ListShards")
# No resource type: "*". In the managed policies of both stream pollers; the local cloud's poller does
# not list streams, so its grant check keeps these two with that reason (tools/local/grants.py KEPT).
KINESIS_ACCOUNT_ACTIONS = ("kinesis:ListStreams",)
DYNAMODB_STREAM_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")


class StreamConfigError(ComponentConfigError):
    """A stream mapping that could block a shard, lose records or cannot be created."""


@dataclass(frozen=True)
class KinesisSource:
    """A stream the component creates, encrypted with ``alias/aws/kinesis``."""

    name: str
    shards: int = bounded(1, 0, 500)
    """@default 1 provisioned shard (~$11/month); 0: on-demand capacity."""
    retention_hours: int = bounded(24, 24, 8760, " hours")


@dataclass(frozen=True)
class DynamoDbSource:
    """An existing table's stream; its view type is set where the table is built."""

    table: BuiltTable


@dataclass(frozen=True)
class StreamProcessorArgs:
    """A function reading a stream in order, with bisection, bounded retries and an on-failure queue."""

    function: FunctionSpec
    """The processor (profile ``stream``); it receives ``ON_FAILURE_QUEUE_URL``
    (``components.runtime.stream_schema``) to park what it can never process."""
    source: KinesisSource | DynamoDbSource
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = bounded(100, 1, 10000)
    batching_window_seconds: int = bounded(1, 0, 300, " seconds")
    parallelization_factor: int = bounded(1, 1, 10)
    """@default 1. Kinesis only; always 1 with ``keeps_shard_state``."""
    maximum_retry_attempts: int = bounded(5, 0, 100)
    maximum_record_age_seconds: int = bounded(3600, 60, 604800, " seconds")
    filter_patterns: tuple[dict[str, Any], ...] = ()
    tumbling_window_seconds: int | None = None
    keeps_shard_state: bool = False
    """@default False. True when the processor checkpoints per shard, so batches of one shard must
    not run concurrently (parallelization factor 1 whatever ``parallelization_factor`` says)."""
    environment_variable: str | None = None  # receives the Kinesis stream name
    tables: tuple[TableSpec, ...] = ()  # state the processor owns, e.g. its aggregates
    table_access: tuple[TableAccess, ...] = ()
    stack: StackContext = field(default_factory=StackContext)
    """@default the code defaults, no alarm actions (see :class:`StackContext`)."""


def mapping_defaults(args: StreamProcessorArgs) -> dict[str, Any]:
    """The event source mapping's safe defaults merged with the args; one home for all stream mappings."""
    kinesis = isinstance(args.source, KinesisSource)
    problems = out_of_bounds(args) + (out_of_bounds(args.source) if kinesis else [])
    if args.function.function_class not in (None, "stream"):
        problems.append("the function must use the 'stream' profile")
    if args.starting_position not in STARTING_POSITIONS:
        problems.append(f"starting position must be one of {STARTING_POSITIONS}")
    if args.tumbling_window_seconds is not None and not 1 <= args.tumbling_window_seconds <= 900:
        problems.append("tumbling window must be 1-900 seconds")
    if isinstance(args.source, DynamoDbSource) and not args.source.table.spec.stream_view_type:
        problems.append(f"table '{args.source.table.spec.name}' has no stream: set stream_view_type where it is built")
    if problems:
        raise StreamConfigError("; ".join(problems))
    values: dict[str, Any] = {
        "starting_position": args.starting_position,
        "batch_size": args.batch_size,
        "maximum_batching_window_in_seconds": args.batching_window_seconds,
        "bisect_batch_on_function_error": True,
        "maximum_retry_attempts": args.maximum_retry_attempts,
        "maximum_record_age_in_seconds": args.maximum_record_age_seconds,
        "function_response_types": ["ReportBatchItemFailures"],
        "parallelization_factor": 1 if args.keeps_shard_state or not kinesis else args.parallelization_factor,
    }
    if args.filter_patterns:
        values["filter_criteria"] = {"filters": [{"pattern": json.dumps(p)} for p in args.filter_patterns]}
    if args.tumbling_window_seconds:
        values["tumbling_window_in_seconds"] = args.tumbling_window_seconds
    return values


class StreamProcessor(pulumi.ComponentResource):
    stream: aws.kinesis.Stream | None
    function: BuiltFunction

    stream_name: pulumi.Output[str] | None
    """The Kinesis stream's name (None for a table's stream)."""
    stream_arn: pulumi.Output[str]
    function_name: pulumi.Output[str]

    def __init__(self, name: str, args: StreamProcessorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        mapping = mapping_defaults(args)
        ctx = args.stack.resolved(self)
        settings = ctx.defaults
        self.stream = None
        shards = 0
        if isinstance(args.source, KinesisSource):
            shards = args.source.shards
            self.stream = aws.kinesis.Stream(
                f"{name}-stream",
                name=physical_name(settings, args.source.name, max_length=128),
                stream_mode_details={"stream_mode": "PROVISIONED" if shards else "ON_DEMAND"},
                shard_count=shards or None,
                retention_period=args.source.retention_hours,
                encryption_type="KMS",
                kms_key_id="alias/aws/kinesis",
                opts=ctx.options(self),
            )
            source_arn: pulumi.Output[str] = self.stream.arn
            read = Grant(list(KINESIS_CONSUMER_ACTIONS), [source_arn])
            # No SubscribeToShard: the mapping reads the stream itself, never an enhanced fan-out consumer.
            extra_reads = (Grant(list(KINESIS_ACCOUNT_ACTIONS), ["*"]),)
        else:
            table = args.source.table.table
            source_arn = table.stream_arn
            read = Grant(list(DYNAMODB_STREAM_ACTIONS), [source_arn])
            extra_reads = (Grant(["dynamodb:ListStreams"], ["*"]),)
        self.on_failure = build_dead_letter_queue(ctx, f"{name}-failures", self)
        self.tables = {spec.name: build_table(ctx, f"{name}-{spec.name}", spec, self) for spec in args.tables}
        table_environment, table_grants = table_wiring(self.tables, args.table_access)
        environment = {**table_environment, ON_FAILURE_QUEUE_URL_ENV: self.on_failure.queue.url}
        if self.stream is not None and args.environment_variable:
            environment[args.environment_variable] = self.stream.name
        grants = [*table_grants, read, *extra_reads,
                  Grant(["sqs:SendMessage"], [self.on_failure.queue.arn])]
        self.function = build_function(ctx, name, args.function.with_class("stream", "the function").connected(
            environment=environment, grants=grants, runtime_modules=("stream_schema",)), self)
        self.mapping = aws.lambda_.EventSourceMapping(
            f"{name}-events",
            event_source_arn=source_arn,
            function_name=self.function.target_arn,
            destination_config={"on_failure": {"destination_arn": self.on_failure.queue.arn}},
            **mapping,
            opts=ctx.options(self),
        )
        self.alarms = {
            "iterator-age": build_alarm(ctx, f"{name}-iterator-age", AlarmSpec(
                family="iterator_age", namespace="AWS/Lambda", metric_name="IteratorAge",
                dimensions={"FunctionName": self.function.function.name}, statistic="Maximum",
                threshold=settings.alarms.iterator_age_ms,
                description="The processor is falling behind its stream: records are getting old.",
            ), self),
        }
        if self.stream is not None and shards:
            self.alarms["write-throttled"] = build_alarm(ctx, f"{name}-write-throttled", AlarmSpec(
                family="kinesis_write", namespace="AWS/Kinesis", metric_name="WriteProvisionedThroughputExceeded",
                dimensions={"StreamName": self.stream.name}, threshold=1,
                description="Producers exceed the stream's provisioned shards: add shards or go on-demand.",
            ), self)
        self.function.rollout = build_rollout(ctx, name, self.function, [self.alarms["iterator-age"]], self)
        self.stream_name = self.stream.name if self.stream is not None else None
        self.stream_arn = source_arn
        self.function_name = self.function.function.name
        self.register_outputs({"streamArn": source_arn, "function": self.function_name})
