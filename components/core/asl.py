"""A small typed builder of Amazon States Language states, and the checks every definition passes.

A program writes its state machine as plain dicts (built with these helpers or by hand); Lambda
tasks name their function by a key (``function_ref("reserve")``), which the Workflow component
replaces with the ARN of the function it built and granted. :func:`definition_problems` holds the
whole definition, branches and Map item processors included, to the Amazon States Language
specification (https://states-language.net/spec.html) and to the house rules:

- every state is reachable by name: ``StartAt``, ``Next``, ``Default``, a Choice's ``Next`` and a
  Catch's ``Next`` name a state of the same scope, and every non-terminal state has a ``Next``;
- every Task has a timeout (``TimeoutSeconds``; a heartbeat shorter than it if it has one), a
  ``Retry`` whose every retrier backs off (``BackoffRate`` above 1, ``MaxDelaySeconds``) with full
  jitter, and a ``Catch`` ending in ``States.ALL``; ``States.ALL`` only ever comes last
  (the specification's rule for both lists);
- every Lambda task names a function the component grants, and a callback task hands its token over;
- the machine itself has a ``TimeoutSeconds``: a Standard execution otherwise runs for a year.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "LAMBDA_CALLBACK",
    "LAMBDA_INVOKE",
    "TRANSIENT_LAMBDA_ERRORS",
    "definition_problems",
    "function_keys",
    "function_ref",
    "lambda_task",
    "render",
    "retrier",
    "walk_states",
]

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
LAMBDA_CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"
# What the Lambda integration raises for a failure that is not the function's own (Step Functions
# Developer Guide, "Handling errors": the recommended retrier for Lambda tasks).
TRANSIENT_LAMBDA_ERRORS = ("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                           "Lambda.TooManyRequestsException")
MAX_STATE_NAME = 80  # ASL: state names are at most 80 Unicode characters
_REF = re.compile(r"^\$\{function:([a-z][a-z0-9-]*)\}$")
_TERMINAL = ("Succeed", "Fail")
_KNOWN_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")


def function_ref(key: str) -> str:
    """Where a Lambda task names its function: replaced by the function's ARN when rendered."""
    return f"${{function:{key}}}"


def retrier(errors: Sequence[str] = TRANSIENT_LAMBDA_ERRORS, *, interval_seconds: int = 1, max_attempts: int = 3,
            backoff_rate: float = 2.0, max_delay_seconds: int = 30) -> dict[str, Any]:
    """A retrier with exponential backoff, a ceiling and full jitter (no synchronized retry storms)."""
    return {"ErrorEquals": list(errors), "IntervalSeconds": interval_seconds, "MaxAttempts": max_attempts,
            "BackoffRate": backoff_rate, "MaxDelaySeconds": max_delay_seconds, "JitterStrategy": "FULL"}


def lambda_task(function: str, payload: Mapping[str, Any], *, timeout_seconds: int, catch_next: str,
                next_state: str | None = None, result_path: str | None = "$.result", callback: bool = False,
                heartbeat_seconds: int | None = None, retry: Sequence[Mapping[str, Any]] | None = None,
                catch_result_path: str = "$.error", comment: str = "") -> dict[str, Any]:
    """A Lambda task: the function's answer (its Payload, or what the callback sends) at
    ``result_path``; any error after the retries goes to ``catch_next`` with the error at
    ``catch_result_path``. ``callback``: the task waits for ``SendTaskSuccess`` with the token
    the payload carries (``taskToken``)."""
    parameters: dict[str, Any] = {"FunctionName": function_ref(function),
                                  "Payload": {**payload, **({"taskToken.$": "$$.Task.Token"} if callback else {})}}
    state: dict[str, Any] = {"Type": "Task", "Resource": LAMBDA_CALLBACK if callback else LAMBDA_INVOKE,
                             "Parameters": parameters, "TimeoutSeconds": timeout_seconds}
    if comment:
        state["Comment"] = comment
    if heartbeat_seconds is not None:
        state["HeartbeatSeconds"] = heartbeat_seconds
    if not callback:  # the invoke result wraps the function's answer in Payload
        state["ResultSelector"] = {"value.$": "$.Payload"}
    state["ResultPath"] = result_path
    state["Retry"] = [dict(r) for r in (retry if retry is not None else [retrier()])]
    state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": catch_result_path, "Next": catch_next}]
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state


def function_keys(definition: Mapping[str, Any]) -> list[str]:
    """The function keys the Lambda tasks of a definition name, in order of first use."""
    found: list[str] = []
    for _, state in walk_states(definition):
        name = (state.get("Parameters") or {}).get("FunctionName") if state.get("Type") == "Task" else None
        match = _REF.match(name) if isinstance(name, str) else None
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


def render(definition: Mapping[str, Any], function_arns: Mapping[str, str]) -> str:
    """The definition as ASL JSON, each ``function_ref`` replaced by its function's ARN."""
    def substitute(value: Any) -> Any:
        if isinstance(value, str):
            match = _REF.match(value)
            return function_arns[match.group(1)] if match else value
        if isinstance(value, Mapping):
            return {k: substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v) for v in value]
        return value
    return json.dumps(substitute(definition), sort_keys=False)


