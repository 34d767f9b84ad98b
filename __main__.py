"""The orders platform: settings -> platform (provider, alert topics, bus, schedule group) -> services -> health -> exports."""

from __future__ import annotations

import pulumi

from components.api_service import ApiService
from components.fan_out import FanOut
from components.observability import ServiceHealth, ServiceHealthArgs
from components.platform import Platform, stack_provider
from components.scheduled_job import ScheduledJob
from components.stream_processor import StreamProcessor
from components.webhook_ingestion import WebhookIngestion
from components.workflow import Workflow
from system.analytics import activity_args
from system.concurrency import check_stack_functions
from system.fanout import events_args
from system.fulfilment import fulfilment_args
from system.jobs import job_args
from system.orders import orders_api_args
from system.outbox import outbox_relay_args
from system.payments import payments_webhook_args
from system.settings import load_settings

# Validates every setting before a single resource is registered.
settings = load_settings(pulumi.get_stack())
check_stack_functions(settings)  # memory overrides name real functions; the reservations fit the quota
# The one provider, given once to each component; every child inherits it.
on_stack_provider = pulumi.ResourceOptions(providers=[stack_provider(settings.defaults)])
platform = Platform("platform", settings.platform, on_stack_provider)
stack = platform.stack

orders_api = ApiService("api", orders_api_args(settings, stack), on_stack_provider)
payments_webhook = WebhookIngestion("payments-webhook", payments_webhook_args(settings, orders_api, stack),
                                    on_stack_provider)
orders_api.deploy()  # the stage, after every route on the API (its webhook route's settings name it)
jobs = [ScheduledJob(args.job, args, on_stack_provider) for args in job_args(settings, orders_api, stack)]
outbox_relay = StreamProcessor("outbox-relay", outbox_relay_args(settings, stack, orders_api, platform.event_bus.name,
                                                                 platform.event_bus.arn), on_stack_provider)
activity = StreamProcessor("activity", activity_args(settings, stack), on_stack_provider)
fulfilment = Workflow("fulfilment", fulfilment_args(settings, stack, orders_api), on_stack_provider)
events = FanOut("events", events_args(settings, stack, platform.event_bus.name, orders_api, activity, fulfilment),
                on_stack_provider)
health = ServiceHealth(settings.service, ServiceHealthArgs(
    covers=[platform, orders_api, payments_webhook, *jobs, outbox_relay, activity, fulfilment, events], stack=stack),
    on_stack_provider)

pulumi.export("alertTopicArn", platform.alert_topic.arn)
pulumi.export("eventBusName", platform.event_bus.name)
pulumi.export("dashboardName", health.dashboard.dashboard_name)
pulumi.export("ordersApiUrl", orders_api.url)
pulumi.export("ordersTables", orders_api.table_names)
pulumi.export("paymentsWebhookUrl", payments_webhook.url)
pulumi.export("paymentsWebhookSecretArn", payments_webhook.secret_arn)
pulumi.export("paymentsWebhookQueueUrl", payments_webhook.queue_url)
pulumi.export("paymentsWebhookDlqUrl", payments_webhook.dlq_url)
pulumi.export("activityStreamName", activity.stream_name)
pulumi.export("fulfilmentStateMachineArn", fulfilment.arn)
