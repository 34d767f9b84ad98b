"""Workflow: a Step Functions state machine that orchestrates functions, instead of chaining them.

The program writes the definition in Python (:mod:`components.core.asl`: plain ASL dicts, Lambda
tasks naming their function by key). The component checks it before registering anything, builds
each task function (worker profile, its own role and alarms), and creates the state machine with:

- Standard type by default (exactly-once steps, executions up to a year, callbacks); ``express``
  for short, high-volume flows (at-least-once, 5 minutes, no callbacks);
- logging of every event (level ALL, with execution data) to its own log group with the stack's
  retention, and X-Ray tracing;
- a role that may invoke exactly the functions the definition names, and deliver logs and traces;
- alarms on ExecutionsFailed, ExecutionsTimedOut, ExecutionThrottled and ExecutionsAborted (the
  AWS/States metrics, dimension StateMachineArn), registered for the dashboard and service health;
- gradual deployments for its functions like every other component, rolled back also by the
  workflow's failed executions.

Triggers: a FanOut subscriber with ``workflow=`` (an EventBridge rule with the retry policy and DLQ
of every target), or anything granted :meth:`Workflow.start_grant`. Whoever completes a callback
needs :meth:`Workflow.callback_grant`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.alarms import AlarmSpec, build_alarms
from components.core.asl import LAMBDA_CALLBACK, definition_problems, function_keys, render, walk_states
from components.core.context import StackContext
from components.core.errors import ComponentConfigError
from components.core.function import BuiltFunction, FunctionSpec, build_function
from components.core.iam import Grant, policy_document, service_assume_role_policy
from components.core.logs import build_log_group
from components.core.naming import physical_name
from components.core.rollout import build_rollout

__all__ = ["Workflow", "WorkflowArgs", "WorkflowConfigError", "workflow_alarm_specs"]

COMPONENT_TYPE = "serverless:index:Workflow"
MAX_EXPRESS_SECONDS = 300  # an Express execution runs at most five minutes
# CloudWatch Logs' delivery APIs and X-Ray's have no resource-level permissions (Step Functions
# Developer Guide, "IAM policies for logging to CloudWatch Logs" and "X-Ray tracing").
LOG_DELIVERY_ACTIONS = ("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups")
TRACING_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                   "xray:GetSamplingTargets")
CALLBACK_ACTIONS = ("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat")


class WorkflowConfigError(ComponentConfigError):
    """A definition or setting that cannot run as written."""


@dataclass(frozen=True)
class WorkflowArgs:
    definition: Mapping[str, Any]
    """The state machine in ASL, as dicts; Lambda tasks name functions by key (``asl.function_ref``)."""
    functions: Mapping[str, FunctionSpec]
    """The task functions by key: each is built with the worker profile and granted to the machine."""
    express: bool = False
    """@default False: Standard (exactly-once steps, callbacks, up to a year)."""
    stack: StackContext = field(default_factory=StackContext)
    """@default the code defaults, no alarm actions (see :class:`StackContext`)."""


def workflow_alarm_specs(state_machine_arn: pulumi.Input[str]) -> dict[str, AlarmSpec]:
    """The executions that ended badly, and starts Step Functions refused. Each one is a saga that
    did not finish: any is worth a look (sparse metrics: missing data is healthy)."""
    dimensions = {"StateMachineArn": state_machine_arn}

    def spec(metric: str, description: str) -> AlarmSpec:
        return AlarmSpec(family="states", namespace="AWS/States", metric_name=metric, dimensions=dimensions,
                         threshold=1, evaluation_periods=1, datapoints_to_alarm=1, description=description)

    return {
        "executions-failed": spec("ExecutionsFailed", "Executions failed: a step failed after its retries and "
                                                      "its compensations (see the execution's history)."),
        "executions-timed-out": spec("ExecutionsTimedOut", "Executions timed out: a step or a callback never answered."),
        "executions-throttled": spec("ExecutionThrottled", "Step Functions throttled state transitions or starts."),
        "executions-aborted": spec("ExecutionsAborted", "Executions were stopped by hand or by a redeploy."),
    }


def validate(args: WorkflowArgs) -> None:
    """Every problem with the definition and its functions, at once, before anything is registered."""
    problems = definition_problems(args.definition, list(args.functions))
    used = function_keys(args.definition)
    problems += [f"function {key!r} is granted but no task uses it" for key in args.functions if key not in used]
    if args.express:
        if any(state.get("Resource") == LAMBDA_CALLBACK for _, state in walk_states(args.definition)):
            problems.append("an Express workflow cannot wait for a callback (task token): use Standard")
        if isinstance(args.definition.get("TimeoutSeconds"), int) and args.definition["TimeoutSeconds"] > MAX_EXPRESS_SECONDS:
            problems.append(f"an Express workflow runs at most {MAX_EXPRESS_SECONDS} s")
    if problems:
        raise WorkflowConfigError("workflow definition: " + "; ".join(problems))


class Workflow(pulumi.ComponentResource):
    functions: dict[str, BuiltFunction]
    state_machine: aws.sfn.StateMachine
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: WorkflowArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        validate(args)
        ctx = args.stack.resolved(self)
        settings = ctx.defaults
        self.functions = {key: build_function(ctx, f"{name}-{key}", spec.with_class(
            "worker", f"workflow '{name}': function '{key}'"), self) for key, spec in args.functions.items()}
        machine_name = physical_name(settings, name, max_length=80)
        # /aws/vendedlogs/ keeps the log group out of the account's 5 KB log resource policy limit.
        self.log_group = build_log_group(ctx, f"{name}-logs", f"/aws/vendedlogs/states/{machine_name}", self)
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=service_assume_role_policy("states.amazonaws.com", ctx.account_id),
            description=f"Execution role of the {machine_name} state machine",
            opts=ctx.options(self),
        )
        targets = [fn.target_arn for fn in self.functions.values()]
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=policy_document([
                {"Sid": "InvokeItsFunctions", "Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": targets},
                {"Sid": "DeliverLogs", "Effect": "Allow", "Action": list(LOG_DELIVERY_ACTIONS), "Resource": ["*"]},
                {"Sid": "XRay", "Effect": "Allow", "Action": list(TRACING_ACTIONS), "Resource": ["*"]},
            ]),
            opts=ctx.options(self),
        )
        keys = list(self.functions)
        definition = pulumi.Output.all(*targets).apply(
            lambda arns: render(args.definition, dict(zip(keys, arns, strict=True))))
        self.state_machine = aws.sfn.StateMachine(
            name,
            name=machine_name,
            role_arn=role.arn,
            type="EXPRESS" if args.express else "STANDARD",
            definition=definition,
            logging_configuration={"log_destination": pulumi.Output.concat(self.log_group.arn, ":*"),
                                   "include_execution_data": True, "level": "ALL"},
            tracing_configuration={"enabled": True},
            # The role must be able to write its logs and invoke before the machine is validated.
            opts=ctx.options(self, depends_on=[policy]),
        )
        self.arn = self.state_machine.arn
        self.name = self.state_machine.name
        self.alarms = build_alarms(ctx, name, workflow_alarm_specs(self.state_machine.arn), self)
        for key, fn in self.functions.items():
            fn.rollout = build_rollout(ctx, f"{name}-{key}", fn, [self.alarms["executions-failed"]], self)
        self.register_outputs({"stateMachineArn": self.arn, "logGroup": self.log_group.name})

    def start_grant(self) -> Grant:
        """What starting an execution needs (an API's function, a rule's role)."""
        return Grant(["states:StartExecution"], [self.arn])

    @staticmethod
    def callback_grant() -> Grant:
        """What completing a callback needs: SendTask* take no resource (the token names the task)."""
        return Grant(list(CALLBACK_ACTIONS), ["*"])
