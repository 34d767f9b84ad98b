"""What every builder needs from its stack: settings, the explicit provider, where alarms go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.settings import Settings


def child_options(parent: pulumi.Resource, provider: pulumi.ProviderResource, **extra: object) -> pulumi.ResourceOptions:
    """Options for every resource the components create: parented, on the stack's provider, and
    replaced delete-first.

    One rule for all: each resource here either carries an explicit physical name (functions,
    queues, tables, alarms, log groups, ...) or is the one attachment of its kind on another
    resource (queue and topic policies, invoke configs, event source mappings, provisioned
    concurrency, aliases). Pulumi's default create-before-delete would fail on the taken name, or
    create the new attachment and then delete it again with the old one. A replacement happens
    only when a property that forces it changes; it then has a short gap instead of a failed update.
    """
    options: dict[str, object] = {"delete_before_replace": True, **extra}
    return pulumi.ResourceOptions(parent=parent, provider=provider, **options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class StackContext:
    settings: Settings
    provider: aws.Provider
    alert_topic_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    schedule_group_name: pulumi.Input[str] | None = None
    # The notices topic: every metric alarm's actions (no paging endpoint); None only in builder tests.
    warning_topic_arn: pulumi.Input[str] | None = None
    partition: str = "aws"
    # The Powertools layer ARN, resolved once per stack (see components.core.function).
    powertools_layer_arn: pulumi.Input[str] | None = None
    # Every alarm the builders create, for the service's dashboard and health alarm.
    alarm_registry: list[Any] = field(default_factory=list)
    # Every HTTP API built, so the program can tell one that was never deployed (no stage).
    http_apis: list[Any] = field(default_factory=list)

    @property
    def notice_topic_arn(self) -> pulumi.Input[str]:
        """Where metric alarms notify: the notices topic (never paging), else the alert topic."""
        return self.warning_topic_arn or self.alert_topic_arn

    def options(self, parent: pulumi.Resource, **extra: object) -> pulumi.ResourceOptions:
        """Options for a child: parented to its component and pinned to the stack's provider."""
        return child_options(parent, self.provider, **extra)

    def arn(self, service: str, resource: str, *, region: bool = True) -> pulumi.Output[str]:
        """An ARN in this stack's account (and region), e.g. ``arn(\"logs\", \"log-group:x\")``."""
        where = self.settings.region if region else ""
        return pulumi.Output.concat(f"arn:{self.partition}:{service}:{where}:", self.account_id, f":{resource}")
