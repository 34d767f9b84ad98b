"""The event flows of a stack as a Mermaid diagram, derived from the synth output (not drawn by hand):
routes -> functions, functions -> what they write (tables, queues, bus, streams), event source
mappings (queues, streams, table streams -> functions), bus -> rules -> targets, schedules -> jobs."""

from __future__ import annotations

import re
from typing import Any

from tools.template import Template

WRITES = {"sqs:SendMessage": "queue", "events:PutEvents": "bus", "kinesis:PutRecord": "stream",
          "kinesis:PutRecords": "stream", "dynamodb:PutItem": "table", "dynamodb:UpdateItem": "table"}
SHAPES = {"api": ('{{', '}}'), "function": ('(', ')'), "table": ('[(', ')]'), "queue": ('[/', '/]'),
          "bus": ('((', '))'), "rule": ('{', '}'), "stream": ('[[', ']]'), "schedule": ('>', ']'),
          "workflow": ('[[', ']]')}


def _node(kind: str, name: str) -> str:
    return f"{kind}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


def _resource_name(arn: str) -> tuple[str, str] | None:
    """(kind, physical name) of the resource an ARN names, for the kinds the diagram shows."""
    if ":sqs:" in arn:
        return "queue", arn.rsplit(":", 1)[-1]
    if ":event-bus/" in arn:
        return "bus", arn.rsplit("/", 1)[-1]
    if ":kinesis:" in arn and ":stream/" in arn:
        return "stream", arn.rsplit("/", 1)[-1]
    if ":dynamodb:" in arn and ":table/" in arn:
        return "table", arn.split(":table/", 1)[1].split("/", 1)[0]
    if ":lambda:" in arn and ":function:" in arn:
        return "function", arn.split(":function:", 1)[1].split(":", 1)[0]
    if ":states:" in arn and ":stateMachine:" in arn:
        return "workflow", arn.split(":stateMachine:", 1)[1].split(":", 1)[0]
    return None


def edges(template: Template) -> tuple[dict[str, tuple[str, str]], set[tuple[str, str, str]]]:
    nodes: dict[str, tuple[str, str]] = {}
    links: set[tuple[str, str, str]] = set()

    def add(kind: str, name: str) -> str:
        node = _node(kind, name)
        nodes[node] = (kind, name)
        return node

    functions = {r["name"]: r["inputs"].get("name") for r in template.of_type("aws:lambda/function:Function")}
    integrations = {r["name"].removesuffix("-integration"): _resource_name(str(r["inputs"].get("integrationUri", "")))
                    for r in template.of_type("aws:apigatewayv2/integration:Integration")}
    for route in template.of_type("aws:apigatewayv2/route:Route"):
        for prefix, target in integrations.items():
            if route["name"].startswith(prefix + "-") and target:
                links.add((add("api", route["inputs"]["routeKey"]), add(*target), ""))
    for policy in template.of_type("aws:iam/rolePolicy:RolePolicy"):
        function = functions.get(policy["name"].removesuffix("-policy"))
        if not function:
            continue
        for statement in template.policy(policy).get("Statement", []):
            for action in statement.get("Action", []):
                if action in WRITES:
                    for arn in statement.get("Resource", []):
                        target = _resource_name(str(arn))
                        if target and target[0] == WRITES[action]:
                            links.add((add("function", function), add(*target), action.split(":")[1]))
    for mapping in template.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
        source, target = (_resource_name(str(mapping["inputs"].get(k, ""))) for k in ("eventSourceArn", "functionName"))
        if source and target:
            label = "stream" if "/stream/" in str(mapping["inputs"].get("eventSourceArn")) else ""
            links.add((add(*source), add(*target), label))
    rules = {r["inputs"].get("name"): r["inputs"] for r in template.of_type("aws:cloudwatch/eventRule:EventRule")}
    for name, rule in rules.items():
        links.add((add("bus", str(rule.get("eventBusName"))), add("rule", name), ""))
    for target in template.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        destination = _resource_name(str(target["inputs"].get("arn", "")))
        if destination:
            links.add((add("rule", str(target["inputs"].get("rule"))), add(*destination), ""))
    for machine in template.of_type("aws:sfn/stateMachine:StateMachine"):  # -> the functions its tasks invoke
        definition = str(machine["inputs"].get("definition"))
        invoked = {_resource_name(arn) for arn in re.findall(r'"(arn:aws:lambda:[^"]+)"', definition)}
        for function in sorted(t for t in invoked if t):
            links.add((add("workflow", str(machine["inputs"].get("name"))), add(*function), "task"))
    for schedule in template.of_type("aws:scheduler/schedule:Schedule"):
        job = _resource_name(str((schedule["inputs"].get("target") or {}).get("arn", "")))
        if job:
            label = schedule["inputs"].get("scheduleExpression", "")
            links.add((add("schedule", str(schedule["inputs"].get("name"))), add(*job), str(label)))
    return nodes, links


def mermaid(template: Template) -> str:
    nodes, links = edges(template)
    prefix = _service_prefix(template)
    lines = ["flowchart LR"]
    for node, (kind, name) in sorted(nodes.items()):
        left, right = SHAPES[kind]
        label = name.removeprefix(prefix).replace('"', "'")
        lines.append(f'  {node}{left}"{label}"{right}')
    merged: dict[tuple[str, str], set[str]] = {}
    for source, target, label in links:
        merged.setdefault((source, target), set()).update({label} - {""})
    for (source, target), labels in sorted(merged.items()):
        arrow = f' -->|"{"/".join(sorted(labels))}"| ' if labels else " --> "
        lines.append(f"  {source}{arrow}{target}")
    return "\n".join(lines)


def _service_prefix(template: Template) -> str:
    for resource in template.of_type("aws:sns/topic:Topic"):
        name = str(resource["inputs"].get("name", ""))
        if name.endswith("-alerts"):
            return name.removesuffix("alerts")
    return ""


def _key(urn: str) -> str:
    """A URN without its stack and project: dev and prod resources compare by type and name."""
    return "::".join(urn.split("::")[2:])


def diff(base: Template, head: Template) -> dict[str, Any]:
    """Added, removed and changed resources (by type and name, with the changed input keys)."""
    before = {_key(u): r for u, r in base.by_urn.items()}
    after = {_key(u): r for u, r in head.by_urn.items()}
    changed = {}
    for urn in sorted(set(before) & set(after)):
        keys = sorted(k for k in set(before[urn]["inputs"]) | set(after[urn]["inputs"])
                      if before[urn]["inputs"].get(k) != after[urn]["inputs"].get(k))
        if keys:
            changed[urn] = keys
    return {"added": sorted(set(after) - set(before)), "removed": sorted(set(before) - set(after)), "changed": changed}
