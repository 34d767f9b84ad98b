"""The Workflow component and the ASL checks: a broken definition is refused, naming each problem,
before anything is registered; the reference saga passes; the state machine is logged, traced,
alarmed and may invoke only its own functions."""

from __future__ import annotations

import copy
import json

import pytest

from components.core.asl import LAMBDA_CALLBACK, definition_problems, function_ref, lambda_task, retrier
from components.workflow import Workflow, WorkflowArgs, WorkflowConfigError
from system.fulfilment import SagaTimeouts, saga_definition
from tests.specs import spec

MACHINE = "aws:sfn/stateMachine:StateMachine"


def good() -> dict:
    return {"StartAt": "A", "TimeoutSeconds": 60, "States": {
        "A": lambda_task("f", {"x": 1}, timeout_seconds=10, next_state="B", catch_next="Failed"),
        "B": {"Type": "Succeed"}, "Failed": {"Type": "Fail", "Error": "Failed"}}}


def broken(change) -> dict:
    definition = copy.deepcopy(good())
    change(definition)
    return definition


def test_the_reference_saga_and_a_small_machine_pass() -> None:
    assert definition_problems(saga_definition(), ["steps"]) == []
    assert definition_problems(good(), ["f"]) == []


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d.pop("TimeoutSeconds"), "the state machine needs TimeoutSeconds"),
    (lambda d: d.update(StartAt="Z"), "States: StartAt 'Z' is not one of its states"),
    (lambda d: d["States"]["A"].update(Next="Nowhere"), "States.A: goes to 'Nowhere', which is not a state here"),
    (lambda d: d["States"]["A"].pop("TimeoutSeconds"), "States.A: needs TimeoutSeconds"),
    (lambda d: d["States"]["A"].pop("Retry"), "States.A: needs a Retry with backoff and jitter"),
    (lambda d: d["States"]["A"]["Retry"][0].update(BackoffRate=1.0), "States.A: Retry[0] needs a BackoffRate above 1"),
    (lambda d: d["States"]["A"]["Retry"][0].pop("JitterStrategy"), "States.A: Retry[0] needs JitterStrategy FULL"),
    (lambda d: d["States"]["A"]["Retry"][0].pop("MaxDelaySeconds"), "States.A: Retry[0] needs MaxDelaySeconds"),
    (lambda d: d["States"]["A"].pop("Catch"), "States.A: needs a Catch ending in States.ALL"),
    (lambda d: d["States"]["A"]["Catch"].append({"ErrorEquals": ["X"], "Next": "B"}),
     "States.A: States.ALL must be alone and last in Catch"),
    (lambda d: d["States"]["A"]["Parameters"].update(FunctionName="arn:aws:lambda:us-east-1:1:function:x"),
     "States.A: names its function by function_ref(<key>)"),
    (lambda d: d["States"]["A"]["Parameters"].update(FunctionName=function_ref("other")),
     "States.A: function 'other' is not one of the workflow's functions ['f']"),
    (lambda d: d["States"]["A"].update(Resource=LAMBDA_CALLBACK),
     "States.A: a callback task passes $$.Task.Token in its Payload"),
    (lambda d: d["States"]["A"].update(HeartbeatSeconds=10), "States.A: HeartbeatSeconds must be positive and less"),
    (lambda d: d["States"]["A"].update(Resource="arn:aws:lambda:us-east-1:1:function:x"),
     "States.A: invoke Lambda through arn:aws:states:::lambda:invoke"),
    (lambda d: d["States"]["B"].update(Type="Sleep"), "States.B: unknown Type 'Sleep'"),
    (lambda d: d["States"].update(C={"Type": "Pass"}), "States.C: needs Next or End"),
    (lambda d: d["States"].update(C={"Type": "Choice"}), "States.C: a Choice needs Choices"),
    (lambda d: d["States"].update(C={"Type": "Parallel", "End": True}), "States.C: a Parallel needs Branches"),
    (lambda d: d["States"].update(C={"Type": "Map", "End": True}), "States.C: a Map needs an ItemProcessor"),
    (lambda d: d["States"].update({"C" * 81: {"Type": "Succeed"}}), "a state name has at most 80 characters"),
])
def test_each_broken_rule_is_named(change, problem) -> None:
    problems = definition_problems(broken(change), ["f"])
    assert [p for p in problems if problem in p] != [], problems


def test_nested_branches_and_map_items_are_checked_too() -> None:
    saga = saga_definition()
    saga["States"]["ShipAndConfirm"]["Branches"][0]["States"]["CreateShipment"].pop("Retry")
    saga["States"]["ReserveStock"]["ItemProcessor"]["States"]["Line"].pop("TimeoutSeconds")
    saga["States"]["ReserveStock"].pop("Catch")
    assert definition_problems(saga, ["steps"]) == [
        "States.ReserveStock.ItemProcessor.Line: needs TimeoutSeconds (a task otherwise waits up to a year)",
        "States.ReserveStock: needs a Catch ending in States.ALL (a failure must reach a handler)",
        "States.ShipAndConfirm.Branches[0].CreateShipment: needs a Retry with backoff and jitter",
    ]


