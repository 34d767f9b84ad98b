"""The one Lambda function builder.

Merge order, written down once: :func:`function_defaults` (from settings and the function's
class profile), then the caller's :class:`FunctionSpec` overrides, then what the builder requires
(its log group, its role, tracing, the Powertools layer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.alarms import build_alarms, function_alarm_specs
from components.core.archive import function_archive, handler_string
from components.core.context import StackContext
from components.core.defaults import MAX_API_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS, MEMORY_RANGE_MB, StackDefaults
from components.core.errors import ComponentConfigError
from components.core.iam import Grant, policy_document, service_assume_role_policy
from components.core.logs import build_log_group
from components.core.naming import physical_name
from components.core.rollout import ALL_AT_ONCE, DEPLOYMENT_CONFIGS, Rollout, is_gradual

__all__ = [
    "LIVE_ALIAS",
    "POWERTOOLS_VERSION",
    "BuiltFunction",
    "FunctionConfigError",
    "FunctionSpec",
    "allow_invoke",
    "build_function",
    "function_defaults",
    "powertools_layer_arn",
    "powertools_layer_parameter",
]

POWERTOOLS_LAYER_ACCOUNT = "017000801446"
# The Powertools release the handlers run: the one requirements-dev.txt pins for the tests (a test
# keeps the two equal). Its layer is resolved from SSM, so the layer and the tests cannot drift.
POWERTOOLS_VERSION = "3.37.0"
LIVE_ALIAS = "live"
# Lambda's logging_config levels differ from Python's for warnings.
_LAMBDA_LOG_LEVEL = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "ERROR": "ERROR"}


class FunctionConfigError(ComponentConfigError):
    """A function specification that cannot be deployed as asked."""


@dataclass(frozen=True)
class FunctionSpec:
    """One function's code and what it needs; everything else comes from the stack's defaults.

    The code is ``code_root/folder/handler.py`` (handler ``<folder>.handler.handler``) plus each of
    ``shared`` (folders under ``code_root`` packaged beside it) and ``runtime_modules`` (modules of
    ``components.runtime``, added by the component the function is connected to).
    ``function_class`` (api, worker, stream, job) picks the memory/timeout/concurrency profile; the
    component sets it when the spec leaves it unset, and refuses a different one.
    ``memory_mb``/``timeout_seconds``/``reserved_concurrency``/``provisioned_concurrency`` override the
    profile for this function only (e.g. a memory size measured with Lambda Power Tuning).
    """

    folder: str
    function_class: str | None = None
    """@default None: the profile of the component the function belongs to."""
    description: str = ""
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    grants: Sequence[Grant] = ()
    memory_mb: int | None = None
    timeout_seconds: int | None = None
    reserved_concurrency: int | None = None
    provisioned_concurrency: int | None = None
    deployment: str | None = None
    """@default None: the class profile's deployment (``AllAtOnce``, or a gradual CodeDeploy configuration)."""
    shared: tuple[str, ...] = ()
    runtime_modules: tuple[str, ...] = ()
    code_root: Path = field(kw_only=True)
    """Where ``folder`` (and ``shared``) live; required, there is no default location."""

    def with_class(self, function_class: str, owner: str) -> FunctionSpec:
        """This spec in ``function_class``, the profile its component uses; another class is an error."""
        if self.function_class not in (None, function_class):
            raise FunctionConfigError(f"{owner} must use the '{function_class}' profile (got '{self.function_class}')")
        return replace(self, function_class=function_class)

    def connected(self, *, environment: Mapping[str, pulumi.Input[str]] | None = None, grants: Sequence[Grant] = (),
                  runtime_modules: Sequence[str] = ()) -> FunctionSpec:
        """This spec plus what the component connecting it provides: environment, grants, runtime modules."""
        return replace(self, environment={**self.environment, **(environment or {})}, grants=(*self.grants, *grants),
                       runtime_modules=tuple(dict.fromkeys((*self.runtime_modules, *runtime_modules))))


