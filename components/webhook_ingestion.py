"""WebhookIngestion: accept fast, trust nothing unsigned, lose nothing. One instance per source.

``POST /webhooks/<source>`` -> receiver (verifies the signature, enqueues, 202) -> SQS (+DLQ)
-> worker (partial batch responses, idempotent on the webhook id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.alarms import AlarmSpec, build_alarms
from components.core.archive import RUNTIME_PACKAGE_ROOT
from components.core.bounds import bounded, out_of_bounds
from components.core.context import StackContext
from components.core.errors import ComponentConfigError
from components.core.function import BuiltFunction, FunctionSpec, build_function, function_defaults
from components.core.http_api import BuiltHttpApi, HttpApiSpec, Route, build_http_api, connect_routes, route_alarm_specs
from components.core.iam import Grant
from components.core.naming import physical_name
from components.core.queue import (
    FIFO_MAX_BATCH,
    QueueConfigError,
    QueueSpec,
    build_queue,
    connect_consumer,
    consumer_grant,
    polling_ceiling,
)
from components.core.rollout import build_rollout
from components.core.table import BuiltTable, build_table, idempotency_table
from components.runtime import webhook_schema as names
from components.runtime.idempotency_schema import IDEMPOTENCY_TABLE_ENV, IDEMPOTENCY_TTL_ENV

__all__ = ["SecretValue", "WebhookConfigError", "WebhookIngestion", "WebhookIngestionArgs", "validate_args"]

COMPONENT_TYPE = "serverless:index:WebhookIngestion"
# What the worker receives from this component: its queue's envelope and its idempotency table.
WORKER_RUNTIME_MODULES = ("webhook_schema", "idempotency_schema")
# The receiver only verifies and enqueues: small and quick, so a slow dependency cannot pile up calls.
RECEIVER_MEMORY_MB = 256
RECEIVER_TIMEOUT_SECONDS = 5


class WebhookConfigError(ComponentConfigError):
    """A webhook source that would lose, reorder or throttle its messages."""


@dataclass(frozen=True)
class SecretValue:
    """A config secret; the component wraps it in ``pulumi.Output.secret`` where it uses it."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "SecretValue([secret])"


# What Powertools' DynamoDBPersistenceLayer calls on its table (save, read on a conflict, update, delete).
POWERTOOLS_IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


@dataclass(frozen=True)
class WebhookIngestionArgs:
    """One webhook source."""

    source: str
    """The path segment: ``POST /webhooks/<source>``; 2-31 lowercase letters, digits or '-'."""
    scheme: str
    """How senders sign: ``standard`` (Standard Webhooks), ``github`` or ``stripe``."""
    worker: FunctionSpec
    """Applies the messages (profile ``worker``). It receives the idempotency table
    (``IDEMPOTENCY_TABLE_NAME``, ``IDEMPOTENCY_TTL_SECONDS``) and ``components.runtime.webhook_schema``
    to read the queue's envelope."""
    api: BuiltHttpApi | None = None
    """@default None: the source gets an HTTP API of its own. Given (``ApiService.http_api`` of a
    ``shared=True`` service), the route is added to it and the program deploys it afterwards."""
    signing_secret: SecretValue | None = None
    """@default None: the Secrets Manager secret stays empty until an operator puts a value."""
    fifo: bool = False
    """@default False. True keeps the source's events in order per ``message_group_field``."""
    message_group_field: str | None = None
    batch_size: int = bounded(10, 1, 10000)
    batching_window_seconds: int = bounded(1, 0, 300, " seconds")
    max_concurrency: int = bounded(2, 2, 1000)
    """@default 2 (SQS's floor): concurrent batches at most; never above the worker's reserved concurrency."""
    worker_alarms: Mapping[str, AlarmSpec] = field(default_factory=dict)
    """@default {}: alarms on what the worker reports about the business (e.g. payments it could not apply)."""
    worker_idempotency_actions: tuple[str, ...] = POWERTOOLS_IDEMPOTENCY_ACTIONS
    """@default what Powertools' DynamoDB idempotency layer calls (Get/Put/Update/DeleteItem). A worker
    that keeps its own markers in the table grants only what it calls (e.g. ``("dynamodb:PutItem",)``)."""
    stack: StackContext = field(default_factory=StackContext)
    """@default the code defaults, no alarm actions (see :class:`StackContext`)."""


