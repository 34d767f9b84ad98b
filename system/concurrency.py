"""The stack's Lambda concurrency budget, checked before anything is registered.

AWS refuses a reservation (reserved concurrency, or provisioned concurrency outside one) that
would leave the account fewer than its minimum unreserved executions: 100, or the whole quota in
accounts whose quota is below 100 (PutFunctionConcurrency: "...decreases account's
UnreservedConcurrentExecution below its minimum value of [10]"; Lambda developer guide,
"Configuring reserved concurrency"). A failure there comes halfway through ``pulumi up``, so the
program compares its reservations with ``accountConcurrencyLimit`` first.

``FUNCTIONS`` lists the reference system's functions with the profile each uses; a test pins it
to the synth (every function, and what it really reserves), so it cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from system.settings import Settings, SettingsError

MINIMUM_UNRESERVED = 100


@dataclass(frozen=True)
class PlannedFunction:
    function_class: str
    single_run: bool = False  # scheduled jobs that must not overlap reserve 1
    provisioned: bool = True  # False: the component turns provisioned concurrency off


FUNCTIONS = {
    "api-orders": PlannedFunction("api"),
    "payments-webhook-receiver": PlannedFunction("api", provisioned=False),
    "payments-webhook-worker": PlannedFunction("worker"),
    "fulfilment-steps": PlannedFunction("worker"),
    "notifications-consumer": PlannedFunction("worker"),
    "analytics-consumer": PlannedFunction("worker"),
    "high-value-review-consumer": PlannedFunction("worker"),
    "outbox-relay": PlannedFunction("stream"),
    "activity": PlannedFunction("stream"),
    "expire-unpaid-orders": PlannedFunction("job", single_run=True),
    "daily-summary": PlannedFunction("job", single_run=True),
}


def minimum_unreserved(quota: int) -> int:
    return min(MINIMUM_UNRESERVED, quota)


def reservations(settings: Settings) -> dict[str, int]:
    """Concurrency each function takes out of the account's unreserved pool (0: none)."""
    if not settings.concurrency_reservations:
        return dict.fromkeys(FUNCTIONS, 0)
    taken = {}
    for name, planned in FUNCTIONS.items():
        profile = settings.profile(planned.function_class)
        reserved = 1 if planned.single_run else profile.reserved_concurrency
        provisioned = profile.provisioned_concurrency if planned.provisioned else 0
        # Provisioned concurrency comes out of a function's reservation when it has one.
        taken[name] = reserved if reserved else provisioned
    return taken


def function_name_problems(settings: Settings) -> list[tuple[str, str]]:
    """``functionMemoryMb`` may only name this stack's functions, by logical name: an override for a
    name the builder never sees would silently change nothing."""
    known = sorted(FUNCTIONS)
    problems = []
    prefix = f"{settings.service}-{settings.stack}-"
    for name in sorted(settings.function_memory_mb):
        if name in FUNCTIONS:
            continue
        key = f"{settings.project}:functionMemoryMb.{name}"
        if name.startswith(prefix) and name[len(prefix):] in FUNCTIONS:
            problems.append((key, f"is the physical name; use the logical name '{name[len(prefix):]}'"))
        else:
            problems.append((key, f"is not a function of this stack; the functions are {', '.join(known)}"))
    return problems


def check_stack_functions(settings: Settings) -> None:
    """Every check of the stack's functions that must pass before anything is registered."""
    problems = function_name_problems(settings)
    try:
        check_concurrency(settings)
    except SettingsError as error:
        problems += error.problems
    if problems:
        raise SettingsError(settings.stack, problems)


def check_concurrency(settings: Settings) -> None:
    """Raise one :class:`SettingsError` listing every reservation when they do not fit the quota."""
    quota = settings.alerts.account_concurrency_limit
    taken = reservations(settings)
    total = sum(taken.values())
    allowed = quota - minimum_unreserved(quota)
    if total <= allowed:
        return
    listed = ", ".join(f"{name} {count}" for name, count in taken.items() if count)
    raise SettingsError(settings.stack, [(
        f"{settings.project}:accountConcurrencyLimit",
        f"the stack reserves {total} concurrent executions ({listed}) but a quota of {quota} leaves only "
        f"{allowed} to reserve (Lambda keeps {minimum_unreserved(quota)} unreserved); lower the "
        "*ReservedConcurrency/*ProvisionedConcurrency settings, request a higher quota, or set "
        "concurrencyReservations: false in a sandbox account",
    )])
