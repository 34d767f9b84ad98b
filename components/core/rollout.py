"""Gradual Lambda deployments: CodeDeploy moves the ``live`` alias from the running version to the
new one, a share of the traffic at a time, and rolls back when one of the function's alarms fires.

How a ``pulumi up`` starts one (Pulumi has no CloudFormation-style update policy, so this is ours):

1. the function publishes a version on every code or configuration change (``publish=True``);
2. the ``live`` alias is created on the first version and then left alone by Pulumi
   (``ignore_changes=["function_version"]``): only CodeDeploy moves it afterwards;
3. a :class:`GradualDeployment` (a Pulumi dynamic resource, so it runs inside ``pulumi up`` with
   the same credentials) has the new version as an input. When it changes, its update creates a
   CodeDeploy deployment of the alias from the version it serves to the new one and waits for the
   result; a deployment stopped by an alarm or failed makes the update, and so ``pulumi up``, fail
   with the deployment id, while CodeDeploy has already put the alias back. Rerunning ``pulumi up``
   after the fix starts a new deployment (the resource kept the old target version).

``pulumi preview`` only diffs (the target version changes: an update is shown), it never deploys.
Every trigger (routes, queue and stream mappings, schedules, EventBridge targets) invokes the alias,
so event-driven consumers shift the same way as APIs. CodeDeploy for Lambda costs nothing.

The configurations are CodeDeploy's predefined ones for the Lambda compute platform ("Deployment
configurations on an AWS Lambda compute platform", CodeDeploy User Guide; docs/DEPLOYMENTS.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic
import pulumi_aws as aws

from components.core.defaults import ALL_AT_ONCE, DEPLOYMENT_CONFIGS, GRADUAL_CONFIGS
from components.core.errors import ComponentConfigError
from components.core.iam import policy_document, service_assume_role_policy

if TYPE_CHECKING:
    from components.core.context import StackContext
    from components.core.function import BuiltFunction

__all__ = [
    "ALL_AT_ONCE",
    "DEPLOYMENT_CONFIGS",
    "GRADUAL_CONFIGS",
    "MAX_ROLLBACK_ALARMS",
    "ROLLBACK_EVENTS",
    "GradualDeployment",
    "GradualDeploymentProvider",
    "Rollout",
    "RolloutConfigError",
    "build_deployment_application",
    "build_rollout",
    "codedeploy_config_name",
    "is_gradual",
    "shift_minutes",
]

# CodeDeploy's quota: at most 10 CloudWatch alarms in a deployment group's alarm configuration.
MAX_ROLLBACK_ALARMS = 10
# Roll back when an alarm stops the deployment and when it fails (a hook failed, the alias could not move).
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")
# How long `pulumi up` waits beyond the configuration's own shifting time (hooks, CodeDeploy's polling).
WAIT_MARGIN_SECONDS = 600
POLL_SECONDS = 15
# What a pre-traffic hook function's name ends with: the only functions CodeDeploy's role may invoke.
HOOK_SUFFIX = "-traffic-hook"


class RolloutConfigError(ComponentConfigError):
    """A gradual deployment that cannot be created as asked."""


def is_gradual(config: str) -> bool:
    return config in GRADUAL_CONFIGS


def codedeploy_config_name(config: str) -> str:
    """CodeDeploy's name of a predefined Lambda configuration (``CodeDeployDefault.Lambda<config>``)."""
    if config not in DEPLOYMENT_CONFIGS:
        raise RolloutConfigError(f"deployment {config!r} must be one of {', '.join(DEPLOYMENT_CONFIGS)}")
    return f"CodeDeployDefault.Lambda{config}"


def shift_minutes(config: str) -> int:
    """Minutes from the start of a deployment until all traffic is on the new version (0: at once)."""
    return GRADUAL_CONFIGS.get(config, 0)


