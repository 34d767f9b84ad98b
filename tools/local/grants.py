"""Grants proven both ways: what each role allows, against what its function and Lambda (for its
event sources) really called during the flows.

A granted (action, resource) that no recorded call used is reported. A grant kept although the
flows cannot exercise it is listed in KEPT with the reason; any other unused grant is a finding
(``make demo`` exits non-zero, tests/e2e/test_grants.py fails).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tools.local.emulator import ACCOUNT_ID, BATCH_ACTIONS, REGION, iter_statements, requested_resources

# Used by Lambda's own agents, which the local runtime does not play.
PLATFORM_ACTIONS = {
    "logs:CreateLogStream": "Lambda's log agent writes the function's logs with it (not played locally)",
    "logs:PutLogEvents": "Lambda's log agent writes the function's logs with it (not played locally)",
    "xray:PutTraceSegments": "the X-Ray daemon sends traces with it (X-Ray is not played locally)",
    "xray:PutTelemetryRecords": "the X-Ray daemon sends telemetry with it (X-Ray is not played locally)",
}
# (function's logical name, action, resource ARN suffix) -> why the grant stays although no flow uses it.
KEPT: dict[tuple[str, str, str], str] = {
    ("api-orders", "dynamodb:DeleteItem", "-orders-idempotency"):
        "Powertools idempotency deletes the in-progress record when placing an order raises, so the retry runs; "
        "no flow makes the write fail",
    ("api-orders", "dynamodb:GetItem", "-orders-idempotency"):
        "Powertools reads the record when a failed conditional put returns no old item (its documented fallback)",
    ("outbox-relay", "dynamodb:ListStreams", "*"):
        "in AWSLambdaDynamoDBExecutionRole, for Lambda's stream poller; the local poller does not list streams",
    ("activity", "kinesis:ListStreams", "*"):
        "in AWSLambdaKinesisExecutionRole, for Lambda's stream poller; the local poller does not list streams",
}

_IAM_PREFIX = {"dynamodbstreams": "dynamodb"}


@dataclass(frozen=True)
class Unused:
    function: str
    action: str
    resource: str
    kept: str = ""


def used_pairs(calls: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """(IAM action, resource ARN) of each recorded call, as IAM authorizes it."""
    used: set[tuple[str, str]] = set()
    for call in calls:
        service, operation, params = call["service"], call["operation"], dict(call.get("params") or {})
        prefix = _IAM_PREFIX.get(service, service)
        if service == "sqs":
            name = (params.get("QueueUrl") or "").rstrip("/").rsplit("/", 1)[-1] or params.get("QueueName", "")
            used.add((f"sqs:{BATCH_ACTIONS.get((service, operation), operation)}", f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"))
            continue
        if "EventBusNames" in params:
            params["Entries"] = [{"EventBusName": name} for name in params.pop("EventBusNames")]
        if "RequestItems" in params:
            params["RequestItems"] = {name: [] for name in params["RequestItems"]}
        for action, resource in requested_resources(service, operation, params, REGION, ACCOUNT_ID):
            used.add((f"{prefix}:{action}", resource))
    return used


def _matches(pattern: str, value: str) -> bool:
    regex = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.match(regex, value, flags=re.IGNORECASE) is not None


def role_grants(deployed: Any, role_name: str) -> list[tuple[str, str]]:
    """Every (action, resource) the role's inline policies allow."""
    granted = []
    for policy in deployed.of_type("aws:iam/rolePolicy:RolePolicy"):
        if policy["inputs"]["role"] != role_name:
            continue
        for statement in iter_statements(json.loads(policy["inputs"]["policy"])):
            if statement.get("Effect") != "Allow":
                continue
            actions = statement.get("Action", [])
            resources = statement.get("Resource", [])
            for action in [actions] if isinstance(actions, str) else actions:
                for resource in [resources] if isinstance(resources, str) else resources:
                    granted.append((action, resource))
    return granted


def kept_reason(function: str, action: str, resource: str) -> str:
    """Why the grant stays although no flow uses it ("" when nothing keeps it)."""
    return next((why for (logical, kept, suffix), why in KEPT.items()
                 if logical == function and kept == action and resource.endswith(suffix)), "")


def unused_grants(cloud: Any) -> list[Unused]:
    runtime, deployed = cloud.runtime, cloud.deployed
    report = []
    for function in runtime.functions.values():
        calls = [call for invocation in function.invocations for call in invocation.calls] + function.service_calls
        used = used_pairs(calls)
        role_name = function.spec.role_arn.rsplit("/", 1)[-1]
        for action, resource in role_grants(deployed, role_name):
            if any(_matches(action, a) and _matches(resource, r) for a, r in used):
                continue
            reason = PLATFORM_ACTIONS.get(action, "") or kept_reason(function.spec.logical, action, resource)
            report.append(Unused(function.spec.logical, action, resource, reason))
    return report


def unexplained(report: list[Unused]) -> list[Unused]:
    return [u for u in report if not u.kept]


def render(report: list[Unused]) -> str:
    platform = [u for u in report if u.action in PLATFORM_ACTIONS]
    report = [u for u in report if u.action not in PLATFORM_ACTIONS]
    lines = ["granted but used by no flow (per function's role):",
             f"  every function: {', '.join(sorted({u.action for u in platform}))} on its own log group / '*': "
             "kept, Lambda's log agent and the X-Ray daemon use them (not played locally)"]
    if not report:
        lines.append("  nothing else: every other grant was used by a flow")
    for function in sorted({u.function for u in report}):
        lines.append(f"  {function}")
        for unused in (u for u in report if u.function == function):
            resource = unused.resource.split(":", 5)[-1] if unused.resource != "*" else "*"
            note = f"  kept: {unused.kept}" if unused.kept else "  UNUSED"
            lines.append(f"    {unused.action:<32} {resource:<55}{note}")
    return "\n".join(lines)
