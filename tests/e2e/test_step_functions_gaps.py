"""Step Functions on moto: what differs from AWS for the fulfilment saga, on plain moto, and the
adapter closing it (tools/local/emulator.py, tools/local/runtime.py). If a moto upgrade closes a gap,
its "plain" assertion fails: then that part of the adapter can go."""

from __future__ import annotations

import json
import threading
import time
from http.server import ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from components.core.asl import lambda_task, render
from tests.e2e.test_emulator_gaps import denied, role_with
from tools.local.emulator import Emulator
from tools.local.runtime import Invocation, _invoke_handler_class

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:{}"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:steps"
DEFINITION = {"StartAt": "Step", "TimeoutSeconds": 60, "States": {
    "Step": lambda_task("steps", {"step.$": "$.step"}, timeout_seconds=10, catch_next="Failed", next_state="Done"),
    "Done": {"Type": "Succeed"}, "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error"}}}


class Steps:
    """The runtime's side: a function by name that answers its event, or fails as asked."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def function_for(self, name: str) -> SimpleNamespace:
        if not name.endswith(":function:steps") and name != "steps":
            raise KeyError(name)

        def invoke(event: dict) -> Invocation:
            self.events.append(event)
            if event.get("step") == "fail":
                return Invocation("steps", error={"errorType": "OutOfStockError", "errorMessage": "none left"})
            return Invocation("steps", result={"did": event.get("step")})
        return SimpleNamespace(invoke=invoke)


@pytest.fixture(scope="module", params=["plain", "adapted"])
def cloud(request):
    with Emulator(plain=request.param == "plain") as emulator:
        steps = Steps()
        server = ThreadingHTTPServer(("127.0.0.1", emulator.lambda_tasks_port), _invoke_handler_class(steps))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        states = emulator.client("stepfunctions")
        iam = emulator.client("iam")
        role = iam.create_role(RoleName="machine", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        for name in ("granted", "other"):
            states.create_state_machine(name=name, roleArn=role, definition=render(DEFINITION, {"steps": FUNCTION}))
        starter = role_with(emulator, "starter", [{"Effect": "Allow", "Action": ["states:StartExecution"],
                                                   "Resource": [MACHINE.format("granted")]}])
        emulator.enforce_iam()
        try:
            yield request.param, emulator, steps, starter
        finally:
            server.shutdown()
            server.server_close()


def finished(emulator: Emulator, execution: str) -> dict:
    states = emulator.client("stepfunctions")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        described = states.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"{execution} still running")


def test_a_role_granted_one_state_machine_may_start_that_one_only(cloud) -> None:
    kind, emulator, _, starter = cloud
    states = emulator.client("stepfunctions", credentials=starter)
    granted = denied(lambda: states.start_execution(stateMachineArn=MACHINE.format("granted"), name="g1", input="{}"))
    other = denied(lambda: states.start_execution(stateMachineArn=MACHINE.format("other"), name="o1", input="{}"))
    # plain moto authorizes Step Functions against "*": the role is refused its own state machine
    assert (granted, other) == ((True, True) if kind == "plain" else (False, True))


def test_lambda_tasks_run_the_real_handler_and_its_errors_reach_the_catch(cloud) -> None:
    kind, emulator, steps, _ = cloud
    states = emulator.client("stepfunctions")
    ok = finished(emulator, states.start_execution(stateMachineArn=MACHINE.format("granted"), name=f"ok-{kind}",
                                                   input=json.dumps({"step": "reserve"}))["executionArn"])
    failed = finished(emulator, states.start_execution(stateMachineArn=MACHINE.format("granted"), name=f"no-{kind}",
                                                       input=json.dumps({"step": "fail"}))["executionArn"])
    if kind == "plain":  # moto's own Lambda: no such function (and running one needs Docker)
        assert (ok["status"], failed["status"], steps.events) == ("FAILED", "FAILED", [])
    else:
        assert (ok["status"], json.loads(ok["output"])["result"]) == ("SUCCEEDED", {"value": {"did": "reserve"}})
        assert (failed["status"], failed.get("error")) == ("FAILED", "OutOfStockError")
        assert steps.events[-2:] == [{"step": "reserve"}, {"step": "fail"}]


def test_an_unnamed_execution_has_no_id_of_its_own_on_moto(cloud) -> None:
    # EventBridge starts executions without a name and AWS names them; moto leaves the name None, so
    # $$.Execution.Id would be the same for every start. The local runtime's starter names each one.
    _, emulator, _, _ = cloud
    states = emulator.client("stepfunctions")
    first = states.start_execution(stateMachineArn=MACHINE.format("other"), input=json.dumps({"step": "a"}))
    assert first["executionArn"].endswith(":None")
