"""The one queue builder: a queue, its dead-letter queue, TLS-only policies and their alarms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.alarms import build_alarm, dlq_depth_spec, queue_age_spec
from components.core.context import StackContext
from components.core.documents import json_document
from components.core.errors import ComponentConfigError
from components.core.function import BuiltFunction
from components.core.iam import Grant, deny_insecure_transport, policy_document
from components.core.naming import physical_name

FOURTEEN_DAYS = 14 * 24 * 3600
FOUR_DAYS = 4 * 24 * 3600
MAX_VISIBILITY_TIMEOUT = 12 * 3600
# AWS Lambda ("Using Lambda with Amazon SQS"): a queue's visibility timeout should be at least six
# times the consuming function's timeout plus the mapping's batching window, so a message is not
# received again while a throttled or retried batch is still in flight.
VISIBILITY_TIMEOUT_FACTOR = 6
DEFAULT_BATCHING_WINDOW_SECONDS = 1


# What Lambda's SQS poller calls with the function's role (AWSLambdaSQSQueueExecutionRole): it never
# changes a message's visibility, a failed message simply becomes visible again.
CONSUMER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
FIFO_MAX_BATCH = 10
# Every dead-letter queue carries this tag, so a policy (or an operator) finds them without guessing names.
DEAD_LETTER_TAG = {"queue-role": "dead-letter"}

__all__ = [
    "CONSUMER_ACTIONS",
    "DEAD_LETTER_TAG",
    "FIFO_MAX_BATCH",
    "BuiltDeadLetterQueue",
    "BuiltQueue",
    "QueueConfigError",
    "QueueSpec",
    "build_dead_letter_queue",
    "build_queue",
    "connect_consumer",
    "consumer_grant",
    "polling_ceiling",
    "queue_defaults",
]


class QueueConfigError(ComponentConfigError):
    """A queue that would redeliver in-flight messages or lose failed ones."""


@dataclass(frozen=True)
class QueueSpec:
    """What a component says about one queue; the rest are the builder's defaults.

    ``queue_statements``/``dlq_statements`` are extra policy statements (e.g. an EventBridge rule
    allowed to send); the builder fills in ``Resource`` and adds the TLS-only deny.
    """

    consumer_timeout_seconds: int
    fifo: bool = False
    # The consumer mapping's MaximumBatchingWindowInSeconds (none on FIFO queues).
    consumer_batching_window_seconds: int = DEFAULT_BATCHING_WINDOW_SECONDS
    retention_seconds: int = FOUR_DAYS
    visibility_timeout_seconds: int | None = None
    max_receive_count: int | None = None
    queue_statements: Sequence[Mapping[str, Any]] = ()
    dlq_statements: Sequence[Mapping[str, Any]] = ()


@dataclass
class BuiltDeadLetterQueue:
    queue: aws.sqs.Queue
    alarm: aws.cloudwatch.MetricAlarm


@dataclass
class BuiltQueue:
    queue: aws.sqs.Queue
    dlq: aws.sqs.Queue
    visibility_timeout_seconds: int
    max_receive_count: int
    alarms: dict[str, aws.cloudwatch.MetricAlarm] = field(default_factory=dict)


def minimum_visibility_timeout(consumer_timeout_seconds: int, batching_window_seconds: int) -> int:
    return VISIBILITY_TIMEOUT_FACTOR * consumer_timeout_seconds + batching_window_seconds


def queue_defaults(spec: QueueSpec, default_max_receive_count: int) -> dict[str, int]:
    """Visibility timeout, receive count and retentions, checked against each other."""
    window = 0 if spec.fifo else spec.consumer_batching_window_seconds
    minimum_visibility = minimum_visibility_timeout(spec.consumer_timeout_seconds, window)
    visibility = spec.visibility_timeout_seconds if spec.visibility_timeout_seconds is not None else minimum_visibility
    max_receive = spec.max_receive_count if spec.max_receive_count is not None else default_max_receive_count
    problems = []
    if spec.consumer_timeout_seconds < 1:
        problems.append(f"consumer timeout must be at least 1 s (got {spec.consumer_timeout_seconds})")
    if visibility < minimum_visibility:
        problems.append(
            f"visibility timeout {visibility} s is below {VISIBILITY_TIMEOUT_FACTOR} x the consumer's "
            f"{spec.consumer_timeout_seconds} s timeout + its {window} s batching window ({minimum_visibility} s)"
        )
    if visibility > MAX_VISIBILITY_TIMEOUT:
        problems.append(f"visibility timeout {visibility} s exceeds SQS's maximum of {MAX_VISIBILITY_TIMEOUT} s")
    if max_receive < 3:
        problems.append(f"maxReceiveCount {max_receive} would dead-letter on a transient fault; use 3 or more")
    if not 60 <= spec.retention_seconds <= FOURTEEN_DAYS:
        problems.append(f"retention {spec.retention_seconds} s is outside SQS's 60-{FOURTEEN_DAYS} s")
    if problems:
        raise QueueConfigError("; ".join(problems))
    # A DLQ keeps a standard message's original enqueue time, so it must hold messages at least
    # as long as its source; fourteen days (the maximum) gives operators the most time.
    return {
        "visibility_timeout_seconds": visibility,
        "max_receive_count": max_receive,
        "message_retention_seconds": spec.retention_seconds,
        "dlq_retention_seconds": max(FOURTEEN_DAYS, spec.retention_seconds),
    }


def build_queue(ctx: StackContext, name: str, spec: QueueSpec, parent: pulumi.Resource) -> BuiltQueue:
    """A queue with a dead-letter queue, SSE-SQS, TLS-only policies and age/depth alarms."""
    settings = ctx.defaults
    sizing = queue_defaults(spec, settings.queue_max_receive_count)
    suffix = ".fifo" if spec.fifo else ""
    fifo_args: dict[str, Any] = {"fifo_queue": True} if spec.fifo else {}

    dead_letters = build_dead_letter_queue(ctx, f"{name}-dlq", parent, spec.dlq_statements, fifo=spec.fifo,
                                           retention_seconds=sizing["dlq_retention_seconds"])
    dlq = dead_letters.queue
    queue = aws.sqs.Queue(
        name,
        name=physical_name(settings, name, max_length=80, suffix=suffix),
        message_retention_seconds=sizing["message_retention_seconds"],
        visibility_timeout_seconds=sizing["visibility_timeout_seconds"],
        receive_wait_time_seconds=20,  # long polling: fewer empty receives, lower cost
        sqs_managed_sse_enabled=True,
        redrive_policy=json_document(
            {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": sizing["max_receive_count"]}
        ),
        **fifo_args,
        opts=ctx.options(parent),
    )
    # Only this queue may use the DLQ as its dead-letter target.
    aws.sqs.RedriveAllowPolicy(
        f"{name}-dlq-redrive-allow",
        queue_url=dlq.id,
        redrive_allow_policy=json_document(
            {"redrivePermission": "byQueue", "sourceQueueArns": [queue.arn]}
        ),
        opts=ctx.options(parent),
    )
    _tls_only_policy(ctx, name, queue, spec.queue_statements, parent)
    return BuiltQueue(
        queue=queue,
        dlq=dlq,
        visibility_timeout_seconds=sizing["visibility_timeout_seconds"],
        max_receive_count=sizing["max_receive_count"],
        alarms={
            "age": build_alarm(ctx, f"{name}-age", queue_age_spec(settings.alarms, queue.name),
                               parent),
            "dlq-depth": dead_letters.alarm,
        },
    )


def build_dead_letter_queue(ctx: StackContext, name: str, parent: pulumi.Resource,
                            statements: Sequence[Mapping[str, Any]] = (), *, fifo: bool = False,
                            retention_seconds: int = FOURTEEN_DAYS) -> BuiltDeadLetterQueue:
    """A dead-letter queue on its own (e.g. for a schedule or an EventBridge target): SSE-SQS,
    fourteen days, TLS-only plus ``statements``, and a depth alarm."""
    queue = aws.sqs.Queue(
        name,
        name=physical_name(ctx.defaults, name, max_length=80, suffix=".fifo" if fifo else ""),
        message_retention_seconds=retention_seconds,
        sqs_managed_sse_enabled=True,
        tags=DEAD_LETTER_TAG,
        **({"fifo_queue": True} if fifo else {}),
        opts=ctx.options(parent),
    )
    _tls_only_policy(ctx, name, queue, statements, parent)
    return BuiltDeadLetterQueue(queue, build_alarm(ctx, f"{name}-depth", dlq_depth_spec(queue.name), parent))


def _tls_only_policy(ctx: StackContext, name: str, queue: aws.sqs.Queue, statements: Sequence[Mapping[str, Any]],
                     parent: pulumi.Resource) -> None:
    aws.sqs.QueuePolicy(
        f"{name}-policy",
        queue_url=queue.id,
        policy=policy_document(
            [deny_insecure_transport("sqs:*", [queue.arn]), *({**s, "Resource": queue.arn} for s in statements)]
        ),
        opts=ctx.options(parent),
    )


def consumer_grant(queue: BuiltQueue) -> Grant:
    """What a function's event source mapping needs on the queue it drains."""
    return Grant(list(CONSUMER_ACTIONS), [queue.queue.arn])


