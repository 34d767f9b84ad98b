"""ServiceHealth: the service's dashboard and its composite "service health" alarm, built from
every alarm the components registered (components/core/alarms.py keeps the registry)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.alarms import CRITICAL, RegisteredAlarm
from components.core.context import StackContext
from components.core.naming import physical_name

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
    return pulumi.Output.json_dumps({"widgets": widgets})


def paging(alarms: list[RegisteredAlarm]) -> list[RegisteredAlarm]:
    """The alarms whose ALARM pages, through the health alarm: critical ones, not composite inputs."""
    return [a for a in alarms if a.spec.severity == CRITICAL and not a.spec.composite_input]


def health_rule(alarms: list[RegisteredAlarm]) -> str:
    rule = " OR ".join(f'ALARM("{a.name}")' for a in paging(alarms))
    if not rule:
        raise ValueError("a service needs at least one critical alarm for its health alarm")
    if len(rule) > MAX_RULE_LENGTH:
        raise ValueError(f"the health rule is {len(rule)} characters; CloudWatch allows {MAX_RULE_LENGTH}")
    return rule


class ServiceHealth(pulumi.ComponentResource):
    """Built last: the dashboard and the OR of the service's critical alarms. It is the one alarm
    that notifies the alert (paging) topic; its children notify the notices topic."""

    def __init__(self, name: str, ctx: StackContext, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        settings = ctx.settings
        undeployed = [api.name for api in ctx.http_apis if api.stage is None]
        if undeployed:
            raise ValueError(f"HTTP APIs without a stage (call deploy() after their routes): {', '.join(undeployed)}")
        alarms = list(ctx.alarm_registry)
        title = f"{settings.service} ({settings.stack})"
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
            alarm_actions=[ctx.alert_topic_arn],
            ok_actions=[ctx.alert_topic_arn],
            # CloudWatch refuses a rule naming alarms that do not exist yet.
            opts=ctx.options(self, depends_on=[a.resource for a in paging(alarms) if a.resource]),
        )
        self.register_outputs({"dashboard": self.dashboard.dashboard_name, "healthAlarm": self.health.alarm_name})
