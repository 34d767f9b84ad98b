"""What the AWS APIs themselves enforce, checked over the dev and prod synth.

The limits come from botocore's service models (the ``min``/``max`` of each API field, the
version requirements-dev.txt pins), the pollers' needs from the AWS managed policies for Lambda
event sources (as moto ships them), and the SQS rule from the Lambda developer guide
("Using Lambda with Amazon SQS": visibility timeout at least six times the function timeout, plus
the batching window). The mocks accept anything, so each rule is held here.
"""

from __future__ import annotations

import json
from functools import cache

import botocore.session
import pytest

from tests.conftest import cached_synth

STACKS = ["dev", "prod"]


@cache
def field_limits(service: str, operation: str, *path: str) -> dict:
    shape = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape
    for name in path:
        shape = shape.member if name == "[]" else shape.members[name]
    return shape.metadata


def within(value: float, limits: dict) -> bool:
    return limits.get("min", float("-inf")) <= value <= limits.get("max", float("inf"))


def function_by_arn(template, arn: str) -> dict:
    name = arn.split(":function:", 1)[1].split(":")[0]
    return next(f for f in template.of_type("aws:lambda/function:Function") if f["inputs"]["name"] == name)


def role_actions(template, function: dict) -> set[str]:
    role_name = function["inputs"]["role"].rsplit("/", 1)[1]
    actions: set[str] = set()
    for policy in template.of_type("aws:iam/rolePolicy:RolePolicy"):
        if policy["inputs"]["role"] == role_name:
            for statement in json.loads(policy["inputs"]["policy"])["Statement"]:
                listed = statement["Action"]
                actions |= {listed} if isinstance(listed, str) else set(listed)
    return actions


@pytest.mark.parametrize("stack", STACKS)
def test_sqs_visibility_covers_six_consumer_timeouts_and_the_batching_window(synth_stack, stack) -> None:
    template = synth_stack(stack)
    queues = {q["inputs"]["name"]: q for q in template.of_type("aws:sqs/queue:Queue")}
    checked = 0
    for mapping in template.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
        source = mapping["inputs"]["eventSourceArn"]
        if ":sqs:" not in source:
            continue
        queue = queues[source.rsplit(":", 1)[1]]
        function = function_by_arn(template, mapping["inputs"]["functionName"])
        window = mapping["inputs"].get("maximumBatchingWindowInSeconds") or 0
        assert queue["inputs"]["visibilityTimeoutSeconds"] >= 6 * function["inputs"]["timeout"] + window, queue["name"]
        checked += 1
    assert checked == 4  # payments webhook + three queue subscribers (fulfilment is a workflow)


@pytest.mark.parametrize("stack", STACKS)
def test_retry_policies_are_within_what_each_api_accepts(synth_stack, run_builder, stack) -> None:
    from components.core.defaults import MAX_ASYNC_EVENT_AGE_SECONDS
    from tests.components.test_fan_out import lambda_target_fan_out

    template = synth_stack(stack)
    # The program has no Lambda target now; one at the settings' upper bounds stands in for it.
    lambda_target = lambda_target_fan_out(run_builder, maximum_event_age_seconds=MAX_ASYNC_EVENT_AGE_SECONDS,
                                          maximum_retry_attempts=185)
    invoke = lambda_target.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    targets = template.of_type("aws:cloudwatch/eventTarget:EventTarget") + lambda_target.of_type(
        "aws:cloudwatch/eventTarget:EventTarget")
    schedules = template.of_type("aws:scheduler/schedule:Schedule")
    assert invoke and targets and schedules
    for config in invoke:
        assert within(config["inputs"]["maximumEventAgeInSeconds"],
                      field_limits("lambda", "PutFunctionEventInvokeConfig", "MaximumEventAgeInSeconds"))
        assert within(config["inputs"]["maximumRetryAttempts"],
                      field_limits("lambda", "PutFunctionEventInvokeConfig", "MaximumRetryAttempts"))
    for target in targets:
        policy = target["inputs"]["retryPolicy"]
        assert within(policy["maximumEventAgeInSeconds"],
                      field_limits("events", "PutTargets", "Targets", "[]", "RetryPolicy", "MaximumEventAgeInSeconds"))
        assert within(policy["maximumRetryAttempts"],
                      field_limits("events", "PutTargets", "Targets", "[]", "RetryPolicy", "MaximumRetryAttempts"))
    for schedule in schedules:
        policy = schedule["inputs"]["target"]["retryPolicy"]
        assert within(policy["maximumEventAgeInSeconds"],
                      field_limits("scheduler", "CreateSchedule", "Target", "RetryPolicy", "MaximumEventAgeInSeconds"))


