"""Pulumi mock runtime shared by ``tools.synth`` and the tests: one set of mock answers.

The mock gives every resource plausible physical outputs (name, ARN, id, URLs) so inputs built
from other resources' outputs come out as concrete strings, and a capturing monitor records
each registration (type, name, parent, provider, inputs) exactly as the engine would receive it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
PARTITION = "aws"
STACK_TYPE = "pulumi:pulumi:Stack"
SECRET_PLACEHOLDER = "[secret]"
UNKNOWN_PLACEHOLDER = "[unknown]"

# ARN shapes by resource type; {name}, {id} and any input (camelCase) may be used.
_ARN_FORMATS = {
    "aws:lambda/function:Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "aws:lambda/alias:Alias": "arn:aws:lambda:{region}:{account}:function:{functionName}:{name}",
    "aws:lambda/eventSourceMapping:EventSourceMapping": "arn:aws:lambda:{region}:{account}:event-source-mapping:{id}",
    "aws:sqs/queue:Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "aws:sns/topic:Topic": "arn:aws:sns:{region}:{account}:{name}",
    "aws:sns/topicSubscription:TopicSubscription": "arn:aws:sns:{region}:{account}:{name}:{id}",
    "aws:iam/role:Role": "arn:aws:iam::{account}:role/{name}",
    "aws:iam/policy:Policy": "arn:aws:iam::{account}:policy/{name}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": "arn:aws:cloudwatch:{region}:{account}:alarm:{alarmName}",
    "aws:cloudwatch/dashboard:Dashboard": "arn:aws:cloudwatch::{account}:dashboard/{dashboardName}",
    "aws:cloudwatch/eventBus:EventBus": "arn:aws:events:{region}:{account}:event-bus/{name}",
    "aws:cloudwatch/eventArchive:EventArchive": "arn:aws:events:{region}:{account}:archive/{name}",
    "aws:cloudwatch/eventRule:EventRule": "arn:aws:events:{region}:{account}:rule/{eventBusName}/{name}",
    "aws:kms/key:Key": "arn:aws:kms:{region}:{account}:key/{id}",
    "aws:kms/alias:Alias": "arn:aws:kms:{region}:{account}:{name}",
    "aws:dynamodb/table:Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "aws:kinesis/stream:Stream": "arn:aws:kinesis:{region}:{account}:stream/{name}",
    "aws:sfn/stateMachine:StateMachine": "arn:aws:states:{region}:{account}:stateMachine:{name}",
    "aws:codedeploy/application:Application": "arn:aws:codedeploy:{region}:{account}:application:{name}",
    "aws:scheduler/scheduleGroup:ScheduleGroup": "arn:aws:scheduler:{region}:{account}:schedule-group/{name}",
    "aws:scheduler/schedule:Schedule": "arn:aws:scheduler:{region}:{account}:schedule/{groupName}/{name}",
    "aws:secretsmanager/secret:Secret": "arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf",
    "aws:apigatewayv2/api:Api": "arn:aws:apigateway:{region}::/apis/{id}",
    "aws:apigatewayv2/stage:Stage": "arn:aws:apigateway:{region}::/apis/{apiId}/stages/{name}",
}
# Resources whose provider id is their name (as in pulumi-aws).
_ID_IS_NAME = {
    "aws:lambda/function:Function",
    "aws:iam/role:Role",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:dynamodb/table:Table",
    "aws:cloudwatch/eventBus:EventBus",
    "aws:kinesis/stream:Stream",
}


def _ignore_orphaned_loop_finalizers(unraisable: Any, _default: Any = sys.unraisablehook) -> None:
    """Pulumi's mock monitor creates an event loop per worker thread and never closes them; their
    finalizers fail noisily at interpreter exit. Drop exactly that case, pass everything else on."""
    if isinstance(unraisable.exc_value, ValueError) and "BaseEventLoop.__del__" in repr(unraisable.object):
        return
    _default(unraisable)


sys.unraisablehook = _ignore_orphaned_loop_finalizers


class DuplicateResourceError(RuntimeError):
    """Two resources with the same URN: the real engine refuses this, so the mock does too."""


DYNAMIC_PROVIDER_INPUT = "__provider"


def _short_id(*parts: str, length: int = 10) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


class ProgramMocks(pulumi.runtime.Mocks):
    """Plausible physical outputs for every resource and answers for the data sources we call."""

    def __init__(self, account_id: str = ACCOUNT_ID) -> None:
        self.account_id = account_id
        self._provider_regions: dict[str, str] = {}
        self.parameters_read: list[str] = []  # SSM parameters the program looked up

    def _region(self, provider_ref: str | None) -> str:
        provider_id = (provider_ref or "").rsplit("::", 1)[-1]
        return self._provider_regions.get(provider_id, DEFAULT_REGION)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        inputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            provider_id = f"{args.name}-provider-id"
            self._provider_regions[provider_id] = inputs.get("region") or DEFAULT_REGION
            return provider_id, inputs
        if not args.custom:
            return "", {}
        region = self._region(args.provider)
        name = inputs.get("name") or args.name
        state = {**inputs, "name": name}
        resource_id = name if args.typ in _ID_IS_NAME else _short_id(args.typ, args.name)
        fields = {"region": region, "account": self.account_id, "name": name, "id": resource_id, **inputs}
        arn_format = _ARN_FORMATS.get(args.typ)
        if arn_format is None:
            module = args.typ.split(":")[1].split("/")[0]
            arn_format = f"arn:aws:{module}:{{region}}:{{account}}:{module}/{{name}}"
        try:
            state["arn"] = arn_format.format(**fields)
        except KeyError:
            state["arn"] = f"arn:aws:mock:{region}:{self.account_id}:{name}"
        self._extra_state(args.typ, state, region, resource_id)
        if args.typ in ("aws:sqs/queue:Queue",):
            resource_id = state["url"]
        elif args.typ in ("aws:sns/topic:Topic", "aws:secretsmanager/secret:Secret"):
            resource_id = state["arn"]
        state.setdefault("id", resource_id)
        return resource_id, state

    def _extra_state(self, typ: str, state: dict, region: str, resource_id: str) -> None:
        arn, name = state["arn"], state["name"]
        lambda_invoke = f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{{}}/invocations"
        if typ == "aws:lambda/function:Function":
            # Lambda answers $LATEST unless the function publishes versions.
            version = "1" if state.get("publish") else "$LATEST"
            state.update(version=version, qualifiedArn=f"{arn}:{version}", invokeArn=lambda_invoke.format(arn))
        elif typ == "aws:lambda/alias:Alias":
            state["invokeArn"] = lambda_invoke.format(arn)
        elif typ == "aws:sqs/queue:Queue":
            state["url"] = f"https://sqs.{region}.amazonaws.com/{self.account_id}/{name}"
        elif typ == "aws:kms/key:Key":
            state["keyId"] = resource_id
        elif typ == "aws:dynamodb/table:Table" and state.get("streamEnabled"):
            state["streamArn"] = f"{arn}/stream/2026-01-01T00:00:00.000"
        elif typ == "aws:apigatewayv2/api:Api":
            state["apiEndpoint"] = f"https://{resource_id}.execute-api.{region}.amazonaws.com"
            state["executionArn"] = f"arn:aws:execute-api:{region}:{self.account_id}:{resource_id}"
        elif typ == "aws:apigatewayv2/stage:Stage":
            state["invokeUrl"] = f"https://{state.get('apiId', 'api')}.execute-api.{region}.amazonaws.com/"

    def _ssm_parameter(self, name: str, region: str) -> dict:
        self.parameters_read.append(name)
        match = POWERTOOLS_PARAMETER.match(name)
        if not match:
            raise NotImplementedError(f"no mock value for SSM parameter {name!r}; add one to tools/mocks.py")
        layer = f"AWSLambdaPowertoolsPythonV3-{match['python'].replace('.', '')}-{match['arch']}"
        value = f"arn:aws:lambda:{region}:017000801446:layer:{layer}:{MOCK_POWERTOOLS_LAYER_NUMBER}"
        return {"name": name, "value": value, "insecureValue": value, "type": "String", "id": name, "arn": name,
                "version": 1, "withDecryption": True}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list] | dict:
        region = self._region(args.provider)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account_id, "arn": f"arn:aws:iam::{self.account_id}:user/mock",
                    "userId": "AIDAMOCKUSER", "id": self.account_id}
        if args.token == "aws:index/getRegion:getRegion":
            return {"region": region, "name": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com"}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION,
                    "reverseDnsPrefix": "com.amazonaws"}
        if args.token == "aws:ssm/getParameter:getParameter":
            return self._ssm_parameter(args.args.get("name", ""), region)
        if args.token == "aws:iam/getPolicyDocument:getPolicyDocument":
            document = _policy_document_from_args(args.args)
            return {"json": json.dumps(document, indent=2), "minifiedJson": json.dumps(document), "id": "policy"}
        raise NotImplementedError(f"no mock answer for data source {args.token}; add one to tools/mocks.py")


POWERTOOLS_PARAMETER = re.compile(r"^/aws/service/powertools/python/(?P<arch>[a-z0-9_]+)/(?P<python>python3\.\d+)/"
                                  r"(?P<release>[0-9.]+|latest)$")
# The layer number AWS publishes for a release is only known in AWS; the mock answers this one.
MOCK_POWERTOOLS_LAYER_NUMBER = 0


def _policy_document_from_args(args: Mapping[str, Any]) -> dict:
    """What aws.iam.get_policy_document would render, from its camelCase arguments."""
    statements = []
    for source in args.get("statements") or []:
        statement: dict[str, Any] = {"Effect": source.get("effect", "Allow")}
        if source.get("sid"):
            statement["Sid"] = source["sid"]
        for key, out in (("actions", "Action"), ("notActions", "NotAction"), ("resources", "Resource")):
            if source.get(key):
                statement[out] = source[key]
        for principal in source.get("principals") or []:
            statement.setdefault("Principal", {})[principal["type"]] = principal["identifiers"]
        for condition in source.get("conditions") or []:
            statement.setdefault("Condition", {}).setdefault(condition["test"], {})[condition["variable"]] = condition["values"]
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True)
class ResourceRecord:
    urn: str
    type: str
    name: str
    parent: str | None
    provider: str | None
    custom: bool
    inputs: dict[str, Any]
    dependencies: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "name": self.name, "parent": self.parent, "inputs": self.inputs,
                "options": self.options}


def resource_options(request: Any) -> dict[str, Any]:
    """The resource options the engine acts on, from a RegisterResource request. ``dependsOn`` is the
    explicit ``depends_on``: the request's dependencies less those its inputs already carry."""
    from_inputs = {urn for deps in request.propertyDependencies.values() for urn in deps.urns}
    return {
        "protect": bool(request.protect),
        "deleteBeforeReplace": bool(request.deleteBeforeReplace),
        "ignoreChanges": sorted(request.ignoreChanges),
        "dependsOn": sorted(set(request.dependencies) - from_inputs),
        "retainOnDelete": bool(request.retainOnDelete),
    }


class CapturingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that records every registration and rejects duplicate URNs."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: dict[str, ResourceRecord] = {}
        self.stack_urn: str | None = None

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.stack_urn = urn
            return super().RegisterResource(request)
        if urn in self.records:
            raise DuplicateResourceError(f"duplicate resource URN {urn}: names must be unique per type and parent")
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        # A dynamic resource carries its provider's pickled code: code, not configuration (it would
        # change the synth on every edit of the provider's module).
        inputs.pop(DYNAMIC_PROVIDER_INPUT, None)
        parent = request.parent or None
        self.records[urn] = ResourceRecord(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=None if parent == self.stack_urn else parent,
            provider=request.provider or None,
            custom=bool(request.custom),
            inputs=describe(inputs),
            dependencies=tuple(sorted(request.dependencies)),
            options=resource_options(request),
        )
        return super().RegisterResource(request)

    def registered(self) -> list[ResourceRecord]:
        """Every registered resource, in a deterministic (URN) order."""
        return [self.records[urn] for urn in sorted(self.records)]


def describe(value: Any) -> Any:
    """Inputs as plain JSON: secrets and unknowns as placeholders, archives as their file list."""
    if rpc.is_rpc_secret(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {key: describe(value[key]) for key in sorted(value)}  # sorted: deterministic output
    if isinstance(value, list):
        return [describe(item) for item in value]
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {"files": sorted(value.assets)}}
    if isinstance(value, pulumi.FileArchive):
        root = Path(value.path)
        return {"archive": {"files": sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())}}
    if isinstance(value, pulumi.FileAsset):
        return {"asset": {"path": value.path}}
    if isinstance(value, pulumi.StringAsset):
        return {"asset": {"text": value.text}}
    if type(value).__name__ == "Unknown":
        return UNKNOWN_PLACEHOLDER
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclass
class MockRun:
    project: str
    stack: str
    monitor: CapturingMonitor

    def resources(self) -> list[ResourceRecord]:
        return self.monitor.registered()

    def as_json(self) -> dict[str, Any]:
        return {"project": self.project, "stack": self.stack, "resources": [r.as_json() for r in self.resources()]}


