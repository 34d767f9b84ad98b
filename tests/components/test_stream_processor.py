from __future__ import annotations

import json

import pulumi
import pytest

from components.core.table import build_table
from components.stream_processor import (
    DynamoDbSource,
    KinesisSource,
    StreamConfigError,
    StreamProcessor,
    StreamProcessorArgs,
)
from system.orders import ORDERS_TABLE
from tests.specs import spec

MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"


def stack_source(parent) -> KinesisSource:
    settings = parent.settings
    return KinesisSource("activity", shards=settings.streams.activity_shards, retention_hours=settings.stream_retention_hours)


def kinesis(ctx, parent, **fields):
    args = StreamProcessorArgs(source=stack_source(parent), function=spec("activity_aggregator", "stream"),
                               **{**parent.settings.stream_mapping(), **fields}, stack=ctx)
    return StreamProcessor("activity", args, pulumi.ResourceOptions(parent=parent))


def table_stream(ctx, parent, **fields):
    table = build_table(ctx, "orders", ORDERS_TABLE, parent)
    args = StreamProcessorArgs(source=DynamoDbSource(table), function=spec("activity_aggregator", "stream"),
                               **{**parent.settings.stream_mapping(), **fields}, stack=ctx)
    return StreamProcessor("relay", args, pulumi.ResourceOptions(parent=parent))


def test_kinesis_stream_dev_provisioned_prod_on_demand_encrypted_with_retention(run_builder) -> None:
    dev = run_builder(kinesis, "dev").template.one("aws:kinesis/stream:Stream")["inputs"]
    prod = run_builder(kinesis, "prod").template.one("aws:kinesis/stream:Stream")["inputs"]
    assert dev["streamModeDetails"] == {"streamMode": "PROVISIONED"} and dev["shardCount"] == 1
    assert prod["streamModeDetails"] == {"streamMode": "ON_DEMAND"} and "shardCount" not in prod
    for stream in (dev, prod):
        assert stream["encryptionType"] == "KMS" and stream["kmsKeyId"] == "alias/aws/kinesis"
    assert (dev["retentionPeriod"], prod["retentionPeriod"]) == (24, 168)


def test_mapping_bisects_bounds_retries_and_age_and_reports_item_failures(run_builder) -> None:
    out = run_builder(kinesis, "prod")
    mapping = out.template.one(MAPPING)["inputs"]
    assert mapping["bisectBatchOnFunctionError"] is True
    assert mapping["maximumRetryAttempts"] == 5 and mapping["maximumRecordAgeInSeconds"] == 86400
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["startingPosition"] == "TRIM_HORIZON" and mapping["batchSize"] == 100
    assert mapping["parallelizationFactor"] == 2
    failures = out.template.named("activity-failures")["inputs"]
    assert mapping["destinationConfig"]["onFailure"]["destinationArn"].endswith(f":{failures['name']}")
    assert failures["messageRetentionSeconds"] == 14 * 24 * 3600 and failures["sqsManagedSseEnabled"] is True
    assert mapping["eventSourceArn"].startswith("arn:aws:kinesis:")


def test_shard_state_forces_one_batch_per_shard(run_builder) -> None:
    mapping = run_builder(lambda c, p: kinesis(c, p, keeps_shard_state=True), "prod").template.one(MAPPING)["inputs"]
    assert mapping["parallelizationFactor"] == 1


def test_filter_criteria_and_tumbling_window(run_builder) -> None:
    pattern = {"data": {"type": ["OrderPlaced"]}}
    out = run_builder(lambda c, p: kinesis(c, p, filter_patterns=(pattern,), tumbling_window_seconds=60), "dev")
    mapping = out.template.one(MAPPING)["inputs"]
    assert [json.loads(f["pattern"]) for f in mapping["filterCriteria"]["filters"]] == [pattern]
    assert mapping["tumblingWindowInSeconds"] == 60


def test_role_reads_only_its_source_and_sends_only_to_its_failure_queue(run_builder) -> None:
    out = run_builder(kinesis, "dev")
    statements = out.template.policy(out.template.named("activity-policy"))["Statement"]
    stream = out.template.one("aws:kinesis/stream:Stream")["inputs"]["name"]
    reads = next(s for s in statements if "kinesis:GetRecords" in s["Action"])
    assert reads["Resource"] == [f"arn:aws:kinesis:us-east-1:123456789012:stream/{stream}"]
    sends = next(s for s in statements if s["Action"] == ["sqs:SendMessage"])
    assert sends["Resource"][0].endswith(":orders-dev-activity-failures")


