"""Every problem the config reader reports, by key and word for word: what a user reads is the
interface. Written out here, not derived from the reader, so a changed check or message fails."""

from __future__ import annotations

import pytest

from system.settings import SettingsError
from tests.conftest import PROJECT, settings_for


def problems(stack: str, **overrides: object) -> list[tuple[str, str]]:
    with pytest.raises(SettingsError) as refused:
        settings_for(stack, **overrides)
    assert refused.value.stack == stack
    return [(key.removeprefix(f"{PROJECT}:"), why) for key, why in refused.value.problems]


def test_values_out_of_shape_each_named_with_its_key() -> None:
    assert problems(
        "prod", service="Orders!", owner="", costCenter="", runtime="python3.9", powertoolsLayerVersion=10001,
        apiCorsAllowOrigins=["https://ok.example.com", "ftp://x/y"], apiJwtIssuer="http://issuer",
        apiCallerClaim="bad claim", apiOperatorScope="two scopes", idempotencyTtlSeconds=59,
        highValueOrderThreshold=0, queueMaxReceiveCount=1001, alertEmails=["nope"], alertHttpsEndpoints=["http://x"],
        warningAlertEmails=["also-nope"], separateWarningTopic=True, timeZone="Mars/Olympus",
        expireUnpaidOrdersAfterMinutes=4, functionMemoryMb={"api-orders": 64}, concurrencyReservations="maybe",
    ) == [
        ("service", "must be 2-31 lowercase letters, digits or '-', starting with a letter (got 'Orders!')"),
        ("owner", "must not be empty"),
        ("costCenter", "must not be empty"),
        ("runtime", "must be a supported python runtime: python3.11, python3.12, python3.13, python3.14 (got 'python3.9')"),
        ("powertoolsLayerVersion", "must be between 0 and 10000 (got 10001)"),
        ("concurrencyReservations", "must be true or false (got 'maybe')"),
        ("queueMaxReceiveCount", "must be between 3 and 1000 (got 1001)"),
        ("apiCorsAllowOrigins[1]", "must be '*' or a scheme://host origin without a path (got 'ftp://x/y')"),
        ("apiJwtIssuer", "must be an https:// URL (got 'http://issuer')"),
        ("apiCallerClaim", "must be a JWT claim name such as sub or email (got 'bad claim')"),
        ("apiOperatorScope", "must be one OAuth scope, without spaces (got 'two scopes')"),
        ("idempotencyTtlSeconds", "must be between 60 and 604800 seconds (got 59)"),
        ("timeZone", "is not an IANA time zone such as UTC or Europe/Berlin (got 'Mars/Olympus')"),
        ("expireUnpaidOrdersAfterMinutes", "must be between 5 and 10080 minutes (got 4)"),
        ("highValueOrderThreshold", "must be greater than zero (got 0)"),
        ("alertEmails[0]", "is not an email address (got 'nope')"),
        ("alertHttpsEndpoints[0]", "must be an https:// URL (got 'http://x')"),
        ("warningAlertEmails[0]", "is not an email address (got 'also-nope')"),
        ("functionMemoryMb.api-orders", "must be an integer between 128 and 10240 MB (got 64)"),
    ]


def test_rules_across_keys_and_for_production() -> None:
    assert problems(
        "prod", apiJwtIssuer=None, apiJwtAudience=None, alertEmails=None, separateWarningTopic=True,
        warningAlertEmails=None, alarmEvaluationPeriods=2, alarmDatapointsToAlarm=3, alarmPeriodSeconds=90,
        accountConcurrencyLimit=9, webhookMaxConcurrency=1, activityStreamShards=501, logRetentionDays=10,
        logLevel="LOUD", architecture="arm",
    ) == [
        ("architecture", "must be one of arm64, x86_64 (got 'arm'); did you mean 'arm64'?"),
        ("logRetentionDays", "must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
                             "1827, 2192, 2557, 2922, 3288, 3653 (got 10); did you mean '180'?"),
        ("logLevel", "must be one of DEBUG, INFO, WARNING, ERROR (got 'LOUD')"),
        ("alarmPeriodSeconds", "must be a multiple of 60 seconds (AWS metrics are per minute; got 90)"),
        ("alarmDatapointsToAlarm", "must not exceed alarmEvaluationPeriods (2)"),
        ("apiJwtIssuer", "a production stack must not serve an unauthenticated API: set apiJwtIssuer and "
                         "apiJwtAudience, or apiPublicInProduction: true to open it deliberately"),
        ("webhookMaxConcurrency", "must be between 2 and 1000 (got 1)"),
        ("activityStreamShards", "must be between 0 and 500 (got 501)"),
        ("alertEmails", "a production stack needs at least one alert subscription (alertEmails or alertHttpsEndpoints)"),
        ("warningAlertEmails", "a separate warning topic needs at least one subscriber"),
        ("accountConcurrencyLimit", "must be between 10 and 1000000 (got 9)"),
    ]


