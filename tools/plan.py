"""A readable plan of a stack from the offline synth: a tree like ``pulumi preview``, then a summary.

    python -m tools.plan <stack>                        text, for a terminal (make plan)
    python -m tools.plan <stack> --markdown report.md   the same as Markdown with a Mermaid diagram (PR comments)
    python -m tools.plan --diff base.json head.json     added, removed and changed resources of two synths

Needs no AWS account and no Pulumi CLI: the program runs under Pulumi's mock runtime.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Mapping
from typing import Any

from tools.template import Template, function_deployments

STACK_TYPE = "pulumi:pulumi:Stack"


def tree_lines(template: Template) -> list[str]:
    rows: list[tuple[str, str]] = [(STACK_TYPE, f"{template.project}-{template.stack}")]

    def walk(parent: str | None, prefix: str) -> None:
        children = [r for r in template.resources if r["parent"] == parent]
        for index, child in enumerate(children):
            last = index == len(children) - 1
            rows.append((f"{prefix}{'└─ ' if last else '├─ '}{child['type']}", child["name"]))
            walk(child["urn"], prefix + ("   " if last else "│  "))

    walk(None, "")
    width = max(len(kind) for kind, _ in rows) + 2
    return ["     " + "Type".ljust(width) + "Name"] + [f" +   {kind.ljust(width)}{name}" for kind, name in rows]


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [headers, *[[("-" if v is None else str(v)) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]


def route_rows(template: Template) -> list[list[Any]]:
    """Each HTTP route and who may call it: JWT, a check of its own (webhook signature), or anyone."""
    rows = []
    for route in template.of_type("aws:apigatewayv2/route:Route"):
        inputs = route["inputs"]
        operation = str(inputs.get("operationName") or "")
        if inputs.get("authorizationType", "NONE") != "NONE":
            access = f"{inputs['authorizationType']} authorizer"
        elif operation.startswith("authenticated by "):
            access = operation
        else:
            access = "PUBLIC: anyone"
        rows.append([inputs.get("routeKey"), access])
    return sorted(rows, key=lambda row: str(row[0]))


def public_route_warning(template: Template, production: bool) -> list[str]:
    public = [row[0] for row in route_rows(template) if row[1].startswith("PUBLIC")]
    if production and public:
        return [f"WARNING: this production stack serves {len(public)} route(s) to anyone (apiPublicInProduction): "
                + ", ".join(public)]
    return []


FUNCTION_HEADERS = ["name", "memory MB", "arch", "runtime", "timeout s", "reserved", "provisioned", "deployment"]


def function_rows(template: Template) -> list[list[Any]]:
    provisioned = {
        r["inputs"].get("functionName"): r["inputs"].get("provisionedConcurrentExecutions")
        for r in template.of_type("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")
    }
    deployments = function_deployments(template)
    rows = []
    for function in template.of_type("aws:lambda/function:Function"):
        inputs = function["inputs"]
        reserved = inputs.get("reservedConcurrentExecutions")
        rows.append([
            inputs.get("name"),
            _int(inputs.get("memorySize")),
            ",".join(inputs.get("architectures") or []),
            inputs.get("runtime"),
            _int(inputs.get("timeout")),
            _int(reserved) if reserved not in (None, -1) else None,
            _int(provisioned.get(inputs.get("name"))),
            deployments[inputs.get("name")],
        ])
    return rows


def alarm_rows(template: Template) -> list[list[Any]]:
    rows = []
    for alarm in template.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        inputs = alarm["inputs"]
        statistic = inputs.get("statistic") or inputs.get("extendedStatistic")
        metric = f"{inputs.get('namespace')} {inputs.get('metricName')} {statistic}"
        for query in inputs.get("metricQueries") or []:
            if query.get("returnData"):
                metric = f"{query.get('label')} = {query.get('expression')}"
        actions = sorted({a.rsplit(":", 1)[-1] for a in inputs.get("alarmActions") or []})  # topic names
        rows.append([
            inputs.get("name"),
            metric,
            f"{_comparison(inputs.get('comparisonOperator'))} {_number(inputs.get('threshold'))}",
            inputs.get("treatMissingData"),
            ",".join(actions) or "NONE",
        ])
    return rows


def kept_grant_rows(template: Template) -> list[list[Any]]:
    """Grants the local cloud's flows cannot exercise, kept with their reason (tools/local/grants.py);
    `make demo` shows every other grant is used."""
    from tools.local.grants import kept_reason, role_grants

    rows = []
    for function in template.of_type("aws:lambda/function:Function"):
        role = function["inputs"].get("role", "").rsplit("/", 1)[-1]
        for action, resource in role_grants(template, role):
            reason = kept_reason(function["name"], action, resource)
            if reason:
                rows.append([function["name"], action, resource.split(":", 5)[-1], reason])
    return rows


def _comparison(operator: str | None) -> str:
    return {
        "GreaterThanOrEqualToThreshold": ">=",
        "GreaterThanThreshold": ">",
        "LessThanThreshold": "<",
        "LessThanOrEqualToThreshold": "<=",
    }.get(operator or "", operator or "?")


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _number(value: Any) -> str:
    return str(_int(value))


def render(template: Template, production: bool = False) -> str:
    counts = Counter(r["type"] for r in template.resources)
    lines = [f"Plan for stack '{template.stack}' of '{template.project}' (offline: Pulumi mock runtime)", ""]
    lines += tree_lines(template)
    lines += ["", f"Resources: {len(template.resources) + 1} to create (including the stack)", ""]
    lines += ["Resources by type:"] + [f"  {n:>4}  {t}" for t, n in sorted(counts.items())]
    lines += ["", "Routes (who may call them):"]
    lines += ["  " + line for line in _table(["route", "access"], route_rows(template))]
    lines += public_route_warning(template, production)
    lines += ["", "Functions:"]
    lines += ["  " + line for line in _table(
        FUNCTION_HEADERS, function_rows(template))]
    lines += ["", "Alarms (actions go to):"]
    lines += ["  " + line for line in _table(
        ["name", "metric", "threshold", "missing data", "actions"], alarm_rows(template))]
    lines += ["", "Grants no local flow exercises (kept; `make demo` shows every other grant is used):"]
    lines += ["  " + line for line in _table(["function", "action", "resource", "why kept"], kept_grant_rows(template))]
    from policy.rules import ERROR, evaluate

    findings = sorted(evaluate(template.resources, production=production), key=lambda f: (f.severity != ERROR, f.rule))
    errors = sum(1 for f in findings if f.severity == ERROR)
    lines += ["", f"Policy findings: {errors} mandatory, {len(findings) - errors} advisory"]
    lines += [f"  {f}" for f in findings]
    return "\n".join(lines) + "\n"


def markdown(template: Template, production: bool = False) -> str:
    from policy.rules import ERROR, evaluate
    from tools.flows import mermaid

    counts = Counter(r["type"] for r in template.resources)
    findings = sorted(evaluate(template.resources, production=production), key=lambda f: (f.severity != ERROR, f.rule))
    errors = sum(1 for f in findings if f.severity == ERROR)

    def table(headers: list[str], rows: list[list[Any]]) -> list[str]:
        cells = [[("-" if v is None else str(v)).replace("|", "\\|") for v in row] for row in rows]
        return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)] + ["| " + " | ".join(r) + " |" for r in cells]

    lines = [f"## Plan: `{template.project}` / `{template.stack}`", "",
             f"{len(template.resources)} resources, {counts.get('aws:lambda/function:Function', 0)} functions, "
             f"{counts.get('aws:cloudwatch/metricAlarm:MetricAlarm', 0)} alarms; policy: **{errors} mandatory**, "
             f"{len(findings) - errors} advisory finding(s).", "", "### Event flows", "", "```mermaid", mermaid(template),
             "```", "", "### Routes", ""]
    lines += table(["route", "access"], route_rows(template))
    lines += [f"> **{w}**" for w in public_route_warning(template, production)]
    lines += ["", "### Functions", ""]
    lines += table(FUNCTION_HEADERS, function_rows(template))
    lines += ["", "### Alarms and where they go", ""]
    lines += table(["name", "metric", "threshold", "missing data", "actions"], alarm_rows(template))
    lines += ["", "### Grants no local flow exercises", ""]
    lines += table(["function", "action", "resource", "why kept"], kept_grant_rows(template))
    lines += ["", "### Cost estimate (monthly, USD)", ""]
    costs = cost_by_service(template)
    lines += table(["service", "tuned", "untuned baseline"], [[k, f"{a:.2f}", f"{b:.2f}"] for k, (a, b) in costs])
    lines += ["", "### Policy findings", ""]
    lines += [f"- **{f.severity}** `{f.rule}` `{f.resource.rsplit('::', 1)[-1]}`: {f.problem} _Fix:_ {f.fix}" for f in findings]
    lines += ["", "<details><summary>Resource tree</summary>", "", "```text", *tree_lines(template), "```", "</details>", ""]
    return "\n".join(lines)


def cost_by_service(template: Template) -> list[tuple[str, tuple[float, float]]]:
    """Tuned and baseline monthly cost per service, plus the total, using the stack's workload."""
    from tools.cost.model import estimate, workload_problems
    from tools.synth import stack_settings

    settings = stack_settings(template.stack)
    for problem in workload_problems(template, dict(settings.workload)):
        print(f"warning: {problem} (the cost figures leave it out)", file=sys.stderr)
    totals: dict[str, list[float]] = {}
    for item in estimate(template, dict(settings.workload), {"logs": settings.log_retention_days}):
        entry = totals.setdefault(item.service, [0.0, 0.0])
        entry[0] += item.monthly
        entry[1] += item.baseline
    rows = sorted(((k, (v[0], v[1])) for k, v in totals.items()), key=lambda kv: -kv[1][0])
    return [*rows, ("total", (sum(v[0] for v in totals.values()), sum(v[1] for v in totals.values())))]


