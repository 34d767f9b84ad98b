"""The one alarm builder, and pure functions returning the standard alarm specs.

Missing-data treatment is chosen per metric family (docs/ALARMS.md): error-like
metrics are sparse (missing = healthy), backlog metrics report continuously (missing = unknown),
and a heartbeat ("did not run") is breaching when silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.context import StackContext
from components.core.defaults import AlarmSettings
from components.core.errors import ComponentConfigError
from components.core.naming import physical_name

__all__ = [
    "CRITICAL",
    "WARNING",
    "AlarmConfigError",
    "AlarmSpec",
    "MetricRef",
    "RegisteredAlarm",
    "build_alarm",
    "build_alarms",
    "registered_alarms",
]

NOT_BREACHING = "notBreaching"
MISSING = "missing"
BREACHING = "breaching"

TREAT_MISSING_DATA: Mapping[str, str] = {
    "errors": NOT_BREACHING,
    "throttles": NOT_BREACHING,
    "duration": NOT_BREACHING,
    "async_losses": NOT_BREACHING,
    "api_errors": NOT_BREACHING,
    "api_latency": NOT_BREACHING,
    "dynamodb": NOT_BREACHING,
    "kinesis_write": NOT_BREACHING,
    "events": NOT_BREACHING,
    "sns": NOT_BREACHING,
    "scheduler": NOT_BREACHING,
    "states": NOT_BREACHING,  # Step Functions execution metrics: emitted only when executions end that way
    "iterator_age": MISSING,
    "queue_age": MISSING,
    "dlq_depth": MISSING,
    "concurrency": MISSING,
    "heartbeat": BREACHING,
    "heartbeat_history": NOT_BREACHING,  # "ran in these periods": no data means it did not
    "business": NOT_BREACHING,  # the service's own counters (Powertools EMF): emitted only when they happen
}

CRITICAL = "critical"
WARNING = "warning"
COMPOSITE_INPUT_TAG = "composite-input"  # policy/rules.py (G1) exempts these from needing actions


def register_alarm(component: pulumi.Resource, alarm: RegisteredAlarm) -> None:
    """Record an alarm on the component that owns it (``component.registered_alarms``), where a
    ServiceHealth given that component finds it: no registry shared across components."""
    component.__dict__.setdefault("registered_alarms", []).append(alarm)


def registered_alarms(component: pulumi.Resource) -> list[RegisteredAlarm]:
    """The alarms built under ``component``, in the order they were built."""
    return list(component.__dict__.get("registered_alarms", []))


@dataclass(frozen=True)
class RegisteredAlarm:
    """What the dashboard and the service-health alarm need to know of an alarm."""

    name: str
    spec: AlarmSpec
    period_seconds: int
    resource: Any = None


class AlarmConfigError(ComponentConfigError):
    """An alarm that could never fire, or would fire on nothing."""


@dataclass(frozen=True)
class MetricRef:
    """One metric of a summed alarm (``AlarmSpec.sum_of``)."""

    metric_name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    statistic: str = "Sum"


@dataclass(frozen=True)
class AlarmSpec:
    """One metric alarm. ``threshold`` must be positive; ``family`` picks missing-data handling.

    With ``sum_of``, the alarm watches the sum of those metrics (metric math) instead of
    ``metric_name``, e.g. DynamoDB ``SystemErrors``, which is only reported per operation.
    """

    family: str
    namespace: str
    metric_name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    threshold: float
    description: str
    statistic: str | None = "Sum"
    extended_statistic: str | None = None
    comparison: str = "GreaterThanOrEqualToThreshold"
    severity: str = CRITICAL
    period_seconds: int | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    sum_of: tuple[MetricRef, ...] = ()
    # Metric math over ``sum_of`` (ids m0, m1, ...) instead of their sum, e.g. a share of a quota.
    expression: str | None = None
    # An input of a composite alarm only: no actions of its own, not in the service-health rule.
    composite_input: bool = False


def build_alarm(ctx: StackContext, name: str, spec: AlarmSpec, parent: pulumi.Resource) -> aws.cloudwatch.MetricAlarm:
    """A metric alarm with alarm and OK actions to the stack's alert topic."""
    if spec.family not in TREAT_MISSING_DATA:
        raise AlarmConfigError(f"alarm '{name}': unknown metric family '{spec.family}'")
    if spec.threshold <= 0:
        raise AlarmConfigError(f"alarm '{name}': threshold must be greater than zero (got {spec.threshold})")
    if not spec.sum_of and (spec.statistic is None) == (spec.extended_statistic is None):
        raise AlarmConfigError(f"alarm '{name}': set exactly one of statistic and extended_statistic")
    alarms: AlarmSettings = ctx.defaults.alarms
    evaluation = spec.evaluation_periods or alarms.evaluation_periods
    datapoints = min(spec.datapoints_to_alarm or alarms.datapoints_to_alarm, evaluation)
    period = spec.period_seconds or alarms.period_seconds
    metric: dict[str, Any]
    if spec.sum_of:
        ids = [f"m{index}" for index in range(len(spec.sum_of))]
        metric = {"metric_queries": [
            *({"id": metric_id, "return_data": False, "metric": {
                "namespace": spec.namespace, "metric_name": ref.metric_name, "dimensions": dict(ref.dimensions),
                "stat": ref.statistic, "period": period}} for metric_id, ref in zip(ids, spec.sum_of, strict=True)),
            {"id": "total", "return_data": True, "label": spec.metric_name,
             "expression": spec.expression or f"SUM([{','.join(ids)}])"},
        ]}
    else:
        metric = {"namespace": spec.namespace, "metric_name": spec.metric_name, "dimensions": dict(spec.dimensions),
                  "statistic": spec.statistic, "extended_statistic": spec.extended_statistic, "period": period}
    alarm_name = physical_name(ctx.defaults, name, max_length=255)
    # Metric alarms notify the notices topic; only composite alarms (service health) page, so an
    # incident pages once. A composite's input has no actions at all.
    actions = [] if spec.composite_input else ctx.alarm_actions
    tags = {"severity": spec.severity, **({COMPOSITE_INPUT_TAG: "true"} if spec.composite_input else {}), **spec.tags}
    alarm = aws.cloudwatch.MetricAlarm(
        name,
        name=alarm_name,
        alarm_description=spec.description,
        **metric,
        comparison_operator=spec.comparison,
        threshold=spec.threshold,
        evaluation_periods=evaluation,
        datapoints_to_alarm=datapoints,
        treat_missing_data=TREAT_MISSING_DATA[spec.family],
        alarm_actions=actions,
        ok_actions=actions,
        tags=tags,
        opts=ctx.options(parent),
    )
    register_alarm(parent, RegisteredAlarm(alarm_name, spec, period, alarm))
    return alarm


