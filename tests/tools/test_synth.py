from __future__ import annotations

import functools
import json
import subprocess
import sys

import pytest

from tests.conftest import PROJECT, ROOT, cached_synth


def run_synth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.synth", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


@functools.cache
def synth_command(stack: str) -> subprocess.CompletedProcess[str]:
    """One run of the command per stack for the tests that only read its output."""
    return run_synth(stack)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cli_prints_the_documented_json(stack: str) -> None:
    result = synth_command(stack)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"project", "stack", "resources"}
    assert document["project"] == PROJECT and document["stack"] == stack
    assert len(document["resources"]) > 100
    for resource in document["resources"]:
        assert set(resource) == {"urn", "type", "name", "parent", "inputs", "options"}
        assert resource["urn"].startswith(f"urn:pulumi:{stack}::{PROJECT}::")
        assert set(resource["options"]) == {"protect", "deleteBeforeReplace", "ignoreChanges", "dependsOn",
                                            "retainOnDelete"}
    assert any(r["type"] == "serverless:index:Platform" for r in document["resources"])
    urns = [r["urn"] for r in document["resources"]]
    assert urns == sorted(urns)


def test_cli_output_is_deterministic() -> None:
    first, second = synth_command("prod"), run_synth("prod")
    assert first.returncode == 0 and second.returncode == 0, first.stderr
    assert len(json.loads(first.stdout)["resources"]) > 100
    assert first.stdout == second.stdout


def test_cli_inputs_are_concrete_strings_not_nulls() -> None:
    document = json.loads(synth_command("dev").stdout)
    topic_policy = next(r for r in document["resources"] if r["type"] == "aws:sns/topicPolicy:TopicPolicy")
    assert topic_policy["inputs"]["arn"].startswith("arn:aws:sns:us-east-1:")
    assert "null" not in topic_policy["inputs"]["policy"]


def test_cli_invalid_settings_print_the_error_and_exit_non_zero() -> None:
    result = run_synth("prod", "-c", "apiMemoryMb=64", "-c", "alertEmails=[]", "-c", "logRetentionDays=10")
    assert result.returncode != 0
    assert result.stdout == ""
    for bad in ("apiMemoryMb", "alertEmails", "logRetentionDays"):
        assert f"{PROJECT}:{bad}" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_unknown_stack_is_a_clear_error() -> None:
    result = run_synth("staging")
    assert result.returncode != 0 and "Pulumi.staging.yaml" in result.stderr


def test_secure_values_become_placeholders(tmp_path) -> None:
    from tools.synth import stack_config

    for name in ("Pulumi.yaml",):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "Pulumi.sec.yaml").write_text(
        f"config:\n  {PROJECT}:owner: team\n  {PROJECT}:signingSecret:\n    secure: AAABAKxyz==\n"
    )
    config, secret_keys = stack_config("sec", tmp_path)
    assert config[f"{PROJECT}:signingSecret"] == "[secret]"
    assert secret_keys == [f"{PROJECT}:signingSecret"]


def test_cli_output_is_the_in_process_synth_byte_for_byte() -> None:
    """The command skips the cyclic collector and exits without freeing the heap: the text it
    flushes before leaving must be exactly what a normal in-process run of the synth serialises."""
    expected = json.dumps(cached_synth("prod").as_json(), indent=1, sort_keys=False) + "\n"
    result = synth_command("prod")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) > 100_000
    assert result.stdout == expected


def test_cli_error_is_flushed_before_the_fast_exit() -> None:
    result = run_synth("prod", "-c", "apiMemoryMb=64")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"  - {PROJECT}:apiMemoryMb: must be between 128 and 10240 MB (got 64)"


def test_deploying_imports_no_handler_only_library() -> None:
    """The rules are built from the plain event catalog: a synth loads neither pydantic nor the
    detail models (~130 ms of every `pulumi preview` before)."""
    script = ("import sys\nfrom tools.synth import synth\nsynth('prod')\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic' or m.endswith('shared.contracts')))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
