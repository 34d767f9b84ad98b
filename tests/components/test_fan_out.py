from __future__ import annotations

import json

import pulumi
import pytest

from components.fan_out import (
    LAMBDA,
    FanOut,
    FanOutArgs,
    FanOutConfigError,
    Subscriber,
    TopicFanOut,
    TopicFanOutArgs,
    TopicSubscriber,
)
from lambdas.shared import contracts
from tests.specs import spec

RULE, TARGET = "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget"


@pytest.fixture
def prod(synth_stack):
    return synth_stack("prod")


def by_name(template, type_: str) -> dict[str, dict]:
    return {r["name"]: r["inputs"] for r in template.of_type(type_)}


def test_rules_use_the_contract_patterns_on_the_stack_bus(prod) -> None:
    rules = by_name(prod, RULE)
    bus = prod.one("aws:cloudwatch/eventBus:EventBus")["inputs"]["name"]
    assert {r["eventBusName"] for r in rules.values()} == {bus}
    assert json.loads(rules["fulfilment-rule"]["eventPattern"]) == contracts.pattern("OrderPaid")
    high_value = json.loads(rules["high-value-review-rule"]["eventPattern"])
    assert high_value["detail"] == {"totalAmountRoundedUp": [{"numeric": [">", 1000]}]}  # prod's threshold


def test_every_target_has_a_retry_policy_and_its_own_dlq(prod) -> None:
    targets = by_name(prod, TARGET)
    assert len(targets) == 4
    dlqs = set()
    for name, target in targets.items():
        assert target["retryPolicy"] == {"maximumEventAgeInSeconds": 3600, "maximumRetryAttempts": 24}, name
        dlqs.add(target["deadLetterConfig"]["arn"])
    assert len(dlqs) == 4


