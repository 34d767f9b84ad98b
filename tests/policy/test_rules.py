"""Each rule with a violating and a compliant input; the stacks pass with zero mandatory findings."""

from __future__ import annotations

import json

import pytest

from policy.rules import ERROR, Finding, check_resource, check_stack, evaluate, lambda_function_name

TLS_DENY = {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "x",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


FUNCTION = {"memorySize": 256, "timeout": 10, "tracingConfig": {"mode": "Active"}, "runtime": "python3.13"}
CASES = [
    ("L1", "aws:lambda/function:Function", {k: v for k, v in FUNCTION.items() if k != "memorySize"}, FUNCTION),
    ("L2", "aws:lambda/function:Function", {k: v for k, v in FUNCTION.items() if k != "timeout"}, FUNCTION),
    ("L3", "aws:lambda/function:Function", {**FUNCTION, "tracingConfig": {"mode": "PassThrough"}}, FUNCTION),
    ("L4", "aws:lambda/function:Function", {**FUNCTION, "runtime": "python3.9"}, FUNCTION),
    ("L7", "aws:iam/rolePolicy:RolePolicy",
     {"policy": policy({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"})},
     {"policy": policy({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"},
                       {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"})}),
    ("L7", "aws:iam/rolePolicy:RolePolicy",
     {"policy": policy({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"})},
     {"policy": policy({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "arn:aws:sqs:us-east-1:1:q"})}),
    ("L8", "aws:iam/role:Role", {"managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}, {}),
    ("L8", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
     {"policyArn": "arn:aws:iam::123456789012:policy/ours"}),
    ("L9", "aws:cloudwatch/logGroup:LogGroup", {"name": "/x"}, {"name": "/x", "retentionInDays": 14}),
    ("A1", "aws:apigatewayv2/stage:Stage", {"defaultRouteSettings": {}},
     {"accessLogSettings": {"destinationArn": "arn", "format": "{}"}}),
    ("A2", "aws:apigatewayv2/stage:Stage", {"accessLogSettings": {"destinationArn": "arn", "format": "$context.requestId"}},
     {"accessLogSettings": {"destinationArn": "arn", "format": json.dumps({"id": "$context.requestId"})}}),
    ("A4", "aws:apigatewayv2/stage:Stage", {"defaultRouteSettings": {"throttlingBurstLimit": 10}},
     {"defaultRouteSettings": {"throttlingBurstLimit": 10, "throttlingRateLimit": 5}}),
    ("A5", "aws:apigatewayv2/route:Route", {"routeKey": "GET /x", "authorizationType": "NONE"},
     {"routeKey": "GET /x", "authorizationType": "JWT"}),
    ("Q1", "aws:sqs/queue:Queue", {"name": "orders-dev-work", "sqsManagedSseEnabled": True},
     {"name": "orders-dev-work-dlq", "sqsManagedSseEnabled": True, "tags": {"queue-role": "dead-letter"}}),
    ("Q2", "aws:sqs/queue:Queue", {"name": "q-dlq"}, {"name": "q-dlq", "sqsManagedSseEnabled": True}),
    ("Q3", "aws:sqs/queuePolicy:QueuePolicy", {"policy": policy({"Effect": "Allow", "Action": "sqs:SendMessage"})},
     {"policy": policy(TLS_DENY)}),
    ("N1", "aws:sns/topicSubscription:TopicSubscription", {"protocol": "sqs"},
     {"protocol": "sqs", "redrivePolicy": "{}"}),
    ("N2", "aws:sns/topicPolicy:TopicPolicy", {"policy": policy()}, {"policy": policy(TLS_DENY)}),
    ("E1", "aws:cloudwatch/eventTarget:EventTarget", {"retryPolicy": {}},
     {"retryPolicy": {"maximumRetryAttempts": 3}, "deadLetterConfig": {"arn": "arn:dlq"}}),
    ("G5", "aws:cloudwatch/eventTarget:EventTarget", {"deadLetterConfig": {"arn": "arn:dlq"}},
     {"retryPolicy": {"maximumRetryAttempts": 3}, "deadLetterConfig": {"arn": "arn:dlq"}}),
    ("D1", "aws:dynamodb/table:Table", {"pointInTimeRecovery": {"enabled": False}}, {"pointInTimeRecovery": {"enabled": True}}),
    ("K1", "aws:kinesis/stream:Stream", {}, {"encryptionType": "KMS"}),
    ("L6", "aws:lambda/eventSourceMapping:EventSourceMapping",
     {"eventSourceArn": "arn:aws:kinesis:us-east-1:1:stream/s", "functionResponseTypes": ["ReportBatchItemFailures"]},
     {"eventSourceArn": "arn:aws:kinesis:us-east-1:1:stream/s", "functionResponseTypes": ["ReportBatchItemFailures"],
      "bisectBatchOnFunctionError": True, "maximumRetryAttempts": 5, "maximumRecordAgeInSeconds": 3600,
      "destinationConfig": {"onFailure": {"destinationArn": "arn:aws:sqs:us-east-1:1:f"}}}),
    ("G4", "aws:lambda/eventSourceMapping:EventSourceMapping", {"eventSourceArn": "arn:aws:sqs:us-east-1:1:q"},
     {"eventSourceArn": "arn:aws:sqs:us-east-1:1:q", "functionResponseTypes": ["ReportBatchItemFailures"]}),
    ("G8", "aws:lambda/permission:Permission", {"principal": "events.amazonaws.com"},
     {"principal": "events.amazonaws.com", "sourceArn": "arn:aws:events:us-east-1:1:rule/b/r"}),
    ("G8", "aws:lambda/functionUrl:FunctionUrl", {"authorizationType": "NONE"}, {"authorizationType": "AWS_IAM"}),
    ("G1", "aws:cloudwatch/metricAlarm:MetricAlarm", {"alarmActions": []}, {"alarmActions": ["arn:aws:sns:t"]}),
]


@pytest.mark.parametrize(("rule", "type_", "violating", "compliant"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_flags_the_violation_and_passes_the_fix(rule, type_, violating, compliant) -> None:
    assert rule in {f.rule for f in check_resource(type_, violating, "res")}
    assert rule not in {f.rule for f in check_resource(type_, compliant, "res")}


def test_findings_name_rule_resource_problem_and_fix() -> None:
    finding = check_resource("aws:kinesis/stream:Stream", {}, "urn:stream")[0]
    assert (finding.rule, finding.severity, finding.resource) == ("K1", ERROR, "urn:stream")
    assert finding.problem and finding.fix and "K1" in str(finding)


def test_values_unknown_at_preview_are_tolerated() -> None:
    unknown = {"memorySize": 128, "timeout": 3, "tracingConfig": {"mode": "[unknown]"}, "runtime": "[unknown]"}
    assert check_resource("aws:lambda/function:Function", unknown, "f") == []
    assert check_resource("aws:sqs/queuePolicy:QueuePolicy", {"policy": "[unknown]"}, "p") == []


def test_production_requires_deletion_protection() -> None:
    table = {"pointInTimeRecovery": {"enabled": True}, "deletionProtectionEnabled": False}
    assert "G9" in {f.rule for f in check_resource("aws:dynamodb/table:Table", table, "t", production=True)}
    assert "G9" not in {f.rule for f in check_resource("aws:dynamodb/table:Table", table, "t", production=False)}


def resource(type_: str, logical: str, **inputs) -> dict:
    return {"urn": f"urn:{logical}", "type": type_, "name": logical, "parent": None, "inputs": inputs}


def alarm(namespace: str, metric: str, **dimensions) -> dict:
    return resource("aws:cloudwatch/metricAlarm:MetricAlarm", f"{metric}-{dimensions}", namespace=namespace,
                    metricName=metric, dimensions=dimensions, alarmActions=["arn:t"])


def test_g1_functions_and_queues_need_their_alarms() -> None:
    function = resource("aws:lambda/function:Function", "f", name="fn")
    queue = resource("aws:sqs/queue:Queue", "q", name="work")
    dlq = resource("aws:sqs/queue:Queue", "d", name="work-dlq", tags={"queue-role": "dead-letter"})
    bare = {f.resource for f in check_stack([function, queue, dlq]) if f.rule == "G1"}
    assert bare == {"urn:f", "urn:q", "urn:d"}
    alarmed = [function, queue, dlq, alarm("AWS/Lambda", "Errors", FunctionName="fn"),
               alarm("AWS/Lambda", "Throttles", FunctionName="fn"),
               alarm("AWS/SQS", "ApproximateAgeOfOldestMessage", QueueName="work"),
               alarm("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName="work-dlq")]
    assert [f for f in check_stack(alarmed) if f.rule == "G1"] == []


def test_l5_async_invocations_need_an_on_failure_destination_and_l10_one_invoker() -> None:
    function = resource("aws:lambda/function:Function", "f", name="fn")
    by_events = resource("aws:lambda/permission:Permission", "p", function="fn", principal="events.amazonaws.com",
                         sourceArn="arn:rule")
    assert "L5" in {f.rule for f in check_stack([function, by_events])}
    config = resource("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "c", functionName="fn",
                      destinationConfig={"onFailure": {"destination": "arn:dlq"}})
    assert "L5" not in {f.rule for f in check_stack([function, by_events, config])}
    by_api = resource("aws:lambda/permission:Permission", "p2", function="fn", principal="apigateway.amazonaws.com",
                      sourceArn="arn:api")
    assert "L10" in {f.rule for f in check_stack([function, by_events, by_api, config])}


SIGNED = {"paymentsWebhookSecret": "whsec_" + "A" * 32}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_have_zero_mandatory_findings_once_prod_has_its_webhook_secret(synth_stack, stack) -> None:
    template = synth_stack(stack, secrets=SIGNED if stack == "prod" else None)
    errors = [str(f) for f in evaluate(template.resources, production=stack == "prod") if f.severity == ERROR]
    assert errors == []


def test_production_gaps_are_mandatory_findings(synth_stack) -> None:
    """P1: prod without its webhook signing secret; P2: prod with routes anyone may call."""
    unsigned = [f for f in evaluate(synth_stack("prod").resources, production=True) if f.severity == ERROR]
    assert [(f.rule, f.resource.rsplit("::", 1)[-1]) for f in unsigned] == [("P1", "payments-webhook-signing-secret")]
    opened = synth_stack("prod", {"apiJwtIssuer": "", "apiJwtAudience": [], "apiPublicInProduction": True},
                         secrets=SIGNED)
    public = sorted(f.problem for f in evaluate(opened.resources, production=True) if f.rule == "P2")
    assert public == [f"route '{key}' is public in production." for key in
                      ("GET /customers/{customerId}/orders", "GET /orders/{orderId}", "POST /orders",
                       "POST /orders/{orderId}/cancel")]  # the webhook route is verified by signature
    assert not [f for f in evaluate(synth_stack("dev").resources, production=False) if f.rule in ("P1", "P2")]


def test_the_cli_exits_non_zero_on_a_mandatory_finding(monkeypatch, capsys) -> None:
    from tools import policy

    monkeypatch.setattr(policy, "findings_for", lambda stack: check_resource("aws:kinesis/stream:Stream", {}, "s"))
    assert policy.main(["dev"]) == 1
    assert "K1" in capsys.readouterr().out
    monkeypatch.setattr(policy, "findings_for", lambda stack: [])
    assert policy.main(["dev"]) == 0


def test_e2_bus_policy_open_to_anyone() -> None:
    open_policy = {"policy": policy({"Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": "b"})}
    scoped = {"policy": policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                                "Action": "events:PutEvents", "Resource": "b"})}
    assert "E2" in {f.rule for f in check_resource("aws:cloudwatch/eventBusPolicy:EventBusPolicy", open_policy, "p")}
    assert check_resource("aws:cloudwatch/eventBusPolicy:EventBusPolicy", scoped, "p") == []


def test_g1_stream_consumers_rules_apis_and_schedules_need_their_alarms() -> None:
    mapping = resource("aws:lambda/eventSourceMapping:EventSourceMapping", "m", functionName="fn",
                       eventSourceArn="arn:aws:kinesis:us-east-1:1:stream/s")
    rule = resource("aws:cloudwatch/eventRule:EventRule", "r", name="rule", eventPattern="{}")
    api = resource("aws:apigatewayv2/api:Api", "a", name="api")
    schedule = resource("aws:scheduler/schedule:Schedule", "s", state="ENABLED", target={"arn": "arn:aws:lambda:us-east-1:1:function:job:live"})  # noqa: E501
    flagged = {f.resource for f in check_stack([mapping, rule, api, schedule]) if f.rule == "G1"}
    assert flagged == {"urn:m", "urn:r", "urn:a", "urn:s"}
    covered = [mapping, rule, api, schedule, alarm("AWS/Lambda", "IteratorAge", FunctionName="fn"),
               alarm("AWS/Events", "FailedInvocations", RuleName="rule"), alarm("AWS/ApiGateway", "5xx", ApiId="id"),
               {**alarm("AWS/Lambda", "Invocations", FunctionName="job"),
                "inputs": {**alarm("AWS/Lambda", "Invocations", FunctionName="job")["inputs"], "treatMissingData": "breaching"}}]
    assert [f for f in check_stack(covered) if f.rule == "G1"] == []
    disabled = resource("aws:scheduler/schedule:Schedule", "s2", state="DISABLED", target={"arn": "arn:aws:lambda:us-east-1:1:function:other"})  # noqa: E501
    assert not [f for f in check_stack([disabled]) if f.rule == "G1"]


def test_g2_visibility_and_g3_dlq_retention() -> None:
    function = resource("aws:lambda/function:Function", "f", name="fn", timeout=30)
    queue = resource("aws:sqs/queue:Queue", "q", name="work", visibilityTimeoutSeconds=60, messageRetentionSeconds=1209600,
                     redrivePolicy=json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:work-dlq"}))
    dlq = resource("aws:sqs/queue:Queue", "d", name="work-dlq", messageRetentionSeconds=345600,
                   tags={"queue-role": "dead-letter"})
    mapping = resource("aws:lambda/eventSourceMapping:EventSourceMapping", "m", functionName="fn",
                       eventSourceArn="arn:aws:sqs:us-east-1:1:work")
    rules = {f.rule for f in check_stack([function, queue, dlq, mapping])}
    assert {"G2", "G3"} <= rules
    fixed_queue = {**queue, "inputs": {**queue["inputs"], "visibilityTimeoutSeconds": 180}}
    fixed_dlq = {**dlq, "inputs": {**dlq["inputs"], "messageRetentionSeconds": 1209600}}
    assert not {"G2", "G3"} & {f.rule for f in check_stack([function, fixed_queue, fixed_dlq, mapping])}


def test_g6_alarm_topics_and_g7_required_tags() -> None:
    topic = resource("aws:sns/topic:Topic", "t", name="alerts", kmsMasterKeyId="alias/aws/sns")
    alarmed = {**alarm("AWS/Lambda", "Errors", FunctionName="fn"),
               "inputs": {**alarm("AWS/Lambda", "Errors", FunctionName="fn")["inputs"],
                          "alarmActions": ["arn:aws:sns:us-east-1:1:alerts"]}}
    assert "G6" in {f.rule for f in check_stack([topic, alarmed])}
    cmk = {**topic, "inputs": {**topic["inputs"], "kmsMasterKeyId": "arn:aws:kms:us-east-1:1:key/k"}}
    assert "G6" not in {f.rule for f in check_stack([cmk, alarmed])}
    bare = resource("pulumi:providers:aws", "p", defaultTags=json.dumps({"tags": {"environment": "dev"}}))
    tagged = resource("pulumi:providers:aws", "p", defaultTags=json.dumps(
        {"tags": {"environment": "dev", "service": "s", "owner": "o", "cost-center": "c"}}))
    assert "G7" in {f.rule for f in check_stack([bare])} and "G7" not in {f.rule for f in check_stack([tagged])}


def test_g2_sqs_consumers_poll_within_their_reserved_concurrency() -> None:
    function = resource("aws:lambda/function:Function", "f", name="fn", timeout=10, reservedConcurrentExecutions=5)
    queue = resource("aws:sqs/queue:Queue", "q", name="work", visibilityTimeoutSeconds=60)
    unbounded = resource("aws:lambda/eventSourceMapping:EventSourceMapping", "m", functionName="fn",
                         eventSourceArn="arn:aws:sqs:us-east-1:1:work")
    assert "G2" in {f.rule for f in check_stack([function, queue, unbounded])}
    bounded = {**unbounded, "inputs": {**unbounded["inputs"], "scalingConfig": {"maximumConcurrency": 5}}}
    assert "G2" not in {f.rule for f in check_stack([function, queue, bounded])}


def test_the_policy_and_the_grant_check_agree_on_star_only_actions() -> None:
    from components.core.iam import ACTIONS_WITHOUT_RESOURCE_TYPES as GRANTS
    from policy.rules import ACTIONS_WITHOUT_RESOURCE_TYPES as RULES

    assert GRANTS == RULES


def test_g9_checks_protect_from_the_synth_options(synth_stack) -> None:
    template = synth_stack("prod")
    assert not [f for f in evaluate(template.resources, production=True) if f.rule == "G9"]
    unprotected = [{**r, "options": {**r["options"], "protect": False}} if r["type"] == "aws:dynamodb/table:Table"
                   else r for r in template.resources]
    found = [f for f in evaluate(unprotected, production=True) if f.rule == "G9"]
    assert len(found) == len(template.of_type("aws:dynamodb/table:Table")) >= 3
    assert all("protect" in f.problem for f in found)


def test_the_policy_and_the_builders_agree_on_their_markers_and_lists() -> None:
    """The policy pack runs in its own venv without the library, so it keeps twins of these; they must not drift."""
    from components.core.alarms import COMPOSITE_INPUT_TAG as ALARMS
    from components.core.defaults import SUPPORTED_RUNTIMES as RUNTIMES
    from components.core.http_api import AUTHENTICATED_BY as ROUTES
    from components.core.iam import ACTIONS_WITHOUT_RESOURCE_TYPES as UNSCOPED
    from components.core.queue import DEAD_LETTER_TAG as DLQ
    from policy.rules import (
        ACTIONS_WITHOUT_RESOURCE_TYPES,
        AUTHENTICATED_BY,
        COMPOSITE_INPUT_TAG,
        DEAD_LETTER_TAG,
        SUPPORTED_RUNTIMES,
    )

    assert (ROUTES, ALARMS, DLQ, RUNTIMES) == (AUTHENTICATED_BY, COMPOSITE_INPUT_TAG, DEAD_LETTER_TAG, SUPPORTED_RUNTIMES)
    assert UNSCOPED <= ACTIONS_WITHOUT_RESOURCE_TYPES


def test_a_dead_letter_queue_is_known_by_its_tag_not_its_name(synth_stack) -> None:
    from policy.rules import evaluate

    template = synth_stack("dev")
    assert not [f for f in evaluate(template.resources, production=False) if f.rule == "Q1"]
    untagged = json.loads(json.dumps(template.resources))
    dlqs = [r for r in untagged if r["type"] == "aws:sqs/queue:Queue" and "redrivePolicy" not in r["inputs"]]
    assert len(dlqs) >= 8
    for queue in dlqs:
        queue["inputs"].pop("tags")
    assert len([f for f in evaluate(untagged, production=False) if f.rule == "Q1"]) == len(dlqs)


def test_the_stacks_advisory_findings_are_exactly_the_known_ones(synth_stack) -> None:
    """Not only "0 mandatory": dev's advisories are its public order routes (A5) and its tables without
    point-in-time recovery (D1), by design; prod has none. A new advisory shows up here."""
    from policy.rules import ERROR, evaluate

    def advisories(template, production: bool) -> list[tuple[str, str]]:
        return sorted((f.rule, f.resource.rsplit("::", 1)[-1]) for f in evaluate(template.resources, production=production)
                      if f.severity != ERROR)

    assert advisories(synth_stack("dev"), False) == [
        ("A5", "api-orders-get-customers-customerId-orders"), ("A5", "api-orders-get-orders-orderId"),
        ("A5", "api-orders-post-orders"), ("A5", "api-orders-post-orders-orderId-cancel"),
        ("D1", "activity-activity-aggregates"), ("D1", "api-orders"), ("D1", "api-orders-idempotency"),
        ("D1", "payments-webhook-idempotency")]
    assert advisories(synth_stack("prod", secrets=SIGNED), True) == []


KINESIS_MAPPING = {"eventSourceArn": "arn:aws:kinesis:us-east-1:1:stream/s", "bisectBatchOnFunctionError": True,
                   "maximumRetryAttempts": 0, "maximumRecordAgeInSeconds": 60,
                   "destinationConfig": {"onFailure": {"destinationArn": "arn:aws:sqs:us-east-1:1:f"}}}


@pytest.mark.parametrize(("change", "problem"), [
    ({"destinationConfig": None}, "no on-failure destination"),
    ({"destinationConfig": {"onFailure": {}}}, "no on-failure destination"),
    ({"bisectBatchOnFunctionError": False}, "no bisect on error"),
    ({"maximumRetryAttempts": None}, "unbounded retries"),
    ({"maximumRetryAttempts": -1}, "unbounded retries"),
    ({"maximumRecordAgeInSeconds": None}, "unbounded record age"),
    ({"maximumRecordAgeInSeconds": -1}, "unbounded record age"),
])
def test_l6_names_each_missing_stream_safeguard(change, problem) -> None:
    from policy.rules import _stream_mapping

    assert _stream_mapping(KINESIS_MAPPING) is None  # zero retries and a minute's age are bounded
    broken = {k: v for k, v in {**KINESIS_MAPPING, **change}.items() if v is not None}
    assert _stream_mapping(broken) == f"stream mapping has {problem}."
    sqs = {**broken, "eventSourceArn": "arn:aws:sqs:us-east-1:1:q"}
    assert _stream_mapping(sqs) is None  # SQS mappings have no such settings


def test_l10_is_one_warning_per_function_with_several_invokers() -> None:
    from policy.rules import WARNING

    function = resource("aws:lambda/function:Function", "f", name="fn")
    other = resource("aws:lambda/function:Function", "g", name="other")
    by_events = resource("aws:lambda/permission:Permission", "p", function="fn", principal="events.amazonaws.com",
                         sourceArn="arn:rule")
    again = resource("aws:lambda/permission:Permission", "p1", function="fn", principal="events.amazonaws.com",
                     sourceArn="arn:rule2")
    by_api = resource("aws:lambda/permission:Permission", "p2", function="fn", principal="apigateway.amazonaws.com",
                      sourceArn="arn:api")
    assert [f for f in check_stack([function, other, by_events, again]) if f.rule == "L10"] == []
    found = [f for f in check_stack([function, other, by_events, again, by_api]) if f.rule == "L10"]
    assert [(f.resource, f.severity, f.problem) for f in found] == [
        ("urn:f", WARNING, "is invoked by several principals ['apigateway.amazonaws.com', 'events.amazonaws.com'].")]


def sized(visibility: int = 180, timeout: int = 30, reserved: int | None = None, ceiling: int | None = None,
          source_retention: int | None = 345600, dlq_retention: int | None = 1209600) -> list:
    """A queue + DLQ drained by one function, as check_stack sees them; G2/G3 findings as tuples."""
    from policy.rules import check_stack

    queue_inputs = {"name": "work", "visibilityTimeoutSeconds": visibility,
                    "redrivePolicy": json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:work-dlq"})}
    if source_retention is not None:
        queue_inputs["messageRetentionSeconds"] = source_retention
    dlq_inputs = {"name": "work-dlq", "tags": {"queue-role": "dead-letter"}}
    if dlq_retention is not None:
        dlq_inputs["messageRetentionSeconds"] = dlq_retention
    function_inputs = {"name": "fn", "timeout": timeout}
    if reserved is not None:
        function_inputs["reservedConcurrentExecutions"] = reserved
    mapping_inputs = {"eventSourceArn": "arn:aws:sqs:us-east-1:1:work", "functionName": "arn:aws:lambda:us-east-1:1:function:fn",
                      "functionResponseTypes": ["ReportBatchItemFailures"]}
    if ceiling is not None:
        mapping_inputs["scalingConfig"] = {"maximumConcurrency": ceiling}
    resources = [resource("aws:sqs/queue:Queue", "q", **queue_inputs), resource("aws:sqs/queue:Queue", "d", **dlq_inputs),
                 resource("aws:lambda/function:Function", "f", **function_inputs),
                 resource("aws:lambda/eventSourceMapping:EventSourceMapping", "m", **mapping_inputs)]
    return [(f.rule, f.resource, f.problem) for f in check_stack(resources) if f.rule in ("G2", "G3")]


def test_g2_visibility_at_six_times_the_consumer_timeout_and_not_below() -> None:
    assert sized(visibility=180, timeout=30) == []
    assert sized(visibility=179, timeout=30) == [
        ("G2", "urn:q", "visibility timeout 179 s is below 6 x its consumer's 30 s timeout.")]
    assert sized(visibility=17, timeout=3)  # without a timeout Lambda's default is 3 s
    assert sized(visibility=18, timeout=3) == []


def test_g2_polling_within_the_reserved_concurrency() -> None:
    assert sized(reserved=None, ceiling=None) == [] and sized(reserved=0, ceiling=None) == []
    assert sized(reserved=5, ceiling=5) == [] and sized(reserved=1, ceiling=2) == []  # SQS's floor is 2
    assert sized(reserved=5, ceiling=6) == [("G2", "urn:m", "polls with more concurrency (6) than the consumer's "
                                                             "reserved 5: throttled batches burn receive counts.")]
    assert sized(reserved=5, ceiling=None) == [("G2", "urn:m", "polls with more concurrency (unbounded) than the "
                                                                "consumer's reserved 5: throttled batches burn receive counts.")]


def test_g3_a_dlq_keeps_messages_at_least_as_long_as_its_source() -> None:
    assert sized(source_retention=1209600, dlq_retention=1209600) == []
    assert sized(source_retention=1209600, dlq_retention=1209599) == [
        ("G3", "urn:d", "keeps messages for less time than its source queue.")]
    assert sized(source_retention=None, dlq_retention=345600) == []  # SQS's default is 4 days on both
    assert sized(source_retention=345601, dlq_retention=None) == [
        ("G3", "urn:d", "keeps messages for less time than its source queue.")]


def g1(*resources: dict) -> list[tuple[str, str]]:
    from policy.rules import check_stack

    return [(f.resource, f.problem) for f in check_stack(list(resources)) if f.rule == "G1"
            and not f.resource.startswith(("urn:fn", "urn:alarm"))]


def test_g1_stream_consumers_need_an_iterator_age_alarm() -> None:
    function = resource("aws:lambda/function:Function", "fn", name="fn")
    kinesis = resource("aws:lambda/eventSourceMapping:EventSourceMapping", "m", functionName="fn",
                       eventSourceArn="arn:aws:kinesis:us-east-1:1:stream/s")
    table = resource("aws:lambda/eventSourceMapping:EventSourceMapping", "t", functionName="arn:aws:lambda:x:1:function:fn",
                     eventSourceArn="arn:aws:dynamodb:us-east-1:1:table/o/stream/2026")
    sqs = resource("aws:lambda/eventSourceMapping:EventSourceMapping", "s", functionName="fn",
                   eventSourceArn="arn:aws:sqs:us-east-1:1:q")
    missing = "stream consumer has no iterator-age alarm."
    assert g1(function, kinesis, table, sqs) == [("urn:m", missing), ("urn:t", missing)]
    iterator = resource("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm-i", namespace="AWS/Lambda", metricName="IteratorAge",
                        dimensions={"FunctionName": "fn"}, alarmActions=["arn:t"])
    assert g1(function, kinesis, table, sqs, iterator) == []


def test_g1_rules_apis_and_enabled_schedules_need_their_alarms() -> None:
    rule = resource("aws:cloudwatch/eventRule:EventRule", "r", name="orders-paid", eventPattern="{}")
    scheduled_rule = resource("aws:cloudwatch/eventRule:EventRule", "cron", name="cron", scheduleExpression="rate(1 hour)")
    api = resource("aws:apigatewayv2/api:Api", "api", name="orders")
    schedule = resource("aws:scheduler/schedule:Schedule", "job", state="ENABLED",
                        target={"arn": "arn:aws:lambda:us-east-1:1:function:job"})
    off = resource("aws:scheduler/schedule:Schedule", "off", state="DISABLED", target={"arn": "arn:aws:lambda:x:1:function:off"})
    assert g1(rule, scheduled_rule, api, schedule, off) == [
        ("urn:r", "rule has no FailedInvocations alarm."), ("urn:api", "HTTP API has no 5xx alarm."),
        ("urn:job", "schedule has no 'did not run' alarm.")]
    alarms = [
        resource("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm-r", namespace="AWS/Events", metricName="FailedInvocations",
                 dimensions={"RuleName": "orders-paid"}, alarmActions=["arn:t"]),
        resource("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm-a", namespace="AWS/ApiGateway", metricName="5xx",
                 dimensions={"ApiId": "abc"}, alarmActions=["arn:t"]),
        resource("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm-j", namespace="AWS/Lambda", metricName="Invocations",
                 dimensions={"FunctionName": "job"}, treatMissingData="breaching", alarmActions=["arn:t"]),
    ]
    assert g1(rule, scheduled_rule, api, schedule, off, *alarms) == []
    quiet = {**alarms[2], "inputs": {**alarms[2]["inputs"], "treatMissingData": "notBreaching"}}
    assert g1(schedule, quiet) == [("urn:job", "schedule has no 'did not run' alarm.")]


@pytest.mark.parametrize(("reference", "name"), [
    ("orders-prod-x", "orders-prod-x"),
    ("orders-prod-x:live", "orders-prod-x"),
    ("arn:aws:lambda:us-east-1:123456789012:function:orders-prod-x", "orders-prod-x"),
    ("arn:aws:lambda:us-east-1:123456789012:function:orders-prod-x:live", "orders-prod-x"),
    ("arn:aws:lambda:us-east-1:123456789012:function:orders-prod-x:7", "orders-prod-x"),
    (None, ""),
])
def test_a_function_is_found_by_name_whatever_form_lambda_accepts(reference, name) -> None:
    # Lambda's FunctionName accepts a name, name:qualifier, or an ARN with or without the qualifier
    # (botocore lambda model, CreateEventSourceMapping.FunctionName); mappings on the live alias use the last.
    assert lambda_function_name(reference) == name


def test_a_mapping_on_the_alias_is_checked_like_one_on_the_function() -> None:
    queue = resource("aws:sqs/queue:Queue", "q", name="work", visibilityTimeoutSeconds=30)
    function = resource("aws:lambda/function:Function", "f", name="fn", timeout=20, reservedConcurrentExecutions=2)
    mapping = resource("aws:lambda/eventSourceMapping:EventSourceMapping", "m",
                       functionName="arn:aws:lambda:us-east-1:1:function:fn:live",
                       eventSourceArn="arn:aws:sqs:us-east-1:1:work")
    assert {f.rule for f in check_stack([queue, function, mapping])} >= {"G2"}


def _gradual_stack(config: str = "CodeDeployDefault.LambdaCanary10Percent5Minutes", alarms: list[str] | None = None,
                   enabled: bool = True, deployed: bool = True) -> list[dict]:
    stack = [resource("aws:lambda/alias:Alias", "a", functionName="fn", name="live", functionVersion="1"),
             resource("aws:codedeploy/deploymentGroup:DeploymentGroup", "g", deploymentGroupName="fn",
                      deploymentConfigName=config,
                      alarmConfiguration={"enabled": enabled, "alarms": ["fn-errors"] if alarms is None else alarms})]
    if deployed:
        stack.append(resource("pulumi-python:dynamic/rollout:GradualDeployment", "d", function_name="fn", alias="live",
                              deployment_group="fn"))
    return stack


P3_FIX = ("set <class>Deployment to a canary or linear configuration (the component adds the function's alarms as "
          "rollback alarms).")


@pytest.mark.parametrize(("stack", "problem"), [
    (_gradual_stack(deployed=False),
     "alias 'live' of fn has no gradual deployment: new code takes all traffic at once, with nothing to roll it back."),
    (_gradual_stack("CodeDeployDefault.LambdaAllAtOnce"), "alias 'live' of fn deploys all at once "
                                                         "(CodeDeployDefault.LambdaAllAtOnce)."),
    (_gradual_stack(alarms=[]), "alias 'live' of fn deploys gradually but no alarm can stop the deployment."),
    (_gradual_stack(enabled=False), "alias 'live' of fn deploys gradually but no alarm can stop the deployment."),
])
def test_p3_production_aliases_need_a_gradual_deployment_stopped_by_an_alarm(stack, problem) -> None:
    assert [f for f in check_stack(stack, production=True) if f.rule == "P3"] == [
        Finding("P3", ERROR, "urn:a", problem, P3_FIX)]
    assert [f for f in check_stack(stack) if f.rule == "P3"] == []  # dev may deploy at once


def test_p3_is_satisfied_by_a_canary_with_one_alarm_on_the_same_alias() -> None:
    assert [f for f in check_stack(_gradual_stack(), production=True) if f.rule == "P3"] == []
    other_alias = _gradual_stack()
    other_alias[2] = {**other_alias[2], "inputs": {**other_alias[2]["inputs"], "alias": "beta"}}
    assert [f.rule for f in check_stack(other_alias, production=True) if f.rule == "P3"] == ["P3"]
