"""The policy rules, as plain functions: per resource over (type, inputs), and over a stack's
resource list. They run in three places: the CrossGuard pack (policy/__main__.py), the tests,
and `python -m tools.policy <stack>` over the offline synth output.

Rule ids follow docs/POLICY_RULES.md (L*, A*, Q*, N*, E*, D*, K*, G*). Errors are
mandatory, warnings advisory. Values unknown at preview (None or "[unknown]") never fail a rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ERROR, WARNING = "error", "warning"
UNKNOWN = "[unknown]"
SUPPORTED_RUNTIMES = ("python3.11", "python3.12", "python3.13", "python3.14")
REQUIRED_TAGS = ("environment", "service", "owner", "cost-center")
# Actions with no resource-level permissions: '*' is their only valid resource. The function
# builder's Grant check (components/core/iam.py) keeps the same list; a test pins them equal.
ACTIONS_WITHOUT_RESOURCE_TYPES = frozenset({
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams", "kinesis:ListStreams",
    "states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat",
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    "xray:GetSamplingRules", "xray:GetSamplingTargets",
})
ASYNC_PRINCIPALS = ("events.amazonaws.com", "sns.amazonaws.com", "s3.amazonaws.com", "scheduler.amazonaws.com",
                    "iot.amazonaws.com")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    resource: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.rule} {self.resource}: {self.problem} Fix: {self.fix}"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    description: str
    types: tuple[str, ...]
    check: Callable[[Mapping[str, Any]], str | None]  # the problem, or None when compliant
    fix: str
    # Rules about resource options (protect, ...) get them as the synth's `options` or CrossGuard's `opts`.
    check_options: Callable[[Mapping[str, Any]], str | None] | None = None


def unknown(value: Any) -> bool:
    return value is None or value == UNKNOWN


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _statements(document: Any) -> list[dict[str, Any]]:
    parsed = _json(document)
    if not isinstance(parsed, dict):
        return []
    statements = parsed.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# Per-resource checks: each returns the problem or None.
def _memory(inputs: Mapping[str, Any]) -> str | None:
    return None if "memorySize" in inputs else "memory is not set (Lambda's 128 MB default)."


def _timeout(inputs: Mapping[str, Any]) -> str | None:
    return None if "timeout" in inputs else "timeout is not set (Lambda's 3 s default)."


def _tracing(inputs: Mapping[str, Any]) -> str | None:
    mode = (inputs.get("tracingConfig") or {}).get("mode")
    return None if unknown(mode) or mode == "Active" else f"X-Ray tracing is {mode or 'off'}, not Active."


def _runtime(inputs: Mapping[str, Any]) -> str | None:
    runtime = inputs.get("runtime")
    if unknown(runtime) or runtime in SUPPORTED_RUNTIMES or inputs.get("packageType") == "Image":
        return None
    return f"runtime {runtime!r} is not a current python runtime."


def _no_star(inputs: Mapping[str, Any]) -> str | None:
    for statement in _statements(inputs.get("policy")):
        if statement.get("Effect") != "Allow":
            continue
        actions = [a for a in _as_list(statement.get("Action", [])) if isinstance(a, str)]
        if any(a == "*" or a.endswith(":*") for a in actions):
            return f"allows wildcard actions {actions}."
        resources = _as_list(statement.get("Resource", []))
        star_ok = all(a in ACTIONS_WITHOUT_RESOURCE_TYPES for a in actions)
        if "*" in resources and not star_ok:
            return f"allows {actions} on every resource ('*')."
    return None


def _no_managed_policies(inputs: Mapping[str, Any]) -> str | None:
    arns = inputs.get("managedPolicyArns") or []
    return f"attaches AWS-managed policies {arns}." if arns else None


def _policy_attachment(inputs: Mapping[str, Any]) -> str | None:
    arn = inputs.get("policyArn") or ""
    return f"attaches the AWS-managed policy {arn}." if isinstance(arn, str) and ":aws:policy/" in arn else None


def _log_retention(inputs: Mapping[str, Any]) -> str | None:
    days = inputs.get("retentionInDays")
    if unknown(days) and "retentionInDays" in inputs:
        return None
    if not days:
        return "has no retention: logs are kept (and billed) forever."
    return None if days <= 3653 else f"retention {days} days exceeds ten years."


def _access_logging(inputs: Mapping[str, Any]) -> str | None:
    settings = inputs.get("accessLogSettings") or {}
    if not settings.get("destinationArn") or not settings.get("format"):
        return "has no access logging (destination and format)."
    return None


def _json_access_logs(inputs: Mapping[str, Any]) -> str | None:
    log_format = (inputs.get("accessLogSettings") or {}).get("format")
    if unknown(log_format) or isinstance(_json(log_format), dict):
        return None
    return "access-log format is not JSON."


def _throttling(inputs: Mapping[str, Any]) -> str | None:
    route = inputs.get("defaultRouteSettings") or {}
    if route.get("throttlingBurstLimit") and route.get("throttlingRateLimit"):
        return None
    return "has no default route throttling (burst and rate)."


# Twins of components' names (the pack runs without the components; a test pins them equal).
AUTHENTICATED_BY = "authenticated by "  # components/core/http_api.py: a route that checks its callers itself
COMPOSITE_INPUT_TAG = "composite-input"  # components/core/alarms.py: heard through its composite
DEAD_LETTER_TAG = {"queue-role": "dead-letter"}  # components/core/queue.py: every dead-letter queue carries it


def _authorizer(inputs: Mapping[str, Any]) -> str | None:
    kind = inputs.get("authorizationType", "NONE")
    if kind != "NONE" or str(inputs.get("operationName") or "").startswith(AUTHENTICATED_BY):
        return None
    return f"route {inputs.get('routeKey')!r} has no authorizer."


def _queue_redrive(inputs: Mapping[str, Any]) -> str | None:
    if inputs.get("redrivePolicy") or _is_dlq(inputs):
        return None
    return "has no redrive policy (dead-letter queue)."


def _is_dlq(inputs: Mapping[str, Any]) -> bool:
    # The builders tag every dead-letter queue (its policy is a redrive *allow* policy, not a redrive policy).
    tags = inputs.get("tags") or {}
    return isinstance(tags, Mapping) and all(tags.get(k) == v for k, v in DEAD_LETTER_TAG.items())


def _queue_encryption(inputs: Mapping[str, Any]) -> str | None:
    if inputs.get("sqsManagedSseEnabled") or inputs.get("kmsMasterKeyId"):
        return None
    return "is not encrypted (SSE-SQS or KMS)."


def _denies_insecure_transport(inputs: Mapping[str, Any]) -> str | None:
    for statement in _statements(inputs.get("policy")):
        condition = statement.get("Condition", {})
        if statement.get("Effect") == "Deny" and str(condition.get("Bool", {}).get("aws:SecureTransport")).lower() == "false":
            return None
    if unknown(inputs.get("policy")):
        return None
    return "does not deny requests that are not over TLS (aws:SecureTransport false)."


def _subscription_redrive(inputs: Mapping[str, Any]) -> str | None:
    if inputs.get("protocol") in ("email", "email-json", "https", "http", "sms"):
        return None  # people and paging endpoints: SNS retries them per its delivery policy
    return None if inputs.get("redrivePolicy") else "has no redrive policy (dead-letter queue)."


def _target_dlq(inputs: Mapping[str, Any]) -> str | None:
    return None if (inputs.get("deadLetterConfig") or {}).get("arn") else "has no dead-letter queue."


def _target_retry(inputs: Mapping[str, Any]) -> str | None:
    return None if inputs.get("retryPolicy") else "has no retry policy (maximum event age and attempts)."


def _pitr(inputs: Mapping[str, Any]) -> str | None:
    return None if (inputs.get("pointInTimeRecovery") or {}).get("enabled") else "point-in-time recovery is off."


def _kinesis_encryption(inputs: Mapping[str, Any]) -> str | None:
    return None if inputs.get("encryptionType") == "KMS" else "is not encrypted."


def _stream_mapping(inputs: Mapping[str, Any]) -> str | None:
    source = str(inputs.get("eventSourceArn", ""))
    if ":sqs:" in source or unknown(inputs.get("eventSourceArn")):
        return None
    problems = []
    if not (inputs.get("destinationConfig") or {}).get("onFailure", {}).get("destinationArn"):
        problems.append("no on-failure destination")
    if not inputs.get("bisectBatchOnFunctionError"):
        problems.append("no bisect on error")
    retries = inputs.get("maximumRetryAttempts")
    if retries is None or retries < 0:
        problems.append("unbounded retries")
    age = inputs.get("maximumRecordAgeInSeconds")
    if age is None or age < 0:
        problems.append("unbounded record age")
    return f"stream mapping has {', '.join(problems)}." if problems else None


def _batch_failures(inputs: Mapping[str, Any]) -> str | None:
    if "ReportBatchItemFailures" in (inputs.get("functionResponseTypes") or []):
        return None
    return "does not report batch item failures: one bad record retries the whole batch."


def _source_arn(inputs: Mapping[str, Any]) -> str | None:
    if inputs.get("sourceArn") or inputs.get("sourceAccount"):
        return None
    return f"lets {inputs.get('principal')} invoke without a source ARN or account."


def _function_url(inputs: Mapping[str, Any]) -> str | None:
    return "is a function URL with auth NONE." if inputs.get("authorizationType") == "NONE" else None


def _deletion_protection(inputs: Mapping[str, Any]) -> str | None:
    return None if inputs.get("deletionProtectionEnabled") else "deletion protection is off."


def _pulumi_protect(options: Mapping[str, Any]) -> str | None:
    return None if options.get("protect") else "the resource is not `protect`ed: a replacement would delete its data."


def _bus_policy_open(inputs: Mapping[str, Any]) -> str | None:
    for statement in _statements(inputs.get("policy")):
        principal = statement.get("Principal")
        anyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
        if statement.get("Effect") == "Allow" and anyone and not statement.get("Condition"):
            return "lets anyone put events on the bus."
    return None


def _alarm_actions(inputs: Mapping[str, Any]) -> str | None:
    # An input of a composite alarm is heard through the composite (components/core/alarms.py).
    if inputs.get("alarmActions") or (inputs.get("tags") or {}).get(COMPOSITE_INPUT_TAG) == "true":
        return None
    return "has no alarm action: nobody hears it."


FUNCTION, ROLE, ROLE_POLICY = "aws:lambda/function:Function", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
QUEUE, QUEUE_POLICY = "aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"

RULES: tuple[Rule, ...] = (
    Rule("L1", ERROR, "Function sets memory explicitly", (FUNCTION,), _memory, "set memory_size from a profile."),
    Rule("L2", ERROR, "Function sets timeout explicitly", (FUNCTION,), _timeout, "set timeout from a profile."),
    Rule("L3", WARNING, "X-Ray tracing Active", (FUNCTION,), _tracing, "tracing_config mode Active."),
    Rule("L4", ERROR, "Runtime current", (FUNCTION,), _runtime, "use python3.13 (settings.runtime)."),
    Rule("L7", ERROR, "No '*' actions or resources in roles", (ROLE_POLICY, "aws:iam/policy:Policy"), _no_star,
         "name each action and the resources it needs."),
    Rule("L8", ERROR, "No AWS-managed policies on roles", (ROLE,), _no_managed_policies, "grant inline, least privilege."),
    Rule("L8", ERROR, "No AWS-managed policy attachments", ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",),
         _policy_attachment, "grant inline, least privilege."),
    Rule("L9", WARNING, "Log groups have a retention", ("aws:cloudwatch/logGroup:LogGroup",), _log_retention,
         "set retention_in_days from settings."),
    Rule("A1", ERROR, "API stage access logging", ("aws:apigatewayv2/stage:Stage",), _access_logging,
         "access_log_settings with a log group and a format."),
    Rule("A2", WARNING, "Access-log format is JSON", ("aws:apigatewayv2/stage:Stage",), _json_access_logs,
         "use a JSON access-log format."),
    Rule("A4", ERROR, "Default route throttling", ("aws:apigatewayv2/stage:Stage",), _throttling,
         "default_route_settings with burst and rate limits."),
    Rule("A5", WARNING, "Routes have an authorizer unless public on purpose", ("aws:apigatewayv2/route:Route",),
         _authorizer, "attach the JWT authorizer (apiJwtIssuer) or keep it public deliberately."),
    Rule("Q1", ERROR, "Queues have a redrive policy (DLQs exempt)", (QUEUE,), _queue_redrive,
         "build queues with the queue builder."),
    Rule("Q2", ERROR, "Queues encrypted", (QUEUE,), _queue_encryption, "sqs_managed_sse_enabled=True."),
    Rule("Q3", ERROR, "Queue policy denies non-TLS access", (QUEUE_POLICY,), _denies_insecure_transport,
         "add the aws:SecureTransport deny statement."),
    Rule("N1", ERROR, "SNS subscriptions have a redrive policy", ("aws:sns/topicSubscription:TopicSubscription",),
         _subscription_redrive, "redrive_policy with a dead-letter queue."),
    Rule("N2", ERROR, "Topic policy denies non-TLS publishers", ("aws:sns/topicPolicy:TopicPolicy",),
         _denies_insecure_transport, "add the aws:SecureTransport deny statement."),
    Rule("E1", ERROR, "Every EventBridge target has a DLQ", ("aws:cloudwatch/eventTarget:EventTarget",), _target_dlq,
         "dead_letter_config with an SQS queue."),
    Rule("G5", ERROR, "EventBridge targets have a retry policy", ("aws:cloudwatch/eventTarget:EventTarget",),
         _target_retry, "retry_policy from settings."),
    Rule("D1", WARNING, "DynamoDB point-in-time recovery", ("aws:dynamodb/table:Table",), _pitr,
         "dynamodbPointInTimeRecovery: true."),
    Rule("K1", ERROR, "Kinesis stream encrypted", ("aws:kinesis/stream:Stream",), _kinesis_encryption,
         "encryption_type KMS with alias/aws/kinesis."),
    Rule("L6", ERROR, "Stream mappings: on-failure destination, bisect, bounded retries and age", (MAPPING,),
         _stream_mapping, "build stream processors with the StreamProcessor component."),
    Rule("G4", ERROR, "Mappings report batch item failures", (MAPPING,), _batch_failures,
         "function_response_types ['ReportBatchItemFailures']."),
    Rule("G8", ERROR, "Invoke permissions carry a source ARN or account", ("aws:lambda/permission:Permission",),
         _source_arn, "set source_arn to the invoking rule, API or topic."),
    Rule("G8", ERROR, "No function URL with auth NONE", ("aws:lambda/functionUrl:FunctionUrl",), _function_url,
         "use AWS_IAM or put an API in front."),
    Rule("G1", ERROR, "Every alarm has an action", ("aws:cloudwatch/metricAlarm:MetricAlarm",), _alarm_actions,
         "build alarms with the alarm builder."),
    Rule("E2", ERROR, "Event bus policy not open to '*'", ("aws:cloudwatch/eventBusPolicy:EventBusPolicy",),
         _bus_policy_open, "name the accounts or add an aws:PrincipalOrgID condition."),
)
PRODUCTION_RULES: tuple[Rule, ...] = (
    Rule("G9", ERROR, "prod: DynamoDB deletion protection", ("aws:dynamodb/table:Table",), _deletion_protection,
         "dynamodbDeletionProtection: true (the table builder then also sets protect).",
         check_options=_pulumi_protect),
)


def check_resource(type_: str, inputs: Mapping[str, Any], name: str, production: bool | Iterable[str] = False,
                   options: Mapping[str, Any] | None = None) -> list[Finding]:
    """Findings for one resource. ``production``: True for every production-only rule, or the ids
    a policy pack config turns on; ``options`` (as the synth prints them) enables the option rules."""
    enabled = {r.id for r in PRODUCTION_RULES} if production is True else set(production or ())
    rules = RULES + tuple(r for r in PRODUCTION_RULES if r.id in enabled)
    findings = []
    for rule in rules:
        if type_ in rule.types:
            problem = rule_problem(rule, inputs, options)
            if problem:
                findings.append(Finding(rule.id, rule.severity, name, problem, rule.fix))
    return findings


def rule_problem(rule: Rule, inputs: Mapping[str, Any], options: Mapping[str, Any] | None) -> str | None:
    problems = [rule.check(inputs)]
    if rule.check_options is not None and options is not None:
        problems.append(rule.check_options(options))
    return " ".join(p for p in problems if p) or None


# Stack-level rules over the whole resource list.
def _alarmed_dimension(resources: list[Mapping[str, Any]], namespace: str, metric: str, key: str) -> set[str]:
    found = set()
    for resource in resources:
        inputs = resource["inputs"]
        if resource["type"] == "aws:cloudwatch/metricAlarm:MetricAlarm" and inputs.get("namespace") == namespace \
                and inputs.get("metricName") == metric:
            found.add(str((inputs.get("dimensions") or {}).get(key)))
    return found


def production_gaps(resources: list[Mapping[str, Any]]) -> list[Finding]:
    """P1, P2 (production stacks only): a webhook without its signing secret answers every delivery
    with 503; a route anyone may call serves every customer's data."""
    findings = []
    secrets = [r for r in resources if r["type"] == "aws:secretsmanager/secret:Secret"
               and "WebhookIngestion$" in r["urn"]]
    versions = {str(r["inputs"].get("secretId")) for r in resources
                if r["type"] == "aws:secretsmanager/secretVersion:SecretVersion"}
    for secret in secrets:
        name = str(secret["inputs"].get("name"))
        if not any(name in version for version in versions):
            findings.append(Finding("P1", ERROR, secret["urn"], "the webhook's signing secret has no value: every "
                                    "delivery is answered 503.",
                                    "pulumi config set --secret <source>WebhookSecret ... (or put a value in the secret)."))
    for route in (r for r in resources if r["type"] == "aws:apigatewayv2/route:Route"):
        inputs = route["inputs"]
        if inputs.get("authorizationType", "NONE") == "NONE" \
                and not str(inputs.get("operationName") or "").startswith(AUTHENTICATED_BY):
            findings.append(Finding("P2", ERROR, route["urn"], f"route {inputs.get('routeKey')!r} is public in "
                                    "production.", "set apiJwtIssuer and apiJwtAudience (apiPublicInProduction "
                                    "opens it on purpose; then relax this policy in the pack config too)."))
    return findings + _gradual_deployments(resources)


