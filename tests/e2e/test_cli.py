"""python -m tools.local: a user's mistake is one line; --help says what is played and what is not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.local", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_an_unknown_stack_is_one_line_and_exit_2() -> None:
    result = run("staging")
    assert result.returncode == 2
    assert result.stderr == "unknown stack 'staging'; one of: dev, prod\n"


def test_help_says_what_the_runtime_plays_and_what_it_does_not() -> None:
    result = run("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for played in ("payload format 2.0", "batch size", "bisect", "on-failure destinations", "partial batch"):
        assert played in text, played
    for not_played in ("cold starts", "throttling", "exact retry timing", "X-Ray"):
        assert "does not play" in text and not_played in text.split("does not play", 1)[1], not_played


def test_the_plan_lists_the_grants_no_local_flow_exercises_with_their_reason() -> None:
    from tests.conftest import cached_synth
    from tools.plan import kept_grant_rows
    from tools.template import Template

    rows = kept_grant_rows(Template(cached_synth("prod").as_json()))
    assert [(function, action, resource) for function, action, resource, _ in rows] == [
        ("api-orders", "dynamodb:DeleteItem", "table/orders-prod-orders-idempotency"),
        ("api-orders", "dynamodb:GetItem", "table/orders-prod-orders-idempotency"),
        ("activity", "kinesis:ListStreams", "*"),
        ("outbox-relay", "dynamodb:ListStreams", "*")]
    assert all(reason for *_, reason in rows)