def _diff_key(urn: str) -> str:
    from tools.flows import _key

    return _key(urn)


def _leaf_changes(path: str, old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """The changed leaves under one input: nested maps are walked (JSON documents too), lists shown whole."""
    import json

    def parsed(value: Any) -> Any:
        if isinstance(value, str) and value[:1] in "{[":
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    old, new = parsed(old), parsed(new)
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                found += _leaf_changes(f"{path}.{key}", old.get(key), new.get(key))
        return found
    return [(path, old, new)]


def _shown(value: Any, limit: int = 100) -> str:
    import json

    value = _int(value)  # the engine's numbers are floats: 256.0 reads as 256
    text = "(none)" if value is None else json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit - 3] + "..."


def render_diff(base: Template, head: Template) -> str:
    from tools.flows import diff

    changes = diff(base, head)
    lines = [f"Diff {base.stack} -> {head.stack}: {len(changes['added'])} added, {len(changes['removed'])} removed, "
             f"{len(changes['changed'])} changed"]
    lines += [f"+ {urn}" for urn in changes["added"]] + [f"- {urn}" for urn in changes["removed"]]
    old_by_key = {_diff_key(u): r for u, r in base.by_urn.items()}
    new_by_key = {_diff_key(u): r for u, r in head.by_urn.items()}
    for urn, keys in changes["changed"].items():
        lines.append(f"~ {urn}: {', '.join(keys)}")
        old, new = old_by_key[urn]["inputs"], new_by_key[urn]["inputs"]
        for key in keys:
            lines += [f"    {path}: {_shown(a)} -> {_shown(b)}" for path, a, b in _leaf_changes(key, old.get(key), new.get(key))]
    before, after = cost_by_service(base)[-1][1][0], cost_by_service(head)[-1][1][0]
    lines.append(f"Monthly cost: {before:.2f} -> {after:.2f} USD ({after - before:+.2f})")
    return "\n".join(lines) + "\n"


