"""WebhookIngestion: accept fast, trust nothing unsigned, lose nothing. One instance per source.

``POST /webhooks/<source>`` -> receiver (verifies the signature, enqueues, 202) -> SQS (+DLQ)
-> worker (partial batch responses, idempotent on the webhook id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.alarms import AlarmSpec, build_alarms
from components.core.context import StackContext
from components.core.function import BuiltFunction, FunctionSpec, build_function, function_defaults
from components.core.http_api import BuiltHttpApi, Route, build_http_api, connect_routes, route_alarm_specs
from components.core.iam import Grant
from components.core.naming import physical_name
from components.core.queue import (
    FIFO_MAX_BATCH,
    BuiltQueue,
    QueueConfigError,
    QueueSpec,
    build_queue,
    connect_consumer,
    consumer_grant,
    polling_ceiling,
)
from components.core.table import BuiltTable, build_table, idempotency_table
from components.settings import SecretValue
from lambdas.shared import webhook_schema as names
from lambdas.shared.idempotency_schema import IDEMPOTENCY_TABLE_ENV, IDEMPOTENCY_TTL_ENV

COMPONENT_TYPE = "serverless:index:WebhookIngestion"
# The receiver only verifies and enqueues: small and quick, so a slow dependency cannot pile up calls.
RECEIVER_MEMORY_MB = 256
RECEIVER_TIMEOUT_SECONDS = 5


class WebhookConfigError(ValueError):
    """A webhook source that would lose, reorder or throttle its messages."""


@dataclass(frozen=True)
class WebhookIngestionArgs:
    """One webhook source.

    ``worker`` is the function that applies the messages (class ``worker``); it receives the
    idempotency table the component creates. ``api`` shares an existing HTTP API; without it the
    source gets its own. ``signing_secret`` is the initial value (a Pulumi secret) of the
    Secrets Manager secret; unset leaves the secret empty until an operator puts a value.
    ``fifo`` keeps the source's events in order per ``message_group_field`` of the payload.
    """

    source: str
    scheme: str
    worker: FunctionSpec
    api: BuiltHttpApi | None = None
    signing_secret: SecretValue | None = None
    fifo: bool = False
    message_group_field: str | None = None
    # Alarms on what the worker reports about the business (e.g. payments it could not apply).
    worker_alarms: Mapping[str, AlarmSpec] = field(default_factory=dict)


def validate_args(ctx: StackContext, args: WebhookIngestionArgs) -> None:
    webhooks = ctx.settings.webhooks
    profile = ctx.settings.profile(args.worker.function_class)
    reserved = args.worker.reserved_concurrency or profile.reserved_concurrency
    problems = []
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,30}", args.source):
        problems.append(f"source '{args.source}' must be 2-31 lowercase letters, digits or '-'")
    if args.scheme not in names.SCHEMES:
        problems.append(f"scheme '{args.scheme}' must be one of {names.SCHEMES}")
    if args.worker.function_class != "worker":
        problems.append("the worker must use the 'worker' profile")
    if args.fifo and not args.message_group_field:
        problems.append("a FIFO source needs message_group_field (the payload field that orders its events)")
    if args.fifo and webhooks.batch_size > FIFO_MAX_BATCH:
        problems.append(f"a FIFO source takes at most {FIFO_MAX_BATCH} messages per batch (webhookBatchSize)")
    if not args.fifo and webhooks.batch_size > 10 and webhooks.batching_window_seconds < 1:
        problems.append("batches above 10 messages need webhookBatchingWindowSeconds of at least 1")
    try:  # checked here too, so a bad setting fails before anything is registered
        polling_ceiling(reserved, webhooks.max_concurrency)
    except QueueConfigError as error:
        problems.append(f"webhookMaxConcurrency: {error}")
    if problems:
        raise WebhookConfigError(f"webhook source '{args.source}': " + "; ".join(problems))


class WebhookIngestion(pulumi.ComponentResource):
    """Receiver route, signing secret, queue + DLQ, idempotent worker and their alarms."""

    url: pulumi.Output[str]
    """The full URL third parties call."""
    queue: BuiltQueue
    secret: aws.secretsmanager.Secret

    def __init__(self, name: str, ctx: StackContext, args: WebhookIngestionArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        validate_args(ctx, args)
        settings = ctx.settings
        self.route = Route("POST", f"{names.PATH_PREFIX}{args.source}", public=True,
                           authenticated_by=f"{args.scheme} webhook signature", detailed_metrics=True)
        own_api = args.api is None
        self.http_api = args.api or build_http_api(ctx, f"{name}-api", self)
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

        worker_timeout = function_defaults(settings, args.worker)["timeout"]
        self.queue = build_queue(ctx, f"{name}-queue", QueueSpec(
            consumer_timeout_seconds=worker_timeout, fifo=args.fifo,
            consumer_batching_window_seconds=settings.webhooks.batching_window_seconds), self)
        self.receiver = self._create_receiver(name, ctx, args)
        self.idempotency: BuiltTable = build_table(ctx, f"{name}-idempotency",
                                                   idempotency_table(f"{args.source}-webhook-idempotency"), self)
        self.worker = self._create_worker(name, ctx, args)
        self.alarms = build_alarms(ctx, f"{name}-route", route_alarm_specs(settings.alarms, self.http_api.api.id,
                                                                         self.route), self)
        self.alarms.update(build_alarms(ctx, f"{name}-worker", args.worker_alarms, self))

        if own_api:
            self.http_api.deploy()
        self.url = pulumi.Output.concat(self.http_api.url, self.route.path)
        self.register_outputs({"url": self.url, "queueUrl": self.queue.queue.url, "secretArn": self.secret.arn})

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
            folder="webhook_receiver",
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

    def _create_worker(self, name: str, ctx: StackContext, args: WebhookIngestionArgs) -> BuiltFunction:
        webhooks = ctx.settings.webhooks
        worker = build_function(ctx, f"{name}-worker", replace(
            args.worker,
            environment={
                **args.worker.environment,
                IDEMPOTENCY_TABLE_ENV: self.idempotency.table.name,
                IDEMPOTENCY_TTL_ENV: str(ctx.settings.idempotency_ttl_seconds),
            },
            grants=(
                *args.worker.grants,
                consumer_grant(self.queue),
                Grant(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                      self.idempotency.arns()),
            ),
        ), self)
        connect_consumer(ctx, f"{name}-worker-events", self.queue, worker, self, batch_size=webhooks.batch_size,
                         batching_window_seconds=webhooks.batching_window_seconds,
                         max_concurrency=webhooks.max_concurrency, fifo=args.fifo)
        return worker
