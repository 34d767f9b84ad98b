from __future__ import annotations

import json

import pulumi
import pytest

from components.scheduled_job import ScheduleConfigError, ScheduledJob, ScheduledJobArgs, heartbeat_period
from tests.specs import spec


@pytest.fixture
def dev(synth_stack):
    return synth_stack("dev")


@pytest.fixture
def prod(synth_stack):
    return synth_stack("prod")


FUNCTION = "aws:lambda/function:Function"


def schedule(template, job: str) -> dict:
    return template.named(job, "aws:scheduler/schedule:Schedule")["inputs"]


def test_expressions_time_zone_and_flexible_window(prod) -> None:
    expire, summary = schedule(prod, "expire-unpaid-orders"), schedule(prod, "daily-summary")
    assert expire["scheduleExpression"] == "rate(15 minutes)"
    assert expire["flexibleTimeWindow"] == {"mode": "OFF"}
    assert summary["scheduleExpression"] == "cron(0 2 * * ? *)"
    assert summary["scheduleExpressionTimezone"] == "Europe/Berlin"
    assert summary["flexibleTimeWindow"] == {"mode": "FLEXIBLE", "maximumWindowInMinutes": 15}
    group = prod.one("aws:scheduler/scheduleGroup:ScheduleGroup")["inputs"]["name"]
    assert expire["groupName"] == summary["groupName"] == group


def test_state_per_stack(dev, prod) -> None:
    assert schedule(dev, "daily-summary")["state"] == "DISABLED"
    assert schedule(dev, "expire-unpaid-orders")["state"] == "ENABLED"
    assert {schedule(prod, j)["state"] for j in ("daily-summary", "expire-unpaid-orders")} == {"ENABLED"}


