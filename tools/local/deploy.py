"""Deploys a stack's synth output (``tools.synth``'s JSON) into the emulator with boto3.

One description of the stack: the same resources, in the order the program registered them
(every input that refers to another resource comes after it). The synth's inputs carry the mock
runtime's outputs (ARNs, ids, URLs); each resource created here replaces its mock outputs with the
emulator's in every later input. Each type declares the inputs it applies and the ones it leaves
out on purpose, with the reason; any other input is an error naming the resource and the property.
Event source mappings are not created in moto (its SQS mapping would invoke through Docker): they
are returned for the local runtime, which plays them.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tools.local.emulator import ACCOUNT_ID, LAMBDA_SERVICE_USER, REGION, Emulator
from tools.mocks import ProgramMocks

ROOT = Path(__file__).resolve().parents[2]
MOCK_OUTPUTS = ("url", "arn", "id", "keyId", "streamArn", "apiEndpoint", "executionArn", "invokeUrl", "qualifiedArn",
                "invokeArn")
MOCK_ID = re.compile(r"^[0-9a-f]{10}$")  # tools.mocks' ids for resources AWS names by id (APIs, integrations)
TAGS_NOT_APPLIED = "tags change no behaviour locally"
# Components and the provider register no cloud resource.
NOT_CLOUD_RESOURCES = ("pulumi:providers:", "serverless:")
# The signing secret an operator would put in the secret; locally the deployer does it.
LOCAL_WEBHOOK_SECRET = "whsec_" + "bG9jYWwtY2xvdWQtd2ViaG9vay1zaWduaW5nLWtleQ=="  # base64 of a fixed local key


class DeployError(RuntimeError):
    """An input the deployer cannot apply, named by resource and property."""


@dataclass
class Deployed:
    """What the deploy created: the real outputs by logical name, and what the runtime plays."""

    stack: str
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    resources: list[dict[str, Any]] = field(default_factory=list)  # synth resources with real inputs
    counts: dict[str, int] = field(default_factory=dict)
    replacements: dict[str, str] = field(default_factory=dict)
    secret_values: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # EMULATOR_GAPS types, by count
    taps: dict[str, dict[str, Any]] = field(default_factory=dict)  # queue ARN -> the Lambda target it stands for

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_]

    def resolve(self, value: str) -> str:
        for mock, real in sorted(self.replacements.items(), key=lambda item: -len(item[0])):
            value = value.replace(mock, real)
        return value


@dataclass(frozen=True)
class Kind:
    create: Callable[[Any, dict[str, Any], dict[str, Any]], dict[str, str]]
    applied: frozenset[str]
    left_out: dict[str, str] = field(default_factory=dict)


def _int(value: Any) -> int:
    return int(float(value))


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _queue(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    names = {"messageRetentionSeconds": "MessageRetentionPeriod", "visibilityTimeoutSeconds": "VisibilityTimeout",
             "receiveWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds", "delaySeconds": "DelaySeconds",
             "maxMessageSize": "MaximumMessageSize", "redrivePolicy": "RedrivePolicy",
             "sqsManagedSseEnabled": "SqsManagedSseEnabled", "fifoQueue": "FifoQueue",
             "contentBasedDeduplication": "ContentBasedDeduplication", "kmsMasterKeyId": "KmsMasterKeyId"}
    attributes = {}
    for key, attribute in names.items():
        if key in inputs:
            value = inputs[key]
            attributes[attribute] = (str(value).lower() if isinstance(value, bool) else
                                     str(_int(value)) if isinstance(value, float | int) else str(value))
    sqs = ctx.client("sqs")
    url = sqs.create_queue(QueueName=inputs["name"], Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"url": url, "id": url, "arn": arn}


def _queue_attribute(attribute: str, key: str) -> Callable[[Any, dict[str, Any], dict[str, Any]], dict[str, str]]:
    def create(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
        ctx.client("sqs").set_queue_attributes(QueueUrl=inputs["queueUrl"], Attributes={attribute: _json(inputs[key])})
        return {"id": inputs["queueUrl"]}
    return create


def _table(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    def key_schema(source: dict[str, Any]) -> list[dict[str, str]]:
        if source.get("keySchemas"):
            return [{"AttributeName": k["attributeName"], "KeyType": k["keyType"]} for k in source["keySchemas"]]
        schema = [{"AttributeName": source["hashKey"], "KeyType": "HASH"}]
        if source.get("rangeKey"):
            schema.append({"AttributeName": source["rangeKey"], "KeyType": "RANGE"})
        return schema

    arguments: dict[str, Any] = {
        "TableName": inputs["name"], "KeySchema": key_schema(inputs),
        "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]} for a in inputs["attributes"]],
        "BillingMode": inputs.get("billingMode", "PROVISIONED"),
        "DeletionProtectionEnabled": bool(inputs.get("deletionProtectionEnabled", False)),
    }
    if arguments["BillingMode"] == "PROVISIONED":
        arguments["ProvisionedThroughput"] = {"ReadCapacityUnits": _int(inputs.get("readCapacity", 1)),
                                              "WriteCapacityUnits": _int(inputs.get("writeCapacity", 1))}
    indexes = []
    for index in inputs.get("globalSecondaryIndexes") or []:
        projection: dict[str, Any] = {"ProjectionType": index.get("projectionType", "ALL")}
        if index.get("nonKeyAttributes"):
            projection["NonKeyAttributes"] = index["nonKeyAttributes"]
        indexes.append({"IndexName": index["name"], "KeySchema": key_schema(index), "Projection": projection})
    if indexes:
        arguments["GlobalSecondaryIndexes"] = indexes
    if inputs.get("streamEnabled"):
        arguments["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": inputs["streamViewType"]}
    if (inputs.get("serverSideEncryption") or {}).get("enabled"):
        arguments["SSESpecification"] = {"Enabled": True}
    dynamodb = ctx.client("dynamodb")
    table = dynamodb.create_table(**arguments)["TableDescription"]
    ttl = inputs.get("ttl") or {}
    if ttl.get("enabled"):
        dynamodb.update_time_to_live(TableName=inputs["name"], TimeToLiveSpecification={
            "Enabled": True, "AttributeName": ttl["attributeName"]})
    if (inputs.get("pointInTimeRecovery") or {}).get("enabled"):
        dynamodb.update_continuous_backups(TableName=inputs["name"], PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
    outputs = {"id": inputs["name"], "arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        outputs["streamArn"] = table["LatestStreamArn"]
    return outputs


def _stream(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    kinesis = ctx.client("kinesis")
    mode = (inputs.get("streamModeDetails") or {}).get("streamMode", "PROVISIONED")
    arguments: dict[str, Any] = {"StreamName": inputs["name"], "StreamModeDetails": {"StreamMode": mode}}
    if mode == "PROVISIONED":
        arguments["ShardCount"] = _int(inputs.get("shardCount", 1))
    kinesis.create_stream(**arguments)
    if _int(inputs.get("retentionPeriod", 24)) > 24:
        kinesis.increase_stream_retention_period(StreamName=inputs["name"],
                                                 RetentionPeriodHours=_int(inputs["retentionPeriod"]))
    if inputs.get("encryptionType") == "KMS":
        kinesis.start_stream_encryption(StreamName=inputs["name"], EncryptionType="KMS", KeyId=inputs["kmsKeyId"])
    arn = kinesis.describe_stream_summary(StreamName=inputs["name"])["StreamDescriptionSummary"]["StreamARN"]
    return {"id": inputs["name"], "arn": arn}


def _topic(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    attributes = {"KmsMasterKeyId": inputs["kmsMasterKeyId"]} if inputs.get("kmsMasterKeyId") else {}
    arn = ctx.client("sns").create_topic(Name=inputs["name"], Attributes=attributes)["TopicArn"]
    return {"id": arn, "arn": arn}


def _topic_policy(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    ctx.client("sns").set_topic_attributes(TopicArn=inputs["arn"], AttributeName="Policy", AttributeValue=inputs["policy"])
    return {"id": inputs["arn"]}


def _subscription(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    attributes = {}
    for key, attribute in (("filterPolicy", "FilterPolicy"), ("filterPolicyScope", "FilterPolicyScope"),
                           ("rawMessageDelivery", "RawMessageDelivery"), ("redrivePolicy", "RedrivePolicy")):
        if key in inputs:
            value = inputs[key]
            attributes[attribute] = str(value).lower() if isinstance(value, bool) else _json(value)
    arn = ctx.client("sns").subscribe(TopicArn=inputs["topic"], Protocol=inputs["protocol"], Endpoint=inputs["endpoint"],
                                      Attributes=attributes, ReturnSubscriptionArn=True)["SubscriptionArn"]
    return {"id": arn, "arn": arn}


def _kms_key(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    kms = ctx.client("kms")
    key = kms.create_key(Description=inputs.get("description", ""), Policy=inputs["policy"])["KeyMetadata"]
    if inputs.get("enableKeyRotation"):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return {"id": key["KeyId"], "keyId": key["KeyId"], "arn": key["Arn"]}


def _kms_alias(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    ctx.client("kms").create_alias(AliasName=inputs["name"], TargetKeyId=inputs["targetKeyId"])
    return {"id": inputs["name"]}


def _bus(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    arn = ctx.client("events").create_event_bus(Name=inputs["name"])["EventBusArn"]
    return {"id": inputs["name"], "arn": arn}


def _archive(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    arguments = {"ArchiveName": inputs["name"], "EventSourceArn": inputs["eventSourceArn"],
                 "RetentionDays": _int(inputs.get("retentionDays", 0))}
    if inputs.get("eventPattern"):
        arguments["EventPattern"] = inputs["eventPattern"]
    arn = ctx.client("events").create_archive(**arguments)["ArchiveArn"]
    return {"id": inputs["name"], "arn": arn}


def _rule(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    arguments = {"Name": inputs["name"], "EventBusName": inputs.get("eventBusName", "default"),
                 "State": inputs.get("state", "ENABLED")}
    for key, parameter in (("eventPattern", "EventPattern"), ("scheduleExpression", "ScheduleExpression"),
                           ("description", "Description")):
        if key in inputs:
            arguments[parameter] = inputs[key]
    arn = ctx.client("events").put_rule(**arguments)["RuleArn"]
    return {"id": f"{arguments['EventBusName']}/{inputs['name']}", "arn": arn}


def _target(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    arn = inputs["arn"]
    if ":states:" in arn and ":stateMachine:" in arn:
        # moto's EventBridge does not start executions: the event goes to a queue of the local
        # runtime, which starts one with the target's role, as EventBridge does.
        sqs = ctx.client("sqs")
        url = sqs.create_queue(QueueName=f"local-tap-{resource['name']}"[:80])["QueueUrl"]
        tap = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        ctx.taps[tap] = {"stateMachine": arn, "roleArn": inputs.get("roleArn"), "rule": inputs["rule"],
                         "bus": inputs.get("eventBusName", "default"),
                         "deadLetterArn": (inputs.get("deadLetterConfig") or {}).get("arn")}
        inputs = {k: v for k, v in inputs.items() if k != "roleArn"}  # the tap queue needs no role
        arn = tap
    elif ":lambda:" in arn and ":function:" in arn:
        # moto would invoke the function through Docker: the event goes to a queue of the local
        # runtime instead, which invokes the function asynchronously as Lambda does.
        sqs = ctx.client("sqs")
        url = sqs.create_queue(QueueName=f"local-tap-{resource['name']}"[:80])["QueueUrl"]
        tap = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        ctx.taps[tap] = {"function": arn, "rule": inputs["rule"], "bus": inputs.get("eventBusName", "default"),
                         "deadLetterArn": (inputs.get("deadLetterConfig") or {}).get("arn")}
        arn = tap
    target: dict[str, Any] = {"Id": inputs.get("targetId") or resource["name"], "Arn": arn}
    if inputs.get("deadLetterConfig"):
        target["DeadLetterConfig"] = {"Arn": inputs["deadLetterConfig"]["arn"]}
    if inputs.get("retryPolicy"):
        policy = inputs["retryPolicy"]
        target["RetryPolicy"] = {"MaximumRetryAttempts": _int(policy["maximumRetryAttempts"]),
                                 "MaximumEventAgeInSeconds": _int(policy["maximumEventAgeInSeconds"])}
    for key, parameter in (("input", "Input"), ("inputPath", "InputPath"), ("roleArn", "RoleArn")):
        if key in inputs:
            target[parameter] = inputs[key]
    if inputs.get("sqsTarget"):
        target["SqsParameters"] = {"MessageGroupId": inputs["sqsTarget"]["messageGroupId"]}
    answer = ctx.client("events").put_targets(Rule=inputs["rule"], EventBusName=inputs.get("eventBusName", "default"),
                                              Targets=[target])
    if answer.get("FailedEntryCount"):
        raise DeployError(f"{resource['name']}: the target was refused: {answer['FailedEntries']}")
    return {"id": f"{inputs['rule']}-{target['Id']}"}


def _secret(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    arn = ctx.client("secretsmanager").create_secret(Name=inputs["name"], Description=inputs.get("description", ""))["ARN"]
    return {"id": arn, "arn": arn}


def _secret_version(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    answer = ctx.client("secretsmanager").put_secret_value(SecretId=inputs["secretId"], SecretString=inputs["secretString"])
    return {"id": f"{inputs['secretId']}|{answer['VersionId']}", "arn": answer["ARN"]}


# The services whose calls the local runtime makes with a role's credentials.
PLAYED_SERVICES = ("lambda.amazonaws.com", "events.amazonaws.com")


def _trust_for_local_lambda(document: str) -> str:
    """A role Lambda (or EventBridge, starting executions) may assume is assumable by the user that
    plays those services locally. moto checks a trust policy's principals as IAM ARNs only (a
    statement naming just a service breaks its check) and cannot see aws:SourceAccount, so each
    statement trusting one of ``PLAYED_SERVICES`` also names that user and loses its aws:SourceAccount
    condition here, nowhere else."""
    policy = json.loads(document)
    user = f"arn:aws:iam::{ACCOUNT_ID}:user/{LAMBDA_SERVICE_USER}"
    for statement in policy.get("Statement", []):
        principal = statement.get("Principal")
        if isinstance(principal, dict) and any(service in json.dumps(principal.get("Service", []))
                                               for service in PLAYED_SERVICES):
            statement["Principal"] = {**principal, "AWS": user}
            statement.pop("Condition", None)
    return json.dumps(policy)


def _role(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    name = inputs.get("name") or resource["name"]
    arguments = {"RoleName": name, "AssumeRolePolicyDocument": _trust_for_local_lambda(inputs["assumeRolePolicy"])}
    if inputs.get("description"):
        arguments["Description"] = inputs["description"]
    arn = ctx.client("iam").create_role(**arguments)["Role"]["Arn"]
    return {"id": name, "arn": arn, "name": name}


def _role_policy(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    ctx.client("iam").put_role_policy(RoleName=inputs["role"], PolicyName=inputs.get("name") or resource["name"],
                                      PolicyDocument=inputs["policy"])
    return {"id": f"{inputs['role']}:{resource['name']}"}


def function_archive(files: list[str]) -> bytes:
    """The function's archive as the program lists it: library runtime modules from the
    repository root, the application's from lambdas/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in files:
            source = ROOT / name if name.startswith("components/") else ROOT / "lambdas" / name
            archive.write(source, name)
    return buffer.getvalue()