def test_dynamodb_table_stream_source(run_builder) -> None:
    out = run_builder(table_stream, "dev")
    mapping = out.template.one(MAPPING)["inputs"]
    assert "/stream/" in mapping["eventSourceArn"] and mapping["parallelizationFactor"] == 1
    statements = out.template.policy(out.template.named("relay-policy"))["Statement"]
    actions = {a for s in statements for a in s["Action"]}
    assert {"dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream"} <= actions
    assert "kinesis:GetRecords" not in actions


def test_alarms_iterator_age_failures_errors_throttles_and_write_throughput(run_builder) -> None:
    dev = {a["name"]: a["inputs"] for a in run_builder(kinesis, "dev").template.of_type(
        "aws:cloudwatch/metricAlarm:MetricAlarm")}
    age = dev["activity-iterator-age"]
    assert age["metricName"] == "IteratorAge" and age["statistic"] == "Maximum" and age["threshold"] == 300000
    assert dev["activity-failures-depth"]["threshold"] == 1
    assert {"activity-errors", "activity-throttles", "activity-write-throttled"} <= set(dev)
    prod = {a["name"]: a["inputs"] for a in run_builder(kinesis, "prod").template.of_type(
        "aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert prod["activity-iterator-age"]["threshold"] == 60000
    assert "activity-write-throttled" not in prod  # on-demand has no provisioned throughput to exceed


@pytest.mark.parametrize(("fields", "message"), [
    ({"starting_position": "AT_TIMESTAMP"}, "starting position"),
    ({"tumbling_window_seconds": 1000}, "tumbling"),
    ({"function": spec("activity_aggregator", "worker")}, "stream"),
])
def test_unsafe_mappings_are_refused(run_builder, fields, message) -> None:
    def build(ctx, parent):
        values = {"source": KinesisSource("activity"), "function": spec("activity_aggregator", "stream"),
                  **fields, "stack": ctx}
        return StreamProcessor("activity", StreamProcessorArgs(**values), pulumi.ResourceOptions(parent=parent))

    with pytest.raises(StreamConfigError, match=message):
        run_builder(build, "dev")


def test_a_table_without_a_stream_is_refused(run_builder) -> None:
    from dataclasses import replace

    def build(ctx, parent):
        table = build_table(ctx, "plain", replace(ORDERS_TABLE, stream_view_type=None), parent)
        return StreamProcessor("relay", StreamProcessorArgs(
            source=DynamoDbSource(table), function=spec("activity_aggregator", "stream"), stack=ctx),
            pulumi.ResourceOptions(parent=parent))

    with pytest.raises(StreamConfigError, match="no stream"):
        run_builder(build, "dev")


def test_program_relays_only_outbox_inserts_to_the_stack_bus(synth_stack) -> None:
    template = synth_stack("prod")
    mappings = {m["name"]: m["inputs"] for m in template.of_type(MAPPING)}
    relay = mappings["outbox-relay-events"]
    assert "/stream/" in relay["eventSourceArn"] and relay["parallelizationFactor"] == 1
    patterns = [json.loads(f["pattern"]) for f in relay["filterCriteria"]["filters"]]
    assert patterns == [{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["outbox"]}}}}]
    bus = template.one("aws:cloudwatch/eventBus:EventBus")["inputs"]["name"]
    statements = template.policy(template.named("outbox-relay-policy"))["Statement"]
    put = next(s for s in statements if s["Action"] == ["events:PutEvents"])
    assert put["Resource"] == [f"arn:aws:events:us-east-1:123456789012:event-bus/{bus}"]
    function = template.named("outbox-relay", "aws:lambda/function:Function")["inputs"]
    assert function["environment"]["variables"]["EVENT_BUS_NAME"] == bus
    assert function["environment"]["variables"]["ON_FAILURE_QUEUE_URL"].endswith("-outbox-relay-failures")


def test_bus_archive_retention_per_stack(synth_stack) -> None:
    for stack, days in (("dev", 7), ("prod", 90)):
        archive = synth_stack(stack).one("aws:cloudwatch/eventArchive:EventArchive")["inputs"]
        assert archive["retentionDays"] == days and archive["eventSourceArn"].startswith("arn:aws:events:")
