"""The one log group builder: every log group is explicit and has the stack's retention."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.core.context import StackContext

__all__ = ["build_log_group"]


def build_log_group(ctx: StackContext, name: str, log_group_name: str, parent: pulumi.Resource) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        name,
        name=log_group_name,
        retention_in_days=ctx.defaults.log_retention_days,
        opts=ctx.options(parent),
    )
