from __future__ import annotations

import pytest

from tools import plan


@pytest.mark.usefixtures("synth_once")
def test_plan_shows_tree_functions_alarms_and_policy_findings(capsys) -> None:
    assert plan.main(["prod"]) == 0
    out = capsys.readouterr().out
    assert "pulumi:pulumi:Stack" in out and "└─ " in out
    assert "orders-prod-api-orders" in out and "arm64" in out
    assert "orders-prod-alerts" in out  # where the alarms go
    # The reference prod stack has no webhook secret in the repository: a mandatory finding until set.
    assert "Policy findings: 1 mandatory" in out and "[error] P1" in out


def test_plan_refuses_invalid_settings(capsys) -> None:
    assert plan.main(["prod", "-c", "apiMemoryMb=64"]) == 2
    assert "apiMemoryMb" in capsys.readouterr().err
