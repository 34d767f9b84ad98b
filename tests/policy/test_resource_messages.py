"""Each per-resource rule's finding word for word (problem and fix), and the inputs at the edge of
each check: what the plan report, the CrossGuard pack and a reviewer read is the contract."""

from __future__ import annotations

import json

import pytest

from policy.rules import ERROR, UNKNOWN, WARNING, Finding, check_resource

FN, LOGS, STAGE = "aws:lambda/function:Function", "aws:cloudwatch/logGroup:LogGroup", "aws:apigatewayv2/stage:Stage"
ROUTE, QUEUE, QUEUE_POLICY = "aws:apigatewayv2/route:Route", "aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy"
MAPPING, PERMISSION = "aws:lambda/eventSourceMapping:EventSourceMapping", "aws:lambda/permission:Permission"
SUBSCRIPTION, BUS_POLICY = "aws:sns/topicSubscription:TopicSubscription", "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
TABLE, ROLE_POLICY = "aws:dynamodb/table:Table", "aws:iam/rolePolicy:RolePolicy"
GOOD_FN = {"memorySize": 256, "timeout": 10, "tracingConfig": {"mode": "Active"}, "runtime": "python3.13"}


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def found(type_: str, inputs: dict, production: bool = False, options: dict | None = None) -> list[tuple]:
    return [(f.rule, f.severity, f.problem, f.fix) for f in check_resource(type_, inputs, "urn:x", production, options)]


def test_a_function_missing_everything_gets_each_finding_word_for_word() -> None:
    assert found(FN, {"runtime": "python3.9", "tracingConfig": {"mode": "PassThrough"}}) == [
        ("L1", ERROR, "memory is not set (Lambda's 128 MB default).", "set memory_size from a profile."),
        ("L2", ERROR, "timeout is not set (Lambda's 3 s default).", "set timeout from a profile."),
        ("L3", WARNING, "X-Ray tracing is PassThrough, not Active.", "tracing_config mode Active."),
        ("L4", ERROR, "runtime 'python3.9' is not a current python runtime.", "use python3.13 (settings.runtime)."),
    ]
    assert found(FN, {**GOOD_FN, "tracingConfig": {"mode": ""}})[0][2] == "X-Ray tracing is off, not Active."
    assert found(FN, GOOD_FN) == [] and found(FN, {**GOOD_FN, "runtime": "python3.9", "packageType": "Image"}) == []
    assert found(FN, {**GOOD_FN, "runtime": UNKNOWN, "tracingConfig": {"mode": UNKNOWN}}) == []


@pytest.mark.parametrize(("inputs", "problem"), [
    ({"name": "/x"}, "has no retention: logs are kept (and billed) forever."),
    ({"name": "/x", "retentionInDays": 0}, "has no retention: logs are kept (and billed) forever."),
    ({"name": "/x", "retentionInDays": 3654}, "retention 3654 days exceeds ten years."),
    ({"name": "/x", "retentionInDays": 3653}, None),
    ({"name": "/x", "retentionInDays": 1}, None),
    ({"name": "/x", "retentionInDays": UNKNOWN}, None),  # known at deploy time
])
def test_log_retention_between_a_day_and_ten_years(inputs, problem) -> None:
    expected = [("L9", WARNING, problem, "set retention_in_days from settings.")] if problem else []
    assert found(LOGS, inputs) == expected


def test_a_stage_without_logs_or_throttling() -> None:
    assert found(STAGE, {"accessLogSettings": {"destinationArn": "arn"}, "defaultRouteSettings": {"throttlingRateLimit": 5}}) == [
        ("A1", ERROR, "has no access logging (destination and format).", "access_log_settings with a log group and a format."),
        ("A4", ERROR, "has no default route throttling (burst and rate).", "default_route_settings with burst and rate limits."),
    ]
    good = {"accessLogSettings": {"destinationArn": "arn", "format": json.dumps({"id": "$context.requestId"})},
            "defaultRouteSettings": {"throttlingBurstLimit": 10, "throttlingRateLimit": 5}}
    assert found(STAGE, good) == []
    assert found(STAGE, {**good, "accessLogSettings": {"destinationArn": "arn", "format": "$context.requestId"}}) == [
        ("A2", WARNING, "access-log format is not JSON.", "use a JSON access-log format.")]
    assert found(STAGE, {**good, "accessLogSettings": {"destinationArn": "arn", "format": UNKNOWN}}) == []


