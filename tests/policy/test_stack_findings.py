"""Stack-level findings pinned whole (rule, severity, resource, problem, fix), for one stack that
breaks every stack rule at once and for the boundaries of their defaults. The expected findings are
written out here: a changed message, severity or fix is a changed contract with the plan report and
the CrossGuard pack."""

from __future__ import annotations

import json

from policy.rules import AUTHENTICATED_BY, ERROR, WARNING, Finding, check_stack, evaluate

ARN = "arn:aws:{}:us-east-1:123456789012:{}"


def res(type_: str, logical: str, urn: str | None = None, **inputs) -> dict:
    return {"type": type_, "name": logical, "urn": urn or f"urn:{logical}", "inputs": inputs, "options": {}}


def alarm(name: str, namespace: str, metric: str, dimensions: dict | None = None, **extra) -> dict:
    inputs = {"name": name, "namespace": namespace, "metricName": metric, **extra}
    if dimensions is not None:
        inputs["dimensions"] = dimensions
    return res("aws:cloudwatch/metricAlarm:MetricAlarm", name, **inputs)


def broken_stack() -> list[dict]:
    """Every stack-level rule broken once; the alarms that exist have no dimensions or the wrong ones."""
    return [
        res("pulumi:providers:aws", "aws", defaultTags=json.dumps({"tags": {"owner": "team", "service": ""}})),
        res("aws:lambda/function:Function", "worker", name="worker", timeout=10, reservedConcurrentExecutions=3),
        res("aws:sqs/queue:Queue", "work", name="work", visibilityTimeoutSeconds=30, messageRetentionSeconds=1209600,
            redrivePolicy=json.dumps({"deadLetterTargetArn": ARN.format("sqs", "work-dlq"), "maxReceiveCount": 5})),
        res("aws:sqs/queue:Queue", "work-dlq", name="work-dlq", tags={"queue-role": "dead-letter"},
            messageRetentionSeconds=345600),
        res("aws:lambda/eventSourceMapping:EventSourceMapping", "work-events", eventSourceArn=ARN.format("sqs", "work"),
            functionName=ARN.format("lambda", "function:worker"), scalingConfig={"maximumConcurrency": 5}),
        res("aws:lambda/eventSourceMapping:EventSourceMapping", "stream-events",
            eventSourceArn=ARN.format("kinesis", "stream/s"), functionName="worker"),
        res("aws:cloudwatch/eventRule:EventRule", "rule", name="rule", eventPattern="{}"),
        res("aws:cloudwatch/eventRule:EventRule", "cron", name="cron", scheduleExpression="rate(1 hour)"),
        res("aws:apigatewayv2/api:Api", "api", name="api"),
        res("aws:scheduler/schedule:Schedule", "job", name="job", target={"arn": ARN.format("lambda", "function:worker")}),
        res("aws:scheduler/schedule:Schedule", "off", name="off", state="DISABLED",
            target={"arn": ARN.format("lambda", "function:worker")}),
        res("aws:sns/topic:Topic", "alerts", name="alerts", kmsMasterKeyId="alias/aws/sns"),
        res("aws:sns/topic:Topic", "quiet", name="quiet", kmsMasterKeyId="alias/aws/sns"),
        alarm("no-dimensions-5xx", "AWS/ApiGateway", "5xx", alarmActions=[ARN.format("sns", "alerts")]),
        alarm("heartbeat-without-dimensions", "AWS/Lambda", "Invocations", treatMissingData="breaching"),
        res("aws:lambda/permission:Permission", "from-events", function="worker", principal="events.amazonaws.com"),
        res("aws:lambda/permission:Permission", "from-api", function=ARN.format("lambda", "function:worker"),
            principal="apigateway.amazonaws.com"),
        res("aws:secretsmanager/secret:Secret", "signing", urn="urn:WebhookIngestion$aws:secretsmanager/secret:Secret::s",
            name="signing-secret"),
        res("aws:secretsmanager/secret:Secret", "other", urn="urn:Other$secret::o", name="other-secret"),
        res("aws:apigatewayv2/route:Route", "open", routeKey="GET /orders"),
        res("aws:apigatewayv2/route:Route", "hook", routeKey="POST /hook", authorizationType="NONE",
            operationName=f"{AUTHENTICATED_BY} standard webhook signature"),
        res("aws:apigatewayv2/route:Route", "jwt", routeKey="GET /mine", authorizationType="JWT"),
    ]


