from __future__ import annotations

import json

import pytest

from tools.cost import prices
from tools.cost.model import _lambda_cost, estimate, free_tier_credit, pick_memory


def test_graduated_tiers() -> None:
    tiers = ((10, 1.0), (20, 0.5), (float("inf"), 0.25))
    assert prices.tiered(5, tiers) == 5
    assert prices.tiered(15, tiers) == 10 + 2.5
    assert prices.tiered(30, tiers) == 10 + 5 + 2.5


def test_lambda_price_of_a_known_case() -> None:
    # 1M invocations of 1 s at 1,024 MB on arm64: 1M GB-s at $0.0000133334 plus $0.20 of requests.
    cost, detail = _lambda_cost(1_000_000, 1.0, 1024, "arm64", 0)
    assert cost == pytest.approx(1_000_000 * 0.0000133334 + 0.20)
    assert detail["gbSeconds"] == 1_000_000
    x86, _ = _lambda_cost(1_000_000, 1.0, 1024, "x86_64", 0)
    assert x86 == pytest.approx(1_000_000 * 0.0000166667 + 0.20)


def test_provisioned_concurrency_bills_configured_time() -> None:
    cost, _ = _lambda_cost(0, 0, 512, "arm64", 2)
    assert cost == pytest.approx(2 * 0.5 * 730 * 3600 * 0.0000033333)


@pytest.mark.usefixtures("synth_once")
def test_json_shape_and_totals(capsys) -> None:
    from tools.cost.__main__ import main

    assert main(["prod", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"stack", "currency", "monthly_total", "baseline_monthly_total", "items"}
    assert report["stack"] == "prod" and report["currency"] == "USD"
    assert report["monthly_total"] == pytest.approx(sum(i["monthly"] for i in report["items"]), abs=0.01)
    for item in report["items"]:
        assert set(item) == {"resource", "service", "monthly", "detail"} and item["resource"].startswith("urn:pulumi:prod")
    services = {i["service"] for i in report["items"]}
    assert {"Lambda", "API Gateway", "SQS", "EventBridge", "Kinesis", "DynamoDB", "CloudWatch", "CloudWatch Logs",
            "X-Ray", "Secrets Manager", "Scheduler"} <= services


def test_reference_prod_workload_is_tuned_to_at_most_sixty_percent_of_the_baseline(synth_stack) -> None:
    from tests.conftest import settings_for

    settings = settings_for("prod")
    items = estimate(synth_stack("prod"), dict(settings.workload), {"logs": settings.log_retention_days})
    tuned, baseline = sum(i.monthly for i in items), sum(i.baseline for i in items)
    assert tuned <= 0.6 * baseline
    assert 0 < free_tier_credit(items) < tuned


def test_batching_and_arm64_are_what_the_baseline_lacks(synth_stack) -> None:
    from tests.conftest import settings_for

    items = {i.resource.rsplit("::", 1)[-1]: i for i in estimate(synth_stack("prod"), dict(settings_for("prod").workload))}
    relay = items["outbox-relay"]
    assert relay.detail["invocations"] == 6_000_000 / 100 and relay.baseline > relay.monthly
    queue = items["payments-webhook-queue"]
    assert queue.baseline > queue.monthly
    api = items["api"]
    assert api.baseline == pytest.approx(api.monthly * 3.5)  # REST vs HTTP API


def test_an_empty_workload_costs_only_the_fixed_parts(synth_stack) -> None:
    items = estimate(synth_stack("dev"), {})
    assert all(i.monthly == 0 for i in items if i.service in ("Lambda", "SQS", "API Gateway"))
    assert sum(i.monthly for i in items if i.service == "CloudWatch") > 0


def test_power_tuning_strategies() -> None:
    cpu_bound = {128: 4000, 256: 2000, 512: 1000, 1024: 520, 1769: 300, 3008: 290}
    assert pick_memory(cpu_bound, "arm64", "speed") == 3008
    assert pick_memory(cpu_bound, "arm64", "cost") in (128, 256, 512)
    assert pick_memory(cpu_bound, "arm64", "balanced") in (1024, 1769)
    with pytest.raises(ValueError):
        pick_memory(cpu_bound, "arm64", "vibes")


def test_workload_errors_name_the_key() -> None:
    from components.settings import SettingsError
    from tests.conftest import settings_for

    with pytest.raises(SettingsError, match=r"unknown section 'fuctions'.*did you mean 'functions'"):
        settings_for("dev", workload="fuctions: {}")
    with pytest.raises(SettingsError, match="workload"):
        settings_for("dev", workload="[1, 2")


def test_detailed_route_metrics_are_priced_as_custom_metrics(synth_stack) -> None:
    template = synth_stack("prod")
    stage = template.one("aws:apigatewayv2/stage:Stage")
    items = {i.resource: i for i in estimate(template, {})}
    detailed = items[stage["urn"]]
    assert detailed.detail == {"detailedRouteMetrics": 6}  # the webhook route only, 6 metrics
    assert round(detailed.monthly, 2) == 1.80 and detailed.baseline == detailed.monthly