def test_queue_and_dlq_policies_let_only_their_rule_send(prod) -> None:
    policies = {p["name"]: prod.policy(p) for p in prod.of_type("aws:sqs/queuePolicy:QueuePolicy")}
    rule = prod.named("notifications-rule")["inputs"]["name"]
    rule_arn = f"arn:aws:events:us-east-1:123456789012:rule/orders-prod-events/{rule}"
    for name in ("notifications-queue-policy", "notifications-target-dlq-policy"):
        allow = [s for s in policies[name]["Statement"] if s["Effect"] == "Allow"]
        assert allow == [{"Sid": "FromItsRuleOnly", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                          "Action": "sqs:SendMessage", "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                          "Resource": allow[0]["Resource"]}]


def test_queue_targets_have_partial_batch_consumers_polling_within_their_reserved_concurrency(prod) -> None:
    mappings = by_name(prod, "aws:lambda/eventSourceMapping:EventSourceMapping")
    functions = by_name(prod, "aws:lambda/function:Function")
    assert len(mappings) == 6
    for name in ("notifications", "analytics", "high-value-review"):
        mapping = mappings[f"{name}-consumer-events"]
        assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
        reserved = functions[f"{name}-consumer"]["reservedConcurrentExecutions"]
        assert mapping["scalingConfig"]["maximumConcurrency"] <= max(2, reserved)


def lambda_target_fan_out(run_builder, **args):
    """A fan-out with one Lambda target (the reference system puts every subscriber behind a queue)."""
    def build(ctx, parent):
        import pulumi_aws as aws

        bus = aws.cloudwatch.EventBus("bus", name="bus", opts=ctx.options(parent))
        subscriber = Subscriber("review", contracts.pattern("OrderPlaced"), spec("high_value_review", "worker"),
                                target=LAMBDA)
        return FanOut("events", FanOutArgs(bus.name, [subscriber], stack=ctx, **args),
                      pulumi.ResourceOptions(parent=parent))

    return run_builder(build, "prod").template


def test_lambda_target_permission_scoped_to_its_rule_and_async_failures_kept(run_builder) -> None:
    template = lambda_target_fan_out(run_builder)
    permission = template.named("review-invoke")["inputs"]
    assert permission["principal"] == "events.amazonaws.com" and ":rule/" in permission["sourceArn"]
    config = template.named("review-async")["inputs"]
    assert config["destinationConfig"]["onFailure"]["destination"].endswith("-review-target-dlq")
    assert not template.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    alarms = by_name(template, "aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarms["review-rule-failed-invocations"]["metricName"] == "FailedInvocations"
    assert alarms["review-consumer-errors"]["alarmActions"]
    lost = {a["metricName"]: a for name, a in alarms.items() if name.startswith("review-consumer")}
    assert {"AsyncEventsDropped", "DestinationDeliveryFailures"} <= set(lost)  # async invocations can lose events
    assert lost["AsyncEventsDropped"]["treatMissingData"] == "notBreaching"


def test_alarms_per_rule_queue_and_consumer(prod) -> None:
    alarms = by_name(prod, "aws:cloudwatch/metricAlarm:MetricAlarm")
    for subscriber in ("fulfilment", "notifications", "analytics", "high-value-review"):
        failed = alarms[f"{subscriber}-rule-failed-invocations"]
        assert failed["metricName"] == "FailedInvocations" and failed["treatMissingData"] == "notBreaching"
        assert alarms[f"{subscriber}-rule-dlq-send-failures"]["metricName"] == "InvocationsFailedToBeSentToDlq"
    for subscriber in ("notifications", "analytics", "high-value-review"):  # fulfilment is a workflow (its own alarms)
        assert alarms[f"{subscriber}-consumer-errors"]["alarmActions"]
        assert alarms[f"{subscriber}-queue-age"] and alarms[f"{subscriber}-queue-dlq-depth"]


def test_topic_variant_tls_only_filtered_raw_redriven(run_builder) -> None:
    def build(ctx, parent):
        return TopicFanOut("orders-topic", TopicFanOutArgs([TopicSubscriber("eu", 30, {"region": ["eu"]}),
                                                            TopicSubscriber("all", 30)], stack=ctx),
                           pulumi.ResourceOptions(parent=parent))

    out = run_builder(build, "dev")
    topic = out.template.one("aws:sns/topic:Topic", {"name": "orders-dev-orders-topic"})
    deny = out.template.policy(out.template.named("orders-topic-policy"))["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    subscriptions = by_name(out.template, "aws:sns/topicSubscription:TopicSubscription")
    eu = subscriptions["orders-topic-eu-subscription"]
    assert eu["rawMessageDelivery"] is True and json.loads(eu["filterPolicy"]) == {"region": ["eu"]}
    assert json.loads(eu["redrivePolicy"])["deadLetterTargetArn"].endswith("orders-topic-eu-dlq")
    assert "filterPolicy" not in subscriptions["orders-topic-all-subscription"]
    alarms = {a["inputs"]["metricName"] for a in out.template.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert {"NumberOfNotificationsFailed", "NumberOfNotificationsFailedToRedriveToDlq"} <= alarms
    assert topic


@pytest.mark.parametrize(("subscribers", "message"), [
    ([Subscriber("a", contracts.pattern("OrderPaid"), spec("fulfilment", "worker"), target="sns")], "target"),
    ([Subscriber("a", contracts.pattern("OrderPaid"), spec("fulfilment", "worker"), target="workflow")], "workflow"),
    ([Subscriber("a", contracts.pattern("OrderPaid"))], "a consumer"),
    ([Subscriber("a", contracts.pattern("OrderPaid"), spec("fulfilment", "api"))], "worker"),
    ([Subscriber("a", {}, spec("fulfilment", "worker")), Subscriber("a", {}, spec("fulfilment", "worker"))],
     "unique"),
])
def test_bad_subscribers_are_refused(run_builder, subscribers, message) -> None:
    def build(ctx, parent):
        import pulumi_aws as aws

        bus = aws.cloudwatch.EventBus("bus", name="bus", opts=ctx.options(parent))
        return FanOut("events", FanOutArgs(bus.name, subscribers, stack=ctx), pulumi.ResourceOptions(parent=parent))

    with pytest.raises(FanOutConfigError, match=message):
        run_builder(build, "dev")
