"""What every builder needs from its stack: the stack-wide defaults and where alarms go.

A program with a :class:`~components.platform.Platform` passes ``platform.stack`` in each
component's args. Without one, a component works on its own: ``StackContext()`` uses the code
defaults, looks up the account and the Powertools layer itself, and its alarms have no actions
until the program gives it topics.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pulumi

from components.core.defaults import StackDefaults

__all__ = ["StackContext", "child_options"]


def child_options(parent: pulumi.Resource, **extra: object) -> pulumi.ResourceOptions:
    """Options for every resource the components create: parented (so the provider given once to
    the top component is inherited), and replaced delete-first.

    One rule for all: each resource here either carries an explicit physical name (functions,
    queues, tables, alarms, log groups, ...) or is the one attachment of its kind on another
    resource (queue and topic policies, invoke configs, event source mappings, provisioned
    concurrency, aliases). Pulumi's default create-before-delete would fail on the taken name, or
    create the new attachment and then delete it again with the old one. A replacement happens
    only when a property that forces it changes; it then has a short gap instead of a failed update.
    """
    options: dict[str, object] = {"delete_before_replace": True, **extra}
    return pulumi.ResourceOptions(parent=parent, **options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class StackContext:
    defaults: StackDefaults = field(default_factory=StackDefaults)
    """@default the code defaults (:class:`StackDefaults`)."""
    alert_topic_arn: pulumi.Input[str] | None = None
    """Where the service-health composite alarm pages. @default None: no paging actions."""
    notice_topic_arn: pulumi.Input[str] | None = None
    """Where every metric alarm notifies. @default None: the alert topic (or no actions)."""
    account_id: pulumi.Input[str] | None = None
    """@default None: looked up (``sts:GetCallerIdentity``) by the component that needs it."""
    powertools_layer_arn: pulumi.Input[str] | None = None
    """@default None: looked up in Powertools' public SSM parameter by the component."""
    schedule_group_name: pulumi.Input[str] | None = None
    """@default None: scheduled jobs use the account's ``default`` schedule group."""
    deployment_application: pulumi.Input[str] | None = None
    """The stack's CodeDeploy application (Lambda compute platform) that gradual deployments run in.
    @default None: the Platform creates one when a profile deploys gradually."""
    deployment_role_arn: pulumi.Input[str] | None = None
    """CodeDeploy's service role for that application. @default None: created with the application."""

    @property
    def alarm_actions(self) -> list[pulumi.Input[str]]:
        """What a metric alarm notifies: the notices topic, else the alert topic, else nothing."""
        topic = self.notice_topic_arn or self.alert_topic_arn
        return [topic] if topic is not None else []

    def options(self, parent: pulumi.Resource, **extra: object) -> pulumi.ResourceOptions:
        """Options for a child: parented to its component (see :func:`child_options`)."""
        return child_options(parent, **extra)

    def resolved(self, parent: pulumi.Resource) -> StackContext:
        """This context with the account id and the Powertools layer looked up where not given,
        through the parent's provider."""
        from components.core.function import powertools_layer_arn, powertools_layer_parameter

        account_id, layer = self.account_id, self.powertools_layer_arn
        if account_id is None or layer is None:
            import pulumi_aws as aws

            invoke = pulumi.InvokeOutputOptions(parent=parent)
            if account_id is None:
                account_id = aws.get_caller_identity_output(opts=invoke).account_id
            if layer is None:
                layer = (powertools_layer_arn(self.defaults) if self.defaults.powertools_layer_version
                         else aws.ssm.get_parameter_output(name=powertools_layer_parameter(self.defaults),
                                                           opts=invoke).value)
        return replace(self, account_id=account_id, powertools_layer_arn=layer)