def validate_args(args: WebhookIngestionArgs) -> None:
    profile = args.stack.defaults.profile("worker")
    reserved = args.worker.reserved_concurrency or profile.reserved_concurrency
    problems = out_of_bounds(args)
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,30}", args.source):
        problems.append(f"source '{args.source}' must be 2-31 lowercase letters, digits or '-'")
    if args.scheme not in names.SCHEMES:
        problems.append(f"scheme '{args.scheme}' must be one of {names.SCHEMES}")
    if args.worker.function_class not in (None, "worker"):
        problems.append("the worker must use the 'worker' profile")
    if args.fifo and not args.message_group_field:
        problems.append("a FIFO source needs message_group_field (the payload field that orders its events)")
    if args.fifo and args.batch_size > FIFO_MAX_BATCH:
        problems.append(f"a FIFO source takes at most {FIFO_MAX_BATCH} messages per batch (batch_size)")
    if not args.fifo and args.batch_size > 10 and args.batching_window_seconds < 1:
        problems.append("batches above 10 messages need a batching_window_seconds of at least 1")
    try:  # checked here too, so a bad setting fails before anything is registered
        polling_ceiling(reserved, args.max_concurrency)
    except QueueConfigError as error:
        problems.append(f"max_concurrency: {error}")
    if problems:
        raise WebhookConfigError(f"webhook source '{args.source}': " + "; ".join(problems))