@contextmanager
def isolated_runtime(project: str, stack: str, config: Mapping[str, str], *, preview: bool = False,
                     secret_keys: list[str] | None = None) -> Iterator[CapturingMonitor]:
    """A fresh event loop, root resource, monitor and config for one mocked run; all reset after."""
    from pulumi.runtime import config as runtime_config
    from pulumi.runtime import settings as runtime_settings

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    monitor = CapturingMonitor(ProgramMocks())
    # Private API (pinned pulumi version): without this reset a second run reuses the first Stack.
    runtime_settings.ROOT.set(None)
    runtime_config.set_all_config(dict(config), secret_keys or [])
    try:
        pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        yield monitor
    finally:
        runtime_config.set_all_config({}, [])
        runtime_settings.ROOT.set(None)
        asyncio.set_event_loop(None)
        loop.close()


def run_mocked(program: Callable[[], None], project: str, stack: str, config: Mapping[str, str], *,
               preview: bool = False, secret_keys: list[str] | None = None) -> MockRun:
    """Run ``program`` under the mock runtime and wait for every registration to finish."""
    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.stack import run_pulumi_func

    with isolated_runtime(project, stack, config, preview=preview, secret_keys=secret_keys) as monitor:
        SETTINGS.rpc_manager.clear()
        SETTINGS.outputs.clear()
        asyncio.get_event_loop().run_until_complete(run_pulumi_func(program))
        return MockRun(project=project, stack=stack, monitor=monitor)
