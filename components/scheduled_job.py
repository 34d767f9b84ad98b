"""ScheduledJob: an EventBridge Scheduler schedule that cannot fail silently.

Schedule (rate or cron, time zone, optional flexible window, enabled per stack) -> the job
function, with a retry policy and an SQS dead-letter queue; a scheduler role that may invoke only
that function and send only to that DLQ; and a "did not run" alarm that treats silence as failure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.alarms import CRITICAL, AlarmSpec, RegisteredAlarm, build_alarms, register_alarm
from components.core.bounds import bounded, out_of_bounds
from components.core.context import StackContext
from components.core.defaults import StackDefaults
from components.core.errors import ComponentConfigError
from components.core.function import BuiltFunction, FunctionSpec, build_function
from components.core.iam import policy_document, service_assume_role_policy
from components.core.naming import physical_name
from components.core.queue import build_dead_letter_queue
from components.core.rollout import build_rollout

__all__ = ["ScheduleConfigError", "ScheduledJob", "ScheduledJobArgs", "heartbeat_period"]

COMPONENT_TYPE = "serverless:index:ScheduledJob"
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
# Invocations land a little after the schedule fires; the heartbeat allows for that.
HEARTBEAT_SLACK_SECONDS = 300
MAX_ALARM_PERIOD_SECONDS = 86400


class ScheduleConfigError(ComponentConfigError):
    """A schedule that cannot be created, or whose silence could not be detected."""


@dataclass(frozen=True)
class ScheduledJobArgs:
    """``expression`` is ``rate(...)`` or ``cron(...)``; a cron job states ``interval_seconds``, the
    longest normal gap between runs, which sizes the "did not run" alarm (rate jobs derive it).
    ``single_run`` reserves a concurrency of 1 so two runs never overlap."""

    job: str
    """The job's name: the schedule's name and the ``job`` field of its input."""
    function: FunctionSpec
    """The job (profile ``job``)."""
    expression: str
    interval_seconds: int | None = None
    flexible_window_minutes: int | None = None
    single_run: bool = True
    input: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    """@default True. A disabled job's schedule exists but does not fire, and has no "did not run" alarm."""
    time_zone: str = "UTC"
    """@default UTC: the IANA time zone a cron expression is read in."""
    maximum_event_age_seconds: int = bounded(3600, 60, 86400, " seconds")
    maximum_retry_attempts: int = bounded(3, 0, 185)
    """@default 3 retries within ``maximum_event_age_seconds``, then the dead-letter queue."""
    stack: StackContext = field(default_factory=StackContext)
    """@default the code defaults, no alarm actions, the account's ``default`` schedule group."""


def expected_interval(args: ScheduledJobArgs) -> int:
    match = _RATE.match(args.expression)
    if match:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]
        if args.interval_seconds and args.interval_seconds != seconds:
            raise ScheduleConfigError(f"job '{args.job}': interval_seconds contradicts {args.expression}")
        return seconds
    if not args.expression.startswith("cron(") or not args.expression.endswith(")"):
        raise ScheduleConfigError(f"job '{args.job}': expression must be rate(...) or cron(...), got {args.expression!r}")
    if not args.interval_seconds:
        raise ScheduleConfigError(f"job '{args.job}': a cron schedule needs interval_seconds for its 'did not run' alarm")
    return args.interval_seconds