GRADUAL_DEPLOYMENT = "pulumi-python:dynamic/rollout:GradualDeployment"
DEPLOYMENT_GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"


def _gradual_deployments(resources: list[Mapping[str, Any]]) -> list[Finding]:
    """P3: in production, new code behind an alias reaches traffic gradually, stopped by an alarm: a
    CodeDeploy deployment of the alias whose group shifts by canary or linear steps and has an enabled
    alarm configuration with at least one alarm."""
    groups = {str(r["inputs"].get("deploymentGroupName")): r["inputs"] for r in resources if r["type"] == DEPLOYMENT_GROUP}
    deployed = {(str(r["inputs"].get("function_name")), str(r["inputs"].get("alias"))):
                groups.get(str(r["inputs"].get("deployment_group"))) for r in resources if r["type"] == GRADUAL_DEPLOYMENT}
    findings = []
    for alias in (r for r in resources if r["type"] == "aws:lambda/alias:Alias"):
        function, name = str(alias["inputs"].get("functionName")), str(alias["inputs"].get("name"))
        group = deployed.get((function, name))
        alarms = (group or {}).get("alarmConfiguration") or {}
        if group is None:
            problem = "has no gradual deployment: new code takes all traffic at once, with nothing to roll it back."
        elif str(group.get("deploymentConfigName", "")).endswith("AllAtOnce"):
            problem = f"deploys all at once ({group.get('deploymentConfigName')})."
        elif not alarms.get("enabled") or not alarms.get("alarms"):
            problem = "deploys gradually but no alarm can stop the deployment."
        else:
            continue
        findings.append(Finding("P3", ERROR, alias["urn"], f"alias '{name}' of {function} {problem}",
                                "set <class>Deployment to a canary or linear configuration (the component adds the "
                                "function's alarms as rollback alarms)."))
    return findings


