"""The payments webhook: a Standard Webhooks source whose worker marks orders paid."""

from __future__ import annotations

from components.api_service import ApiService
from components.core.alarms import AlarmSpec
from components.core.context import StackContext
from components.core.iam import Grant
from components.webhook_ingestion import WebhookIngestionArgs
from lambdas.shared import orders_schema
from system.functions import app_function
from system.settings import Settings

SOURCE = "payments"
SCHEME = "standard"
# Read the order, then update it and write its outbox item in one transaction, or record an exception.
ORDERS_ACTIONS = ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem")
# The webhook's marker is one more Put of the same transaction (payments_worker/payments.py): the
# worker does not use Powertools idempotency, so it needs nothing else on the idempotency table.
MARKER_ACTIONS = ("dynamodb:PutItem",)


def payments_webhook_args(settings: Settings, orders: ApiService, stack: StackContext | None = None) -> WebhookIngestionArgs:
    webhooks = settings.webhooks
    return WebhookIngestionArgs(
        source=SOURCE,
        scheme=SCHEME,
        api=orders.http_api,
        signing_secret=webhooks.secrets.get(SOURCE),
        worker=app_function(
            "payments_worker", "Applies payment webhooks to orders (idempotent, partial batches)",
            environment={orders_schema.ORDERS_TABLE_ENV: orders.table_name("orders")},
            grants=(Grant(list(ORDERS_ACTIONS), [orders.table_arn("orders")]),),
        ),
        batch_size=webhooks.batch_size,
        batching_window_seconds=webhooks.batching_window_seconds,
        max_concurrency=webhooks.max_concurrency,
        worker_idempotency_actions=MARKER_ACTIONS,
        worker_alarms={"payment-exceptions": payment_exceptions_alarm(settings)},
        stack=stack or StackContext(settings.defaults),
    )


def payment_exceptions_alarm(settings: Settings) -> AlarmSpec:
    """Any payment the worker could not apply (cancelled, expired or unknown order, wrong amount or
    currency, a second payment): a customer may have paid for nothing, so someone must look."""
    return AlarmSpec(
        family="business", namespace=settings.service, metric_name=orders_schema.PAYMENT_EXCEPTIONS_METRIC,
        dimensions={"service": settings.service}, threshold=1, evaluation_periods=1, datapoints_to_alarm=1,
        description="A payment could not be applied to its order: refund or reconcile it "
                    "(payment_exception items in the orders table).")
