"""The CrossGuard adapters, called with hand-built validation args (building the pack would block)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, StackValidationArgs, StackValidationPolicy
from pulumi_policy.policy import PolicyResource

from policy.pack import policies
from policy.rules import PRODUCTION_RULES, RULES


def resource_args(type_: str, props: dict, config: dict | None = None) -> ResourceValidationArgs:
    return ResourceValidationArgs(resource_type=type_, props=props, urn=f"urn:{type_}", name="r", opts=None,
                                  provider=None, config=config or {})


def violations(policy, args) -> list[str]:
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def by_description_prefix(prefix: str):
    return [p for p in policies() if p.description.startswith(prefix)]


def test_every_rule_becomes_a_policy_with_its_enforcement() -> None:
    built = policies()
    assert len(built) == len(RULES) + len(PRODUCTION_RULES) + 2
    kinesis = by_description_prefix("K1")[0]
    assert kinesis.enforcement_level == EnforcementLevel.MANDATORY
    assert by_description_prefix("D1")[0].enforcement_level == EnforcementLevel.ADVISORY


def test_resource_policy_reports_a_violation_and_accepts_the_fix() -> None:
    kinesis = by_description_prefix("K1")[0]
    assert violations(kinesis, resource_args("aws:kinesis/stream:Stream", {}))
    assert violations(kinesis, resource_args("aws:kinesis/stream:Stream", {"encryptionType": "KMS"})) == []


def test_production_rules_apply_only_with_production_config() -> None:
    protection = by_description_prefix("G9")[0]
    table = {"deletionProtectionEnabled": False}
    assert violations(protection, resource_args("aws:dynamodb/table:Table", table)) == []
    assert violations(protection, resource_args("aws:dynamodb/table:Table", table, {"production": True}))


def test_stack_policy_sees_the_whole_resource_list() -> None:
    stack = next(p for p in policies() if isinstance(p, StackValidationPolicy) and p.name.startswith("stack-alarms"))
    function = PolicyResource(resource_type="aws:lambda/function:Function", props={"name": "fn"}, urn="urn:fn", name="fn",
                              opts=None, provider=None, parent=None, dependencies=[], property_dependencies={})
    found = violations(stack, StackValidationArgs(resources=[function], config={}))
    assert any("G1" in message for message in found)