def check_stack(resources: list[Mapping[str, Any]], production: bool = False) -> list[Finding]:
    findings: list[Finding] = production_gaps(resources) if production else []
    of = lambda type_: [r for r in resources if r["type"] == type_]  # noqa: E731
    functions = {r["inputs"].get("name"): r for r in of(FUNCTION)}
    errors = _alarmed_dimension(resources, "AWS/Lambda", "Errors", "FunctionName")
    throttles = _alarmed_dimension(resources, "AWS/Lambda", "Throttles", "FunctionName")
    for name, function in functions.items():
        if name not in errors or name not in throttles:
            findings.append(Finding("G1", ERROR, function["urn"], "function has no Errors and Throttles alarms.",
                                    "build functions with the function builder."))
    log_groups = {r["inputs"].get("name") for r in of("aws:cloudwatch/logGroup:LogGroup")}
    for name, function in functions.items():
        if f"/aws/lambda/{name}" not in log_groups:
            findings.append(Finding("L9", WARNING, function["urn"], "function has no explicit log group with retention.",
                                    "create /aws/lambda/<name> with the stack's retention."))
    aged = _alarmed_dimension(resources, "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName")
    depth = _alarmed_dimension(resources, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    for queue in of(QUEUE):
        name = queue["inputs"].get("name")
        if _is_dlq(queue["inputs"]) and name not in depth:
            findings.append(Finding("G1", ERROR, queue["urn"], "dead-letter queue has no depth alarm.",
                                    "build DLQs with the queue builder."))
        elif not _is_dlq(queue["inputs"]) and name not in aged:
            findings.append(Finding("G1", ERROR, queue["urn"], "queue has no oldest-message-age alarm.",
                                    "build queues with the queue builder."))
    findings += _async_destinations(resources, functions)
    findings += _single_invoker(resources, functions)
    findings += _monitored(resources, functions)
    findings += _queue_sizing(resources, functions)
    findings += _alarm_topics_and_tags(resources)
    return findings


def _monitored(resources: list[Mapping[str, Any]], functions: Mapping[str, Any]) -> list[Finding]:
    """G1: stream consumers, rules, HTTP APIs and enabled schedules each have their alarm."""
    findings = []
    iterator = _alarmed_dimension(resources, "AWS/Lambda", "IteratorAge", "FunctionName")
    for mapping in (r for r in resources if r["type"] == MAPPING):
        source = str(mapping["inputs"].get("eventSourceArn", ""))
        function = lambda_function_name(mapping["inputs"].get("functionName"))
        if (":kinesis:" in source or "/stream/" in source) and function not in iterator:
            findings.append(Finding("G1", ERROR, mapping["urn"], "stream consumer has no iterator-age alarm.",
                                    "build stream processors with the StreamProcessor component."))
    failed = _alarmed_dimension(resources, "AWS/Events", "FailedInvocations", "RuleName")
    for rule in (r for r in resources if r["type"] == "aws:cloudwatch/eventRule:EventRule"):
        if rule["inputs"].get("eventPattern") and rule["inputs"].get("name") not in failed:
            findings.append(Finding("G1", ERROR, rule["urn"], "rule has no FailedInvocations alarm.",
                                    "build subscribers with the FanOut component."))
    api_5xx = {r["inputs"].get("dimensions", {}).get("ApiId") for r in resources
               if r["type"] == "aws:cloudwatch/metricAlarm:MetricAlarm" and r["inputs"].get("metricName") == "5xx"}
    apis = [r for r in resources if r["type"] == "aws:apigatewayv2/api:Api"]
    if apis and not api_5xx - {None}:
        findings += [Finding("G1", ERROR, api["urn"], "HTTP API has no 5xx alarm.", "use the HTTP API builder's alarms.")
                     for api in apis]
    heartbeats = {str(r["inputs"].get("dimensions", {}).get("FunctionName")) for r in resources
                  if r["type"] == "aws:cloudwatch/metricAlarm:MetricAlarm" and r["inputs"].get("metricName") == "Invocations"
                  and r["inputs"].get("treatMissingData") == "breaching"}
    for schedule in (r for r in resources if r["type"] == "aws:scheduler/schedule:Schedule"):
        target = lambda_function_name((schedule["inputs"].get("target") or {}).get("arn"))
        if schedule["inputs"].get("state") != "DISABLED" and target not in heartbeats:
            findings.append(Finding("G1", ERROR, schedule["urn"], "schedule has no 'did not run' alarm.",
                                    "build jobs with the ScheduledJob component."))
    return findings


def _queue_sizing(resources: list[Mapping[str, Any]], functions: Mapping[str, Any]) -> list[Finding]:
    """G2: visibility >= 6 x the consumer's timeout; G3: a DLQ keeps messages as long as its source."""
    by_name = {r["inputs"].get("name"): r for r in resources if r["type"] == QUEUE}
    findings = []
    for mapping in (r for r in resources if r["type"] == MAPPING):
        source = str(mapping["inputs"].get("eventSourceArn", ""))
        queue = by_name.get(source.rsplit(":", 1)[-1]) if ":sqs:" in source else None
        function = functions.get(lambda_function_name(mapping["inputs"].get("functionName")))
        if queue and function:
            reserved = function["inputs"].get("reservedConcurrentExecutions")
            ceiling = (mapping["inputs"].get("scalingConfig") or {}).get("maximumConcurrency")
            if isinstance(reserved, (int, float)) and reserved > 0 and (ceiling is None or ceiling > max(2, reserved)):
                findings.append(Finding("G2", ERROR, mapping["urn"],
                                        f"polls with more concurrency ({ceiling or 'unbounded'}) than the consumer's "
                                        f"reserved {int(reserved)}: throttled batches burn receive counts.",
                                        "set scaling_config maximum_concurrency to the reserved concurrency."))
            visibility = queue["inputs"].get("visibilityTimeoutSeconds", 30)
            timeout = function["inputs"].get("timeout", 3)
            if not unknown(visibility) and not unknown(timeout) and visibility < 6 * timeout:
                findings.append(Finding("G2", ERROR, queue["urn"],
                                        f"visibility timeout {visibility} s is below 6 x its consumer's {timeout} s timeout.",
                                        "size the queue with the queue builder (consumer_timeout_seconds)."))
    for queue in by_name.values():
        policy = _json(queue["inputs"].get("redrivePolicy"))
        if not isinstance(policy, dict):
            continue
        dlq = by_name.get(str(policy.get("deadLetterTargetArn", "")).rsplit(":", 1)[-1])
        source_days = queue["inputs"].get("messageRetentionSeconds", 345600)
        if dlq and dlq["inputs"].get("messageRetentionSeconds", 345600) < source_days:
            findings.append(Finding("G3", ERROR, dlq["urn"], "keeps messages for less time than its source queue.",
                                    "give the DLQ 14 days (the queue builder does)."))
    return findings


def _alarm_topics_and_tags(resources: list[Mapping[str, Any]]) -> list[Finding]:
    """G6: topics that receive alarms are not encrypted with aws/sns; G7: the provider tags every resource."""
    findings = []
    actions = {a for r in resources if r["type"] == "aws:cloudwatch/metricAlarm:MetricAlarm"
               for a in r["inputs"].get("alarmActions") or []}
    for topic in (r for r in resources if r["type"] == "aws:sns/topic:Topic"):
        name = topic["inputs"].get("name")
        if any(str(a).endswith(f":{name}") for a in actions) and topic["inputs"].get("kmsMasterKeyId") == "alias/aws/sns":
            findings.append(Finding("G6", ERROR, topic["urn"],
                                    "receives alarms but uses alias/aws/sns, which CloudWatch cannot use.",
                                    "encrypt with a customer-managed key whose policy admits cloudwatch.amazonaws.com."))
    for provider in (r for r in resources if r["type"] == "pulumi:providers:aws"):
        tags = (_json(provider["inputs"].get("defaultTags")) or {}).get("tags", {})
        missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
        if missing:
            findings.append(Finding("G7", ERROR, provider["urn"], f"default tags miss {missing}.",
                                    "set them from settings (owner, costCenter, service, stack)."))
    return findings


def lambda_function_name(reference: Any) -> str:
    """The function's name in what Lambda accepts as a function: a name, ``name:qualifier``, or an
    ARN with or without its version or alias (``...:function:name:live``)."""
    return str(reference or "").split(":function:", 1)[-1].split(":", 1)[0]


def _function_of(permission_inputs: Mapping[str, Any]) -> str:
    return str(permission_inputs.get("function", "")).rsplit(":", 1)[-1]


def _async_destinations(resources: list[Mapping[str, Any]], functions: Mapping[str, Any]) -> list[Finding]:
    """L5: functions invoked asynchronously need an on-failure destination or a DLQ."""
    configured = {str(r["inputs"].get("functionName")) for r in resources
                  if r["type"] == "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
                  and (r["inputs"].get("destinationConfig") or {}).get("onFailure")}
    findings = []
    for permission in (r for r in resources if r["type"] == "aws:lambda/permission:Permission"):
        inputs = permission["inputs"]
        name = _function_of(inputs)
        function = functions.get(name)
        if inputs.get("principal") in ASYNC_PRINCIPALS and name not in configured and function is not None \
                and not (function["inputs"].get("deadLetterConfig") or {}).get("targetArn"):
            findings.append(Finding("L5", ERROR, function["urn"],
                                    f"is invoked asynchronously by {inputs.get('principal')} with no on-failure destination.",
                                    "add a FunctionEventInvokeConfig on_failure destination (a DLQ)."))
    return findings


def _single_invoker(resources: list[Mapping[str, Any]], functions: Mapping[str, Any]) -> list[Finding]:
    principals: dict[str, set[str]] = {}
    for permission in (r for r in resources if r["type"] == "aws:lambda/permission:Permission"):
        principals.setdefault(_function_of(permission["inputs"]), set()).add(str(permission["inputs"].get("principal")))
    return [Finding("L10", WARNING, functions[name]["urn"], f"is invoked by several principals {sorted(found)}.",
                    "give each trigger its own function.")
            for name, found in principals.items() if len(found) > 1 and name in functions]


def evaluate(resources: Iterable[Mapping[str, Any]], production: bool | Iterable[str] = False) -> list[Finding]:
    """Every finding for a stack's synth output (resources as tools.synth prints them)."""
    resources = list(resources)
    production = production if isinstance(production, bool) else set(production)
    findings = []
    for resource in resources:
        findings += check_resource(resource["type"], resource["inputs"], resource["urn"], production,
                                   resource.get("options"))
    gaps = production is True or (not isinstance(production, bool) and bool({"P1", "P2", "P3"} & set(production)))
    return findings + check_stack(resources, production=gaps)