EXPECTED = [
    Finding("P1", ERROR, "urn:WebhookIngestion$aws:secretsmanager/secret:Secret::s",
            "the webhook's signing secret has no value: every delivery is answered 503.",
            "pulumi config set --secret <source>WebhookSecret ... (or put a value in the secret)."),
    Finding("P2", ERROR, "urn:open", "route 'GET /orders' is public in production.",
            "set apiJwtIssuer and apiJwtAudience (apiPublicInProduction opens it on purpose; then relax this policy "
            "in the pack config too)."),
    Finding("G1", ERROR, "urn:worker", "function has no Errors and Throttles alarms.",
            "build functions with the function builder."),
    Finding("L9", WARNING, "urn:worker", "function has no explicit log group with retention.",
            "create /aws/lambda/<name> with the stack's retention."),
    Finding("G1", ERROR, "urn:work", "queue has no oldest-message-age alarm.", "build queues with the queue builder."),
    Finding("G1", ERROR, "urn:work-dlq", "dead-letter queue has no depth alarm.", "build DLQs with the queue builder."),
    Finding("L5", ERROR, "urn:worker", "is invoked asynchronously by events.amazonaws.com with no on-failure destination.",
            "add a FunctionEventInvokeConfig on_failure destination (a DLQ)."),
    Finding("L10", WARNING, "urn:worker",
            "is invoked by several principals ['apigateway.amazonaws.com', 'events.amazonaws.com'].",
            "give each trigger its own function."),
    Finding("G1", ERROR, "urn:stream-events", "stream consumer has no iterator-age alarm.",
            "build stream processors with the StreamProcessor component."),
    Finding("G1", ERROR, "urn:rule", "rule has no FailedInvocations alarm.", "build subscribers with the FanOut component."),
    Finding("G1", ERROR, "urn:api", "HTTP API has no 5xx alarm.", "use the HTTP API builder's alarms."),
    Finding("G1", ERROR, "urn:job", "schedule has no 'did not run' alarm.", "build jobs with the ScheduledJob component."),
    Finding("G2", ERROR, "urn:work-events", "polls with more concurrency (5) than the consumer's reserved 3: throttled "
            "batches burn receive counts.", "set scaling_config maximum_concurrency to the reserved concurrency."),
    Finding("G2", ERROR, "urn:work", "visibility timeout 30 s is below 6 x its consumer's 10 s timeout.",
            "size the queue with the queue builder (consumer_timeout_seconds)."),
    Finding("G3", ERROR, "urn:work-dlq", "keeps messages for less time than its source queue.",
            "give the DLQ 14 days (the queue builder does)."),
    Finding("G6", ERROR, "urn:alerts", "receives alarms but uses alias/aws/sns, which CloudWatch cannot use.",
            "encrypt with a customer-managed key whose policy admits cloudwatch.amazonaws.com."),
    Finding("G7", ERROR, "urn:aws", "default tags miss ['environment', 'service', 'cost-center'].",
            "set them from settings (owner, costCenter, service, stack)."),
]


def test_a_stack_breaking_every_stack_rule_gets_exactly_these_findings() -> None:
    assert check_stack(broken_stack(), production=True) == EXPECTED


def test_outside_production_the_gaps_are_not_findings() -> None:
    assert check_stack(broken_stack()) == EXPECTED[2:]
    assert [f for f in evaluate(broken_stack(), production=["P1"]) if f.rule in ("P1", "P2")] == EXPECTED[:2]
    assert [f for f in evaluate(broken_stack(), production=["A5"]) if f.rule in ("P1", "P2")] == []


