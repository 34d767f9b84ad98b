"""ServiceHealth: the service's dashboard and its composite "service health" alarm, built from
every alarm the components registered (components/core/alarms.py keeps the registry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.alarms import CRITICAL, RegisteredAlarm, registered_alarms
from components.core.context import StackContext
from components.core.documents import json_document
from components.core.errors import ComponentConfigError
from components.core.naming import physical_name

__all__ = ["ServiceHealth", "ServiceHealthArgs", "dashboard_body", "health_rule"]

COMPONENT_TYPE = "serverless:index:ServiceHealth"
MAX_RULE_LENGTH = 10240  # CloudWatch's limit on a composite alarm rule


def _widget(alarm: RegisteredAlarm, region: str) -> dict[str, Any]:
    spec = alarm.spec
    if spec.sum_of:
        metrics: list[Any] = [[spec.namespace, ref.metric_name, *[x for kv in ref.dimensions.items() for x in kv]]
                              for ref in spec.sum_of]
        stat = "Sum"
    else:
        metrics = [[spec.namespace, spec.metric_name, *[x for kv in spec.dimensions.items() for x in kv]]]
        stat = spec.statistic or spec.extended_statistic
    return {
        "type": "metric", "width": 8, "height": 6,
        "properties": {
            "title": alarm.name, "region": region, "view": "timeSeries", "stat": stat, "period": alarm.period_seconds,
            "metrics": metrics,
            # The threshold drawn on the graph: what "bad" looks like at a glance.
            "annotations": {"horizontal": [{"label": f"{spec.severity} threshold", "value": spec.threshold}]},
        },
    }


# The traffic beside each resource's error alarm: errors mean little without the rate.
RATE_OF = {("AWS/Lambda", "Errors"): "Invocations", ("AWS/ApiGateway", "5xx"): "Count"}


def _rate_widget(alarm: RegisteredAlarm, region: str) -> dict[str, Any]:
    spec = alarm.spec
    metric = RATE_OF[(spec.namespace, spec.metric_name)]
    return {"type": "metric", "width": 8, "height": 6, "properties": {
        "title": f"{alarm.name}: {metric}", "region": region, "view": "timeSeries", "stat": "Sum",
        "period": alarm.period_seconds,
        "metrics": [[spec.namespace, metric, *[x for kv in spec.dimensions.items() for x in kv]]]}}


def dashboard_body(alarms: list[RegisteredAlarm], region: str, title: str) -> pulumi.Output[str]:
    widgets: list[dict[str, Any]] = [{"type": "text", "width": 24, "height": 2, "properties": {"markdown": f"# {title}"}}]
    rates = [a for a in alarms if (a.spec.namespace, a.spec.metric_name) in RATE_OF]
    if rates:
        widgets.append({"type": "text", "width": 24, "height": 1, "properties": {"markdown": "## Traffic"}})
        widgets += [_rate_widget(a, region) for a in rates]
    for severity in (CRITICAL, "warning"):
        chosen = [a for a in alarms if a.spec.severity == severity]
        if chosen:
            widgets.append({"type": "text", "width": 24, "height": 1,
                            "properties": {"markdown": f"## {severity.title()} alarms ({len(chosen)})"}})
            widgets += [_widget(a, region) for a in chosen]
    return json_document({"widgets": widgets})


def paging(alarms: list[RegisteredAlarm]) -> list[RegisteredAlarm]:
    """The alarms whose ALARM pages, through the health alarm: critical ones, not composite inputs."""
    return [a for a in alarms if a.spec.severity == CRITICAL and not a.spec.composite_input]


def health_rule(alarms: list[RegisteredAlarm]) -> str:
    rule = " OR ".join(f'ALARM("{a.name}")' for a in paging(alarms))
    if not rule:
        raise ComponentConfigError("a service needs at least one critical alarm for its health alarm")
    if len(rule) > MAX_RULE_LENGTH:
        raise ComponentConfigError(f"the health rule is {len(rule)} characters; CloudWatch allows {MAX_RULE_LENGTH}")
    return rule


@dataclass(frozen=True)
class ServiceHealthArgs:
    covers: Sequence[pulumi.Resource]
    """The components whose alarms the dashboard shows and whose critical alarms page, in order."""
    alarms: Sequence[RegisteredAlarm] = ()
    """@default (): alarms built outside those components, added after theirs."""
    title: str | None = None
    """@default "<service> (<stack>)"."""
    stack: StackContext = field(default_factory=StackContext)
    """The alert topic the health alarm notifies comes from here (``stack.alert_topic_arn``)."""


class ServiceHealth(pulumi.ComponentResource):
    """The dashboard and the OR of the covered components' critical alarms. It is the one alarm
    that notifies the alert (paging) topic; the components' alarms notify the notices topic."""

    def __init__(self, name: str, args: ServiceHealthArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        ctx = args.stack
        settings = ctx.defaults
        undeployed = [c.pulumi_resource_name for c in args.covers
                      if getattr(c, "deployed", True) is False]
        if undeployed:
            raise ComponentConfigError(f"APIs without a stage (call deploy() after their routes): {', '.join(undeployed)}")
        alarms = [alarm for component in args.covers for alarm in registered_alarms(component)] + list(args.alarms)
        title = args.title or f"{settings.service} ({settings.stack})"
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=physical_name(settings, "health", max_length=255),
            dashboard_body=dashboard_body(alarms, settings.region, title),
            opts=ctx.options(self),
        )
        self.health = aws.cloudwatch.CompositeAlarm(
            f"{name}-health",
            alarm_name=physical_name(settings, "service-health", max_length=255),
            alarm_description=f"{title}: one of its critical alarms is firing.",
            alarm_rule=health_rule(alarms),
            alarm_actions=[ctx.alert_topic_arn] if ctx.alert_topic_arn is not None else [],
            ok_actions=[ctx.alert_topic_arn] if ctx.alert_topic_arn is not None else [],
            # CloudWatch refuses a rule naming alarms that do not exist yet.
            opts=ctx.options(self, depends_on=[a.resource for a in paging(alarms) if a.resource]),
        )
        self.register_outputs({"dashboard": self.dashboard.dashboard_name, "healthAlarm": self.health.alarm_name})
