"""The payments webhook: a Standard Webhooks source whose worker marks orders paid."""

from __future__ import annotations

from components.api_service import ApiService
from components.core.alarms import AlarmSpec
from components.core.function import FunctionSpec
from components.core.iam import Grant
from components.settings import Settings
from components.webhook_ingestion import WebhookIngestionArgs
from lambdas.shared import orders_schema

SOURCE = "payments"
SCHEME = "standard"
# Read the order, then update it and write its outbox item in one transaction, or record an exception.
ORDERS_ACTIONS = ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem")


def payments_webhook_args(settings: Settings, orders: ApiService) -> WebhookIngestionArgs:
    orders_table = orders.tables["orders"]
    return WebhookIngestionArgs(
        source=SOURCE,
        scheme=SCHEME,
        api=orders.http_api,
        signing_secret=settings.webhooks.secrets.get(SOURCE),
        worker=FunctionSpec(
            folder="payments_worker",
            function_class="worker",
            description="Applies payment webhooks to orders (idempotent, partial batches)",
            environment={orders_schema.ORDERS_TABLE_ENV: orders_table.table.name},
            grants=(Grant(list(ORDERS_ACTIONS), [orders_table.table.arn]),),
        ),
        worker_alarms={"payment-exceptions": payment_exceptions_alarm(settings)},
    )


def payment_exceptions_alarm(settings: Settings) -> AlarmSpec:
    """Any payment the worker could not apply (cancelled, expired or unknown order, wrong amount or
    currency, a second payment): a customer may have paid for nothing, so someone must look."""
    return AlarmSpec(
        family="business", namespace=settings.service, metric_name=orders_schema.PAYMENT_EXCEPTIONS_METRIC,
        dimensions={"service": settings.service}, threshold=1, evaluation_periods=1, datapoints_to_alarm=1,
        description="A payment could not be applied to its order: refund or reconcile it "
                    "(payment_exception items in the orders table).")
