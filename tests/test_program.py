"""The whole program (``__main__.py``) per stack under Pulumi's mock runtime."""

from __future__ import annotations

from collections import Counter

import pulumi
import pytest

from system.settings import SettingsError
from tests.conftest import PROJECT, cached_synth, stack_raw_config
from tools.mocks import UNKNOWN_PLACEHOLDER, DuplicateResourceError, run_mocked
from tools.synth import synth


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_program_synthesises_with_components_and_resources(synth_stack, stack: str) -> None:
    template = synth_stack(stack)
    assert template.project == PROJECT and template.stack == stack
    types = Counter(r["type"] for r in template.resources)
    assert types["pulumi:providers:aws"] == 1
    assert types["serverless:index:Platform"] == 1
    assert types["aws:sns/topic:Topic"] >= 1


DYNAMIC = "pulumi-python:dynamic"
ALIAS = "aws:lambda/alias:Alias"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_aws_resource_uses_the_stacks_explicit_provider(stack: str) -> None:
    run = cached_synth(stack)
    provider_urns = [r.urn for r in run.resources() if r.type == "pulumi:providers:aws"]
    assert len(provider_urns) == 1
    custom = [r for r in run.resources() if r.custom and not r.type.startswith(("pulumi:providers:", DYNAMIC))]
    assert custom
    assert [r.urn for r in custom if not (r.provider or "").startswith(provider_urns[0] + "::")] == []
    # Dynamic resources (gradual deployments) run in Pulumi's own provider host: they carry the
    # provider's region as an input instead.
    provider = next(r for r in run.resources() if r.type == "pulumi:providers:aws")
    dynamic = [r for r in run.resources() if r.type.startswith(DYNAMIC)]
    assert {r.inputs["region"] for r in dynamic} <= {provider.inputs["region"]}
    assert bool(dynamic) == (stack == "prod")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_child_is_parented_to_a_component(stack: str) -> None:
    run = cached_synth(stack)
    components = {r.urn for r in run.resources() if not r.custom}
    assert len(components) >= 7 and len(run.resources()) > 200
    for record in run.resources():
        if record.custom and not record.type.startswith("pulumi:providers:"):
            assert record.parent in components, record.urn


def test_preview_run_tolerates_unknown_values(synth_stack) -> None:
    template = synth_stack("dev", preview=True)
    assert template.count("aws:sns/topic:Topic") == 2  # alerts (paging) and notices
    # The mock answers every output it knows; nothing the program needs is left unknown.
    assert UNKNOWN_PLACEHOLDER not in str([r["inputs"] for r in template.resources])


def test_invalid_settings_fail_before_any_resource_is_registered() -> None:
    config = stack_raw_config("prod", {"apiMemoryMb": 64, "alertEmails": []})
    captured = {}

    def program() -> None:
        import runpy

        captured["run"] = True
        runpy.run_path("__main__.py", run_name="__main__")

    with pytest.raises(SettingsError) as caught:
        run_mocked(program, PROJECT, "prod", config)
    assert captured["run"]
    assert {k for k, _ in caught.value.problems} == {f"{PROJECT}:apiMemoryMb", f"{PROJECT}:alertEmails"}


def test_invalid_settings_register_nothing(monkeypatch) -> None:
    from tools import mocks

    seen: list[mocks.CapturingMonitor] = []
    original = mocks.CapturingMonitor.__init__

    def remember(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self)

    monkeypatch.setattr(mocks.CapturingMonitor, "__init__", remember)
    with pytest.raises(SettingsError):
        synth("dev", {f"{PROJECT}:architecture": "sparc"})
    assert seen and seen[-1].records == {}


def test_duplicate_resource_names_are_rejected() -> None:
    def program() -> None:
        pulumi.ComponentResource("test:index:Thing", "same")
        pulumi.ComponentResource("test:index:Thing", "same")

    with pytest.raises(Exception) as caught:
        run_mocked(program, PROJECT, "dev", stack_raw_config("dev"))
    assert "duplicate resource URN" in str(caught.value) or isinstance(caught.value, DuplicateResourceError)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_two_resources_share_a_urn_or_physical_name(stack: str) -> None:
    run = cached_synth(stack)
    urns = [r.urn for r in run.resources()]
    assert len(urns) == len(set(urns))
    # An alias's name is unique within its function only.
    named = Counter((r.type, r.inputs.get("functionName") if r.type == ALIAS else None, r.inputs.get("name"))
                    for r in run.resources() if isinstance(r.inputs.get("name"), str))
    assert [k for k, n in named.items() if n > 1] == []


def test_runs_are_isolated_from_each_other() -> None:
    first = synth("dev")
    second = synth("dev")
    assert [r.urn for r in first.resources()] == [r.urn for r in second.resources()]
