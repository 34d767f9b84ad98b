"""FanOut: one domain event, many independent consumers, each with its own failure handling.

Subscribers of the stack's event bus: a rule (a pattern built by the contracts module) and a
target with a retry policy and its own DLQ, whose policy lets only that rule send. Targets are an
SQS queue (queue builder, DLQ) drained by a consumer function with partial batch responses, or a
function invoked directly (with an on-failure destination for its own async retries). The SNS
variant fans a topic out to queues with filter policies, raw delivery and redrive policies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.alarms import AlarmSpec, build_alarms
from components.core.bounds import bounded, out_of_bounds
from components.core.context import StackContext
from components.core.defaults import MAX_ASYNC_EVENT_AGE_SECONDS
from components.core.documents import json_document
from components.core.errors import ComponentConfigError
from components.core.function import BuiltFunction, FunctionSpec, allow_invoke, build_function, function_defaults
from components.core.iam import Grant, deny_insecure_transport, policy_document, service_assume_role_policy
from components.core.naming import physical_name
from components.core.queue import (
    BuiltDeadLetterQueue,
    BuiltQueue,
    QueueSpec,
    build_dead_letter_queue,
    build_queue,
    connect_consumer,
    consumer_grant,
)
from components.core.rollout import build_rollout
from components.workflow import Workflow

__all__ = ["LAMBDA", "QUEUE", "WORKFLOW", "FanOut", "FanOutArgs", "FanOutConfigError", "Subscriber", "TopicFanOut",
           "TopicFanOutArgs", "TopicSubscriber"]

COMPONENT_TYPE = "serverless:index:FanOut"
TOPIC_COMPONENT_TYPE = "serverless:index:TopicFanOut"
QUEUE, LAMBDA, WORKFLOW = "queue", "lambda", "workflow"
TARGETS = (QUEUE, LAMBDA, WORKFLOW)


class FanOutConfigError(ComponentConfigError):
    """A subscriber that could lose events or cannot be created."""


@dataclass(frozen=True)
class Subscriber:
    """``target`` is ``queue`` (SQS queue drained by ``consumer``), ``lambda`` (``consumer``
    invoked directly by EventBridge) or ``workflow`` (an execution of ``workflow`` per event,
    started by the rule with a role that may start only that state machine)."""

    name: str
    pattern: dict[str, Any]
    consumer: FunctionSpec | None = None
    target: str = QUEUE
    workflow: Workflow | None = None


@dataclass(frozen=True)
class FanOutArgs:
    """Subscribers of one event bus, each with a retry policy and a dead-letter queue of its own."""

    bus_name: pulumi.Input[str]
    subscribers: Sequence[Subscriber]
    # EventBridge targets take up to 86400 s, but the same age bounds the Lambda subscribers'
    # async retries (FunctionEventInvokeConfig), which AWS caps at 21600 s.
    maximum_event_age_seconds: int = bounded(3600, 60, MAX_ASYNC_EVENT_AGE_SECONDS,
                                             " seconds (a Lambda subscriber's async event age is at most 6 hours)")
    """@default 3600: how long EventBridge (and a Lambda target's async retries) keep trying an event."""
    maximum_retry_attempts: int = bounded(24, 0, 185)
    stack: StackContext = field(default_factory=StackContext)
    """@default the code defaults, no alarm actions (see :class:`StackContext`)."""


@dataclass
class BuiltSubscriber:
    rule: aws.cloudwatch.EventRule
    consumer: BuiltFunction | None
    dead_letters: BuiltDeadLetterQueue
    queue: BuiltQueue | None = None
    alarms: dict[str, aws.cloudwatch.MetricAlarm] = field(default_factory=dict)


def rule_alarm_specs(rule_name: pulumi.Input[str], bus_name: pulumi.Input[str]) -> dict[str, AlarmSpec]:
    """Sparse metrics (emitted only when non-zero): missing data is healthy."""
    dimensions = {"RuleName": rule_name, "EventBusName": bus_name}
    return {
        "failed-invocations": AlarmSpec(
            family="events", namespace="AWS/Events", metric_name="FailedInvocations", dimensions=dimensions,
            threshold=1, description="The rule could not deliver events to its target (they go to its DLQ)."),
        "dlq-send-failures": AlarmSpec(
            family="events", namespace="AWS/Events", metric_name="InvocationsFailedToBeSentToDlq",
            dimensions=dimensions, threshold=1,
            description="Events were LOST: neither the target nor the rule's DLQ accepted them (check the DLQ policy)."),
    }


def async_loss_specs(function_name: pulumi.Input[str]) -> dict[str, AlarmSpec]:
    """Events an asynchronously invoked function loses: dropped before running, or undeliverable
    to its on-failure destination. None of the references alarm on these; any is data loss."""
    dimensions = {"FunctionName": function_name}
    return {
        "async-dropped": AlarmSpec(family="async_losses", namespace="AWS/Lambda", metric_name="AsyncEventsDropped",
                                   dimensions=dimensions, threshold=1,
                                   description="Async events were dropped (too old, or retries exhausted) without running."),
        "destination-failures": AlarmSpec(
            family="async_losses", namespace="AWS/Lambda", metric_name="DestinationDeliveryFailures",
            dimensions=dimensions, threshold=1,
            description="Failed async events could not be sent to the on-failure destination: they are LOST."),
    }


def _sends_from(rule_arn: pulumi.Input[str]) -> dict[str, Any]:
    return {"Sid": "FromItsRuleOnly", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}


class FanOut(pulumi.ComponentResource):
    subscribers: dict[str, BuiltSubscriber]

    rule_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: FanOutArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        subscribers = list(args.subscribers)
        problems = out_of_bounds(args)
        if problems:
            raise FanOutConfigError("; ".join(problems))
        names = [s.name for s in subscribers]
        if len(set(names)) != len(names):
            raise FanOutConfigError(f"subscriber names must be unique: {names}")
        for subscriber in subscribers:
            if subscriber.target not in TARGETS:
                raise FanOutConfigError(f"subscriber '{subscriber.name}': target must be one of {', '.join(TARGETS)}")
            if (subscriber.target == WORKFLOW) != (subscriber.workflow is not None) or \
                    (subscriber.target == WORKFLOW) == (subscriber.consumer is not None):
                raise FanOutConfigError(f"subscriber '{subscriber.name}': a '{WORKFLOW}' target takes a workflow and no "
                                        "consumer; the others a consumer and no workflow")
            if subscriber.consumer is not None and subscriber.consumer.function_class not in (None, "worker"):
                raise FanOutConfigError(f"subscriber '{subscriber.name}': the consumer must use the 'worker' profile")
        ctx = args.stack.resolved(self)
        self.subscribers = {s.name: self._subscribe(ctx, args, s if s.consumer is None else replace(
            s, consumer=s.consumer.with_class("worker", f"subscriber '{s.name}': the consumer"))) for s in subscribers}
        self.rule_names = {k: v.rule.name for k, v in self.subscribers.items()}
        self.register_outputs({"rules": self.rule_names})

    def _subscribe(self, ctx: StackContext, args: FanOutArgs, subscriber: Subscriber) -> BuiltSubscriber:
        bus_name = args.bus_name
        base = subscriber.name
        rule = aws.cloudwatch.EventRule(
            f"{base}-rule",
            name=physical_name(ctx.defaults, base),
            event_bus_name=bus_name,
            event_pattern=json.dumps(subscriber.pattern),
            opts=ctx.options(self),
        )
        dead_letters = build_dead_letter_queue(ctx, f"{base}-target-dlq", self, [_sends_from(rule.arn)])
        retry_policy = {"maximum_event_age_in_seconds": args.maximum_event_age_seconds,
                        "maximum_retry_attempts": args.maximum_retry_attempts}
        queue = None
        consumer: BuiltFunction | None = None
        role_arn: pulumi.Input[str] | None = None
        target_arn: pulumi.Input[str]
        if subscriber.target == WORKFLOW:
            target_arn, role_arn = self._starts(ctx, base, subscriber.workflow)  # type: ignore[arg-type]
        elif subscriber.target == QUEUE:
            timeout = function_defaults(ctx.defaults, subscriber.consumer, f"{base}-consumer")["timeout"]
            queue = build_queue(ctx, f"{base}-queue", QueueSpec(
                consumer_timeout_seconds=timeout, queue_statements=[_sends_from(rule.arn)]), self)
            consumer = build_function(ctx, f"{base}-consumer", _with_grants(subscriber.consumer, consumer_grant(queue)),
                                      self)
            connect_consumer(ctx, f"{base}-consumer-events", queue, consumer, self)
            consumer.rollout = build_rollout(ctx, f"{base}-consumer", consumer, list(queue.alarms.values()), self)
            target_arn = queue.queue.arn
        else:
            consumer = build_function(ctx, f"{base}-consumer", _with_grants(
                subscriber.consumer, Grant(["sqs:SendMessage"], [dead_letters.queue.arn])), self)
            allow_invoke(ctx, f"{base}-invoke", consumer, "events.amazonaws.com", rule.arn, self)
            # EventBridge hands the event over asynchronously: failures of the function's own
            # retries go to the same DLQ instead of vanishing.
            aws.lambda_.FunctionEventInvokeConfig(
                f"{base}-async",
                function_name=consumer.function.name,
                qualifier=consumer.qualifier,
                maximum_retry_attempts=2,
                maximum_event_age_in_seconds=args.maximum_event_age_seconds,
                destination_config={"on_failure": {"destination": dead_letters.queue.arn}},
                opts=ctx.options(self),
            )
            target_arn = consumer.target_arn
            async_loss = build_alarms(ctx, f"{base}-consumer", async_loss_specs(consumer.function.name), self)
            consumer.alarms.update(async_loss)
            consumer.rollout = build_rollout(ctx, f"{base}-consumer", consumer, list(async_loss.values()), self)
        aws.cloudwatch.EventTarget(
            f"{base}-target",
            rule=rule.name,
            event_bus_name=bus_name,
            arn=target_arn,
            role_arn=role_arn,
            retry_policy=retry_policy,
            dead_letter_config={"arn": dead_letters.queue.arn},
            opts=ctx.options(self),
        )
        return BuiltSubscriber(rule=rule, consumer=consumer, dead_letters=dead_letters, queue=queue,
                               alarms=build_alarms(ctx, f"{base}-rule", rule_alarm_specs(rule.name, bus_name), self))

    def _starts(self, ctx: StackContext, base: str, workflow: Workflow) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The state machine as the rule's target, and the role the rule starts it with (that machine only)."""
        role = aws.iam.Role(
            f"{base}-target-role",
            assume_role_policy=service_assume_role_policy("events.amazonaws.com", ctx.account_id),
            description=f"EventBridge starting the {base} workflow",
            opts=ctx.options(self),
        )
        aws.iam.RolePolicy(f"{base}-target-policy", role=role.id,
                           policy=policy_document([workflow.start_grant().statement()]), opts=ctx.options(self))
        return workflow.arn, role.arn


def _with_grants(spec: FunctionSpec | None, *grants: Grant) -> FunctionSpec:
    if spec is None:
        raise FanOutConfigError("a queue or lambda subscriber needs its consumer")
    return spec.connected(grants=grants)


@dataclass(frozen=True)
class TopicSubscriber:
    """An SQS queue subscribed to the topic, receiving only what ``filter_policy`` matches."""

    name: str
    consumer_timeout_seconds: int
    filter_policy: dict[str, Any] | None = None


@dataclass(frozen=True)
class TopicFanOutArgs:
    subscribers: Sequence[TopicSubscriber]
    stack: StackContext = field(default_factory=StackContext)
    """@default the code defaults, no alarm actions (see :class:`StackContext`)."""


class TopicFanOut(pulumi.ComponentResource):
    """The SNS variant: a topic (TLS-only publishers) -> SQS subscriptions with filter policies,
    raw message delivery and a redrive policy (DLQ)."""

    def __init__(self, name: str, args: TopicFanOutArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TOPIC_COMPONENT_TYPE, name, None, opts)
        ctx = args.stack.resolved(self)
        subscribers = list(args.subscribers)
        self.topic = aws.sns.Topic(
            name,
            name=physical_name(ctx.defaults, name, max_length=256),
            kms_master_key_id="alias/aws/sns",  # SNS -> SSE-SQS queues: no key the service cannot use
            opts=ctx.options(self),
        )
        aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=self.topic.arn,
            policy=policy_document([deny_insecure_transport("sns:Publish", [self.topic.arn])]),
            opts=ctx.options(self),
        )
        self.queues: dict[str, BuiltQueue] = {}
        for subscriber in subscribers:
            sends = {"Sid": "FromItsTopicOnly", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                     "Action": "sqs:SendMessage", "Condition": {"ArnEquals": {"aws:SourceArn": self.topic.arn}}}
            queue = build_queue(ctx, f"{name}-{subscriber.name}", QueueSpec(
                consumer_timeout_seconds=subscriber.consumer_timeout_seconds, queue_statements=[sends],
                dlq_statements=[sends]), self)
            aws.sns.TopicSubscription(
                f"{name}-{subscriber.name}-subscription",
                topic=self.topic.arn,
                protocol="sqs",
                endpoint=queue.queue.arn,
                raw_message_delivery=True,
                filter_policy=json.dumps(subscriber.filter_policy) if subscriber.filter_policy else None,
                redrive_policy=json_document({"deadLetterTargetArn": queue.dlq.arn}),
                opts=ctx.options(self),
            )
            self.queues[subscriber.name] = queue
        self.alarms = build_alarms(ctx, name, {
            "notifications-failed": AlarmSpec(
                family="sns", namespace="AWS/SNS", metric_name="NumberOfNotificationsFailed",
                dimensions={"TopicName": self.topic.name}, threshold=1,
                description="SNS could not deliver to a subscription (it goes to the subscription's DLQ)."),
            "redrive-failed": AlarmSpec(
                family="sns", namespace="AWS/SNS", metric_name="NumberOfNotificationsFailedToRedriveToDlq",
                dimensions={"TopicName": self.topic.name}, threshold=1,
                description="Messages were LOST: SNS could not put them on the subscription's DLQ."),
        }, self)
        self.register_outputs({"topicArn": self.topic.arn})
