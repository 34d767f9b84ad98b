from __future__ import annotations

import pytest

from components.core.alarms import TREAT_MISSING_DATA, AlarmConfigError, AlarmSpec, build_alarm

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def spec(**fields: object) -> AlarmSpec:
    values = {"family": "errors", "namespace": "AWS/Lambda", "metric_name": "Errors",
              "dimensions": {"FunctionName": "f"}, "threshold": 1, "description": "d"}
    values.update(fields)
    return AlarmSpec(**values)


@pytest.mark.parametrize(("family", "expected"), [
    ("errors", "notBreaching"), ("events", "notBreaching"), ("queue_age", "missing"),
    ("iterator_age", "missing"), ("dlq_depth", "missing"), ("heartbeat", "breaching"),
])
def test_missing_data_follows_the_metric_family(run_builder, family: str, expected: str) -> None:
    out = run_builder(lambda ctx, parent: build_alarm(ctx, "a", spec(family=family), parent), "dev")
    assert out.template.named("a")["inputs"]["treatMissingData"] == expected


def test_every_alarm_notifies_on_alarm_and_ok_and_uses_stack_evaluation(run_builder) -> None:
    out = run_builder(lambda ctx, parent: build_alarm(ctx, "a", spec(), parent), "prod")
    alarm = out.template.named("a")["inputs"]
    # Metric alarms notify the notices topic; the paging topic hears only the composite health alarm.
    assert alarm["alarmActions"] == alarm["okActions"] == ["arn:aws:sns:us-east-1:123456789012:orders-prod-alerts-warning"]
    assert alarm["evaluationPeriods"] == 3 and alarm["datapointsToAlarm"] == 3 and alarm["period"] == 60
    assert alarm["name"] == "orders-prod-a"
    assert alarm["tags"]["severity"] == "critical"


@pytest.mark.parametrize("fields", [{"threshold": 0}, {"threshold": -3}, {"family": "vibes"},
                                    {"statistic": None}, {"extended_statistic": "p90"}])
def test_alarms_that_cannot_work_are_refused(run_builder, fields) -> None:
    with pytest.raises(AlarmConfigError):
        run_builder(lambda ctx, parent: build_alarm(ctx, "a", spec(**fields), parent), "dev")


def test_every_family_has_a_missing_data_choice() -> None:
    assert set(TREAT_MISSING_DATA.values()) <= {"notBreaching", "missing", "breaching", "ignore"}
    assert TREAT_MISSING_DATA["heartbeat"] == "breaching"