def test_target_retry_policy_and_dead_letter_queue(prod) -> None:
    target = schedule(prod, "expire-unpaid-orders")["target"]
    assert target["retryPolicy"] == {"maximumEventAgeInSeconds": 3600, "maximumRetryAttempts": 3}
    dlq = prod.named("expire-unpaid-orders-dlq")["inputs"]
    assert target["deadLetterConfig"]["arn"].endswith(f":{dlq['name']}")
    assert dlq["messageRetentionSeconds"] == 14 * 24 * 3600 and dlq["sqsManagedSseEnabled"] is True
    function = prod.named("expire-unpaid-orders", FUNCTION)
    assert target["arn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{function['inputs']['name']}"
    assert json.loads(target["input"]) == {"job": "expire-unpaid-orders"}


def test_scheduler_role_may_invoke_only_the_job_and_send_only_to_its_dlq(prod) -> None:
    role = prod.named("expire-unpaid-orders-scheduler-role")["inputs"]
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    statements = prod.policy(prod.named("expire-unpaid-orders-scheduler-policy"))["Statement"]
    function = prod.named("expire-unpaid-orders", FUNCTION)["inputs"]["name"]
    dlq = prod.named("expire-unpaid-orders-dlq")["inputs"]["name"]
    assert {(s["Action"], tuple(s["Resource"])) for s in statements} == {
        ("lambda:InvokeFunction", (f"arn:aws:lambda:us-east-1:123456789012:function:{function}",)),
        ("sqs:SendMessage", (f"arn:aws:sqs:us-east-1:123456789012:{dlq}",)),
    }


def test_job_functions_use_the_job_profile_and_never_overlap(dev, prod) -> None:
    for template, memory in ((dev, 256), (prod, 512)):
        for job in ("expire-unpaid-orders", "daily-summary"):
            function = template.named(job, FUNCTION)["inputs"]
            assert function["memorySize"] == memory and function["timeout"] == 300
            assert function["reservedConcurrentExecutions"] == 1


def test_job_roles_are_scoped_to_the_index_they_read(prod) -> None:
    statements = prod.policy(prod.named("expire-unpaid-orders-policy"))["Statement"]
    query = next(s for s in statements if "dynamodb:Query" in s["Action"])
    assert query["Resource"] == ["arn:aws:dynamodb:us-east-1:123456789012:table/orders-prod-orders/index/pendingByAge"]


def test_did_not_run_needs_a_missed_run_after_a_recent_one(prod) -> None:
    missed = prod.named("expire-unpaid-orders-missed-run")["inputs"]
    assert missed["metricName"] == "Invocations" and missed["statistic"] == "Sum"
    assert missed["comparisonOperator"] == "LessThanThreshold" and missed["threshold"] == 1
    assert missed["treatMissingData"] == "breaching"
    assert missed["period"] == 15 * 60 + 300 and missed["evaluationPeriods"] == 1
    recent = prod.named("expire-unpaid-orders-ran-recently")["inputs"]
    assert recent["comparisonOperator"] == "GreaterThanOrEqualToThreshold" and recent["threshold"] == 1
    assert recent["treatMissingData"] == "notBreaching"  # never ran (fresh deploy): not "ran recently"
    assert (recent["period"], recent["evaluationPeriods"], recent["datapointsToAlarm"]) == (missed["period"], 2, 1)
    for inputs in (missed, recent):  # heard only through the composite
        assert inputs["alarmActions"] == [] and inputs["tags"]["composite-input"] == "true"
    composite = prod.named("expire-unpaid-orders-did-not-run", "aws:cloudwatch/compositeAlarm:CompositeAlarm")["inputs"]
    assert composite["alarmRule"] == ('ALARM("orders-prod-expire-unpaid-orders-missed-run") AND '
                                      'ALARM("orders-prod-expire-unpaid-orders-ran-recently")')
    assert composite["alarmActions"] and composite["okActions"]
    assert prod.named("daily-summary-missed-run")["inputs"]["period"] == 86400
    health = prod.named("orders-health", "aws:cloudwatch/compositeAlarm:CompositeAlarm")["inputs"]["alarmRule"]
    assert 'ALARM("orders-prod-expire-unpaid-orders-did-not-run")' in health and "missed-run" not in health


def test_a_disabled_job_has_no_did_not_run_alarm(dev) -> None:
    names = {a["name"] for a in dev.resources if "did-not-run" in a["name"] or "missed-run" in a["name"]}
    assert names == {"expire-unpaid-orders-did-not-run", "expire-unpaid-orders-missed-run"}


def test_job_alarms_errors_duration_dlq_and_scheduler_losses(prod) -> None:
    alarms = {a["name"]: a["inputs"] for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    duration = alarms["expire-unpaid-orders-duration"]
    assert duration["threshold"] == 300 * 1000 * 0.8
    for name in ("expire-unpaid-orders-errors", "expire-unpaid-orders-dlq-depth"):
        assert alarms[name]["alarmActions"]
    scheduler = {a["metricName"]: a for a in alarms.values() if a.get("namespace") == "AWS/Scheduler"}
    assert {"TargetErrorCount", "InvocationDroppedCount"} <= set(scheduler)
    group = prod.one("aws:scheduler/scheduleGroup:ScheduleGroup")["inputs"]["name"]
    assert all(a["dimensions"] == {"ScheduleGroup": group} for a in scheduler.values())


@pytest.mark.parametrize(("fields", "message"), [
    ({"expression": "cron(0 2 * * ? *)"}, "interval_seconds"),
    ({"expression": "every day"}, "rate"),
    ({"expression": "rate(15 minutes)", "interval_seconds": 60}, "contradicts"),
    ({"expression": "rate(1 hour)", "function": spec("daily_summary", "worker")}, "job"),
])
def test_schedules_that_cannot_work_are_refused(run_builder, fields, message) -> None:
    def build(ctx, parent):
        values = {"job": "j", "function": spec("daily_summary", "job"), **fields, "stack": ctx}
        return ScheduledJob("j", ScheduledJobArgs(**values), pulumi.ResourceOptions(parent=parent))

    with pytest.raises(ScheduleConfigError, match=message):
        run_builder(build, "dev")


def test_heartbeat_period_covers_interval_window_and_slack() -> None:
    args = ScheduledJobArgs(job="j", function=spec("daily_summary", "job"), expression="rate(2 hours)",
                            flexible_window_minutes=10)
    assert heartbeat_period(args) == 2 * 3600 + 600 + 300


def test_an_unknown_disabled_job_is_an_error(synth_stack) -> None:
    with pytest.raises(ValueError, match="unknown jobs"):
        synth_stack("dev", {"disabledJobs": ["daily-sumary"]})


def test_an_unknown_time_zone_is_a_settings_error(synth_stack) -> None:
    from system.settings import SettingsError

    with pytest.raises(SettingsError, match="timeZone"):
        synth_stack("prod", {"timeZone": "Mars/Olympus"})
