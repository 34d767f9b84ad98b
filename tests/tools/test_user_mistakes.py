"""A user's mistake in a tool is one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        if env is None or key not in env:
            environment.pop(key, None)
    environment.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, env=environment,
                          timeout=120)


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no message"
    return result.stderr


@pytest.mark.parametrize("tool", [("tools.redrive", "prod", "payments-webhook-queue", "--status"),
                                  ("tools.replay", "prod", "--status", "replay-1")])
def test_missing_credentials_are_one_line(tool) -> None:
    assert "no AWS credentials" in one_line(run(*tool))


@pytest.mark.parametrize("tool", [("tools.redrive", "prod", "payments-webhook-queue", "--status"),
                                  ("tools.replay", "prod", "--status", "replay-1")])
def test_an_unreachable_endpoint_is_one_line(tool) -> None:
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "AWS_MAX_ATTEMPTS": "1"}
    assert "cannot reach the AWS endpoint" in one_line(run(*tool, env=env))


def test_diff_of_a_missing_or_non_synth_file_is_one_line(tmp_path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": 1}))
    assert "cannot read" in one_line(run("tools.plan", "--diff", str(tmp_path / "nope.json"), str(other)))
    assert "is not a tools.synth output" in one_line(run("tools.plan", "--diff", str(other), str(other)))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert "is not JSON" in one_line(run("tools.plan", "--diff", str(broken), str(other)))


@pytest.mark.usefixtures("synth_once")
def test_an_unwritable_report_path_is_one_line_and_a_written_one_says_where(tmp_path, capsys) -> None:
    from tools import plan

    assert plan.main(["dev", "--markdown", str(tmp_path / "missing-dir" / "plan.md")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cannot write the report to") and "Traceback" not in err
    target = tmp_path / "plan.md"
    assert plan.main(["dev", "--markdown", str(target)]) == 0
    assert f"to {target}" in capsys.readouterr().err and target.read_text().startswith("## Plan")


def test_a_yaml_mistake_in_a_stack_file_names_the_file_and_line() -> None:
    broken = ROOT / "Pulumi.brokenyaml.yaml"
    broken.write_text("config:\n  orders-platform:owner: team\n  orders-platform:costCenter: [unclosed\n")
    try:
        message = one_line(run("tools.synth", "brokenyaml"))
    finally:
        broken.unlink()
    assert message.startswith("Pulumi.brokenyaml.yaml, line 4: not valid YAML")


@pytest.mark.parametrize(("override", "expected"), [
    ("alertEmails=platform@example.com", "alertEmails: must be a list"),
    ("region=us-east-9", "region: is not an AWS region (got 'us-east-9'); did you mean 'us-east-2'?"),
    ("region=mars-central-1", "region: is not an AWS region"),
])
def test_settings_mistakes_are_named(override, expected) -> None:
    assert expected in one_line(run("tools.synth", "dev", "-c", override))


def test_plan_diff_shows_old_and_new_values(tmp_path) -> None:
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(run("tools.synth", "dev").stdout)
    head.write_text(run("tools.synth", "dev", "-c", "apiMemoryMb=1024").stdout)
    result = run("tools.plan", "--diff", str(base), str(head))
    assert result.returncode == 0, result.stderr
    assert "~ serverless:index:ApiService$aws:lambda/function:Function::api-orders: memorySize" in result.stdout
    assert "    memorySize: 256 -> 1024" in result.stdout