def test_the_saga_retries_lambdas_transient_errors_with_backoff_and_jitter() -> None:
    from components.core.asl import walk_states

    tasks = [s for _, s in walk_states(saga_definition()) if s.get("Type") == "Task"]
    assert len(tasks) == 11
    assert all(t["Retry"] == [retrier()] for t in tasks)
    assert retrier() == {"ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException",
                                         "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
                         "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0, "MaxDelaySeconds": 30,
                         "JitterStrategy": "FULL"}
    callbacks = [t for t in tasks if t["Resource"] == LAMBDA_CALLBACK]
    assert [(t["Parameters"]["Payload"]["callback"], t["TimeoutSeconds"], t.get("HeartbeatSeconds")) for t in callbacks] \
        == [("approval", 86_400, None), ("carrier", 172_800, 21_600)]
    assert saga_definition(SagaTimeouts(60, 120, 90))["TimeoutSeconds"] == 60 + 120 + 3600


def build(run_builder, definition=None, functions=None, **args):
    def program(ctx, parent):
        import pulumi

        return Workflow("saga", WorkflowArgs(definition=definition or good(),
                                             functions=functions or {"f": spec("fulfilment", "worker")},
                                             stack=ctx, **args), pulumi.ResourceOptions(parent=parent))

    return run_builder(program, "dev")


def test_a_broken_definition_registers_nothing_and_names_every_problem(run_builder) -> None:
    definition = broken(lambda d: (d.pop("TimeoutSeconds"), d["States"]["A"].pop("Retry")))
    with pytest.raises(WorkflowConfigError) as caught:
        build(run_builder, definition, {"f": spec("fulfilment", "worker"), "unused": spec("fulfilment", "worker")})
    assert str(caught.value) == (
        "workflow definition: the state machine needs TimeoutSeconds (a Standard execution otherwise runs for a year); "
        "States.A: needs a Retry with backoff and jitter; function 'unused' is granted but no task uses it")


def test_express_refuses_callbacks_and_long_timeouts(run_builder) -> None:
    with pytest.raises(WorkflowConfigError, match=r"cannot wait for a callback.*at most 300 s"):
        build(run_builder, saga_definition(), {"steps": spec("fulfilment", "worker")}, express=True)


def test_the_machine_is_logged_traced_alarmed_and_invokes_only_its_functions(run_builder) -> None:
    template = build(run_builder).template
    machine = template.one(MACHINE)["inputs"]
    assert machine["type"] == "STANDARD" and machine["tracingConfiguration"] == {"enabled": True}
    logging = machine["loggingConfiguration"]
    assert (logging["level"], logging["includeExecutionData"]) == ("ALL", True)
    log_group = template.one("aws:cloudwatch/logGroup:LogGroup", {"name": "/aws/vendedlogs/states/orders-dev-saga"})
    assert logging["logDestination"] == f"arn:aws:logs:us-east-1:123456789012:log-group:{log_group['inputs']['name']}:*"
    function_logs = template.one("aws:cloudwatch/logGroup:LogGroup", {"name": "/aws/lambda/orders-dev-saga-f"})
    assert log_group["inputs"]["retentionInDays"] == function_logs["inputs"]["retentionInDays"]  # the stack's one setting
    definition = json.loads(machine["definition"])
    function_arn = template.one("aws:lambda/function:Function")["inputs"]["name"]
    assert definition["States"]["A"]["Parameters"]["FunctionName"].endswith(f":function:{function_arn}")
    policy = template.policy(template.named("saga-policy"))["Statement"]
    invoke = next(s for s in policy if s["Sid"] == "InvokeItsFunctions")
    assert invoke["Action"] == ["lambda:InvokeFunction"] and invoke["Resource"] == [
        definition["States"]["A"]["Parameters"]["FunctionName"]]
    trust = json.loads(template.named("saga-role")["inputs"]["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"} and "aws:SourceAccount" in str(trust["Condition"])
    alarms = {a["inputs"]["metricName"]: a["inputs"] for a in template.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
              if a["inputs"]["namespace"] == "AWS/States"}
    assert sorted(alarms) == ["ExecutionThrottled", "ExecutionsAborted", "ExecutionsFailed", "ExecutionsTimedOut"]
    assert {a["dimensions"]["StateMachineArn"] for a in alarms.values()} == {
        "arn:aws:states:us-east-1:123456789012:stateMachine:orders-dev-saga"}
    assert all(a["alarmActions"] for a in alarms.values())


def test_the_reference_saga_is_the_fulfilment_subscriber_with_retries_and_a_dlq(synth_stack) -> None:
    template = synth_stack("prod")
    target = template.named("fulfilment-target")["inputs"]
    machine = template.one(MACHINE)["inputs"]
    assert target["arn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:orders-prod-fulfilment"
    assert target["deadLetterConfig"]["arn"].endswith(":orders-prod-fulfilment-target-dlq")
    assert target["retryPolicy"] == {"maximumEventAgeInSeconds": 3600, "maximumRetryAttempts": 24}
    role = template.policy(template.named("fulfilment-target-policy"))["Statement"]
    assert [(s["Action"], s["Resource"]) for s in role] == [(["states:StartExecution"], [target["arn"]])]
    assert target["roleArn"].endswith(":role/fulfilment-target-role")
    assert json.loads(machine["definition"])["TimeoutSeconds"] == 86_400 + 172_800 + 3600
    dashboard = json.loads(template.one("aws:cloudwatch/dashboard:Dashboard")["inputs"]["dashboardBody"])
    titles = [w["properties"].get("title", "") for w in dashboard["widgets"] if w["type"] == "metric"]
    assert "orders-prod-fulfilment-executions-failed" in titles