def heartbeat_period(args: ScheduledJobArgs) -> int:
    """One alarm period covering a whole expected interval, its flexible window and some slack."""
    window = (args.flexible_window_minutes or 0) * 60
    seconds = expected_interval(args) + window + HEARTBEAT_SLACK_SECONDS
    period = -(-seconds // 60) * 60
    if period > MAX_ALARM_PERIOD_SECONDS:
        # A CloudWatch alarm looks back at most one day: daily jobs are checked over a day.
        period = MAX_ALARM_PERIOD_SECONDS
    return period


def single_run_reservation(settings: StackDefaults, args: ScheduledJobArgs) -> int | None:
    """A single-run job reserves a concurrency of 1, unless the stack reserves nothing."""
    if not settings.concurrency_reservations:
        return None
    return 1 if args.single_run else args.function.reserved_concurrency


def heartbeat_specs(function_name: pulumi.Input[str], job: str, expression: str, period: int) -> dict[str, AlarmSpec]:
    """The two inputs of the "did not run" alarm (see ``ScheduledJob._did_not_run``)."""
    invocations = {"namespace": "AWS/Lambda", "metric_name": "Invocations",
                   "dimensions": {"FunctionName": function_name}, "statistic": "Sum", "threshold": 1,
                   "period_seconds": period, "composite_input": True}
    return {
        "missed-run": AlarmSpec(
            **invocations, family="heartbeat", comparison="LessThanThreshold", evaluation_periods=1, datapoints_to_alarm=1,
            description=f"No run of {job} in the last {period // 60} minutes ({expression})."),
        "ran-recently": AlarmSpec(
            **invocations, family="heartbeat_history", evaluation_periods=2, datapoints_to_alarm=1,
            description=f"{job} ran in the two periods before this one (input of the did-not-run alarm)."),
    }


def _validate(args: ScheduledJobArgs) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    problems = out_of_bounds(args)
    if args.function.function_class not in (None, "job"):
        problems.append("the function must use the 'job' profile")
    if args.flexible_window_minutes is not None and not 1 <= args.flexible_window_minutes <= 1440:
        problems.append("flexible window must be 1-1440 minutes")
    try:
        ZoneInfo(args.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"time zone {args.time_zone!r} is not an IANA time zone such as UTC or Europe/Berlin")
    if problems:
        raise ScheduleConfigError(f"job '{args.job}': " + "; ".join(problems))


class ScheduledJob(pulumi.ComponentResource):
    function: BuiltFunction
    schedule: aws.scheduler.Schedule

    schedule_name: pulumi.Output[str]
    function_name: pulumi.Output[str]

    def __init__(self, name: str, args: ScheduledJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        _validate(args)
        ctx = args.stack.resolved(self)
        settings = ctx.defaults
        period = heartbeat_period(args)
        enabled = args.enabled

        self.function = build_function(ctx, name, replace(
            # Without reservations (sandbox accounts) the job's own lease keeps runs from overlapping.
            args.function.with_class("job", f"job '{args.job}'"),
            reserved_concurrency=single_run_reservation(settings, args),
        ), self)
        self.dead_letters = build_dead_letter_queue(ctx, f"{name}-dlq", self)
        role = aws.iam.Role(
            f"{name}-scheduler-role",
            assume_role_policy=service_assume_role_policy("scheduler.amazonaws.com", ctx.account_id),
            description=f"EventBridge Scheduler invoking the {args.job} job",
            opts=ctx.options(self),
        )
        policy = aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            role=role.id,
            policy=policy_document([
                {"Sid": "InvokeTheJob", "Effect": "Allow", "Action": "lambda:InvokeFunction",
                 "Resource": [self.function.target_arn]},
                {"Sid": "DeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage",
                 "Resource": [self.dead_letters.queue.arn]},
            ]),
            opts=ctx.options(self),
        )
        self.schedule = aws.scheduler.Schedule(
            name,
            name=physical_name(settings, args.job),
            group_name=ctx.schedule_group_name or "default",
            schedule_expression=args.expression,
            schedule_expression_timezone=args.time_zone,
            flexible_time_window=(
                {"mode": "FLEXIBLE", "maximum_window_in_minutes": args.flexible_window_minutes}
                if args.flexible_window_minutes else {"mode": "OFF"}
            ),
            state="ENABLED" if enabled else "DISABLED",
            target={
                "arn": self.function.target_arn,
                "role_arn": role.arn,
                "input": json.dumps({"job": args.job, **args.input}),
                "retry_policy": {
                    "maximum_event_age_in_seconds": args.maximum_event_age_seconds,
                    "maximum_retry_attempts": args.maximum_retry_attempts,
                },
                "dead_letter_config": {"arn": self.dead_letters.queue.arn},
            },
            # The role must be able to invoke before the first run fires.
            opts=ctx.options(self, depends_on=[policy]),
        )
        self.function.rollout = build_rollout(ctx, name, self.function, [self.dead_letters.alarm], self)
        self.heartbeat = None
        if enabled:  # a disabled schedule is silent on purpose
            self.heartbeat = self._did_not_run(name, ctx, args, period)
        self.schedule_name = self.schedule.name
        self.function_name = self.function.function.name
        self.register_outputs({"schedule": self.schedule_name, "function": self.function_name})

    def _did_not_run(self, name: str, ctx: StackContext, args: ScheduledJobArgs,
                     period: int) -> aws.cloudwatch.CompositeAlarm:
        """ALARM when the job ran in one of the two periods before the current one and not in it.

        A bare "Invocations < 1, missing = breaching" alarm fires the moment it is created: on a
        fresh deploy, and when a disabled job is enabled again, nothing has run yet. Requiring an
        earlier run in the alarm's own history (``ran-recently``) makes silence before the first run
        quiet, while a schedule that stops firing pages once: the composite turns OK again when the
        last run leaves that history, two periods later. A job re-enabled within two periods of its
        last run would still page; disabling and re-enabling is slower than that in practice.
        """
        inputs = build_alarms(ctx, name, heartbeat_specs(self.function.function.name, args.job, args.expression,
                                                         period), self)
        names = {key: physical_name(ctx.defaults, f"{name}-{key}", max_length=255) for key in inputs}
        alarm_name = physical_name(ctx.defaults, f"{name}-did-not-run", max_length=255)
        composite = aws.cloudwatch.CompositeAlarm(
            f"{name}-did-not-run",
            alarm_name=alarm_name,
            alarm_description=f"The {args.job} job stopped running ({args.expression}): it ran before, not in the "
                              f"last {period // 60} minutes.",
            alarm_rule=f'ALARM("{names["missed-run"]}") AND ALARM("{names["ran-recently"]}")',
            alarm_actions=ctx.alarm_actions,
            ok_actions=ctx.alarm_actions,
            tags={"severity": CRITICAL},
            opts=ctx.options(self, depends_on=list(inputs.values())),
        )
        register_alarm(self, RegisteredAlarm(alarm_name, AlarmSpec(
            family="heartbeat", namespace="AWS/Lambda", metric_name="Invocations",
            dimensions={"FunctionName": self.function.function.name}, threshold=1, period_seconds=period,
            description=f"{args.job} stopped running."), period, composite))
        return composite

