"""Rules real AWS applies on the first ``pulumi up`` that the mocks do not: concurrency quotas,
replacements of named resources, Secrets Manager names and recovery windows."""

from __future__ import annotations

import re

import pytest

from system.concurrency import FUNCTIONS, check_concurrency, reservations
from system.settings import SettingsError
from tests.conftest import settings_for


def synth_reservations(template) -> dict[str, int]:
    provisioned = {r["inputs"]["functionName"]: int(r["inputs"]["provisionedConcurrentExecutions"])
                   for r in template.of_type("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")}
    taken = {}
    for function in template.of_type("aws:lambda/function:Function"):
        reserved = function["inputs"].get("reservedConcurrentExecutions")
        taken[function["name"]] = int(reserved) if reserved else provisioned.get(function["inputs"]["name"], 0)
    return taken


@pytest.mark.parametrize(("stack", "overrides", "total"), [
    ("dev", {}, 12),
    ("prod", {}, 104),
    ("prod", {"apiReservedConcurrency": 5, "streamReservedConcurrency": 3, "jobReservedConcurrency": 4}, 118),
    ("dev", {"concurrencyReservations": False}, 0),
])
def test_the_budget_knows_every_function_and_what_it_reserves(synth_stack, stack, overrides, total) -> None:
    template = synth_stack(stack, overrides)
    planned = reservations(settings_for(stack, **overrides))
    assert planned == synth_reservations(template)
    assert sum(planned.values()) == total
    assert set(planned) == set(FUNCTIONS)


def test_a_quota_of_ten_refuses_every_reservation_naming_each() -> None:
    with pytest.raises(SettingsError) as caught:
        check_concurrency(settings_for("dev", accountConcurrencyLimit=10))
    message = str(caught.value)
    assert "reserves 12 concurrent executions" in message and "leaves only 0" in message
    for name in ("payments-webhook-worker 2", "fulfilment-steps 2", "expire-unpaid-orders 1", "daily-summary 1"):
        assert name in message
    assert "concurrencyReservations: false" in message


@pytest.mark.parametrize(("quota", "fits"), [(1000, True), (204, True), (203, False), (150, False)])
def test_prod_reservations_must_leave_one_hundred_unreserved(quota: int, fits: bool) -> None:
    settings = settings_for("prod", accountConcurrencyLimit=quota)
    if fits:
        check_concurrency(settings)
    else:
        with pytest.raises(SettingsError, match="Lambda keeps 100 unreserved"):
            check_concurrency(settings)


def test_a_sandbox_account_deploys_with_reservations_dropped(synth_stack) -> None:
    settings = settings_for("dev", accountConcurrencyLimit=10, concurrencyReservations=False)
    check_concurrency(settings)
    template = synth_stack("dev", {"accountConcurrencyLimit": 10, "concurrencyReservations": False})
    functions = template.of_type("aws:lambda/function:Function")
    assert len(functions) == len(FUNCTIONS)
    assert [f["name"] for f in functions if f["inputs"].get("reservedConcurrentExecutions")] == []
    assert template.of_type("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig") == []


def test_the_program_refuses_a_budget_that_does_not_fit_before_registering_anything() -> None:
    from tools.synth import synth

    with pytest.raises(SettingsError, match="accountConcurrencyLimit"):
        synth("dev", {"orders-platform:accountConcurrencyLimit": "10"})


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_resource_is_replaced_delete_first(synth_stack, stack: str) -> None:
    """Named resources and one-per-parent attachments cannot be created before the old one goes."""
    resources = [r for r in synth_stack(stack).resources if r["type"].startswith("aws:")]
    assert len(resources) > 200
    assert [r["name"] for r in resources if not r["options"]["deleteBeforeReplace"]] == []


@pytest.mark.parametrize(("stack", "window"), [("dev", 0), ("prod", 30)])
def test_secrets_have_names_secrets_manager_cannot_confuse_and_a_window_per_stack(synth_stack, stack, window) -> None:
    secrets = synth_stack(stack).of_type("aws:secretsmanager/secret:Secret")
    assert secrets
    for secret in secrets:
        # A name ending in '-' and six characters reads as the random suffix of a secret ARN.
        assert not re.search(r"-[A-Za-z0-9]{6}$", secret["inputs"]["name"]), secret["inputs"]["name"]
        assert secret["inputs"]["recoveryWindowInDays"] == window


@pytest.mark.parametrize(("name", "hint"), [
    ("api-ordrs", "is not a function of this stack; the functions are activity, analytics-consumer"),
    ("orders-prod-api-orders", "is the physical name; use the logical name 'api-orders'"),
])
def test_a_memory_override_for_a_function_that_does_not_exist_is_refused(name: str, hint: str) -> None:
    from system.concurrency import check_stack_functions

    with pytest.raises(SettingsError) as caught:
        check_stack_functions(settings_for("prod", functionMemoryMb={name: 768}))
    [(key, why)] = caught.value.problems
    assert key == f"orders-platform:functionMemoryMb.{name}" and why.startswith(hint)
    check_stack_functions(settings_for("prod", functionMemoryMb={"api-orders": 768}))
