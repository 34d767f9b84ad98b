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
    assert len(built) == len(RULES) + len(PRODUCTION_RULES) + 3
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


# --- the pack config, read as the Pulumi CLI reads it ------------------------------------------------

def test_pack_config_properties_come_only_from_the_policys_own_entry(tmp_path) -> None:
    from policy.pack import load_pack_config, production_rules_enabled

    only_all = tmp_path / "all.json"
    only_all.write_text('{"all": {"production": true, "enforcementLevel": "mandatory"}}')
    assert production_rules_enabled(load_pack_config(only_all)) == set()  # what the old prod-config did
    named = tmp_path / "named.json"
    named.write_text('{"all": "advisory", "g9-prod-dynamodb-deletion-protection": {"production": true, '
                     '"enforcementLevel": "mandatory"}}')
    assert load_pack_config(named) == {"g9-prod-dynamodb-deletion-protection": {"production": True}}
    assert production_rules_enabled(load_pack_config(named)) == {"G9"}


def test_each_stack_pack_config_turns_production_rules_on_exactly_for_production_stacks() -> None:
    from policy.pack import policy_name
    from tests.conftest import settings_for
    from tools.policy import production_rules_for

    assert {policy_name(r) for r in PRODUCTION_RULES} == {"g9-prod-dynamodb-deletion-protection"}
    for stack in ("dev", "prod"):
        expected = {r.id for r in PRODUCTION_RULES} | {"P1", "P2", "P3"} if settings_for(stack).production else set()
        assert production_rules_for(stack) == expected, stack
    assert production_rules_for("prod") == {"G9", "P1", "P2", "P3"}


def test_the_config_file_names_policies_the_pack_has() -> None:
    import json

    from policy.pack import PACK_DIR

    names = {p.name for p in policies()}
    assert sorted(p.name for p in PACK_DIR.glob("*-config.json")) == ["dev-config.json", "prod-config.json"]
    for path in PACK_DIR.glob("*-config.json"):
        assert set(json.loads(path.read_text())) - {"all"} <= names, path.name


def test_g9_requires_protect_as_well_as_deletion_protection() -> None:
    protection = by_description_prefix("G9")[0]
    table = {"deletionProtectionEnabled": True}

    def args(protect: bool) -> ResourceValidationArgs:
        opts = type("Opts", (), {"protect": protect})()
        return ResourceValidationArgs(resource_type="aws:dynamodb/table:Table", props=table, urn="urn:t", name="t",
                                      opts=opts, provider=None, config={"production": True})

    assert any("protect" in v for v in violations(protection, args(False)))
    assert violations(protection, args(True)) == []


def test_policy_pack_has_a_version() -> None:
    import yaml

    from policy.pack import PACK_DIR

    assert yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())["version"]


def test_the_production_gaps_policy_runs_only_with_production_config() -> None:
    gaps = next(p for p in policies() if p.name == "prod-stack-gaps")
    route = PolicyResource(resource_type="aws:apigatewayv2/route:Route", props={"routeKey": "GET /orders",
                           "authorizationType": "NONE"}, urn="urn:route", name="route", opts=None, provider=None,
                           parent=None, dependencies=[], property_dependencies={})
    assert violations(gaps, StackValidationArgs(resources=[route], config={})) == []
    found = violations(gaps, StackValidationArgs(resources=[route], config={"production": True}))
    assert len(found) == 1 and found[0].startswith("P2: route 'GET /orders' is public in production.")