def compliant_stack() -> list[dict]:
    """The same system built right: no stack-level finding, in production either."""
    tags = {"environment": "prod", "service": "s", "owner": "team", "cost-center": "cc"}
    dims = {"FunctionName": "worker"}
    return [
        res("pulumi:providers:aws", "aws", defaultTags=json.dumps({"tags": tags})),
        res("aws:lambda/function:Function", "worker", name="worker", timeout=10, reservedConcurrentExecutions=3),
        res("aws:cloudwatch/logGroup:LogGroup", "worker-logs", name="/aws/lambda/worker", retentionInDays=30),
        alarm("errors", "AWS/Lambda", "Errors", dims), alarm("throttles", "AWS/Lambda", "Throttles", dims),
        alarm("iterator", "AWS/Lambda", "IteratorAge", dims),
        alarm("heartbeat", "AWS/Lambda", "Invocations", dims, treatMissingData="breaching"),
        res("aws:sqs/queue:Queue", "work", name="work", visibilityTimeoutSeconds=60,
            redrivePolicy=json.dumps({"deadLetterTargetArn": ARN.format("sqs", "work-dlq"), "maxReceiveCount": 5})),
        res("aws:sqs/queue:Queue", "work-dlq", name="work-dlq", tags={"queue-role": "dead-letter"},
            messageRetentionSeconds=1209600),
        alarm("age", "AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": "work"}),
        alarm("depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "work-dlq"}),
        res("aws:lambda/eventSourceMapping:EventSourceMapping", "work-events", eventSourceArn=ARN.format("sqs", "work"),
            functionName=ARN.format("lambda", "function:worker"), scalingConfig={"maximumConcurrency": 3}),
        res("aws:lambda/eventSourceMapping:EventSourceMapping", "table-events",
            eventSourceArn=ARN.format("dynamodb", "table/t/stream/2026"), functionName="worker"),
        res("aws:cloudwatch/eventRule:EventRule", "rule", name="rule", eventPattern="{}"),
        alarm("failed", "AWS/Events", "FailedInvocations", {"RuleName": "rule"}),
        res("aws:apigatewayv2/api:Api", "api", name="api"),
        alarm("5xx", "AWS/ApiGateway", "5xx", {"ApiId": "a1"}, alarmActions=[ARN.format("sns", "alerts")]),
        res("aws:scheduler/schedule:Schedule", "job", name="job", target={"arn": ARN.format("lambda", "function:worker")}),
        res("aws:sns/topic:Topic", "alerts", name="alerts", kmsMasterKeyId=ARN.format("kms", "key/k")),
        res("aws:lambda/permission:Permission", "from-events", function="worker", principal="events.amazonaws.com"),
        res("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "async", functionName="worker",
            destinationConfig={"onFailure": {"destination": ARN.format("sqs", "work-dlq")}}),
        res("aws:secretsmanager/secret:Secret", "signing", urn="urn:WebhookIngestion$aws:secretsmanager/secret:Secret::s",
            name="signing-secret"),
        res("aws:secretsmanager/secretVersion:SecretVersion", "signing-value",
            secretId=ARN.format("secretsmanager", "secret:signing-secret-AbCdEf")),
        res("aws:apigatewayv2/route:Route", "mine", routeKey="GET /mine", authorizationType="JWT"),
    ]


def test_the_same_system_built_right_has_no_stack_finding() -> None:
    assert check_stack(compliant_stack(), production=True) == []


def with_inputs(stack: list[dict], logical: str, **inputs) -> list[dict]:
    """The stack with one resource's inputs changed (None removes an input)."""
    changed = []
    for resource in stack:
        if resource["name"] == logical:
            merged = {**resource["inputs"], **inputs}
            resource = {**resource, "inputs": {k: v for k, v in merged.items() if v is not None}}
        changed.append(resource)
    return changed


def rules_found(stack: list[dict]) -> list[tuple[str, str]]:
    return [(f.rule, f.resource) for f in check_stack(stack)]


def test_visibility_and_timeout_defaults_are_awss() -> None:
    # no visibility input: SQS's 30 s; 30 < 6 x 5.1 = 30.6 is a finding, 6 x 5 = 30 is not
    stack = with_inputs(compliant_stack(), "work", visibilityTimeoutSeconds=None)
    assert rules_found(with_inputs(stack, "worker", timeout=5.1)) == [("G2", "urn:work")]
    assert rules_found(with_inputs(stack, "worker", timeout=5)) == []
    # no timeout input: Lambda's 3 s; a visibility of 18 s is enough, 17 s is not
    stack = with_inputs(compliant_stack(), "worker", timeout=None)
    assert rules_found(with_inputs(stack, "work", visibilityTimeoutSeconds=18)) == []
    assert rules_found(with_inputs(stack, "work", visibilityTimeoutSeconds=17)) == [("G2", "urn:work")]


