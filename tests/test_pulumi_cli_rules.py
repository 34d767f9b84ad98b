"""The project and stack files pass the Pulumi CLI's own checks (see tests/cli_rules/pulumi_cli.py).

The CLI runs these before ``__main__.py`` on every preview, up, refresh and destroy; the mock
runtime runs none of them. Each rule also gets a negative case, so a rule that stopped firing
would show here.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tests.cli_rules.pulumi_cli import project_problems, stack_problems

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def stack_document(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())


def test_there_are_stacks_to_check() -> None:
    assert STACKS == ["dev", "prod"]


def test_pulumi_yaml_passes_the_cli_project_validation() -> None:
    assert project_problems(PROJECT) == []


@pytest.mark.parametrize("stack", STACKS)
def test_stack_file_passes_the_cli_stack_config_validation(stack: str) -> None:
    assert stack_problems(PROJECT, stack, stack_document(stack)) == []


def test_structured_settings_are_objects_so_config_set_path_works() -> None:
    for key in ("workload", "functionMemoryMb"):
        assert PROJECT["config"][key]["type"] == "object"
        assert PROJECT["config"][key]["default"] == {}
    assert isinstance(stack_document("prod")["config"]["orders-platform:workload"], dict)


def test_the_signing_secret_is_not_declared_secret_but_a_plaintext_value_is_refused() -> None:
    from system.settings import SettingsError, load_settings
    from tests.conftest import settings_for
    from tools.synth import stack_config

    assert not PROJECT["config"]["paymentsWebhookSecret"].get("secret")
    config, _ = stack_config("dev")
    config["orders-platform:paymentsWebhookSecret"] = "whsec_plain"
    with pytest.raises(SettingsError, match="paymentsWebhookSecret: must be set as a secret"):
        load_settings("dev", config, secret_keys=frozenset())
    assert settings_for("dev").webhooks.secrets == {}


# --- negative cases: each rule of the reproduction fires -------------------------------------------

def with_declaration(key: str, declaration: dict) -> dict:
    project = copy.deepcopy(PROJECT)
    project["config"][key] = declaration
    return project


def test_a_secret_key_with_a_default_is_refused_on_every_stack_that_does_not_set_it() -> None:
    project = with_declaration("token", {"type": "string", "secret": True, "default": ""})
    problems = stack_problems(project, "dev", stack_document("dev"))
    assert problems == ["Stack 'dev' with configuration key 'token' must be encrypted as it's secret"]
    encrypted = {"config": {**stack_document("dev")["config"], "orders-platform:token": {"secure": "AAAB"}}}
    assert stack_problems(project, "dev", encrypted) == []


def test_a_key_without_default_must_be_set() -> None:
    project = with_declaration("team", {"type": "string"})
    assert stack_problems(project, "dev", stack_document("dev")) == [
        "Stack 'dev' is missing configuration value(s) team"]


@pytest.mark.parametrize(("declared", "value", "accepted"), [
    ({"type": "integer"}, 512, True),
    ({"type": "integer"}, "512", True),  # integers given as strings are accepted
    ({"type": "integer"}, 5.0, True),
    ({"type": "integer"}, 5.5, False),
    ({"type": "integer"}, "²", False),
    ({"type": "integer"}, "ten", False),
    ({"type": "boolean"}, True, True),
    ({"type": "boolean"}, "false", True),
    ({"type": "boolean"}, "yes", False),
    ({"type": "string"}, "x", True),
    ({"type": "string"}, {"a": 1}, False),
    ({"type": "array", "items": {"type": "string"}}, ["a@example.com"], True),
    ({"type": "array", "items": {"type": "string"}}, "a@example.com", False),  # a string where a list is expected
    ({"type": "array", "items": {"type": "integer"}}, [1, "x"], False),
    ({"type": "object"}, {"functions": {}}, True),
    ({"type": "object"}, "{functions: {}}", False),  # the YAML-in-a-string form is refused
    ({"type": "object"}, [1], False),
])
def test_stack_values_are_checked_against_the_declared_type(declared: dict, value: object, accepted: bool) -> None:
    project = with_declaration("probe", {**declared, "description": "probe"})
    document = {"config": {**stack_document("dev")["config"], "orders-platform:probe": value}}
    problems = stack_problems(project, "dev", document)
    assert (problems == []) is accepted, problems


@pytest.mark.parametrize(("declaration", "message"), [
    ({"type": "array", "default": []}, "does not specify the underlying type"),
    ({"type": "integer", "default": "many"}, "is not of the expected type 'integer'"),
    ({"type": "array", "items": {"type": "string"}, "default": [1]}, "is not of the expected type 'array<string>'"),
    ({"type": "string", "default": "a", "value": "b"}, "cannot have both a 'default' and 'value'"),
    ({"type": "float"}, "project schema: config.probe"),
    ({"type": "string", "descripton": "typo"}, "project schema: config.probe"),
])
def test_project_declarations_are_checked(declaration: dict, message: str) -> None:
    problems = project_problems(with_declaration("probe", declaration))
    assert any(message in p for p in problems), problems


@pytest.mark.parametrize(("key", "value"), [
    ("name", ""),  # required, and not empty
    ("runtime", {"name": "python", "option": {}}),  # runtime objects take only name and options
    ("config", 5),
])
def test_malformed_top_level_project_keys_are_refused_by_the_schema(key: str, value: object) -> None:
    project = copy.deepcopy(PROJECT)
    project[key] = value
    assert project_problems(project)
