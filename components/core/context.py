"""What every builder needs from its stack: settings, the explicit provider, where alarms go."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import Settings


@dataclass(frozen=True)
class StackContext:
    settings: Settings
    provider: aws.Provider
    alert_topic_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    schedule_group_name: pulumi.Input[str] | None = None
    partition: str = "aws"

    def options(self, parent: pulumi.Resource, **extra: object) -> pulumi.ResourceOptions:
        """Options for a child: parented to its component and pinned to the stack's provider."""
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **extra)  # type: ignore[arg-type]

    def arn(self, service: str, resource: str, *, region: bool = True) -> pulumi.Output[str]:
        """An ARN in this stack's account (and region), e.g. ``arn(\"logs\", \"log-group:x\")``."""
        where = self.settings.region if region else ""
        return pulumi.Output.concat(f"arn:{self.partition}:{service}:{where}:", self.account_id, f":{resource}")