def test_the_event_age_setting_is_capped_at_what_lambda_async_accepts() -> None:
    from system.settings import SettingsError
    from tests.conftest import settings_for

    assert field_limits("lambda", "PutFunctionEventInvokeConfig", "MaximumEventAgeInSeconds")["max"] == 21600
    settings_for("dev", eventTargetMaximumEventAgeSeconds=21600)
    with pytest.raises(SettingsError, match="eventTargetMaximumEventAgeSeconds"):
        settings_for("dev", eventTargetMaximumEventAgeSeconds=21601)


@pytest.mark.parametrize("stack", STACKS)
def test_alarm_periods_fit_standard_resolution_metrics(synth_stack, stack) -> None:
    periods = []
    for alarm in synth_stack(stack).of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        inputs = alarm["inputs"]
        if "period" in inputs:
            periods.append(inputs["period"])
        periods += [q["metric"]["period"] for q in inputs.get("metricQueries") or [] if "metric" in q]
    assert len(periods) > 50
    assert [p for p in periods if p < 60 or p % 60] == []


@pytest.mark.parametrize("period", [10, 30, 90])
def test_sub_minute_alarm_periods_are_refused(period: int) -> None:
    from system.settings import SettingsError
    from tests.conftest import settings_for

    with pytest.raises(SettingsError, match="alarmPeriodSeconds: must be a multiple of 60"):
        settings_for("dev", alarmPeriodSeconds=period)


@pytest.mark.parametrize("stack", STACKS)
def test_what_is_scoped_to_an_alias_waits_for_the_alias(stack) -> None:
    records = cached_synth(stack).resources()
    aliases = {r.urn for r in records if r.type == "aws:lambda/alias:Alias"}
    scoped = [r for r in records if r.type in ("aws:lambda/permission:Permission",
                                               "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
                                               "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")
              and r.inputs.get("qualifier")]
    if stack == "prod":
        assert aliases and scoped
    for record in scoped:
        assert aliases & set(record.dependencies), record.name


def managed_policy_actions(name: str) -> set[str]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    document = json.loads(aws_managed_policies_data)[name]["Document"]
    actions = {a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    # Each function writes to its own, pre-created log group (granted by the function builder).
    return {a for a in actions if not a.startswith("logs:")}


POLLER_POLICIES = {":kinesis:": "AWSLambdaKinesisExecutionRole", ":dynamodb:": "AWSLambdaDynamoDBExecutionRole",
                   ":sqs:": "AWSLambdaSQSQueueExecutionRole"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_event_source_consumer_has_what_lambdas_poller_calls(synth_stack, stack) -> None:
    template = synth_stack(stack)
    seen = set()
    for mapping in template.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
        source = mapping["inputs"]["eventSourceArn"]
        policy = next(p for marker, p in POLLER_POLICIES.items() if marker in source)
        needed = managed_policy_actions(policy)
        assert needed, policy
        if "/consumer/" not in source:
            # SubscribeToShard "establishes an HTTP/2 connection between the consumer you specify in
            # the ConsumerARN parameter and the shard" (Kinesis API reference): only a mapping that
            # reads through a registered enhanced fan-out consumer calls it.
            needed -= {"kinesis:SubscribeToShard"}
        granted = role_actions(template, function_by_arn(template, mapping["inputs"]["functionName"]))
        assert needed - granted == set(), (mapping["name"], policy)
        seen.add(policy)
    assert seen == set(POLLER_POLICIES.values())
