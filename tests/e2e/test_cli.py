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