@dataclass
class BuiltFunction:
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    name: str
    timeout_seconds: int
    memory_mb: int
    alias: aws.lambda_.Alias | None = None
    reserved_concurrency: int | None = None
    alarms: dict[str, aws.cloudwatch.MetricAlarm] = field(default_factory=dict)
    deployment: str = ALL_AT_ONCE
    """How new code reaches traffic: ``AllAtOnce``, or a CodeDeploy configuration shifting the alias."""
    rollout: Rollout | None = None
    """The deployment group and deployment, once the component calls :func:`build_rollout`."""

    @property
    def target_arn(self) -> pulumi.Output[str]:
        """What triggers invoke: the alias when provisioned concurrency is on, else the function."""
        return self.alias.arn if self.alias else self.function.arn

    @property
    def invoke_arn(self) -> pulumi.Output[str]:
        return self.alias.invoke_arn if self.alias else self.function.invoke_arn

    @property
    def qualifier(self) -> pulumi.Output[str] | None:
        """The alias's name as its output, so what is scoped to it waits until the alias exists."""
        return self.alias.name if self.alias else None


def powertools_layer_parameter(settings: StackDefaults) -> str:
    """Powertools' public SSM parameter holding the layer ARN of ``POWERTOOLS_VERSION`` for the
    stack's architecture and runtime (Powertools documents ``/aws/service/powertools/python/
    <arch>/<runtime>/<version>``, next to ``.../latest``)."""
    return f"/aws/service/powertools/python/{settings.architecture}/{settings.runtime}/{POWERTOOLS_VERSION}"


def powertools_layer_arn(settings: StackDefaults, partition: str = "aws") -> pulumi.Input[str]:
    """The layer every function runs: the pinned release's layer, looked up once per stack by the
    Platform or the component (``StackContext.resolved``), or the layer number the stack pins."""
    if not settings.powertools_layer_version:
        raise FunctionConfigError("the Powertools layer is resolved from SSM (StackContext.resolved)")
    python = settings.runtime.replace(".", "")
    return (
        f"arn:{partition}:lambda:{settings.region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{python}-{settings.architecture}:{settings.powertools_layer_version}"
    )


def powertools_environment(settings: StackDefaults) -> dict[str, str]:
    return {
        "POWERTOOLS_SERVICE_NAME": settings.service,
        "POWERTOOLS_METRICS_NAMESPACE": settings.service,
        "POWERTOOLS_LOG_LEVEL": settings.log_level,
        "ENVIRONMENT": settings.stack,
    }


def function_defaults(settings: StackDefaults, spec: FunctionSpec, name: str | None = None) -> dict[str, Any]:
    """Sizing for one function: its class profile, then the spec's overrides, then the stack's
    measured memory for this function (``functionMemoryMb``, by logical name) if it has one."""
    if spec.function_class is None:
        raise FunctionConfigError(f"function '{spec.folder}' has no function_class (its component sets one)")
    profile = settings.profile(spec.function_class)
    memory = spec.memory_mb if spec.memory_mb is not None else profile.memory_mb
    memory = settings.function_memory_mb.get(name, memory) if name else memory
    timeout = spec.timeout_seconds if spec.timeout_seconds is not None else profile.timeout_seconds
    reserved = spec.reserved_concurrency if spec.reserved_concurrency is not None else profile.reserved_concurrency
    provisioned = (spec.provisioned_concurrency if spec.provisioned_concurrency is not None
                   else profile.provisioned_concurrency)
    deployment = spec.deployment if spec.deployment is not None else profile.deployment
    if not settings.concurrency_reservations:  # sandbox accounts: nothing reserved, whatever the spec asks
        reserved, provisioned = None, 0
    limit = MAX_API_TIMEOUT_SECONDS if spec.function_class == "api" else MAX_TIMEOUT_SECONDS
    problems = []
    if not MEMORY_RANGE_MB[0] <= memory <= MEMORY_RANGE_MB[1]:
        problems.append(f"memory {memory} MB is outside {MEMORY_RANGE_MB[0]}-{MEMORY_RANGE_MB[1]} MB")
    if not 1 <= timeout <= limit:
        problems.append(f"timeout {timeout} s is outside 1-{limit} s for a {spec.function_class} function")
    if reserved is not None and reserved < 1:
        problems.append(f"reserved concurrency {reserved} would stop the function; leave it unset instead")
    if provisioned < 0 or (reserved is not None and provisioned > reserved):
        problems.append(f"provisioned concurrency {provisioned} must be between 0 and the reserved concurrency")
    if deployment not in DEPLOYMENT_CONFIGS:
        problems.append(f"deployment {deployment!r} must be one of {', '.join(DEPLOYMENT_CONFIGS)}")
    if problems:
        raise FunctionConfigError(f"function '{spec.folder}': " + "; ".join(problems))
    return {
        "memory_size": memory,
        "timeout": timeout,
        "reserved_concurrent_executions": reserved,
        "provisioned_concurrency": provisioned,
        "deployment": deployment,
    }


