"""The orders platform: settings -> platform (provider, alert topic, schedule group) -> services -> exports."""

from __future__ import annotations

import pulumi

from components.api_service import ApiService
from components.fan_out import FanOut
from components.observability import ServiceHealth
from components.platform import Platform, stack_provider
from components.scheduled_job import ScheduledJob
from components.settings import load_settings
from components.stream_processor import StreamProcessor
from components.webhook_ingestion import WebhookIngestion
from system.analytics import activity_args
from system.concurrency import check_stack_functions
from system.fanout import subscribers
from system.jobs import job_args
from system.orders import orders_api_args
from system.outbox import outbox_relay_args
from system.payments import payments_webhook_args

# Validates every setting before a single resource is registered.
settings = load_settings(pulumi.get_stack())
check_stack_functions(settings)  # memory overrides name real functions; the reservations fit the quota
provider = stack_provider(settings)
platform = Platform("platform", settings, provider)
ctx = platform.context

orders_api = ApiService("api", ctx, orders_api_args(settings))
payments_webhook = WebhookIngestion("payments-webhook", ctx, payments_webhook_args(settings, orders_api))
orders_api.deploy()  # the stage, after every route on the API (its webhook route's settings name it)
jobs = [ScheduledJob(args.job, ctx, args) for args in job_args(settings, orders_api)]
outbox_relay = StreamProcessor("outbox-relay", ctx, outbox_relay_args(orders_api, platform.event_bus))
activity = StreamProcessor("activity", ctx, activity_args())
events = FanOut("events", ctx, platform.event_bus, subscribers(settings, orders_api, activity))
health = ServiceHealth(settings.service, ctx)  # last: it reads every alarm the services created

pulumi.export("alertTopicArn", platform.alert_topic.arn)
pulumi.export("eventBusName", platform.event_bus.name)
pulumi.export("dashboardName", health.dashboard.dashboard_name)
pulumi.export("ordersApiUrl", orders_api.url)
pulumi.export("ordersTables", orders_api.table_names)
pulumi.export("paymentsWebhookUrl", payments_webhook.url)
pulumi.export("paymentsWebhookSecretArn", payments_webhook.secret.arn)
pulumi.export("paymentsWebhookQueueUrl", payments_webhook.queue.queue.url)
pulumi.export("paymentsWebhookDlqUrl", payments_webhook.queue.dlq.url)
pulumi.export("activityStreamName", activity.stream.name if activity.stream else None)
