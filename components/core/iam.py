"""IAM policy documents built from data, never from hand-written JSON strings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.core.documents import json_document
from components.core.errors import ComponentConfigError

__all__ = ["Grant", "GrantError", "deny_insecure_transport", "policy_document", "service_assume_role_policy"]

# Actions that have no resource-level permissions: `*` is the only valid resource for them.
ACTIONS_WITHOUT_RESOURCE_TYPES = frozenset({
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "dynamodb:ListStreams",  # Lambda's DynamoDB stream poller lists streams; the action has no resource type
    "kinesis:ListStreams",  # likewise for Kinesis (AWSLambdaKinesisExecutionRole); no resource type either
    # Step Functions: completing a callback (the token names the task), its log delivery and X-Ray sampling.
    "states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat",
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    "xray:GetSamplingRules", "xray:GetSamplingTargets",
})


class GrantError(ComponentConfigError):
    """A grant that would give a function more than it needs."""


@dataclass(frozen=True)
class Grant:
    """Actions on resources that a function's role is allowed, added explicitly by the caller."""

    actions: Sequence[str]
    resources: Sequence[pulumi.Input[str]]
    conditions: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.actions or not self.resources:
            raise GrantError("a grant needs at least one action and one resource")
        for action in self.actions:
            service, _, name = action.partition(":")
            if not service or not name or "*" in action:
                raise GrantError(f"grant action {action!r} must be a single service:Action, without wildcards")
        if any(isinstance(r, str) and r == "*" for r in self.resources):
            broad = [a for a in self.actions if a not in ACTIONS_WITHOUT_RESOURCE_TYPES]
            if broad:
                raise GrantError(f"grant actions {broad} support resource-level permissions; name the resources, not '*'")

    def statement(self) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Action": sorted(self.actions),
            "Resource": list(self.resources),
        }
        if self.conditions:
            statement["Condition"] = dict(self.conditions)
        return statement


def policy_document(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """A policy JSON document; statement values may be Outputs."""
    return json_document({"Version": "2012-10-17", "Statement": list(statements)})


def service_assume_role_policy(service_principal: str, source_account: pulumi.Input[str] | None = None) -> pulumi.Output[str]:
    """Trust policy letting one AWS service assume a role, scoped to our account when given."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service_principal},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return policy_document([statement])


def deny_insecure_transport(actions: str, resources: Sequence[pulumi.Input[str]]) -> dict[str, Any]:
    """Deny any request to the resources that does not arrive over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": actions,
        "Resource": list(resources),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
