from __future__ import annotations

import json
import re

import pytest

from components.core.alarms import AlarmSpec, RegisteredAlarm
from components.observability import health_rule


@pytest.fixture
def prod(synth_stack):
    return synth_stack("prod")


def alarms_by_severity(template) -> dict[str, set[str]]:
    """Alarms that notify by themselves, by severity (composite inputs are heard through their composite)."""
    found: dict[str, set[str]] = {"critical": set(), "warning": set()}
    for alarm in template.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        if alarm["inputs"]["tags"].get("composite-input") != "true":
            found[alarm["inputs"]["tags"]["severity"]].add(alarm["inputs"]["name"])
    for alarm in template.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm"):
        if alarm["name"] != "orders-health":
            found[alarm["inputs"]["tags"]["severity"]].add(alarm["inputs"]["alarmName"])
    return found


def test_service_health_is_the_or_of_every_critical_alarm(prod) -> None:
    health = prod.named("orders-health", "aws:cloudwatch/compositeAlarm:CompositeAlarm")
    named = set(re.findall(r'ALARM\("([^"]+)"\)', health["inputs"]["alarmRule"]))
    severities = alarms_by_severity(prod)
    assert named == severities["critical"] and not named & severities["warning"]
    assert " OR " in health["inputs"]["alarmRule"] and " AND " not in health["inputs"]["alarmRule"]
    assert health["inputs"]["alarmActions"] == ["arn:aws:sns:us-east-1:123456789012:orders-prod-alerts"]
    record = next(r for r in cached_records(prod) if r.urn == health["urn"])
    assert len(record.dependencies) >= len(named)  # created after the alarms it names


def cached_records(template):
    from tests.conftest import cached_synth

    return cached_synth(template.stack).resources()


def test_dashboard_graphs_every_alarm_with_its_threshold(prod) -> None:
    body = json.loads(prod.one("aws:cloudwatch/dashboard:Dashboard")["inputs"]["dashboardBody"])
    graphs = {w["properties"]["title"]: w["properties"] for w in body["widgets"] if w["type"] == "metric"}
    every = set().union(*alarms_by_severity(prod).values())
    assert every <= set(graphs)
    assert graphs["orders-prod-api-orders-errors: Invocations"]["metrics"][0][1] == "Invocations"  # the rate beside errors
    errors = graphs["orders-prod-api-orders-errors"]
    assert errors["metrics"][0][:3] == ["AWS/Lambda", "Errors", "FunctionName"]
    assert errors["annotations"]["horizontal"][0]["value"] == 1
    assert all(isinstance(m, str) for g in graphs.values() for row in g["metrics"] for m in row)


def test_health_rule_needs_a_critical_alarm_and_fits_cloudwatch() -> None:
    spec = AlarmSpec(family="errors", namespace="N", metric_name="M", dimensions={}, threshold=1, description="d")
    with pytest.raises(ValueError, match="critical"):
        health_rule([RegisteredAlarm("w", AlarmSpec(**{**spec.__dict__, "severity": "warning"}), 60)])
    with pytest.raises(ValueError, match="10240"):
        health_rule([RegisteredAlarm("x" * 200, spec, 60) for _ in range(60)])
    assert health_rule([RegisteredAlarm("a", spec, 60), RegisteredAlarm("b", spec, 60)]) == 'ALARM("a") OR ALARM("b")'


def test_service_health_covers_exactly_the_components_it_is_given_in_their_order(run_builder) -> None:
    """No registry shared across components: what ServiceHealth covers is what it is handed."""
    import pulumi

    from components.core.alarms import build_alarm
    from components.observability import ServiceHealth, ServiceHealthArgs

    def alarm(name: str) -> AlarmSpec:
        return AlarmSpec(family="errors", namespace="AWS/Lambda", metric_name="Errors",
                         dimensions={"FunctionName": name}, threshold=1, description=name)

    def build(ctx, parent):
        first = pulumi.ComponentResource("test:index:Part", "first", None, pulumi.ResourceOptions(parent=parent))
        second = pulumi.ComponentResource("test:index:Part", "second", None, pulumi.ResourceOptions(parent=parent))
        build_alarm(ctx, "first-errors", alarm("first"), first)
        build_alarm(ctx, "second-errors", alarm("second"), second)
        ServiceHealth("covers-second-then-first", ServiceHealthArgs(covers=[second, first], stack=ctx),
                      pulumi.ResourceOptions(parent=parent))
        ServiceHealth("covers-first", ServiceHealthArgs(covers=[first], stack=ctx), pulumi.ResourceOptions(parent=parent))

    out = run_builder(build, "dev")
    rules = {a["name"]: a["inputs"]["alarmRule"] for a in out.template.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")}
    assert rules["covers-second-then-first-health"] == 'ALARM("orders-dev-second-errors") OR ALARM("orders-dev-first-errors")'
    assert rules["covers-first-health"] == 'ALARM("orders-dev-first-errors")'


def test_service_health_refuses_an_api_that_was_never_deployed(run_builder) -> None:
    import pulumi

    from components.api_service import ApiFunction, ApiService, ApiServiceArgs, Route
    from components.core.errors import ComponentConfigError
    from components.observability import ServiceHealth, ServiceHealthArgs
    from tests.specs import spec

    def build(ctx, parent):
        api = ApiService("late", ApiServiceArgs(functions=(ApiFunction("f", spec("orders_api"), (Route("GET", "/x", True),)),),
                                                shared=True, stack=ctx), pulumi.ResourceOptions(parent=parent))
        ServiceHealth("health", ServiceHealthArgs(covers=[api], stack=ctx), pulumi.ResourceOptions(parent=parent))

    with pytest.raises(ComponentConfigError, match="late"):
        run_builder(build, "dev")