def build_function(ctx: StackContext, name: str, spec: FunctionSpec, parent: pulumi.Resource) -> BuiltFunction:
    """A function with its own log group, least-privilege role, tracing, Powertools and alarms."""
    settings = ctx.defaults
    sizing = function_defaults(settings, spec, name)
    # Raises before anything is registered.
    code = function_archive(spec.folder, spec.code_root, spec.shared, spec.runtime_modules)
    function_name = physical_name(settings, name)

    log_group = build_log_group(ctx, f"{name}-logs", f"/aws/lambda/{function_name}", parent)
    role = aws.iam.Role(
        f"{name}-role",
        assume_role_policy=service_assume_role_policy("lambda.amazonaws.com", ctx.account_id),
        description=f"Execution role of {function_name}",
        opts=ctx.options(parent),
    )
    statements = [
        {
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [pulumi.Output.concat(log_group.arn, ":*")],
        },
        {
            "Sid": "XRay",
            "Effect": "Allow",
            "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            "Resource": ["*"],
        },
        *(grant.statement() for grant in spec.grants),
    ]
    role_policy = aws.iam.RolePolicy(
        f"{name}-policy",
        role=role.id,
        policy=policy_document(statements),
        opts=ctx.options(parent),
    )

    provisioned = sizing["provisioned_concurrency"]
    gradual = is_gradual(sizing["deployment"])
    function = aws.lambda_.Function(
        name,
        name=function_name,
        description=spec.description or None,
        role=role.arn,
        runtime=settings.runtime,
        architectures=[settings.architecture],
        handler=handler_string(spec.folder),
        code=code,
        memory_size=sizing["memory_size"],
        timeout=sizing["timeout"],
        reserved_concurrent_executions=sizing["reserved_concurrent_executions"],
        # A version per code or configuration change: what the alias (and CodeDeploy) point at.
        publish=bool(provisioned) or gradual,
        layers=[ctx.powertools_layer_arn or powertools_layer_arn(settings)],
        tracing_config={"mode": "Active"},
        logging_config={
            "log_format": "JSON",
            "log_group": log_group.name,
            "application_log_level": _LAMBDA_LOG_LEVEL[settings.log_level],
            "system_log_level": "WARN",
        },
        environment={"variables": {**powertools_environment(settings), **spec.environment}},
        # The log group and permissions exist before the first invocation can log.
        opts=ctx.options(parent, depends_on=[log_group, role_policy]),
    )

    alias = None
    if provisioned or gradual:
        alias = aws.lambda_.Alias(
            f"{name}-alias",
            name=LIVE_ALIAS,
            function_name=function.name,
            function_version=function.version,
            # Deployed gradually, only CodeDeploy moves the alias after its first version (rollout.py).
            opts=ctx.options(parent, ignore_changes=["function_version"] if gradual else None),
        )
    if alias is not None and provisioned:
        aws.lambda_.ProvisionedConcurrencyConfig(
            f"{name}-provisioned",
            function_name=function.name,
            qualifier=alias.name,
            provisioned_concurrent_executions=provisioned,
            opts=ctx.options(parent),
        )

    built = BuiltFunction(
        function=function,
        role=role,
        log_group=log_group,
        name=function_name,
        timeout_seconds=sizing["timeout"],
        memory_mb=sizing["memory_size"],
        alias=alias,
        reserved_concurrency=sizing["reserved_concurrent_executions"],
        deployment=sizing["deployment"],
    )
    built.alarms = build_alarms(ctx, name, function_alarm_specs(settings.alarms, function.name, built.timeout_seconds), parent)
    return built


def allow_invoke(ctx: StackContext, name: str, function: BuiltFunction, principal: str,
                 source_arn: pulumi.Input[str], parent: pulumi.Resource) -> aws.lambda_.Permission:
    """Let one AWS service invoke the function (its alias, if any), from one source ARN only."""
    return aws.lambda_.Permission(
        name,
        action="lambda:InvokeFunction",
        function=function.function.name,
        qualifier=function.qualifier,
        principal=principal,
        source_arn=source_arn,
        opts=ctx.options(parent),
    )