def polling_ceiling(reserved: int | None, requested: int | None = None) -> int | None:
    """The mapping's maximum concurrency: as requested, never above the consumer's reserved
    concurrency (SQS's floor is 2). Throttled batches go back to the queue and burn receive
    counts until good messages are dead-lettered."""
    allowed = max(2, reserved) if reserved else None
    if requested is None:
        return allowed
    if allowed is not None and requested > allowed:
        raise QueueConfigError(
            f"maximum concurrency {requested} exceeds the consumer's reserved concurrency ({reserved}): throttled "
            "batches would burn receive counts and dead-letter good messages"
        )
    return requested


def connect_consumer(ctx: StackContext, name: str, queue: BuiltQueue, consumer: BuiltFunction, parent: pulumi.Resource,
                     *, batch_size: int = 10, batching_window_seconds: int = DEFAULT_BATCHING_WINDOW_SECONDS,
                     max_concurrency: int | None = None, fifo: bool = False) -> aws.lambda_.EventSourceMapping:
    """The one SQS event source mapping: partial batch responses, polling within the consumer's
    reserved concurrency, and no batching window on FIFO queues (which do not support one)."""
    ceiling = polling_ceiling(consumer.reserved_concurrency, max_concurrency)
    needed = minimum_visibility_timeout(consumer.timeout_seconds, 0 if fifo else batching_window_seconds)
    if queue.visibility_timeout_seconds < needed:
        raise QueueConfigError(
            f"queue visibility timeout {queue.visibility_timeout_seconds} s is below {VISIBILITY_TIMEOUT_FACTOR} x the "
            f"consumer's {consumer.timeout_seconds} s timeout + its batching window ({needed} s): build the queue "
            "with the consumer's timeout and window")
    return aws.lambda_.EventSourceMapping(
        name,
        event_source_arn=queue.queue.arn,
        function_name=consumer.target_arn,
        batch_size=min(batch_size, FIFO_MAX_BATCH) if fifo else batch_size,
        maximum_batching_window_in_seconds=None if fifo else batching_window_seconds,
        scaling_config={"maximum_concurrency": ceiling} if ceiling else None,
        function_response_types=["ReportBatchItemFailures"],
        opts=ctx.options(parent),
    )
