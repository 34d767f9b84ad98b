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


@pytest.mark.usefixtures("synth_once")
@pytest.mark.parametrize(("stack", "expected"), [
    ("prod", {"orders-prod-api-orders": "Canary10Percent5Minutes on 'live', 3 rollback alarms",
              "orders-prod-payments-webhook-worker": "Canary10Percent5Minutes on 'live', 5 rollback alarms",
              "orders-prod-daily-summary": "AllAtOnce"}),
    ("dev", {"orders-dev-api-orders": "AllAtOnce", "orders-dev-payments-webhook-worker": "AllAtOnce"}),
])
def test_plan_and_cost_say_how_each_function_ships(capsys, stack, expected) -> None:
    import json

    from tools.cost.__main__ import main as cost

    assert plan.main([stack]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("  orders-")}
    assert {name: rows[name].endswith(how) for name, how in expected.items()} == dict.fromkeys(expected, True)
    assert cost([stack, "--json"]) == 0
    details = {i["resource"].rsplit("::", 1)[-1]: i["detail"].get("deployment")
               for i in json.loads(capsys.readouterr().out)["items"] if i["service"] == "Lambda"}
    assert {f"orders-{stack}-{name}": how for name, how in details.items() if f"orders-{stack}-{name}" in expected} \
        == expected
