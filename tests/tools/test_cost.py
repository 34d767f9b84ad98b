from __future__ import annotations

import json

import pytest

from tests.conftest import settings_for
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
    assert len(report["items"]) > 100
    for item in report["items"]:
        assert set(item) == {"resource", "service", "monthly", "detail"} and item["resource"].startswith("urn:pulumi:prod")
    services = {i["service"] for i in report["items"]}
    assert {"Lambda", "API Gateway", "SQS", "EventBridge", "Kinesis", "DynamoDB", "CloudWatch", "CloudWatch Logs",
            "X-Ray", "Secrets Manager", "Scheduler"} <= services


def test_reference_prod_workload_is_tuned_to_at_most_sixty_percent_of_the_baseline(synth_stack) -> None:
    from tests.conftest import settings_for

    settings = settings_for("prod")
    items = estimate(synth_stack("prod"), dict(settings.workload), {"logs": settings.log_retention_days})
    # The saga (issue 16) adds transitions and one invocation per step that no setting batches: the
    # whole-stack ratio went 0.59 -> 0.86. What tuning saves is unchanged, and on what it acts it halves the bill.
    saga = [i for i in items if i.service == "Step Functions"]
    assert [(i.monthly, i.baseline, i.detail["transitions"]) for i in saga] == [(660.0, 660.0, 26_400_000)]
    tuned, baseline = sum(i.monthly for i in items), sum(i.baseline for i in items)
    assert baseline - tuned >= 140
    tunable = [i for i in items if i.monthly != i.baseline]
    assert sum(i.monthly for i in tunable) <= 0.5 * sum(i.baseline for i in tunable)
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


def test_workload_errors_name_the_key(synth_stack) -> None:
    from system.settings import SettingsError
    from tests.conftest import settings_for
    from tools.cost.model import workload_problems

    # The cost model owns the workload's contents; the config reader only needs a mapping.
    assert workload_problems(synth_stack("dev"), {"fuctions": {}}) == [
        "workload: unknown section 'fuctions'; did you mean 'functions'?"]
    with pytest.raises(SettingsError, match="workload"):
        settings_for("dev", workload="[1, 2")


def test_detailed_route_metrics_are_priced_as_custom_metrics(synth_stack) -> None:
    template = synth_stack("prod")
    stage = template.one("aws:apigatewayv2/stage:Stage")
    items = {i.resource: i for i in estimate(template, {})}
    detailed = items[stage["urn"]]
    assert detailed.detail == {"detailedRouteMetrics": 6}  # the webhook route only, 6 metrics
    assert round(detailed.monthly, 2) == 1.80 and detailed.baseline == detailed.monthly


@pytest.mark.parametrize(("workload", "expected"), [
    ({"functions": {"api-ordrs": {"invocations": 1}}}, "workload.functions.api-ordrs: no function of this stack"),
    ({"functions": {"api-orders": {"invocations": -5}}}, "workload.functions.api-orders.invocations: must be a number >= 0"),
    ({"functions": {"api-orders": {"invocatons": 5}}}, "workload.functions.api-orders.invocatons: is not a field"),
    ({"tables": {"orders": {"writes": 1}}}, "workload.tables.orders: no table of this stack"),
    ({"tables": {"api-orders": {"writes": "many"}}}, "workload.tables.api-orders.writes: must be a number >= 0"),
    ({"logs": {"gbPerMonth": -1}}, "workload.logs.gbPerMonth: must be a number >= 0"),
    ({"xraySampleRate": 2}, "workload.xraySampleRate: must be a number from 0 to 1"),
    ({"functions": {"activity": {"records": 1, "tableWrites": {"table": "nope"}}}},
     "workload.functions.activity.tableWrites.table: no table named 'nope'"),
])
def test_a_workload_that_does_not_fit_the_stack_is_refused_naming_each_problem(synth_stack, workload, expected) -> None:
    from tools.cost.model import workload_problems

    problems = workload_problems(synth_stack("prod"), workload)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_the_reference_workloads_fit_their_stacks(synth_stack) -> None:
    from tools.cost.model import workload_problems

    for stack in ("dev", "prod"):
        workload = dict(settings_for(stack).workload)
        assert workload["functions"] and workload_problems(synth_stack(stack), workload) == []


@pytest.fixture
def measurements(tmp_path):
    def write(content: object) -> str:
        path = tmp_path / "results.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    return write


@pytest.mark.usefixtures("synth_once")
@pytest.mark.parametrize(("content", "message"), [
    ({"api-ordrs": {"256": 10}}, "api-ordrs: not a function of this stack"),
    ({"api-orders": {"64": 10}}, "api-orders.64: memory must be 128-10240 MB"),
    ({"api-orders": {"20000": 10}}, "api-orders.20000: memory must be 128-10240 MB"),
    ({"api-orders": {"256": -1}}, "api-orders.256: duration must be milliseconds > 0"),
    ("{not json", "is not JSON"),
    ([1, 2], "expected"),
])
def test_power_tuning_refuses_what_it_cannot_use_in_one_line_per_problem(measurements, capsys, content, message) -> None:
    from tools.cost.__main__ import main

    assert main(["prod", "--power-tuning", measurements(content)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.usefixtures("synth_once")
def test_power_tuning_prints_the_monthly_effect_and_the_exact_command(measurements, capsys) -> None:
    from tools.cost.__main__ import main

    path = measurements({"api-orders": {"256": 80, "512": 45, "1024": 30}})
    assert main(["prod", "--power-tuning", path, "--strategy", "cost", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)["recommendations"]
    assert (row["currentMemoryMb"], row["memoryMb"]) == (512, 256)
    # prod's 20,000,000 invocations: 80 ms x 0.25 GB instead of 45 ms x 0.5 GB saves 50,000 GB-s a
    # month, at arm64's $0.0000133334 per GB-s.
    assert row["monthlyEffect"] == -0.67
    assert row["command"] == "pulumi config set --path 'functionMemoryMb.api-orders' 256 --stack prod"
    assert main(["prod", "--power-tuning", path, "--strategy", "cost"]) == 0
    out = capsys.readouterr().out
    assert "api-orders: 512 -> 256 MB (cost), -$0.67 a month at the stack's workload" in out and row["command"] in out
