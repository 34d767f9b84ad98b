"""GitHub webhooks for a platform team: POST /webhooks/github on an HTTP API of its own -> queue ->
worker, and a nightly job, with their alarms on one dashboard. Uses only the installed library."""

from __future__ import annotations

from pathlib import Path

import pulumi

from components.core.defaults import AlertSettings, StackDefaults
from components.core.function import FunctionSpec
from components.observability import ServiceHealth, ServiceHealthArgs
from components.platform import Platform, PlatformArgs, stack_provider
from components.scheduled_job import ScheduledJob, ScheduledJobArgs
from components.webhook_ingestion import WebhookIngestion, WebhookIngestionArgs

HANDLERS = Path(__file__).resolve().parent / "handlers"

config = pulumi.Config()
alert_email = config.get("alertEmail") or ""
defaults = StackDefaults(
    service="devtools", stack=pulumi.get_stack(),
    alerts=AlertSettings(emails=(alert_email,) if alert_email else ()),
    tags={"team": "developer-platform", "managed-by": "pulumi"},
)
provider = pulumi.ResourceOptions(providers=[stack_provider(defaults)])
platform = Platform("platform", PlatformArgs(defaults=defaults), provider)

github = WebhookIngestion("github", WebhookIngestionArgs(
    source="github", scheme="github",
    worker=FunctionSpec("github_events", description="Records pushes and pull requests", code_root=HANDLERS,
                        runtime_modules=("observability",)),
    stack=platform.stack,
), provider)
cleanup = ScheduledJob("stale-branches", ScheduledJobArgs(
    job="stale-branches", expression="cron(0 3 * * ? *)", interval_seconds=24 * 3600, time_zone="Europe/Berlin",
    function=FunctionSpec("stale_branches", description="Lists branches without commits for 90 days",
                          code_root=HANDLERS, runtime_modules=("observability",)),
    stack=platform.stack,
), provider)
health = ServiceHealth("devtools", ServiceHealthArgs(covers=[platform, github, cleanup], stack=platform.stack),
                       provider)

pulumi.export("webhookUrl", github.url)
pulumi.export("webhookSecretArn", github.secret_arn)
pulumi.export("deadLetterQueueUrl", github.dlq_url)
pulumi.export("dashboard", health.dashboard.dashboard_name)
