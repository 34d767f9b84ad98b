from __future__ import annotations

import json


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


def test_warnings_route_to_their_own_topic_in_prod_and_share_the_topic_in_dev(synth_stack) -> None:
    prod, dev = synth_stack("prod"), synth_stack("dev")
    alarms = {a["name"]: a["inputs"] for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert alarms["api-orders-duration"]["alarmActions"][0].endswith(":orders-prod-alerts-warning")
    assert alarms["api-orders-errors"]["alarmActions"][0].endswith(":orders-prod-alerts")
    dev_alarms = {a["name"]: a["inputs"] for a in dev.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert dev_alarms["api-orders-duration"]["alarmActions"] == dev_alarms["api-orders-errors"]["alarmActions"]
    assert dev.count("aws:sns/topic:Topic") == 1


def test_account_concurrency_alarm(synth_stack) -> None:
    alarm = synth_stack("prod").named("platform-account-concurrency")["inputs"]
    assert alarm["metricName"] == "ClaimedAccountConcurrency" and alarm["threshold"] == 900
    assert alarm["treatMissingData"] == "missing"
