"""Every alarm watches a metric AWS publishes, under dimensions AWS publishes it with
(components/core/metrics.py holds the table, with the documentation page of each row)."""

from __future__ import annotations

import pytest

from components.core.metrics import METRICS, find_metric


def watched(alarm: dict) -> list[tuple[str, str, str, frozenset[str]]]:
    inputs = alarm["inputs"]
    if "metricQueries" in inputs:
        return [(q["metric"]["namespace"], q["metric"]["metricName"], q["metric"]["stat"],
                 frozenset(q["metric"].get("dimensions") or {})) for q in inputs["metricQueries"] if "metric" in q]
    return [(inputs["namespace"], inputs["metricName"], inputs.get("statistic") or inputs.get("extendedStatistic"),
             frozenset(inputs.get("dimensions") or {}))]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_alarm_matches_a_row_of_the_metric_table(synth_stack, stack) -> None:
    problems, checked = [], 0
    for alarm in synth_stack(stack).of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        for namespace, metric, statistic, dimensions in watched(alarm):
            checked += 1
            family = find_metric(namespace, metric)
            if family is None:
                problems.append(f"{alarm['name']}: {namespace} {metric} is not in the table")
            elif statistic not in family.statistics:
                problems.append(f"{alarm['name']}: statistic {statistic} for {metric}")
            elif dimensions not in family.dimension_sets:
                problems.append(f"{alarm['name']}: {metric} is not published under {sorted(dimensions)}")
    assert checked > 60
    assert problems == []


def test_the_table_refuses_rest_dimensions_on_an_http_api() -> None:
    family = find_metric("AWS/ApiGateway", "4xx")
    assert family is not None and frozenset({"ApiId", "Stage", "Route"}) in family.dimension_sets
    assert frozenset({"ApiId", "Stage", "Method", "Resource"}) not in family.dimension_sets
    assert all(row.source.startswith("https://docs.aws.amazon.com/") for row in METRICS)


def test_route_alarms_have_the_detailed_metrics_they_need(synth_stack) -> None:
    template = synth_stack("prod")
    route_alarms = [a for a in template.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                    if "Route" in (a["inputs"].get("dimensions") or {})]
    assert {a["inputs"]["dimensions"]["Route"] for a in route_alarms} == {"POST /webhooks/payments"}
    stage = template.one("aws:apigatewayv2/stage:Stage")["inputs"]
    assert stage["defaultRouteSettings"]["detailedMetricsEnabled"] is False  # 6 custom metrics a route
    detailed = {s["routeKey"] for s in stage["routeSettings"] if s["detailedMetricsEnabled"]}
    assert detailed == {a["inputs"]["dimensions"]["Route"] for a in route_alarms}