def build_deployment_application(ctx: StackContext, name: str, parent: pulumi.Resource
                                 ) -> tuple[aws.codedeploy.Application, aws.iam.Role]:
    """The stack's CodeDeploy application and the service role its deployments use: they may read and
    move the aliases of this stack's functions, invoke its hook functions, and read alarm states."""
    from components.core.naming import physical_name

    settings = ctx.defaults
    application = aws.codedeploy.Application(
        f"{name}-deployments", name=physical_name(settings, "deployments"), compute_platform="Lambda",
        opts=ctx.options(parent))
    role = aws.iam.Role(
        f"{name}-deployments-role",
        assume_role_policy=service_assume_role_policy("codedeploy.amazonaws.com", ctx.account_id),
        description=f"CodeDeploy's role for the gradual deployments of {settings.service}-{settings.stack}",
        opts=ctx.options(parent),
    )
    function_arn = pulumi.Output.concat("arn:aws:lambda:", settings.region, ":", ctx.account_id, ":function:")
    functions = pulumi.Output.concat(function_arn, physical_name(settings, ""), "*")
    hooks = pulumi.Output.concat(function_arn, physical_name(settings, ""), "*", HOOK_SUFFIX)
    aws.iam.RolePolicy(
        f"{name}-deployments-policy",
        role=role.id,
        policy=policy_document([
            {"Sid": "ShiftAliases", "Effect": "Allow",
             "Action": ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"],
             "Resource": [functions]},
            {"Sid": "RunHooks", "Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": [hooks]},
            {"Sid": "ReadRollbackAlarms", "Effect": "Allow", "Action": ["cloudwatch:DescribeAlarms"],
             "Resource": [pulumi.Output.concat("arn:aws:cloudwatch:", settings.region, ":", ctx.account_id, ":alarm:",
                                               physical_name(settings, ""), "*")]},
        ]),
        opts=ctx.options(parent),
    )
    return application, role


class GradualDeploymentProvider(pulumi.dynamic.ResourceProvider):
    """Runs one CodeDeploy deployment of a function's alias per new version, and waits for it.

    Pulumi serializes this class by value into the stack's state and runs it in its dynamic
    provider host, where this repository is not importable: the methods use nothing but the
    standard library and boto3 (imported inside), and never module-level helpers.
    """

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        # The alias was created on this very version: there is no traffic to shift.
        return pulumi.dynamic.CreateResult(f"{props['function_name']}:{props['alias']}",
                                           {**props, "deployment_id": "", "outcome": "created with the alias"})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        watched = ("target_version", "application", "deployment_group", "pre_traffic_hook", "function_name", "alias")
        changed = [key for key in watched if olds.get(key) != news.get(key)]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult({**news, **self.deploy(news)})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # nothing to undo: the alias and the group are Pulumi resources of their own

    def deploy(self, props: dict[str, Any], clients: tuple[Any, Any] | None = None) -> dict[str, str]:
        """Shift the alias to ``target_version`` through CodeDeploy; raise unless it succeeded."""
        import json
        import time

        if clients is None:
            import boto3

            session = boto3.session.Session(region_name=props["region"])
            clients = (session.client("lambda"), session.client("codedeploy"))
        lambda_client, codedeploy = clients
        function, alias, target = props["function_name"], props["alias"], str(props["target_version"])
        current = lambda_client.get_alias(FunctionName=function, Name=alias)["FunctionVersion"]
        if current == target:
            return {"deployment_id": "", "outcome": f"the alias already serves version {target}"}
        appspec: dict[str, Any] = {"version": 0.0, "Resources": [{"function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Name": function, "Alias": alias, "CurrentVersion": current, "TargetVersion": target}}}]}
        if props.get("pre_traffic_hook"):
            appspec["Hooks"] = [{"BeforeAllowTraffic": props["pre_traffic_hook"]}]
        deployment_id = codedeploy.create_deployment(
            applicationName=props["application"], deploymentGroupName=props["deployment_group"],
            description=f"{function}: version {current} -> {target} (pulumi up)",
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(appspec)}},
        )["deploymentId"]
        watch = f"aws deploy get-deployment --deployment-id {deployment_id} --region {props['region']}"
        deadline = time.monotonic() + float(props["wait_seconds"])
        while True:
            info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            status = info["status"]
            if status == "Succeeded":
                return {"deployment_id": deployment_id, "outcome": f"version {target} serves all traffic"}
            if status in ("Failed", "Stopped"):
                reason = (info.get("errorInformation") or {}).get("message") or status
                raise RuntimeError(
                    f"{function}: deployment {deployment_id} of version {target} {status.lower()} ({reason}); "
                    f"CodeDeploy rolled alias '{alias}' back to version {current}. Details: {watch}")
            if time.monotonic() > deadline:
                codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
                raise RuntimeError(
                    f"{function}: deployment {deployment_id} of version {target} did not finish within "
                    f"{int(float(props['wait_seconds']))} s; stopped and rolled back to version {current}. Details: {watch}")
            time.sleep(float(props.get("poll_seconds", 15)))