def test_production_may_open_its_api_only_on_purpose_and_dev_may_leave_it_open() -> None:
    opened = settings_for("prod", apiJwtIssuer=None, apiJwtAudience=None, apiPublicInProduction=True).api
    assert (opened.jwt_issuer, opened.jwt_audience, opened.public_in_production) == (None, (), True)
    assert settings_for("dev").api.public_in_production is False
    assert settings_for("dev", apiJwtIssuer=None).api.jwt_issuer is None


def test_the_reference_stacks_read_as_written() -> None:
    """The values the two stack files hold, as the program receives them."""
    dev, prod = settings_for("dev"), settings_for("prod")
    assert (prod.project, prod.owner, prod.cost_center, dev.cost_center) == (
        "orders-platform", "platform-team", "cc-1234", "cc-1234-dev")
    assert prod.api.caller_claim == "sub" and prod.api.operator_scope == "orders/operator"
    assert (prod.api.throttling_burst_limit, prod.api.throttling_rate_limit) == (200, 500)
    assert prod.api.jwt_audience == ("orders-api",) and prod.api.jwt_issuer.startswith("https://cognito-idp.")
    assert (prod.webhooks.batch_size, prod.webhooks.batching_window_seconds, prod.webhooks.max_concurrency) == (25, 2, 10)
    assert (dev.webhooks.batch_size, dev.webhooks.batching_window_seconds, dev.webhooks.max_concurrency) == (10, 1, 2)
    assert (prod.jobs.time_zone, prod.jobs.expire_unpaid_after_minutes, dev.jobs.disabled) == (
        "Europe/Berlin", 30, ("daily-summary",))
    assert (prod.jobs.maximum_event_age_seconds, prod.jobs.maximum_retry_attempts) == (3600, 3)
    assert (prod.streams.activity_shards, dev.streams.activity_shards, prod.streams.parallelization_factor) == (0, 1, 2)
    assert (prod.streams.maximum_record_age_seconds, prod.streams.batch_size, prod.streams.maximum_retry_attempts) == (
        86400, 100, 5)
    assert (prod.events.high_value_order_threshold, prod.events.maximum_event_age_seconds,
            prod.events.maximum_retry_attempts) == (1000, 3600, 24)
    assert (prod.idempotency_ttl_seconds, dev.idempotency_ttl_seconds) == (86400, 3600)
    assert prod.alerts.emails == ("platform-team@example.com",) and prod.alerts.separate_warning_topic
    assert prod.alerts.warning_emails == ("platform-team-warnings@example.com",)
    assert (prod.alerts.account_concurrency_limit, prod.powertools_layer_version) == (1000, 0)
    assert set(prod.workload) >= {"functions", "tables", "streams"} and dev.workload["logs"] == {"gbPerMonth": 2}
    # accountAlarmsStack: prod in both files, so only prod owns the account-wide alarms.
    assert (prod.owns_account_alarms, dev.owns_account_alarms) == (True, False)
    assert settings_for("dev", accountAlarmsStack=None).owns_account_alarms is True
    assert (prod.concurrency_reservations, settings_for("dev", concurrencyReservations=False).concurrency_reservations) == (
        True, False)
    sandbox = settings_for("prod", concurrencyReservations=False).profile("api")
    assert (sandbox.reserved_concurrency, sandbox.provisioned_concurrency, sandbox.memory_mb) == (None, 0, 512)