def build_alarms(ctx: StackContext, prefix: str, specs: Mapping[str, AlarmSpec],
                 parent: pulumi.Resource) -> dict[str, aws.cloudwatch.MetricAlarm]:
    """One alarm per spec, named ``<prefix>-<key>``."""
    return {key: build_alarm(ctx, f"{prefix}-{key}", spec, parent) for key, spec in specs.items()}


def function_alarm_specs(alarms: AlarmSettings, function_name: pulumi.Input[str], timeout_seconds: int) -> dict[str, AlarmSpec]:
    """Errors, throttles and duration-near-timeout for one function."""
    dimensions = {"FunctionName": function_name}
    duration_ms = timeout_seconds * 1000 * alarms.duration_percent_of_timeout / 100
    return {
        "errors": AlarmSpec(
            family="errors", namespace="AWS/Lambda", metric_name="Errors", dimensions=dimensions,
            threshold=alarms.errors_threshold, description="Function invocations are failing.",
        ),
        "throttles": AlarmSpec(
            family="throttles", namespace="AWS/Lambda", metric_name="Throttles", dimensions=dimensions,
            threshold=alarms.throttles_threshold, description="Function invocations are throttled.",
        ),
        "duration": AlarmSpec(
            family="duration", namespace="AWS/Lambda", metric_name="Duration", dimensions=dimensions,
            statistic="Maximum", threshold=duration_ms, severity=WARNING,
            description=f"Function duration is above {alarms.duration_percent_of_timeout}% of its {timeout_seconds} s timeout.",
        ),
    }


def queue_age_spec(alarms: AlarmSettings, queue_name: pulumi.Input[str]) -> AlarmSpec:
    return AlarmSpec(
        family="queue_age", namespace="AWS/SQS", metric_name="ApproximateAgeOfOldestMessage",
        dimensions={"QueueName": queue_name}, statistic="Maximum",
        threshold=alarms.queue_age_seconds,
        description="Messages are waiting longer than expected: the consumer is failing or too slow.",
    )


def dlq_depth_spec(dlq_name: pulumi.Input[str]) -> AlarmSpec:
    """Any message at all on a dead-letter queue (the DLQ's NumberOfMessagesSent misses redrives)."""
    return AlarmSpec(
        family="dlq_depth", namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": dlq_name}, statistic="Maximum", threshold=1,
        evaluation_periods=1, datapoints_to_alarm=1,
        description="Messages reached the dead-letter queue: inspect them, fix the cause, then redrive.",
    )


def scheduler_alarm_specs(group_name: pulumi.Input[str]) -> dict[str, AlarmSpec]:
    """EventBridge Scheduler losses for one schedule group: targets failing, invocations dropped
    after the retry policy, and dead letters that could not be delivered."""
    dimensions = {"ScheduleGroup": group_name}
    described = {
        "TargetErrorCount": "Scheduled invocations of targets are failing.",
        "InvocationDroppedCount": "Scheduled invocations were dropped after all retries (no DLQ delivery).",
        "InvocationsFailedToBeSentToDeadLetterCount": "Failed invocations could not be sent to their DLQ.",
    }
    return {
        metric: AlarmSpec(family="scheduler", namespace="AWS/Scheduler", metric_name=metric, dimensions=dimensions,
                          threshold=1, description=text)
        for metric, text in described.items()
    }
