"""The Makefile the README documents: help lists every target, CONFIG reaches the tools, bench
reports every miss."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_help_lists_every_target() -> None:
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.M))
    listed = set(re.findall(r"make (\S+)", make("help").stdout))
    assert {"test", "plan", "bench", "preview", "policy-venv"} <= listed
    assert targets - {"policy"} <= listed | {"policy"}  # every target the user runs has a line
    assert make().stdout == make("help").stdout  # plain `make` is the help


def test_config_overrides_reach_the_plan() -> None:
    result = make("plan", "STACK=prod", "CONFIG=apiMemoryMb=1024 workerMemoryMb=768")
    assert result.returncode == 0, result.stderr
    assert re.search(r"orders-prod-api-orders\s+1024", result.stdout)
    assert re.search(r"orders-prod-payments-webhook-worker\s+768", result.stdout)


def test_every_benchmark_exits_non_zero_on_a_miss() -> None:
    assert len(list((ROOT / "bench").glob("*.py"))) >= 7
    for script in sorted((ROOT / "bench").glob("*.py")):
        if script.name == "__init__.py":
            continue
        text = script.read_text()
        assert "sys.exit(main())" in text and re.search(r"return 0 if .+ else 1", text), script.name
    assert "exit 1" in (ROOT / "Makefile").read_text().split("bench: setup", 1)[1].split("\n\n", 1)[0]
