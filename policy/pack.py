"""The CrossGuard policies, adapted from the plain rules in rules.py (built here, served by __main__)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

try:  # run by CrossGuard from inside policy/, or imported as policy.pack by the tests
    from rules import ERROR, PRODUCTION_RULES, RULES, Rule, check_stack, production_gaps, rule_problem
except ImportError:  # pragma: no cover - the package import path
    from policy.rules import ERROR, PRODUCTION_RULES, RULES, Rule, check_stack, production_gaps, rule_problem

PRODUCTION_SCHEMA = PolicyConfigSchema(properties={"production": {"type": "boolean"}})
PACK_DIR = Path(__file__).resolve().parent


def policy_name(rule: Rule) -> str:
    """The CrossGuard policy name of a rule: the key its config takes in a policy pack config file."""
    return _name(rule)


def load_pack_config(path: Path) -> dict[str, dict[str, Any]]:
    """A ``--policy-pack-config`` file read as the CLI reads it (pkg/resource/analyzer/config.go in
    pulumi/pulumi: ``parsePolicyPackConfig`` and ``applyConfig``): each policy takes the properties
    under its own name; ``"all"`` contributes only an enforcement level, never properties."""
    document = json.loads(path.read_text())
    if not isinstance(document, dict):
        raise ValueError(f"{path}: a policy pack config is a JSON object keyed by policy name")
    config: dict[str, dict[str, Any]] = {}
    for name, value in document.items():
        if name == "all" or isinstance(value, str):  # a bare string is an enforcement level
            continue
        if not isinstance(value, dict):
            raise ValueError(f"{path}: the config of policy {name!r} must be an object or an enforcement level")
        config[name] = {k: v for k, v in value.items() if k != "enforcementLevel"}
    return config


def production_rules_enabled(config: dict[str, dict[str, Any]]) -> set[str]:
    """Ids of the production-only rules a pack config turns on (``{"<policy>": {"production": true}}``)."""
    enabled = {rule.id for rule in PRODUCTION_RULES if config.get(policy_name(rule), {}).get("production") is True}
    if config.get(PRODUCTION_STACK_POLICY, {}).get("production") is True:
        enabled |= {"P1", "P2", "P3"}
    return enabled


def stack_pack_config(stack: str) -> Path:
    """The config file the workflows pass for a stack: policy/<stack>-config.json."""
    return PACK_DIR / f"{stack}-config.json"


def _level(severity: str) -> EnforcementLevel:
    return EnforcementLevel.MANDATORY if severity == ERROR else EnforcementLevel.ADVISORY


def _name(rule: Rule) -> str:
    return f"{rule.id.lower()}-{re.sub(r'[^a-z0-9]+', '-', rule.description.lower()).strip('-')}"[:64]


def _resource_policy(rule: Rule, production_only: bool = False) -> ResourceValidationPolicy:
    def validate(args: Any, report_violation: Any) -> None:
        if production_only and not args.get_config().get("production", False):
            return
        if args.resource_type in rule.types:
            problem = rule_problem(rule, args.props, {"protect": bool(getattr(args.opts, "protect", False))})
            if problem:
                report_violation(f"{problem} Fix: {rule.fix}", args.urn)

    return ResourceValidationPolicy(
        name=_name(rule), description=f"{rule.id}: {rule.description}", enforcement_level=_level(rule.severity),
        validate=validate, config_schema=PRODUCTION_SCHEMA if production_only else None)


def _stack_validate(args: Any, report_violation: Any) -> None:
    resources = [{"urn": r.urn, "type": r.resource_type, "name": r.name, "inputs": r.props} for r in args.resources]
    for finding in check_stack(resources):
        if finding.severity == ERROR:
            report_violation(f"{finding.rule}: {finding.problem} Fix: {finding.fix}", finding.resource)


PRODUCTION_STACK_POLICY = "prod-stack-gaps"


def _production_gaps(args: Any, report_violation: Any) -> None:
    if not args.get_config().get("production", False):
        return
    resources = [{"urn": r.urn, "type": r.resource_type, "name": r.name, "inputs": r.props} for r in args.resources]
    for finding in production_gaps(resources):
        report_violation(f"{finding.rule}: {finding.problem} Fix: {finding.fix}", finding.resource)


def _stack_advice(args: Any, report_violation: Any) -> None:
    resources = [{"urn": r.urn, "type": r.resource_type, "name": r.name, "inputs": r.props} for r in args.resources]
    for finding in check_stack(resources):
        if finding.severity != ERROR:
            report_violation(f"{finding.rule}: {finding.problem} Fix: {finding.fix}", finding.resource)


def policies() -> list[Any]:
    seen: set[str] = set()
    built: list[Any] = []
    for rule, production_only in [*((r, False) for r in RULES), *((r, True) for r in PRODUCTION_RULES)]:
        policy = _resource_policy(rule, production_only)
        if policy.name in seen:
            raise ValueError(f"duplicate policy name {policy.name}")
        seen.add(policy.name)
        built.append(policy)
    built.append(StackValidationPolicy(name="stack-alarms-destinations-invokers",
                                       description="G1, L5, L9: alarms, async destinations and log groups across the stack",
                                       enforcement_level=EnforcementLevel.MANDATORY, validate=_stack_validate))
    built.append(StackValidationPolicy(name=PRODUCTION_STACK_POLICY,
                                       description="P1-P3: production gaps (webhook secret, public routes, all-at-once aliases)",
                                       enforcement_level=EnforcementLevel.MANDATORY, validate=_production_gaps,
                                       config_schema=PRODUCTION_SCHEMA))
    built.append(StackValidationPolicy(name="stack-advice", description="L9, L10: advisory checks across the stack",
                                       enforcement_level=EnforcementLevel.ADVISORY, validate=_stack_advice))
    return built