def _function(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    lambda_client = ctx.client("lambda")
    arguments: dict[str, Any] = {
        "FunctionName": inputs["name"], "Runtime": inputs["runtime"], "Role": inputs["role"],
        "Handler": inputs["handler"], "Code": {"ZipFile": function_archive(inputs["code"]["archive"]["files"])},
        "MemorySize": _int(inputs.get("memorySize", 128)), "Timeout": _int(inputs.get("timeout", 3)),
        "Publish": bool(inputs.get("publish", False)),
    }
    if inputs.get("description"):
        arguments["Description"] = inputs["description"]
    if inputs.get("architectures"):
        arguments["Architectures"] = inputs["architectures"]
    if inputs.get("environment"):
        arguments["Environment"] = {"Variables": inputs["environment"]["variables"]}
    if inputs.get("tracingConfig"):
        arguments["TracingConfig"] = {"Mode": inputs["tracingConfig"]["mode"]}
    if inputs.get("loggingConfig"):
        config = inputs["loggingConfig"]
        arguments["LoggingConfig"] = {key[0].upper() + key[1:]: value for key, value in config.items()}
    answer = lambda_client.create_function(**arguments)
    if "reservedConcurrentExecutions" in inputs and _int(inputs["reservedConcurrentExecutions"]) >= 0:
        lambda_client.put_function_concurrency(FunctionName=inputs["name"],
                                               ReservedConcurrentExecutions=_int(inputs["reservedConcurrentExecutions"]))
    return {"id": inputs["name"], "arn": answer["FunctionArn"], "qualifiedArn": f"{answer['FunctionArn']}:1",
            "invokeArn": f"arn:aws:apigateway:{ctx.region}:lambda:path/2015-03-31/functions/{answer['FunctionArn']}/invocations"}


def _alias(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    lambda_client = ctx.client("lambda")
    version = lambda_client.publish_version(FunctionName=inputs["functionName"])["Version"]
    arn = lambda_client.create_alias(FunctionName=inputs["functionName"], Name=inputs["name"],
                                     FunctionVersion=version)["AliasArn"]
    return {"id": arn, "arn": arn,
            "invokeArn": f"arn:aws:apigateway:{ctx.region}:lambda:path/2015-03-31/functions/{arn}/invocations"}


def _permission(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    arguments = {"FunctionName": inputs["function"], "StatementId": inputs.get("statementId") or resource["name"],
                 "Action": inputs["action"], "Principal": inputs["principal"]}
    if inputs.get("sourceArn"):
        arguments["SourceArn"] = inputs["sourceArn"]
    if inputs.get("qualifier"):
        arguments["Qualifier"] = inputs["qualifier"]
    ctx.client("lambda").add_permission(**arguments)
    return {"id": arguments["StatementId"]}


def _event_source_mapping(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    return {"id": f"local-{resource['name']}"}  # played by the local runtime


def _api(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    arguments: dict[str, Any] = {"Name": inputs["name"], "ProtocolType": inputs["protocolType"]}
    if inputs.get("corsConfiguration"):
        cors = inputs["corsConfiguration"]
        arguments["CorsConfiguration"] = {key[0].upper() + key[1:]: (_int(v) if key == "maxAge" else v)
                                          for key, v in cors.items()}
    answer = ctx.client("apigatewayv2").create_api(**arguments)
    api_id = answer["ApiId"]
    return {"id": api_id, "arn": f"arn:aws:apigateway:{ctx.region}::/apis/{api_id}",
            "apiEndpoint": answer.get("ApiEndpoint", ""),
            "executionArn": f"arn:aws:execute-api:{ctx.region}:{ACCOUNT_ID}:{api_id}"}


def _integration(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    answer = ctx.client("apigatewayv2").create_integration(
        ApiId=inputs["apiId"], IntegrationType=inputs["integrationType"], IntegrationUri=inputs["integrationUri"],
        IntegrationMethod=inputs.get("integrationMethod", "POST"),
        PayloadFormatVersion=inputs.get("payloadFormatVersion", "2.0"),
        TimeoutInMillis=_int(inputs.get("timeoutMilliseconds", 30000)))
    return {"id": answer["IntegrationId"]}


def _authorizer(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    jwt = inputs.get("jwtConfiguration") or {}
    answer = ctx.client("apigatewayv2").create_authorizer(
        ApiId=inputs["apiId"], AuthorizerType=inputs["authorizerType"], Name=inputs["name"],
        IdentitySource=inputs.get("identitySources", []),
        JwtConfiguration={"Audience": jwt.get("audiences", []), "Issuer": jwt.get("issuer", "")})
    return {"id": answer["AuthorizerId"]}


def _route(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    arguments = {"ApiId": inputs["apiId"], "RouteKey": inputs["routeKey"], "Target": inputs["target"],
                 "AuthorizationType": inputs.get("authorizationType", "NONE")}
    for key, parameter in (("authorizerId", "AuthorizerId"), ("operationName", "OperationName"),
                           ("authorizationScopes", "AuthorizationScopes")):
        if key in inputs:
            arguments[parameter] = inputs[key]
    return {"id": ctx.client("apigatewayv2").create_route(**arguments)["RouteId"]}


def _stage(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    arguments: dict[str, Any] = {"ApiId": inputs["apiId"], "StageName": inputs["name"],
                                 "AutoDeploy": bool(inputs.get("autoDeploy", False))}
    if inputs.get("accessLogSettings"):
        logs = inputs["accessLogSettings"]
        arguments["AccessLogSettings"] = {"DestinationArn": logs["destinationArn"], "Format": logs["format"]}
    ctx.client("apigatewayv2").create_stage(**arguments)
    return {"id": inputs["name"], "invokeUrl": f"{ctx.api_url}/"}


def _log_group(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    logs = ctx.client("logs")
    logs.create_log_group(logGroupName=inputs["name"])
    if inputs.get("retentionInDays"):
        logs.put_retention_policy(logGroupName=inputs["name"], retentionInDays=_int(inputs["retentionInDays"]))
    return {"id": inputs["name"], "arn": f"arn:aws:logs:{ctx.region}:{ACCOUNT_ID}:log-group:{inputs['name']}"}


def _metric_query(query: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"Id": query["id"], "ReturnData": bool(query.get("returnData", False))}
    if "expression" in query:
        converted["Expression"] = query["expression"]
    if "label" in query:
        converted["Label"] = query["label"]
    if "metric" in query:
        metric = query["metric"]
        converted["MetricStat"] = {
            "Metric": {"Namespace": metric["namespace"], "MetricName": metric["metricName"],
                       "Dimensions": [{"Name": k, "Value": v} for k, v in (metric.get("dimensions") or {}).items()]},
            "Period": _int(metric["period"]), "Stat": metric["stat"]}
    return converted


def _alarm(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    arguments: dict[str, Any] = {"AlarmName": inputs["name"], "ComparisonOperator": inputs["comparisonOperator"],
                                 "EvaluationPeriods": _int(inputs["evaluationPeriods"]),
                                 "Threshold": float(inputs["threshold"])}
    for key, parameter in (("alarmDescription", "AlarmDescription"), ("treatMissingData", "TreatMissingData"),
                           ("alarmActions", "AlarmActions"), ("okActions", "OKActions"),
                           ("insufficientDataActions", "InsufficientDataActions"), ("metricName", "MetricName"),
                           ("namespace", "Namespace"), ("statistic", "Statistic"),
                           ("extendedStatistic", "ExtendedStatistic"), ("unit", "Unit")):
        if key in inputs:
            arguments[parameter] = inputs[key]
    for key, parameter in (("datapointsToAlarm", "DatapointsToAlarm"), ("period", "Period")):
        if key in inputs:
            arguments[parameter] = _int(inputs[key])
    if inputs.get("dimensions"):
        arguments["Dimensions"] = [{"Name": k, "Value": v} for k, v in inputs["dimensions"].items()]
    if inputs.get("metricQueries"):
        arguments["Metrics"] = [_metric_query(q) for q in inputs["metricQueries"]]
    ctx.client("cloudwatch").put_metric_alarm(**arguments)
    return {"id": inputs["name"], "arn": f"arn:aws:cloudwatch:{ctx.region}:{ACCOUNT_ID}:alarm:{inputs['name']}"}


def _dashboard(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    ctx.client("cloudwatch").put_dashboard(DashboardName=inputs["dashboardName"], DashboardBody=inputs["dashboardBody"])
    return {"id": inputs["dashboardName"]}


def _schedule_group(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    arn = ctx.client("scheduler").create_schedule_group(Name=inputs["name"])["ScheduleGroupArn"]
    return {"id": inputs["name"], "arn": arn}


def _schedule(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    source = inputs["target"]
    target: dict[str, Any] = {"Arn": source["arn"], "RoleArn": source["roleArn"]}
    if "input" in source:
        target["Input"] = source["input"]
    if source.get("retryPolicy"):
        target["RetryPolicy"] = {"MaximumRetryAttempts": _int(source["retryPolicy"]["maximumRetryAttempts"]),
                                 "MaximumEventAgeInSeconds": _int(source["retryPolicy"]["maximumEventAgeInSeconds"])}
    if source.get("deadLetterConfig"):
        target["DeadLetterConfig"] = {"Arn": source["deadLetterConfig"]["arn"]}
    window = inputs.get("flexibleTimeWindow") or {"mode": "OFF"}
    flexible = {"Mode": window["mode"]}
    if "maximumWindowInMinutes" in window:
        flexible["MaximumWindowInMinutes"] = _int(window["maximumWindowInMinutes"])
    arguments = {"Name": inputs["name"], "GroupName": inputs.get("groupName", "default"),
                 "ScheduleExpression": inputs["scheduleExpression"], "FlexibleTimeWindow": flexible,
                 "Target": target, "State": inputs.get("state", "ENABLED")}
    if inputs.get("scheduleExpressionTimezone"):
        arguments["ScheduleExpressionTimezone"] = inputs["scheduleExpressionTimezone"]
    arn = ctx.client("scheduler").create_schedule(**arguments)["ScheduleArn"]
    return {"id": f"{arguments['GroupName']}/{inputs['name']}", "arn": arn}


def _deployment_application(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    application_id = ctx.client("codedeploy").create_application(
        applicationName=inputs["name"], computePlatform=inputs["computePlatform"])["applicationId"]
    return {"id": application_id, "arn": f"arn:aws:codedeploy:{ctx.region}:{ACCOUNT_ID}:application:{inputs['name']}"}


def _deployment_group(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    alarms = inputs.get("alarmConfiguration") or {}
    rollback = inputs.get("autoRollbackConfiguration") or {}
    style = inputs.get("deploymentStyle") or {}
    group_id = ctx.client("codedeploy").create_deployment_group(
        applicationName=inputs["appName"], deploymentGroupName=inputs["deploymentGroupName"],
        serviceRoleArn=inputs["serviceRoleArn"], deploymentConfigName=inputs["deploymentConfigName"],
        deploymentStyle={"deploymentType": style.get("deploymentType"), "deploymentOption": style.get("deploymentOption")},
        alarmConfiguration={"enabled": bool(alarms.get("enabled")),
                            "alarms": [{"name": name} for name in alarms.get("alarms", [])]},
        autoRollbackConfiguration={"enabled": bool(rollback.get("enabled")), "events": list(rollback.get("events", []))},
    )["deploymentGroupId"]
    return {"id": group_id, "arn": f"arn:aws:codedeploy:{ctx.region}:{ACCOUNT_ID}:deploymentgroup:"
                                   f"{inputs['appName']}/{inputs['deploymentGroupName']}"}


def _gradual_deployment(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    # What `pulumi up` does on creation: the alias was just created on this version, nothing shifts.
    from components.core.rollout import GradualDeploymentProvider

    created = GradualDeploymentProvider().create(inputs)
    return {"id": created.id, **{key: str(value) for key, value in (created.outs or {}).items()
                                 if key in ("deployment_id", "outcome")}}


def _state_machine(ctx: Any, resource: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    logging_config = inputs.get("loggingConfiguration") or {}
    arn = ctx.client("stepfunctions").create_state_machine(
        name=inputs["name"], definition=inputs["definition"], roleArn=inputs["roleArn"], type=inputs.get("type", "STANDARD"),
        loggingConfiguration={"level": logging_config.get("level", "OFF"),
                              "includeExecutionData": bool(logging_config.get("includeExecutionData")),
                              "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": logging_config["logDestination"]}}]
                              if logging_config.get("logDestination") else []},
        tracingConfiguration={"enabled": bool((inputs.get("tracingConfiguration") or {}).get("enabled"))},
    )["stateMachineArn"]
    return {"id": arn, "arn": arn, "name": inputs["name"]}


def _frozen(*names: str) -> frozenset[str]:
    return frozenset(names)


KINDS: dict[str, Kind] = {
    "aws:sfn/stateMachine:StateMachine": Kind(_state_machine, _frozen(
        "name", "definition", "roleArn", "type", "loggingConfiguration", "tracingConfiguration"),
        {"tags": TAGS_NOT_APPLIED}),
    "aws:codedeploy/application:Application": Kind(_deployment_application, _frozen("name", "computePlatform"),
                                                   {"tags": TAGS_NOT_APPLIED}),
    "aws:codedeploy/deploymentGroup:DeploymentGroup": Kind(_deployment_group, _frozen(
        "appName", "deploymentGroupName", "serviceRoleArn", "deploymentConfigName", "deploymentStyle",
        "alarmConfiguration", "autoRollbackConfiguration"), {"tags": TAGS_NOT_APPLIED}),
    "pulumi-python:dynamic/rollout:GradualDeployment": Kind(_gradual_deployment, _frozen(
        "region", "application", "deployment_group", "function_name", "alias", "target_version", "pre_traffic_hook",
        "wait_seconds", "poll_seconds", "deployment_id", "outcome")),
    "aws:sqs/queue:Queue": Kind(_queue, _frozen(
        "name", "messageRetentionSeconds", "visibilityTimeoutSeconds", "receiveWaitTimeSeconds", "delaySeconds",
        "maxMessageSize", "redrivePolicy", "sqsManagedSseEnabled", "fifoQueue", "contentBasedDeduplication",
        "kmsMasterKeyId"), {"tags": TAGS_NOT_APPLIED}),
    "aws:sqs/queuePolicy:QueuePolicy": Kind(_queue_attribute("Policy", "policy"), _frozen("queueUrl", "policy")),
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": Kind(_queue_attribute("RedriveAllowPolicy", "redriveAllowPolicy"),
                                                          _frozen("queueUrl", "redriveAllowPolicy")),
    "aws:dynamodb/table:Table": Kind(_table, _frozen(
        "name", "attributes", "hashKey", "rangeKey", "billingMode", "globalSecondaryIndexes", "streamEnabled",
        "streamViewType", "serverSideEncryption", "ttl", "pointInTimeRecovery", "deletionProtectionEnabled",
        "readCapacity", "writeCapacity"), {"tags": TAGS_NOT_APPLIED}),
    "aws:kinesis/stream:Stream": Kind(_stream, _frozen("name", "shardCount", "streamModeDetails", "retentionPeriod",
                                                       "encryptionType", "kmsKeyId"), {"tags": TAGS_NOT_APPLIED}),
    "aws:sns/topic:Topic": Kind(_topic, _frozen("name", "kmsMasterKeyId"), {"tags": TAGS_NOT_APPLIED}),
    "aws:sns/topicPolicy:TopicPolicy": Kind(_topic_policy, _frozen("arn", "policy")),
    "aws:sns/topicSubscription:TopicSubscription": Kind(_subscription, _frozen(
        "topic", "protocol", "endpoint", "filterPolicy", "filterPolicyScope", "rawMessageDelivery", "redrivePolicy")),
    "aws:kms/key:Key": Kind(_kms_key, _frozen("description", "policy", "enableKeyRotation"),
                            {"deletionWindowInDays": "applies only when the key is deleted",
                             "tags": TAGS_NOT_APPLIED}),
    "aws:kms/alias:Alias": Kind(_kms_alias, _frozen("name", "targetKeyId")),
    "aws:cloudwatch/eventBus:EventBus": Kind(_bus, _frozen("name"), {"tags": TAGS_NOT_APPLIED}),
    "aws:cloudwatch/eventArchive:EventArchive": Kind(_archive, _frozen("name", "eventSourceArn", "retentionDays",
                                                                       "eventPattern")),
    "aws:cloudwatch/eventRule:EventRule": Kind(_rule, _frozen("name", "eventBusName", "eventPattern",
                                                              "scheduleExpression", "description", "state"),
                                               {"tags": TAGS_NOT_APPLIED}),
    "aws:cloudwatch/eventTarget:EventTarget": Kind(_target, _frozen(
        "rule", "eventBusName", "arn", "targetId", "deadLetterConfig", "retryPolicy", "input", "inputPath", "roleArn",
        "sqsTarget")),
    "aws:secretsmanager/secret:Secret": Kind(_secret, _frozen("name", "description"),
                                             {"recoveryWindowInDays": "applies only when the secret is deleted",
                                              "tags": TAGS_NOT_APPLIED}),
    "aws:secretsmanager/secretVersion:SecretVersion": Kind(_secret_version, _frozen("secretId", "secretString")),
    "aws:iam/role:Role": Kind(_role, _frozen("name", "assumeRolePolicy", "description"), {"tags": TAGS_NOT_APPLIED}),
    "aws:iam/rolePolicy:RolePolicy": Kind(_role_policy, _frozen("role", "policy", "name")),
    "aws:lambda/function:Function": Kind(_function, _frozen(
        "name", "runtime", "role", "handler", "code", "memorySize", "timeout", "publish", "description",
        "architectures", "environment", "tracingConfig", "loggingConfig", "reservedConcurrentExecutions"),
        {"layers": "the local runtime imports Powertools from the project's venv (the pinned version)",
         "tags": TAGS_NOT_APPLIED}),
    "aws:lambda/alias:Alias": Kind(_alias, _frozen("functionName", "name"),
                                   {"functionVersion": "the alias points at the version published from this code"}),
    "aws:lambda/permission:Permission": Kind(_permission, _frozen("function", "statementId", "action", "principal",
                                                                  "sourceArn", "qualifier")),
    "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig": Kind(
        lambda ctx, resource, inputs: {"id": resource["name"]}, _frozen(),
        {"functionName": "no cold starts are played locally", "qualifier": "no cold starts are played locally",
         "provisionedConcurrentExecutions": "no cold starts are played locally"}),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": Kind(
        lambda ctx, resource, inputs: {"id": resource["name"]},  # played by the local runtime's async invoker
        _frozen("functionName", "qualifier", "maximumRetryAttempts", "maximumEventAgeInSeconds", "destinationConfig")),
    "aws:lambda/eventSourceMapping:EventSourceMapping": Kind(_event_source_mapping, _frozen(
        "functionName", "eventSourceArn", "batchSize", "maximumBatchingWindowInSeconds", "functionResponseTypes",
        "scalingConfig", "bisectBatchOnFunctionError", "destinationConfig", "maximumRecordAgeInSeconds",
        "maximumRetryAttempts", "startingPosition", "filterCriteria"),
        {"parallelizationFactor": "the local poller reads each shard with one batch at a time",
         "tumblingWindowInSeconds": "not played"}),
    "aws:apigatewayv2/api:Api": Kind(_api, _frozen("name", "protocolType", "corsConfiguration"),
                                     {"tags": TAGS_NOT_APPLIED}),
    "aws:apigatewayv2/integration:Integration": Kind(_integration, _frozen(
        "apiId", "integrationType", "integrationUri", "integrationMethod", "payloadFormatVersion",
        "timeoutMilliseconds")),
    "aws:apigatewayv2/authorizer:Authorizer": Kind(_authorizer, _frozen("apiId", "authorizerType", "name",
                                                                        "identitySources", "jwtConfiguration")),
    "aws:apigatewayv2/route:Route": Kind(_route, _frozen("apiId", "routeKey", "target", "authorizationType",
                                                         "authorizerId", "operationName", "authorizationScopes")),
    "aws:apigatewayv2/stage:Stage": Kind(_stage, _frozen("apiId", "name", "autoDeploy", "accessLogSettings"),
                                         {"defaultRouteSettings": "throttling is not played locally",
                                          "routeSettings": "throttling is not played locally",
                                          "tags": TAGS_NOT_APPLIED}),
    "aws:cloudwatch/logGroup:LogGroup": Kind(_log_group, _frozen("name", "retentionInDays"),
                                             {"tags": TAGS_NOT_APPLIED}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Kind(_alarm, _frozen(
        "name", "comparisonOperator", "evaluationPeriods", "threshold", "alarmDescription", "treatMissingData",
        "alarmActions", "okActions", "insufficientDataActions", "metricName", "namespace", "statistic",
        "extendedStatistic", "unit", "datapointsToAlarm", "period", "dimensions", "metricQueries"),
        {"tags": TAGS_NOT_APPLIED}),
    "aws:cloudwatch/dashboard:Dashboard": Kind(_dashboard, _frozen("dashboardName", "dashboardBody")),
    "aws:scheduler/scheduleGroup:ScheduleGroup": Kind(_schedule_group, _frozen("name"), {"tags": TAGS_NOT_APPLIED}),
    "aws:scheduler/schedule:Schedule": Kind(_schedule, _frozen(
        "name", "groupName", "scheduleExpression", "scheduleExpressionTimezone", "flexibleTimeWindow", "state",
        "target")),
}


# Types the program uses that the emulator cannot hold: listed at start, not created.
EMULATOR_GAPS = {
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": "moto does not implement PutCompositeAlarm",
}


def unsupported_types(resources: list[dict[str, Any]]) -> list[str]:
    return sorted({r["type"] for r in resources if r["type"] not in KINDS and r["type"] not in EMULATOR_GAPS
                   and not r["type"].startswith(NOT_CLOUD_RESOURCES)})


def creation_order(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources in an order that creates each one after everything its inputs name.

    Registration order is not enough: an input may be a name the program knows without waiting
    for the resource (a rule names its bus). A resource depends on another when one of its input
    values is that resource's name, or mentions its ARN or URL as a whole word."""
    owner_of_word: dict[str, int] = {}
    names_of: list[set[str]] = []
    for index, resource in enumerate(resources):
        mock = _mock_outputs(resource)
        for key, value in mock.items():
            if key in MOCK_OUTPUTS and isinstance(value, str) and (value.startswith(("arn:", "https:")) or MOCK_ID.match(value)):
                owner_of_word.setdefault(value, index)
        names_of.append({v for k, v in mock.items() if k in ("name", "id") and isinstance(v, str) and len(v) > 3})
    # A cheap substring test first; the whole-word check only where the word occurs at all.
    boundaries = {w: re.compile(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])") for w in owner_of_word}
    owners_of_name: dict[str, set[int]] = {}
    for index, names in enumerate(names_of):
        for name in names:
            owners_of_name.setdefault(name, set()).add(index)
    needs: dict[int, set[int]] = {}
    for index, resource in enumerate(resources):
        text = json.dumps(resource["inputs"])
        # Its own name names nothing else: every alias is "live", a stream and its processor may share one.
        values = set(_string_leaves(resource["inputs"])) - names_of[index]
        found = {owner for word, owner in owner_of_word.items() if word in text and boundaries[word].search(text)}
        found |= {owner for value in values for owner in owners_of_name.get(value, ())}
        needs[index] = found - {index}
    ordered: list[int] = []
    done: set[int] = set()
    pending = list(range(len(resources)))
    while pending:
        ready = [i for i in pending if needs[i] <= done] or pending[:1]  # a cycle: keep registration order
        for i in ready:
            ordered.append(i)
            done.add(i)
        pending = [i for i in pending if i not in done]
    return [resources[i] for i in ordered]


def _string_leaves(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _string_leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _string_leaves(item)]
    return []


def _mock_outputs(resource: dict[str, Any]) -> dict[str, Any]:
    """What the mock runtime answered for this resource (the values later inputs carry)."""
    args = SimpleNamespace(typ=resource["type"], name=resource["name"], inputs=resource["inputs"], provider=None,
                           custom=True, resource_id=None)
    resource_id, state = ProgramMocks().new_resource(args)  # type: ignore[arg-type]
    return {**state, "id": resource_id}


class _Context:
    def __init__(self, emulator: Emulator, api_url: str) -> None:
        self.taps: dict[str, dict[str, Any]] = {}
        self.emulator = emulator
        self.region = REGION
        self.api_url = api_url
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.emulator.client(service)
        return self._clients[service]


def deploy(synth: dict[str, Any], emulator: Emulator, *, progress: Callable[[str], None] = lambda line: None,
           api_url: str = "") -> Deployed:
    """Creates every cloud resource of the synth in the emulator, in registration order."""
    resources = synth["resources"]
    unsupported = unsupported_types(resources)
    if unsupported:
        raise DeployError("the local cloud cannot create: " + ", ".join(unsupported))
    deployed = Deployed(stack=synth.get("stack", ""))
    context = _Context(emulator, api_url)
    cloud = creation_order([r for r in resources if not r["type"].startswith(NOT_CLOUD_RESOURCES)
                            and r["type"] not in EMULATOR_GAPS])
    for type_, reason in EMULATOR_GAPS.items():
        skipped = sum(r["type"] == type_ for r in resources)
        if skipped:
            deployed.skipped[type_] = skipped
            progress(f"not created locally: {skipped} x {type_.split(':')[-1]} ({reason})")
    for number, resource in enumerate(cloud, 1):
        kind = KINDS[resource["type"]]
        unknown = sorted(set(resource["inputs"]) - kind.applied - set(kind.left_out))
        if unknown:
            raise DeployError(f"{resource['name']} ({resource['type']}): the local cloud cannot apply "
                              + ", ".join(unknown))
        inputs = json.loads(deployed.resolve(json.dumps(resource["inputs"])))
        progress(f"[{number:3}/{len(cloud)}] {resource['type'].split(':')[-1]:<22} {resource['name']}")
        try:
            outputs = kind.create(context, resource, inputs)
        except DeployError:
            raise
        except Exception as error:
            raise DeployError(f"{resource['name']} ({resource['type']}): {error}") from error
        mock = _mock_outputs(resource)
        for key in MOCK_OUTPUTS:
            mock_value, real_value = mock.get(key), outputs.get(key)
            if isinstance(mock_value, str) and real_value and len(mock_value) > 3 and mock_value != real_value:
                deployed.replacements[mock_value] = real_value
        deployed.outputs[resource["name"]] = outputs
        deployed.resources.append({**resource, "inputs": inputs})
        deployed.counts[resource["type"]] = deployed.counts.get(resource["type"], 0) + 1
    _put_local_secrets(deployed, context)
    deployed.taps = context.taps
    return deployed


def _put_local_secrets(deployed: Deployed, context: _Context) -> None:
    """A secret the program creates without a value gets the local one (an operator's step in AWS)."""
    with_versions = {r["inputs"]["secretId"] for r in deployed.of_type("aws:secretsmanager/secretVersion:SecretVersion")}
    for secret in deployed.of_type("aws:secretsmanager/secret:Secret"):
        arn = deployed.outputs[secret["name"]]["arn"]
        if arn not in with_versions:
            context.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=LOCAL_WEBHOOK_SECRET)
            deployed.secret_values[arn] = LOCAL_WEBHOOK_SECRET
