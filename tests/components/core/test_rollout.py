"""Gradual deployments: what the stacks synthesize, and the provider that runs a deployment in `pulumi up`.

The provider is exercised against moto's Lambda and CodeDeploy (botocore validates every request
against the service models: the AppSpec revision, the deployment's arguments). moto leaves a
deployment "Created" for ever and has no StopDeployment, so a thin stand-in for CodeDeploy's
progress sets the outcome a real deployment would reach.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import zipfile
from typing import Any

import boto3
import pytest
from moto import mock_aws

from components.core.rollout import GradualDeploymentProvider, codedeploy_config_name, pickled_by_value, shift_minutes
from tests.conftest import cached_synth

GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
DEPLOYMENT = "pulumi-python:dynamic/rollout:GradualDeployment"
ALIAS = "aws:lambda/alias:Alias"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"

# Each prod function's rollback alarms, written out: its errors and throttles, then what its component watches.
PROD_ROLLBACK_ALARMS = {
    "orders-prod-api-orders": ["api-orders-errors", "api-orders-throttles", "api-5xx-rate"],
    "orders-prod-payments-webhook-receiver": [
        "payments-webhook-receiver-errors", "payments-webhook-receiver-throttles", "payments-webhook-route-5xx-rate",
        "payments-webhook-route-4xx-rate"],
    "orders-prod-payments-webhook-worker": [
        "payments-webhook-worker-errors", "payments-webhook-worker-throttles", "payments-webhook-queue-age",
        "payments-webhook-queue-dlq-depth", "payments-webhook-worker-payment-exceptions"],
    "orders-prod-outbox-relay": ["outbox-relay-errors", "outbox-relay-throttles", "outbox-relay-iterator-age"],
    "orders-prod-activity": ["activity-errors", "activity-throttles", "activity-iterator-age"],
    "orders-prod-fulfilment-steps": ["fulfilment-steps-errors", "fulfilment-steps-throttles",
                                     "fulfilment-executions-failed"],
    **{f"orders-prod-{consumer}-consumer": [f"{consumer}-consumer-errors", f"{consumer}-consumer-throttles",
                                            f"{consumer}-queue-age", f"{consumer}-queue-dlq-depth"]
       for consumer in ("notifications", "analytics", "high-value-review")},
}


def of_type(stack: str, type_: str, overrides: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return [r.as_json() for r in cached_synth(stack, overrides).resources() if r.type == type_]


def test_prod_deployment_groups_roll_back_on_exactly_the_functions_alarms() -> None:
    groups = {g["inputs"]["deploymentGroupName"]: g["inputs"] for g in of_type("prod", GROUP)}
    assert {name: g["alarmConfiguration"]["alarms"] for name, g in groups.items()} == {
        name: [f"orders-prod-{alarm}" for alarm in alarms] for name, alarms in PROD_ROLLBACK_ALARMS.items()}
    alarm_names = {r["inputs"]["name"] for r in of_type("prod", "aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert {a for g in groups.values() for a in g["alarmConfiguration"]["alarms"]} <= alarm_names
    assert {(g["deploymentConfigName"], g["alarmConfiguration"]["enabled"], json.dumps(g["autoRollbackConfiguration"]),
             json.dumps(g["deploymentStyle"]), g["appName"]) for g in groups.values()} == {(
        "CodeDeployDefault.LambdaCanary10Percent5Minutes", True,
        json.dumps({"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}),
        json.dumps({"deploymentOption": "WITH_TRAFFIC_CONTROL", "deploymentType": "BLUE_GREEN"}),
        "orders-prod-deployments")}


def test_prod_jobs_deploy_at_once_and_dev_has_no_deployments_at_all() -> None:
    assert not {name for name in PROD_ROLLBACK_ALARMS if "summary" in name or "expire" in name}
    prod_functions = {f["inputs"]["name"] for f in of_type("prod", FUNCTION)}
    assert prod_functions - set(PROD_ROLLBACK_ALARMS) == {"orders-prod-daily-summary", "orders-prod-expire-unpaid-orders"}
    for kind in (GROUP, DEPLOYMENT, "aws:codedeploy/application:Application"):
        assert of_type("dev", kind) == [], kind
    assert [f["inputs"]["name"] for f in of_type("dev", FUNCTION) if f["inputs"].get("publish")] == []
    assert [a["inputs"]["functionName"] for a in of_type("dev", ALIAS)] == []


def test_every_version_named_exists_and_only_codedeploy_moves_a_gradual_alias() -> None:
    functions = {f["inputs"]["name"]: f for f in of_type("prod", FUNCTION)}
    aliases = {a["inputs"]["functionName"]: a for a in of_type("prod", ALIAS)}
    deployments = {d["inputs"]["function_name"]: d["inputs"] for d in of_type("prod", DEPLOYMENT)}
    assert set(deployments) == set(PROD_ROLLBACK_ALARMS) == set(aliases)
    # Lambda answers "$LATEST" for a function that does not publish: an alias or deployment on it would fail.
    assert {name: functions[name]["inputs"].get("publish") for name in aliases} == dict.fromkeys(aliases, True)
    assert {a["inputs"]["functionVersion"] for a in aliases.values()} == {"1"}
    assert {d["target_version"] for d in deployments.values()} == {"1"}
    assert {name: tuple(a["options"]["ignoreChanges"]) for name, a in aliases.items()} == dict.fromkeys(
        aliases, ("functionVersion",))
    assert {(d["alias"], d["application"], d["deployment_group"] == name) for name, d in deployments.items()} == {
        ("live", "orders-prod-deployments", True)}
    # Canary 5 minutes, plus ten minutes for hooks and CodeDeploy's polling, before `pulumi up` gives up.
    assert {d["wait_seconds"] for d in deployments.values()} == {900}


def test_every_trigger_of_a_gradual_function_invokes_its_alias() -> None:
    mappings = [m["inputs"]["functionName"] for m in of_type("prod", MAPPING)]
    assert len(mappings) == 6 and all(m.endswith(":live") for m in mappings)
    integrations = [i["inputs"]["integrationUri"] for i in of_type("prod", "aws:apigatewayv2/integration:Integration")]
    assert len(integrations) == 2 and all(uri.endswith(":live") for uri in integrations)
    permissions = {p["inputs"]["function"]: p["inputs"].get("qualifier") for p in of_type("prod",
                                                                                            "aws:lambda/permission:Permission")}
    assert {f for f, q in permissions.items() if q != "live" and f in PROD_ROLLBACK_ALARMS} == set()


def test_a_stack_setting_turns_gradual_deployments_on_for_one_class() -> None:
    overrides = {"orders-platform:jobDeployment": "Linear10PercentEvery1Minute"}
    groups = {g["inputs"]["deploymentGroupName"]: g["inputs"] for g in of_type("dev", GROUP, overrides)}
    assert {name: g["deploymentConfigName"] for name, g in groups.items()} == {
        "orders-dev-expire-unpaid-orders": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        "orders-dev-daily-summary": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"}
    assert groups["orders-dev-daily-summary"]["alarmConfiguration"]["alarms"] == [
        "orders-dev-daily-summary-errors", "orders-dev-daily-summary-throttles", "orders-dev-daily-summary-dlq-depth"]
    schedules = [s["inputs"]["target"]["arn"] for s in of_type("dev", "aws:scheduler/schedule:Schedule", overrides)]
    assert len(schedules) == 2 and all(arn.endswith(":live") for arn in schedules)


def test_configuration_names_and_shifting_times_are_codedeploys() -> None:
    # CodeDeploy User Guide, "Deployment configurations on an AWS Lambda compute platform".
    assert codedeploy_config_name("Canary10Percent30Minutes") == "CodeDeployDefault.LambdaCanary10Percent30Minutes"
    assert codedeploy_config_name("AllAtOnce") == "CodeDeployDefault.LambdaAllAtOnce"
    assert [shift_minutes(c) for c in ("AllAtOnce", "Canary10Percent15Minutes", "Linear10PercentEvery3Minutes")] == [
        0, 15, 30]
    with pytest.raises(ValueError, match="must be one of AllAtOnce, Canary10Percent5Minutes"):
        codedeploy_config_name("Canary5")


def test_a_misspelt_deployment_setting_is_refused_by_name() -> None:
    from system.settings import SettingsError
    from tools.synth import synth

    with pytest.raises(SettingsError) as caught:
        synth("dev", {"orders-platform:apiDeployment": "Canary10Percent5Minute"})
    assert [(key, problem) for key, problem in caught.value.problems if key.endswith("Deployment")] == [
        ("orders-platform:apiDeployment", "must be one of AllAtOnce, Canary10Percent5Minutes, Canary10Percent10Minutes, "
         "Canary10Percent15Minutes, Canary10Percent30Minutes, Linear10PercentEvery1Minute, Linear10PercentEvery2Minutes, "
         "Linear10PercentEvery3Minutes, Linear10PercentEvery10Minutes (got 'Canary10Percent5Minute'); did you mean "
         "'Canary10Percent5Minutes'?")]


# --- the provider, against moto ------------------------------------------------------------------


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


class Progress:
    """CodeDeploy's side of a deployment: moto's client, and the status the deployment reaches after
    ``polls`` reads (real CodeDeploy moves it; moto never does)."""

    def __init__(self, client: Any, outcome: str, polls: int = 2) -> None:
        self.client, self.outcome, self.polls = client, outcome, polls
        self.created: list[dict[str, Any]] = []
        self.stopped: list[dict[str, Any]] = []
        self.reads = 0

    def create_deployment(self, **arguments: Any) -> dict[str, Any]:
        self.created.append(arguments)
        return self.client.create_deployment(**arguments)

    def get_deployment(self, deploymentId: str) -> dict[str, Any]:  # noqa: N803 - boto3's argument name
        from moto.codedeploy.models import codedeploy_backends

        self.reads += 1
        if self.reads >= self.polls:
            codedeploy_backends["123456789012"]["us-east-1"].deployments[deploymentId].status = self.outcome
        return self.client.get_deployment(deploymentId=deploymentId)

    def stop_deployment(self, **arguments: Any) -> dict[str, Any]:
        self.stopped.append(arguments)  # moto has no StopDeployment
        return {"status": "Pending"}


@pytest.fixture
def deployable(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        lambda_client = boto3.client("lambda")
        lambda_client.create_function(FunctionName="orders-prod-api-orders", Runtime="python3.13", Handler="handler.handler",
                                      Role=role["Role"]["Arn"], Code={"ZipFile": _code()}, Publish=True)
        lambda_client.create_alias(FunctionName="orders-prod-api-orders", Name="live", FunctionVersion="1")
        lambda_client.update_function_configuration(FunctionName="orders-prod-api-orders", MemorySize=512)
        assert lambda_client.publish_version(FunctionName="orders-prod-api-orders")["Version"] == "2"
        codedeploy = boto3.client("codedeploy")
        codedeploy.create_application(applicationName="orders-prod-deployments", computePlatform="Lambda")
        codedeploy.create_deployment_group(
            applicationName="orders-prod-deployments", deploymentGroupName="orders-prod-api-orders",
            serviceRoleArn="arn:aws:iam::123456789012:role/deploy",
            deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes",
            deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"})
        yield lambda_client, codedeploy


def props(**changes: Any) -> dict[str, Any]:
    return {"region": "us-east-1", "application": "orders-prod-deployments", "deployment_group": "orders-prod-api-orders",
            "function_name": "orders-prod-api-orders", "alias": "live", "target_version": "2", "pre_traffic_hook": None,
            "wait_seconds": 900.0, "poll_seconds": 0.0, **changes}


def test_a_new_version_is_deployed_from_the_version_the_alias_serves(deployable) -> None:
    lambda_client, codedeploy = deployable
    progress = Progress(codedeploy, "Succeeded")
    outcome = GradualDeploymentProvider().deploy(props(), (lambda_client, progress))
    assert outcome["outcome"] == "version 2 serves all traffic" and progress.reads == 2
    (created,) = progress.created
    assert outcome["deployment_id"] == codedeploy.list_deployments()["deployments"][0]
    assert (created["applicationName"], created["deploymentGroupName"]) == ("orders-prod-deployments",
                                                                            "orders-prod-api-orders")
    assert json.loads(created["revision"]["appSpecContent"]["content"]) == {"version": 0.0, "Resources": [{"function": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Name": "orders-prod-api-orders", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}]}


def test_a_pre_traffic_hook_goes_into_the_appspec(deployable) -> None:
    lambda_client, codedeploy = deployable
    progress = Progress(codedeploy, "Succeeded", polls=1)
    GradualDeploymentProvider().deploy(props(pre_traffic_hook="orders-prod-api-orders-traffic-hook"),
                                       (lambda_client, progress))
    content = json.loads(progress.created[0]["revision"]["appSpecContent"]["content"])
    assert content["Hooks"] == [{"BeforeAllowTraffic": "orders-prod-api-orders-traffic-hook"}]


@pytest.mark.parametrize("status", ["Stopped", "Failed"])
def test_a_rolled_back_deployment_fails_pulumi_up_with_its_id(deployable, status) -> None:
    lambda_client, codedeploy = deployable
    progress = Progress(codedeploy, status)
    with pytest.raises(RuntimeError) as caught:
        GradualDeploymentProvider().deploy(props(), (lambda_client, progress))
    deployment_id = codedeploy.list_deployments()["deployments"][0]
    assert str(caught.value) == (
        f"orders-prod-api-orders: deployment {deployment_id} of version 2 {status.lower()} ({status}); CodeDeploy "
        f"rolled alias 'live' back to version 1. Details: aws deploy get-deployment --deployment-id {deployment_id} "
        "--region us-east-1")


def test_a_deployment_that_outlasts_its_wait_is_stopped_and_rolled_back(deployable) -> None:
    lambda_client, codedeploy = deployable
    progress = Progress(codedeploy, "InProgress", polls=1)
    with pytest.raises(RuntimeError, match=r"did not finish within 0 s; stopped and rolled back to version 1"):
        GradualDeploymentProvider().deploy(props(wait_seconds=0.0), (lambda_client, progress))
    deployment_id = codedeploy.list_deployments()["deployments"][0]
    assert progress.stopped == [{"deploymentId": deployment_id, "autoRollbackEnabled": True}]


def test_nothing_is_deployed_when_the_alias_already_serves_the_version(deployable) -> None:
    lambda_client, codedeploy = deployable
    progress = Progress(codedeploy, "Succeeded")
    assert GradualDeploymentProvider().deploy(props(target_version="1"), (lambda_client, progress)) == {
        "deployment_id": "", "outcome": "the alias already serves version 1"}
    assert progress.created == [] and codedeploy.list_deployments()["deployments"] == []


def test_only_a_new_version_or_target_makes_an_update() -> None:
    provider = GradualDeploymentProvider()
    assert provider.diff("id", props(), props()).changes is False
    assert provider.diff("id", props(), props(wait_seconds=60.0)).changes is False
    assert provider.diff("id", props(), props(target_version="3")).changes is True
    assert provider.diff("id", props(), props(deployment_group="other")).changes is True
    created = provider.create(props())
    assert (created.id, created.outs["deployment_id"]) == ("orders-prod-api-orders:live", "")


def test_the_provider_loads_in_pulumis_host_without_this_repository(tmp_path) -> None:
    # Pulumi pickles the provider into the state and unpickles it in its dynamic provider host, where
    # the program's directory is not on sys.path (pulumi/pulumi#7453, #7755: the class goes by value).
    from pulumi.dynamic.dynamic import serialize_provider

    with pickled_by_value(GradualDeploymentProvider):  # as GradualDeployment serializes it
        pickled = serialize_provider(GradualDeploymentProvider())
    script = (
        "import base64, sys, dill\n"
        "provider = dill.loads(base64.b64decode(sys.stdin.read()))\n"
        "print(type(provider).__name__, provider.diff('i', {'target_version': '1'}, {'target_version': '2'}).changes,"
        " provider.create({'function_name': 'f', 'alias': 'live'}).id,"
        " sorted(m for m in sys.modules if m.split('.')[0] in ('components', 'system', 'tools')))\n")
    result = subprocess.run([sys.executable, "-I", "-c", script], input=pickled, capture_output=True, text=True,
                            cwd=tmp_path, timeout=60, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, "GradualDeploymentProvider True f:live []"), result.stderr
    assert base64.b64decode(pickled)  # what the state holds is the provider itself, by value