class WebhookIngestion(pulumi.ComponentResource):
    """Receiver route, signing secret, queue + DLQ, idempotent worker and their alarms."""

    url: pulumi.Output[str]
    """The full URL third parties call."""
    queue_url: pulumi.Output[str]
    dlq_url: pulumi.Output[str]
    """The dead-letter queue: what the worker gave up on, to inspect and redrive."""
    secret_arn: pulumi.Output[str]
    """The Secrets Manager secret holding the signing secret(s)."""

    def __init__(self, name: str, args: WebhookIngestionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        validate_args(args)
        ctx = args.stack.resolved(self)
        settings = ctx.defaults
        self.route = Route("POST", f"{names.PATH_PREFIX}{args.source}", public=True,
                           authenticated_by=f"{args.scheme} webhook signature", detailed_metrics=True)
        own_api = args.api is None
        self.http_api = args.api or build_http_api(ctx, f"{name}-api", self, HttpApiSpec())
        if self.http_api.stage is not None:
            raise WebhookConfigError(
                f"webhook source '{args.source}': the API it shares is already deployed; build it with "
                "ApiServiceArgs(shared=True) and call deploy() after the webhook sources")

        self.secret = aws.secretsmanager.Secret(
            f"{name}-signing-secret",
            # Not "...-secret": Secrets Manager confuses a name ending in a hyphen and six
            # characters with an ARN's random suffix (CreateSecret's Name documentation).
            name=physical_name(settings, f"{args.source}-webhook-signing-secrets", max_length=512),
            description=f"Signing secret(s) of the {args.source} webhook, whitespace-separated while rotating",
            # 0 deletes at once, so a destroyed dev stack can be re-created the same day under the same name.
            recovery_window_in_days=30 if settings.production else 0,
            opts=ctx.options(self),
        )
        if args.signing_secret is not None:
            aws.secretsmanager.SecretVersion(
                f"{name}-signing-secret-initial",
                secret_id=self.secret.id,
                secret_string=pulumi.Output.secret(args.signing_secret.value),
                # Rotations happen in Secrets Manager; a later `pulumi up` must not roll them back.
                opts=ctx.options(self, ignore_changes=["secretString"]),
            )

        worker_spec = args.worker.with_class("worker", f"webhook source '{args.source}': the worker")
        worker_timeout = function_defaults(settings, worker_spec, f"{name}-worker")["timeout"]
        self.queue = build_queue(ctx, f"{name}-queue", QueueSpec(
            consumer_timeout_seconds=worker_timeout, fifo=args.fifo,
            consumer_batching_window_seconds=args.batching_window_seconds), self)
        self.receiver = self._create_receiver(name, ctx, args)
        self.idempotency: BuiltTable = build_table(ctx, f"{name}-idempotency",
                                                   idempotency_table(f"{args.source}-webhook-idempotency"), self)
        self.worker = self._create_worker(name, ctx, args, worker_spec)
        self.alarms = build_alarms(ctx, f"{name}-route", route_alarm_specs(settings.alarms, self.http_api.api.id,
                                                                         self.route), self)
        worker_alarms = build_alarms(ctx, f"{name}-worker", args.worker_alarms, self)
        self.alarms.update(worker_alarms)
        # A receiver that refuses good signatures shows as 4xx; a worker that fails, as queue age and DLQ depth.
        self.receiver.rollout = build_rollout(ctx, f"{name}-receiver", self.receiver,
                                              [self.alarms["5xx-rate"], self.alarms["4xx-rate"]], self)
        self.worker.rollout = build_rollout(ctx, f"{name}-worker", self.worker,
                                            [*self.queue.alarms.values(), *worker_alarms.values()], self)

        if own_api:
            self.http_api.deploy()
        self.url = pulumi.Output.concat(self.http_api.url, self.route.path)
        self.queue_url = self.queue.queue.url
        self.dlq_url = self.queue.dlq.url
        self.secret_arn = self.secret.arn
        self.register_outputs({"url": self.url, "queueUrl": self.queue_url, "secretArn": self.secret_arn})

    def _create_receiver(self, name: str, ctx: StackContext, args: WebhookIngestionArgs) -> BuiltFunction:
        environment: dict[str, Any] = {
            names.SCHEME_ENV: args.scheme,
            names.SECRET_ARN_ENV: self.secret.arn,
            names.QUEUE_URL_ENV: self.queue.queue.url,
            names.SOURCE_ENV: args.source,
        }
        if args.fifo:
            environment[names.MESSAGE_GROUP_FIELD_ENV] = args.message_group_field
        receiver = build_function(ctx, f"{name}-receiver", FunctionSpec(
            folder="components/runtime/webhook_receiver",
            code_root=RUNTIME_PACKAGE_ROOT,
            runtime_modules=("webhook_schema", "observability", "http", "environment"),
            function_class="api",
            description=f"Verifies {args.source} webhooks ({args.scheme}) and enqueues them",
            memory_mb=RECEIVER_MEMORY_MB,
            timeout_seconds=RECEIVER_TIMEOUT_SECONDS,
            provisioned_concurrency=0,  # cheap to start; the sender retries a slow accept anyway
            environment=environment,
            grants=(
                Grant(["secretsmanager:GetSecretValue"], [self.secret.arn]),
                Grant(["sqs:SendMessage"], [self.queue.queue.arn]),
            ),
        ), self)
        connect_routes(ctx, f"{name}-receiver", self.http_api, receiver, (self.route,), self)
        return receiver

    def _create_worker(self, name: str, ctx: StackContext, args: WebhookIngestionArgs,
                       spec: FunctionSpec) -> BuiltFunction:
        worker = build_function(ctx, f"{name}-worker", spec.connected(
            environment={
                IDEMPOTENCY_TABLE_ENV: self.idempotency.table.name,
                IDEMPOTENCY_TTL_ENV: str(ctx.defaults.idempotency_ttl_seconds),
            },
            grants=(
                consumer_grant(self.queue),
                Grant(list(args.worker_idempotency_actions), [self.idempotency.table.arn]),
            ),
            runtime_modules=WORKER_RUNTIME_MODULES,
        ), self)
        connect_consumer(ctx, f"{name}-worker-events", self.queue, worker, self, batch_size=args.batch_size,
                         batching_window_seconds=args.batching_window_seconds,
                         max_concurrency=args.max_concurrency, fifo=args.fifo)
        return worker