def test_routes_need_an_authorizer_unless_they_authenticate_callers_themselves() -> None:
    fix = "attach the JWT authorizer (apiJwtIssuer) or keep it public deliberately."
    assert found(ROUTE, {"routeKey": "GET /x"}) == [("A5", WARNING, "route 'GET /x' has no authorizer.", fix)]
    assert found(ROUTE, {"routeKey": "GET /x", "authorizationType": "NONE", "operationName": "authenticated by hmac"}) == []
    assert found(ROUTE, {"routeKey": "GET /x", "operationName": "public by choice"}) == [
        ("A5", WARNING, "route 'GET /x' has no authorizer.", fix)]
    assert found(ROUTE, {"routeKey": "GET /x", "authorizationType": "JWT"}) == []


def test_queues_and_their_policies() -> None:
    assert found(QUEUE, {"name": "q"}) == [
        ("Q1", ERROR, "has no redrive policy (dead-letter queue).", "build queues with the queue builder."),
        ("Q2", ERROR, "is not encrypted (SSE-SQS or KMS).", "sqs_managed_sse_enabled=True."),
    ]
    assert found(QUEUE, {"name": "q", "kmsMasterKeyId": "alias/k", "redrivePolicy": "{}"}) == []
    assert found(QUEUE, {"name": "q", "sqsManagedSseEnabled": True, "tags": {"queue-role": "other"}})[0][0] == "Q1"
    deny = {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "x",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    no_tls = ("Q3", ERROR, "does not deny requests that are not over TLS (aws:SecureTransport false).",
              "add the aws:SecureTransport deny statement.")
    assert found(QUEUE_POLICY, {"policy": policy({**deny, "Effect": "Allow"})}) == [no_tls]
    assert found(QUEUE_POLICY, {"policy": policy({**deny, "Condition": {"Bool": {"aws:SecureTransport": "true"}}})}) == [no_tls]
    assert found(QUEUE_POLICY, {"policy": policy({**deny, "Condition": {"Bool": {"aws:SecureTransport": False}}})}) == []
    assert found(QUEUE_POLICY, {"policy": json.dumps({"Statement": deny})}) == []  # one statement, not a list
    assert found(QUEUE_POLICY, {"policy": "not json"}) == [no_tls] and found(QUEUE_POLICY, {"policy": UNKNOWN}) == []


@pytest.mark.parametrize("protocol", ["email", "email-json", "https", "http", "sms"])
def test_subscriptions_of_people_and_endpoints_need_no_redrive(protocol) -> None:
    assert found(SUBSCRIPTION, {"protocol": protocol}) == []


def test_queue_and_function_subscriptions_need_a_redrive_policy() -> None:
    problem = ("N1", ERROR, "has no redrive policy (dead-letter queue).", "redrive_policy with a dead-letter queue.")
    assert found(SUBSCRIPTION, {"protocol": "sqs"}) == [problem] == found(SUBSCRIPTION, {"protocol": "lambda"})
    assert found(SUBSCRIPTION, {"protocol": "sqs", "redrivePolicy": "{}"}) == []


def test_stream_mappings_list_every_missing_safeguard() -> None:
    kinesis = {"eventSourceArn": "arn:aws:kinesis:us-east-1:1:stream/s", "functionResponseTypes": ["ReportBatchItemFailures"]}
    assert found(MAPPING, {**kinesis, "maximumRetryAttempts": -1, "maximumRecordAgeInSeconds": -1}) == [
        ("L6", ERROR, "stream mapping has no on-failure destination, no bisect on error, unbounded retries, unbounded "
                      "record age.", "build stream processors with the StreamProcessor component.")]
    safe = {**kinesis, "destinationConfig": {"onFailure": {"destinationArn": "arn:q"}}, "bisectBatchOnFunctionError": True,
            "maximumRetryAttempts": 0, "maximumRecordAgeInSeconds": 0}
    assert found(MAPPING, safe) == []
    assert found(MAPPING, {"eventSourceArn": UNKNOWN, "functionResponseTypes": ["ReportBatchItemFailures"]}) == []
    assert found(MAPPING, {"eventSourceArn": "arn:aws:sqs:us-east-1:1:q"}) == [
        ("G4", ERROR, "does not report batch item failures: one bad record retries the whole batch.",
         "function_response_types ['ReportBatchItemFailures'].")]


def test_permissions_urls_buses_and_tables() -> None:
    assert found(PERMISSION, {"principal": "sns.amazonaws.com"}) == [
        ("G8", ERROR, "lets sns.amazonaws.com invoke without a source ARN or account.",
         "set source_arn to the invoking rule, API or topic.")]
    assert found(PERMISSION, {"principal": "s3.amazonaws.com", "sourceAccount": "1"}) == []
    assert found("aws:lambda/functionUrl:FunctionUrl", {"authorizationType": "NONE"}) == [
        ("G8", ERROR, "is a function URL with auth NONE.", "use AWS_IAM or put an API in front.")]
    assert found("aws:lambda/functionUrl:FunctionUrl", {"authorizationType": "AWS_IAM"}) == []
    open_to = ("E2", ERROR, "lets anyone put events on the bus.", "name the accounts or add an aws:PrincipalOrgID condition.")
    allow = {"Effect": "Allow", "Action": "events:PutEvents", "Resource": "arn:bus"}
    assert found(BUS_POLICY, {"policy": policy({**allow, "Principal": "*"})}) == [open_to]
    assert found(BUS_POLICY, {"policy": policy({**allow, "Principal": {"AWS": "*"}})}) == [open_to]
    assert found(BUS_POLICY, {"policy": policy({**allow, "Principal": {"AWS": "*"},
                                                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o"}}})}) == []
    assert found(BUS_POLICY, {"policy": policy({**allow, "Principal": {"AWS": "arn:aws:iam::1:root"}})}) == []
    assert found(BUS_POLICY, {"policy": policy({**allow, "Effect": "Deny", "Principal": "*"})}) == []
    assert found(TABLE, {"pointInTimeRecovery": {"enabled": True}}, production=True, options={}) == [
        ("G9", ERROR, "deletion protection is off. the resource is not `protect`ed: a replacement would delete its data.",
         "dynamodbDeletionProtection: true (the table builder then also sets protect).")]
    assert found(TABLE, {"pointInTimeRecovery": {"enabled": True}, "deletionProtectionEnabled": True},
                 production=True, options={"protect": True}) == []
    assert found(TABLE, {}) == [("D1", WARNING, "point-in-time recovery is off.", "dynamodbPointInTimeRecovery: true.")]


def test_role_policies_name_actions_and_resources() -> None:
    fix = "name each action and the resources it needs."
    assert found(ROLE_POLICY, {"policy": policy({"Effect": "Allow", "Action": "*", "Resource": "arn:x"})}) == [
        ("L7", ERROR, "allows wildcard actions ['*'].", fix)]
    assert found(ROLE_POLICY, {"policy": policy({"Effect": "Allow", "Action": ["sqs:SendMessage", "dynamodb:GetItem"],
                                                 "Resource": ["arn:q", "*"]})}) == [
        ("L7", ERROR, "allows ['sqs:SendMessage', 'dynamodb:GetItem'] on every resource ('*').", fix)]
    assert found(ROLE_POLICY, {"policy": policy({"Effect": "Deny", "Action": "*", "Resource": "*"},
                                                {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"})}) == []
    assert found("aws:iam/role:Role", {"managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}) == [
        ("L8", ERROR, "attaches AWS-managed policies ['arn:aws:iam::aws:policy/ReadOnlyAccess'].",
         "grant inline, least privilege.")]


def test_a_finding_prints_as_the_plan_shows_it() -> None:
    finding = Finding("G1", ERROR, "urn:x", "queue has no oldest-message-age alarm.", "build queues with the queue builder.")
    assert str(finding) == "[error] G1 urn:x: queue has no oldest-message-age alarm. Fix: build queues with the queue builder."
