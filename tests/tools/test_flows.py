from __future__ import annotations

import json

import pytest

from tools import plan
from tools.flows import diff, edges, mermaid


@pytest.fixture
def prod(synth_stack):
    return synth_stack("prod")


def test_flows_follow_the_reference_system_from_the_synth(prod) -> None:
    _, links = edges(prod)
    pairs = {(a.split("_", 1)[0], a, b) for a, b, _ in links}
    flat = {(a, b) for _, a, b in pairs}

    def linked(source_part: str, target_part: str) -> bool:
        return any(source_part in a and target_part in b for a, b in flat)

    assert linked("api_POST__orders", "function_orders_prod_api_orders")            # API -> function
    assert linked("function_orders_prod_api_orders", "table_orders_prod_orders")    # -> table (order + outbox)
    assert linked("table_orders_prod_orders", "function_orders_prod_outbox_relay")  # table stream -> relay
    assert linked("function_orders_prod_outbox_relay", "bus_orders_prod_events")    # relay -> bus
    assert linked("bus_orders_prod_events", "rule_orders_prod_fulfilment")          # bus -> rules
    assert linked("rule_orders_prod_fulfilment", "workflow_orders_prod_fulfilment")  # OrderPaid -> the saga
    assert linked("workflow_orders_prod_fulfilment", "function_orders_prod_fulfilment_steps")  # -> its task function
    assert linked("rule_orders_prod_notifications", "queue_orders_prod_notifications_queue")
    assert linked("queue_orders_prod_notifications_queue", "function_orders_prod_notifications_consumer")
    assert linked("api_POST__webhooks_payments", "function_orders_prod_payments_webhook_receiver")
    assert linked("function_orders_prod_payments_webhook_receiver", "queue_orders_prod_payments_webhook_queue")
    assert linked("queue_orders_prod_payments_webhook_queue", "function_orders_prod_payments_webhook_worker")
    assert linked("schedule_orders_prod_expire_unpaid_orders", "function_orders_prod_expire_unpaid_orders")
    assert linked("stream_orders_prod_activity", "function_orders_prod_activity")


def test_mermaid_is_a_flowchart_with_every_node_declared(prod) -> None:
    diagram = mermaid(prod)
    assert diagram.startswith("flowchart LR")
    declared = {line.split("[")[0].split("(")[0].split("{")[0].split(">")[0].strip()
                for line in diagram.splitlines()[1:] if "-->" not in line}
    used = {part.strip().split("|")[-1].strip() for line in diagram.splitlines() if "-->" in line
            for part in line.split("-->")}
    assert used <= declared


def test_diff_lists_added_removed_and_changed(synth_stack) -> None:
    dev, prod = synth_stack("dev"), synth_stack("prod")
    changes = diff(dev, prod)
    assert any("account-concurrency" in urn for urn in changes["added"])  # prod owns the account-wide alarms
    changed = changes["changed"]
    function = next(urn for urn in changed if urn.endswith("aws:lambda/function:Function::api-orders"))
    assert "memorySize" in changed[function]
    assert diff(prod, prod) == {"added": [], "removed": [], "changed": {}}


@pytest.mark.usefixtures("synth_once")
def test_markdown_report_has_flows_functions_alarms_and_findings(tmp_path) -> None:
    out = tmp_path / "plan.md"
    assert plan.main(["prod", "--markdown", str(out)]) == 0
    report = out.read_text()
    for heading in ("```mermaid", "### Functions", "### Alarms and where they go", "### Policy findings", "Resource tree",
                    "### Cost estimate", "| total |"):
        assert heading in report
    assert "| orders-prod-api-orders | 512 | arm64 |" in report


def test_diff_command_reads_two_synth_files(tmp_path, synth_stack, capsys) -> None:
    from tests.conftest import cached_synth

    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(cached_synth("dev").as_json()))
    head.write_text(json.dumps(cached_synth("prod").as_json()))
    assert plan.main(["--diff", str(base), str(head)]) == 0
    out = capsys.readouterr().out
    assert "Diff dev -> prod:" in out and "Monthly cost:" in out