def load_synth(path: str) -> Template:
    """A ``tools.synth`` output from a file, or ValueError with one line saying what is wrong."""
    from tools.jsonfile import load_json

    document = load_json(path, "the output of python -m tools.synth")
    if not isinstance(document, dict) or not {"project", "stack", "resources"} <= set(document) \
            or not isinstance(document["resources"], list):
        raise ValueError(f"{path} is not a tools.synth output (expected project, stack and resources)")
    return Template(document)


def main(argv: list[str] | None = None, document: Mapping[str, Any] | None = None) -> int:
    from system.settings import SettingsError
    from tools.synth import config_overrides, stack_settings, synth

    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?")
    parser.add_argument("-c", "--config", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--markdown", metavar="FILE", help="write the report as Markdown ('-' for stdout)")
    parser.add_argument("--diff", nargs=2, metavar=("BASE", "HEAD"), help="compare two `tools.synth` JSON outputs")
    args = parser.parse_args(argv)
    if args.diff:
        try:
            base, head = (load_synth(path) for path in args.diff)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
        sys.stdout.write(render_diff(base, head))
        return 0
    if not args.stack:
        parser.error("a stack is required (or --diff BASE HEAD)")
    try:
        overrides = config_overrides(args.config)
        document = document or synth(args.stack, overrides).as_json()
        production = stack_settings(args.stack, overrides).production
    except (SettingsError, FileNotFoundError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    if args.markdown:
        report = markdown(Template(document), production)
        if args.markdown == "-":
            sys.stdout.write(report)
            return 0
        try:
            with open(args.markdown, "w") as handle:
                handle.write(report)
        except OSError as error:
            print(f"cannot write the report to {args.markdown}: {error.strerror}", file=sys.stderr)
            return 2
        print(f"wrote the plan report for stack '{args.stack}' to {args.markdown}", file=sys.stderr)
        return 0
    sys.stdout.write(render(Template(document), production))
    return 0


if __name__ == "__main__":
    sys.exit(main())
