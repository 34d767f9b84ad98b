from __future__ import annotations

import json

import pytest


def test_alert_topic_uses_a_customer_managed_key_cloudwatch_may_use(synth_stack) -> None:
    template = synth_stack("prod")
    key = template.one("aws:kms/key:Key")
    topic = template.named("platform-alerts")["inputs"]
    assert topic["kmsMasterKeyId"].startswith("arn:aws:kms:")  # not alias/aws/sns: CloudWatch cannot use that
    assert key["inputs"]["enableKeyRotation"] is True
    statements = template.policy(key)["Statement"]
    cloudwatch = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])
    assert any(s.get("Principal", {}).get("AWS", "").endswith(":root") for s in statements)  # no lock-out


def test_topic_policy_lets_only_our_alarms_publish_over_tls(synth_stack) -> None:
    template = synth_stack("dev")
    statements = template.policy(template.named("platform-alerts-policy"))["Statement"]
    allow = next(s for s in statements if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_subscriptions_come_from_settings(synth_stack) -> None:
    prod = synth_stack("prod", {"alertHttpsEndpoints": ["https://pager.example.com/hook"]})
    subscriptions = {(s["inputs"]["topic"].rsplit(":", 1)[-1], s["inputs"]["protocol"], s["inputs"]["endpoint"])
                     for s in prod.of_type("aws:sns/topicSubscription:TopicSubscription")
                     if s["name"].startswith("platform-")}
    assert subscriptions == {("orders-prod-alerts", "email", "platform-team@example.com"),
                             ("orders-prod-alerts", "https", "https://pager.example.com/hook"),
                             ("orders-prod-alerts-warning", "email", "platform-team-warnings@example.com")}
    dev = synth_stack("dev", {"alertEmails": []})
    assert not [s for s in dev.of_type("aws:sns/topicSubscription:TopicSubscription") if s["name"].startswith("platform-")]


def test_provider_region_and_default_tags_from_settings(synth_stack) -> None:
    template = synth_stack("prod", {"region": "eu-west-1"})
    provider = template.one("pulumi:providers:aws")["inputs"]
    assert provider["region"] == "eu-west-1"
    assert json.loads(provider["defaultTags"])["tags"] == {
        "environment": "prod", "service": "orders", "owner": "platform-team", "cost-center": "cc-1234",
        "managed-by": "pulumi",
    }
    # ARNs built by the mock follow the provider's region, as they would in AWS.
    assert ":eu-west-1:" in template.named("platform-alerts")["inputs"]["kmsMasterKeyId"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_an_incident_pages_once(synth_stack, stack) -> None:
    """Only the composite service-health alarm notifies the paging (alert) topic; every metric
    alarm and the did-not-run composites notify the notices topic."""
    template = synth_stack(stack)
    paging = f"arn:aws:sns:us-east-1:123456789012:orders-{stack}-alerts"
    notices = paging + "-warning"
    metric_alarms = template.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    composites = {a["name"]: a["inputs"] for a in template.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")}
    assert len(metric_alarms) > 50 and len(composites) >= 2
    for alarm in metric_alarms:
        actions = alarm["inputs"].get("alarmActions") or []
        assert paging not in actions, alarm["name"]
        assert actions == [notices] or alarm["inputs"]["tags"].get("composite-input") == "true", alarm["name"]
    health = composites.pop("orders-health")
    assert health["alarmActions"] == health["okActions"] == [paging]
    for name, composite in composites.items():
        assert composite["alarmActions"] == [notices], name


def test_notices_go_to_the_warning_emails_in_prod_and_the_alert_emails_in_dev(synth_stack) -> None:
    dev = synth_stack("dev")
    subscriptions = {(s["inputs"]["topic"].rsplit(":", 1)[-1], s["inputs"]["endpoint"])
                     for s in dev.of_type("aws:sns/topicSubscription:TopicSubscription") if s["name"].startswith("platform-")}
    assert subscriptions == {("orders-dev-alerts", "platform-team-dev@example.com"),
                             ("orders-dev-alerts-warning", "platform-team-dev@example.com")}
    assert dev.count("aws:sns/topic:Topic") == 2


def test_account_concurrency_alarm_follows_the_real_quota_once_per_account(synth_stack) -> None:
    alarm = synth_stack("prod").named("platform-account-concurrency")["inputs"]
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    assert queries["total"]["expression"] == "100 * m0 / SERVICE_QUOTA(m0)" and alarm["threshold"] == 90
    assert queries["m0"]["metric"]["namespace"] == "AWS/Usage"
    assert queries["m0"]["metric"]["dimensions"] == {"Service": "Lambda", "Type": "Resource",
                                                     "Resource": "ConcurrentExecutions", "Class": "None"}
    assert alarm["treatMissingData"] == "missing"
    # dev shares prod's account (accountAlarmsStack: prod): the alarm exists once.
    alarms = synth_stack("dev").of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert "platform-account-concurrency" not in {a["name"] for a in alarms}
    assert synth_stack("dev", {"accountAlarmsStack": ""}).named("platform-account-concurrency")