def test_polling_concurrency_is_bounded_by_the_reserved_concurrency_and_sqs_floor_of_two() -> None:
    def mapping(reserved, ceiling) -> list[Finding]:
        stack = with_inputs(compliant_stack(), "worker", reservedConcurrentExecutions=reserved)
        stack = with_inputs(stack, "work-events", scalingConfig={"maximumConcurrency": ceiling} if ceiling else None)
        return [f for f in check_stack(stack) if f.resource == "urn:work-events"]

    assert mapping(1, 3)[0].problem.startswith("polls with more concurrency (3) than the consumer's reserved 1")
    assert mapping(1, 2) == [] and mapping(3, 3) == [] and mapping(0, 50) == [] and mapping(None, 50) == []
    assert mapping(2, None)[0].problem.startswith("polls with more concurrency (unbounded) than the consumer's reserved 2")


def test_a_dlq_keeps_messages_at_least_as_long_as_its_source_with_sqs_default_of_four_days() -> None:
    stack = with_inputs(compliant_stack(), "work-dlq", messageRetentionSeconds=345599)
    assert rules_found(stack) == [("G3", "urn:work-dlq")]  # the source keeps SQS's default 345600 s
    assert rules_found(with_inputs(compliant_stack(), "work-dlq", messageRetentionSeconds=None)) == []
    stack = with_inputs(compliant_stack(), "work-dlq", messageRetentionSeconds=None)
    assert rules_found(with_inputs(stack, "work", messageRetentionSeconds=345601)) == [("G3", "urn:work-dlq")]


def test_each_alarm_is_matched_by_its_own_dimension() -> None:
    cases = {"errors": ("G1", "urn:worker"), "throttles": ("G1", "urn:worker"), "iterator": ("G1", "urn:table-events"),
             "heartbeat": ("G1", "urn:job"), "age": ("G1", "urn:work"), "depth": ("G1", "urn:work-dlq"),
             "failed": ("G1", "urn:rule"), "5xx": ("G1", "urn:api")}
    for alarm_name, finding in cases.items():
        other = {"FunctionName": "other", "QueueName": "other", "RuleName": "other", "ApiId": None}
        stack = with_inputs(compliant_stack(), alarm_name, dimensions=other)
        assert rules_found(stack) == [finding], alarm_name
    assert len(cases) == 8
    heartbeat_ignoring_missing = with_inputs(compliant_stack(), "heartbeat", treatMissingData="notBreaching")
    assert rules_found(heartbeat_ignoring_missing) == [("G1", "urn:job")]


def test_what_keeps_a_function_out_of_l5_and_a_topic_out_of_g6() -> None:
    without_config = [r for r in compliant_stack() if r["name"] != "async"]
    assert rules_found(without_config) == [("L5", "urn:worker")]
    with_dlq = with_inputs(without_config, "worker", deadLetterConfig={"targetArn": ARN.format("sqs", "work-dlq")})
    assert rules_found(with_dlq) == []
    empty_destination = with_inputs(compliant_stack(), "async", destinationConfig={"onFailure": None})
    assert rules_found(empty_destination) == [("L5", "urn:worker")]
    aws_managed = with_inputs(compliant_stack(), "alerts", kmsMasterKeyId="alias/aws/sns")
    assert rules_found(aws_managed) == [("G6", "urn:alerts")]


def test_a_secret_with_a_value_and_a_signed_or_protected_route_are_no_production_gap() -> None:
    stack = compliant_stack()
    assert check_stack(stack, production=True) == []
    unversioned = [r for r in stack if r["name"] != "signing-value"]
    assert [(f.rule, f.resource) for f in check_stack(unversioned, production=True)] == [
        ("P1", "urn:WebhookIngestion$aws:secretsmanager/secret:Secret::s")]
    public = with_inputs(stack, "mine", authorizationType=None)
    assert [(f.rule, f.resource) for f in check_stack(public, production=True)] == [("P2", "urn:mine")]


def test_a_queue_without_a_redrive_policy_does_not_end_the_dlq_check() -> None:
    stack = with_inputs(compliant_stack(), "work-dlq", messageRetentionSeconds=60)
    dlq_first = sorted(stack, key=lambda r: r["name"] != "work-dlq")  # the DLQ (no redrive policy) is met first
    assert [f.rule for f in check_stack(dlq_first)] == ["G3"]