def walk_states(machine: Mapping[str, Any], path: str = "States") -> list[tuple[str, Mapping[str, Any]]]:
    """Every state with its path, nested branches and item processors included."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    for name, state in (machine.get("States") or {}).items():
        if not isinstance(state, Mapping):
            continue
        where = f"{path}.{name}"
        found.append((where, state))
        for index, branch in enumerate(state.get("Branches") or []):
            found += walk_states(branch, f"{where}.Branches[{index}].States")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(processor, Mapping):
            found += walk_states(processor, f"{where}.ItemProcessor.States")
    return found


def _scope_problems(machine: Mapping[str, Any], path: str, functions: set[str]) -> list[str]:
    states = machine.get("States")
    if not isinstance(states, Mapping) or not states:
        return [f"{path}: has no states"]
    problems = []
    if machine.get("StartAt") not in states:
        problems.append(f"{path}: StartAt {machine.get('StartAt')!r} is not one of its states")
    for name, state in states.items():
        where = f"{path}.{name}"
        if len(name) > MAX_STATE_NAME:
            problems.append(f"{where}: a state name has at most {MAX_STATE_NAME} characters")
        if not isinstance(state, Mapping):
            problems.append(f"{where}: is not an object")
            continue
        kind = state.get("Type")
        if kind not in _KNOWN_TYPES:
            problems.append(f"{where}: unknown Type {kind!r}")
            continue
        targets = [state.get("Next"), state.get("Default"), *(c.get("Next") for c in state.get("Choices") or []),
                   *(c.get("Next") for c in state.get("Catch") or [])]
        problems += [f"{where}: goes to {t!r}, which is not a state here" for t in targets
                     if t is not None and t not in states]
        if kind == "Choice":
            if not state.get("Choices"):
                problems.append(f"{where}: a Choice needs Choices")
        elif kind not in _TERMINAL and not state.get("End") and "Next" not in state:
            problems.append(f"{where}: needs Next or End")
        if kind == "Task":
            problems += _task_problems(where, state, functions)
        for index, branch in enumerate(state.get("Branches") or []):
            problems += _scope_problems(branch, f"{where}.Branches[{index}]", functions)
        if kind == "Parallel" and not state.get("Branches"):
            problems.append(f"{where}: a Parallel needs Branches")
        if kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if not isinstance(processor, Mapping):
                problems.append(f"{where}: a Map needs an ItemProcessor")
            else:
                problems += _scope_problems(processor, f"{where}.ItemProcessor", functions)
        if kind in ("Parallel", "Map"):
            problems += _catch_problems(where, state)
    return problems


def _catch_problems(where: str, state: Mapping[str, Any]) -> list[str]:
    problems = []
    for field in ("Retry", "Catch"):
        for index, entry in enumerate(state.get(field) or []):
            errors = entry.get("ErrorEquals") or []
            if "States.ALL" in errors and (len(errors) > 1 or index != len(state[field]) - 1):
                problems.append(f"{where}: States.ALL must be alone and last in {field}")
    catches = state.get("Catch") or []
    if not catches or "States.ALL" not in (catches[-1].get("ErrorEquals") or []):
        problems.append(f"{where}: needs a Catch ending in States.ALL (a failure must reach a handler)")
    return problems


def _task_problems(where: str, state: Mapping[str, Any], functions: set[str]) -> list[str]:
    problems = []
    timeout = state.get("TimeoutSeconds")
    if not isinstance(timeout, int) or timeout < 1:
        problems.append(f"{where}: needs TimeoutSeconds (a task otherwise waits up to a year)")
    heartbeat = state.get("HeartbeatSeconds")
    if heartbeat is not None and (not isinstance(timeout, int) or not 0 < heartbeat < timeout):
        problems.append(f"{where}: HeartbeatSeconds must be positive and less than TimeoutSeconds")
    retriers = state.get("Retry") or []
    if not retriers:
        problems.append(f"{where}: needs a Retry with backoff and jitter")
    for index, entry in enumerate(retriers):
        if not (isinstance(entry.get("BackoffRate"), (int, float)) and entry["BackoffRate"] > 1):
            problems.append(f"{where}: Retry[{index}] needs a BackoffRate above 1")
        if entry.get("JitterStrategy") != "FULL":
            problems.append(f"{where}: Retry[{index}] needs JitterStrategy FULL")
        if not isinstance(entry.get("MaxDelaySeconds"), int):
            problems.append(f"{where}: Retry[{index}] needs MaxDelaySeconds (a ceiling on the backoff)")
    problems += _catch_problems(where, state)
    resource = str(state.get("Resource", ""))
    if resource in (LAMBDA_INVOKE, LAMBDA_CALLBACK):
        parameters = state.get("Parameters") or {}
        name = parameters.get("FunctionName")
        match = _REF.match(name) if isinstance(name, str) else None
        if match is None:
            problems.append(f"{where}: names its function by function_ref(<key>), not {name!r}")
        elif match.group(1) not in functions:
            problems.append(f"{where}: function {match.group(1)!r} is not one of the workflow's functions "
                            f"{sorted(functions)}")
        if resource == LAMBDA_CALLBACK and (parameters.get("Payload") or {}).get("taskToken.$") != "$$.Task.Token":
            problems.append(f"{where}: a callback task passes $$.Task.Token in its Payload (taskToken.$)")
    elif resource.startswith("arn:aws:lambda:"):
        problems.append(f"{where}: invoke Lambda through {LAMBDA_INVOKE} (its retriers and payload shape)")
    return problems


def definition_problems(definition: Mapping[str, Any], functions: Sequence[str] | set[str]) -> list[str]:
    """Every way ``definition`` breaks the ASL rules or the house rules (module docstring); [] when none."""
    problems = _scope_problems(definition, "States", set(functions))
    timeout = definition.get("TimeoutSeconds")
    if not isinstance(timeout, int) or timeout < 1:
        problems.insert(0, "the state machine needs TimeoutSeconds (a Standard execution otherwise runs for a year)")
    return problems