@contextmanager
def pickled_by_value(cls: type) -> Iterator[None]:
    """While serializing, ``cls`` passes for a class of ``__main__``, which dill pickles by value.

    Pulumi's dynamic provider host does not have the program's directory on ``sys.path``
    (pulumi/pulumi#7453), so a provider pickled by reference to ``components.core.rollout`` fails
    to load there unless the library is installed; Pulumi once did this itself (pulumi/pulumi#7755)."""
    owners = [cls, *(f for f in vars(cls).values() if callable(f) and getattr(f, "__module__", None) == cls.__module__)]
    modules = [owner.__module__ for owner in owners]
    for owner in owners:  # the class and its methods: dill pickles a method of a module's class by reference
        owner.__module__ = "__main__"
    try:
        yield
    finally:
        for owner, module in zip(owners, modules, strict=True):
            owner.__module__ = module


class GradualDeployment(pulumi.dynamic.Resource, module="rollout", name="GradualDeployment"):
    """The CodeDeploy deployment that moves ``alias`` to ``target_version`` (see the module's docstring)."""

    deployment_id: pulumi.Output[str]
    outcome: pulumi.Output[str]

    def __init__(self, name: str, props: Mapping[str, pulumi.Input[Any]], opts: pulumi.ResourceOptions | None = None):
        with pickled_by_value(GradualDeploymentProvider):  # the provider is serialized in here
            super().__init__(GradualDeploymentProvider(), name, {**props, "deployment_id": None, "outcome": None}, opts)


@dataclass
class Rollout:
    """What a function deployed gradually has: its deployment group and the resource that deploys."""

    config: str
    group: aws.codedeploy.DeploymentGroup
    deployment: GradualDeployment
    alarms: list[aws.cloudwatch.MetricAlarm]


def rollback_alarms(function: BuiltFunction, component_alarms: Sequence[aws.cloudwatch.MetricAlarm]
                    ) -> list[aws.cloudwatch.MetricAlarm]:
    """The function's errors and throttles alarms, then its component's alarms for what it serves."""
    return [function.alarms["errors"], function.alarms["throttles"], *component_alarms]


def build_rollout(ctx: StackContext, name: str, function: BuiltFunction,
                  component_alarms: Sequence[aws.cloudwatch.MetricAlarm], parent: pulumi.Resource,
                  pre_traffic_hook: pulumi.Input[str] | None = None) -> Rollout | None:
    """The deployment group and deployment of one function deployed gradually; None when it deploys
    all at once. Its rollback alarms are the function's own and ``component_alarms``.

    ``pre_traffic_hook``: the ARN of a function (named ``...-traffic-hook``, see ``HOOK_SUFFIX``) that
    CodeDeploy runs before any traffic moves, e.g. to invoke the new version with a smoke event; it
    reports with ``codedeploy:PutLifecycleEventHookExecutionStatus``, and a failure rolls back."""
    config = function.deployment
    if not is_gradual(config):
        return None
    if function.alias is None or ctx.deployment_application is None or ctx.deployment_role_arn is None:
        raise RolloutConfigError(
            f"function '{function.name}' deploys gradually ({config}): it needs its alias and the stack's CodeDeploy "
            "application and role (StackContext.deployment_application / deployment_role_arn; the Platform creates them)")
    alarms = rollback_alarms(function, component_alarms)
    if len(alarms) > MAX_ROLLBACK_ALARMS:
        raise RolloutConfigError(f"function '{function.name}': {len(alarms)} rollback alarms, CodeDeploy takes at most "
                                 f"{MAX_ROLLBACK_ALARMS}")
    group = aws.codedeploy.DeploymentGroup(
        f"{name}-deployment-group",
        app_name=ctx.deployment_application,
        deployment_group_name=function.name,
        service_role_arn=ctx.deployment_role_arn,
        deployment_config_name=codedeploy_config_name(config),
        deployment_style={"deployment_option": "WITH_TRAFFIC_CONTROL", "deployment_type": "BLUE_GREEN"},
        alarm_configuration={"enabled": True, "alarms": [alarm.name for alarm in alarms]},
        auto_rollback_configuration={"enabled": True, "events": list(ROLLBACK_EVENTS)},
        opts=ctx.options(parent),
    )
    deployment = GradualDeployment(f"{name}-rollout", {
        "region": ctx.defaults.region,
        "application": ctx.deployment_application,
        "deployment_group": group.deployment_group_name,
        "function_name": function.function.name,
        "alias": function.alias.name,
        "target_version": function.function.version,
        "pre_traffic_hook": pre_traffic_hook,
        "wait_seconds": shift_minutes(config) * 60 + WAIT_MARGIN_SECONDS,
        "poll_seconds": POLL_SECONDS,
    }, ctx.options(parent, depends_on=[group, function.alias]))
    return Rollout(config=config, group=group, deployment=deployment, alarms=alarms)
