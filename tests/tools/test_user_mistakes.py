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


TOOLS = [("redrive", ["prod", "payments-webhook-queue", "--status"]), ("replay", ["prod", "--status", "replay-1"])]


def in_process(tool: str, argv: list[str], capsys) -> str:
    import importlib

    assert importlib.import_module(f"tools.{tool}").main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.fixture
def no_aws_credentials(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    import boto3

    boto3.DEFAULT_SESSION = None


@pytest.mark.usefixtures("synth_once", "no_aws_credentials")
@pytest.mark.parametrize(("tool", "argv"), TOOLS)
def test_missing_credentials_are_one_line(tool, argv, capsys) -> None:
    assert "no AWS credentials" in in_process(tool, argv, capsys)


@pytest.mark.usefixtures("synth_once", "no_aws_credentials")
@pytest.mark.parametrize(("tool", "argv"), TOOLS)
def test_an_unreachable_endpoint_is_one_line(tool, argv, capsys, monkeypatch) -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
                       "AWS_MAX_ATTEMPTS": "1"}.items():
        monkeypatch.setenv(key, value)
    assert "cannot reach the AWS endpoint" in in_process(tool, argv, capsys)


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


def test_a_yaml_mistake_in_a_stack_file_names_the_file_and_line(tmp_path) -> None:
    from tools.synth import read_stack_file

    broken = tmp_path / "Pulumi.brokenyaml.yaml"
    broken.write_text("config:\n  orders-platform:owner: team\n  orders-platform:costCenter: [unclosed\n")
    with pytest.raises(ValueError) as caught:
        read_stack_file(broken)
    assert str(caught.value).startswith("Pulumi.brokenyaml.yaml, line 4: not valid YAML")
    assert one_line(run("tools.plan", "--diff", str(broken), str(broken)))  # and the CLI says it in one line


@pytest.mark.parametrize(("override", "expected"), [
    ("alertEmails=platform@example.com", "alertEmails: must be a list"),
    ("region=us-east-9", "region: is not an AWS region (got 'us-east-9'); did you mean 'us-east-2'?"),
    ("region=mars-central-1", "region: is not an AWS region"),
])
def test_settings_mistakes_are_named(override, expected, capsys) -> None:
    from tools import synth

    assert synth.main(["dev", "-c", override]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_plan_diff_shows_old_and_new_values(tmp_path, capsys) -> None:
    from tests.conftest import cached_synth
    from tools import plan

    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(cached_synth("dev").as_json()))
    head.write_text(json.dumps(cached_synth("dev", {"orders-platform:apiMemoryMb": "1024"}).as_json()))
    assert plan.main(["--diff", str(base), str(head)]) == 0
    out = capsys.readouterr().out
    assert "~ serverless:index:ApiService$aws:lambda/function:Function::api-orders: memorySize" in out
    assert "    memorySize: 256 -> 1024" in out
