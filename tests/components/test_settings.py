from __future__ import annotations

import pytest
import yaml

from system.settings import FUNCTION_CLASSES, PROJECT_FILE, SettingsError, load_schema
from tests.conftest import PROJECT, settings_for


def problems_of(stack: str = "dev", **overrides: object) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        settings_for(stack, **overrides)
    return dict(caught.value.problems)


def key(name: str) -> str:
    return f"{PROJECT}:{name}"


def test_dev_and_prod_load_and_default_to_arm64() -> None:
    dev, prod = settings_for("dev"), settings_for("prod")
    assert dev.architecture == prod.architecture == "arm64"
    assert dev.runtime == prod.runtime == "python3.13"
    assert not dev.production and prod.production


def test_stacks_differ_where_a_team_wants_them_to() -> None:
    dev, prod = settings_for("dev"), settings_for("prod")
    assert prod.profile("api").memory_mb > dev.profile("api").memory_mb
    assert prod.profile("worker").timeout_seconds != dev.profile("worker").timeout_seconds
    assert prod.log_retention_days > dev.log_retention_days
    assert (dev.log_level, prod.log_level) == ("DEBUG", "INFO")
    assert prod.alarms.errors_threshold < dev.alarms.errors_threshold
    assert prod.alarms.api_latency_p90_ms < dev.alarms.api_latency_p90_ms
    assert prod.alerts.emails != dev.alerts.emails
    assert prod.profile("api").provisioned_concurrency > 0 == dev.profile("api").provisioned_concurrency
    assert prod.profile("worker").reserved_concurrency > dev.profile("worker").reserved_concurrency
    assert prod.dynamodb.deletion_protection and prod.dynamodb.point_in_time_recovery
    assert not dev.dynamodb.deletion_protection and not dev.dynamodb.point_in_time_recovery
    assert prod.event_archive_retention_days > dev.event_archive_retention_days
    assert prod.stream_retention_hours > dev.stream_retention_hours


def test_tags_carry_environment_service_owner_cost_center_and_managed_by() -> None:
    tags = settings_for("prod").tags
    assert set(tags) == {"environment", "service", "owner", "cost-center", "managed-by"}
    assert tags["environment"] == "prod"


@pytest.mark.parametrize("value", [64, 127, 10241, 20000])
def test_memory_outside_lambda_limits_is_rejected(value: int) -> None:
    problems = problems_of(workerMemoryMb=value)
    assert "128" in problems[key("workerMemoryMb")] and "10240" in problems[key("workerMemoryMb")]


@pytest.mark.parametrize("value", ["arm", "x86", "amd64"])
def test_architecture_must_be_arm64_or_x86_64(value: str) -> None:
    assert "arm64" in problems_of(architecture=value)[key("architecture")]


@pytest.mark.parametrize("value", ["python3.9", "python3.10", "nodejs22.x", "python2.7", "python3"])
def test_runtime_must_be_a_supported_python(value: str) -> None:
    assert "python3.13" in problems_of(runtime=value)[key("runtime")]


@pytest.mark.parametrize("value", [0, 2, 10, 100, 4000])
def test_log_retention_must_be_an_allowed_cloudwatch_value(value: int) -> None:
    assert "must be one of" in problems_of(logRetentionDays=value)[key("logRetentionDays")]


def test_api_functions_must_answer_within_api_gateways_timeout() -> None:
    assert "29" in problems_of(apiTimeoutSeconds=30)[key("apiTimeoutSeconds")]
    settings_for("dev", apiTimeoutSeconds=29)


@pytest.mark.parametrize(("name", "value"), [
    ("workerTimeoutSeconds", 901), ("jobTimeoutSeconds", 0), ("streamTimeoutSeconds", -5),
])
def test_timeouts_out_of_lambda_range_are_rejected(name: str, value: int) -> None:
    assert "900" in problems_of(**{name: value})[key(name)]


@pytest.mark.parametrize("name", ["alarmErrorsThreshold", "alarmThrottlesThreshold", "alarmQueueAgeSeconds",
                                  "alarmIteratorAgeMs", "alarmApiLatencyP90Ms", "alarmApi5xxRatePercent",
                                  "alarmDurationPercentOfTimeout"])
@pytest.mark.parametrize("value", [0, -1])
def test_zero_or_negative_alarm_thresholds_are_rejected(name: str, value: int) -> None:
    assert key(name) in problems_of(**{name: value})


def test_prod_without_an_alert_subscription_is_rejected() -> None:
    problems = problems_of("prod", alertEmails=[], alertHttpsEndpoints=[])
    assert "alert subscription" in problems[key("alertEmails")]
    settings_for("prod", alertEmails=[], alertHttpsEndpoints=["https://pager.example.com/hook"])
    settings_for("dev", alertEmails=[])  # dev may run without one


def test_unknown_key_is_rejected_with_a_did_you_mean() -> None:
    problems = problems_of(apiMemoryMB=512)
    assert "did you mean 'apiMemoryMb'" in problems[key("apiMemoryMB")]
    assert "not a known setting" in problems_of(colour="blue")[key("colour")]


def test_aws_namespace_keys_are_rejected_because_the_provider_is_explicit() -> None:
    assert "region" in problems_of(**{"aws:region": "eu-west-1"})["aws:region"]


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(apiMemoryMb=64, architecture="arm", logRetentionDays=10, alarmErrorsThreshold=0,
                           apiTimeoutSeconds=60, runtime="python3.8", apiMemoryMB=1)
    assert set(problems) == {key(k) for k in ("apiMemoryMb", "architecture", "logRetentionDays", "alarmErrorsThreshold",
                                              "apiTimeoutSeconds", "runtime", "apiMemoryMB")}


def test_error_message_names_each_bad_key_and_the_stack() -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for("prod", apiMemoryMb=64, logLevel="LOUD")
    message = str(caught.value)
    assert "'prod'" in message and key("apiMemoryMb") in message and key("logLevel") in message


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("apiMemoryMb", "lots", "integer"),
    ("production", "yes", "true or false"),
    ("alertEmails", '"ops@example.com"', "list"),
    ("apiMemoryMb", "512.5", "integer"),
])
def test_values_of_the_wrong_type_are_rejected(name: str, value: str, expected: str) -> None:
    assert expected in problems_of(**{name: value})[key(name)]


def test_required_keys_without_defaults_are_reported() -> None:
    problems = problems_of(owner=None, costCenter=None)
    assert "required" in problems[key("owner")] and "required" in problems[key("costCenter")]


def test_bad_alert_addresses_name_their_index() -> None:
    problems = problems_of(alertEmails=["ok@example.com", "not-an-email"], alertHttpsEndpoints=["http://insecure"])
    assert key("alertEmails") + "[1]" in problems
    assert key("alertHttpsEndpoints") + "[0]" in problems


def test_cross_key_rules() -> None:
    assert key("alarmDatapointsToAlarm") in problems_of(alarmEvaluationPeriods=2, alarmDatapointsToAlarm=3)
    assert key("apiProvisionedConcurrency") in problems_of(apiReservedConcurrency=2, apiProvisionedConcurrency=5)
    assert key("queueMaxReceiveCount") in problems_of(queueMaxReceiveCount=2)
    assert key("workerReservedConcurrency") in problems_of(workerReservedConcurrency=-1)
    assert settings_for("dev", workerReservedConcurrency=0).profile("worker").reserved_concurrency is None
    assert key("alarmPeriodSeconds") in problems_of(alarmPeriodSeconds=45)


def test_every_key_but_the_required_tags_has_a_default() -> None:
    """The Pulumi CLI refuses to run a stack that lacks a declared key without a default."""
    declared = yaml.safe_load(PROJECT_FILE.read_text())["config"]
    assert {name for name, d in declared.items() if "default" not in d} == {"owner", "costCenter"}


def test_pulumi_yaml_declares_every_key_with_type_and_description() -> None:
    declared = yaml.safe_load(PROJECT_FILE.read_text())["config"]
    assert declared, "Pulumi.yaml declares no config"
    for name, declaration in declared.items():
        assert declaration.get("type") in {"string", "integer", "boolean", "array", "object"}, name
        assert declaration.get("description"), name
        if declaration["type"] == "array":
            assert declaration.get("items", {}).get("type"), name
    for function_class in FUNCTION_CLASSES:
        assert f"{function_class}MemoryMb" in declared and f"{function_class}TimeoutSeconds" in declared


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_only_set_declared_keys_with_the_declared_type(stack: str) -> None:
    _, specs = load_schema()
    document = yaml.safe_load((PROJECT_FILE.parent / f"Pulumi.{stack}.yaml").read_text())
    python_types = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
    assert len(document["config"]) >= 10
    for full, value in document["config"].items():
        namespace, _, name = full.partition(":")
        assert namespace == PROJECT, full
        assert name in specs, full
        assert type(value) is python_types[specs[name].type], full  # what the Pulumi CLI checks too


@pytest.mark.parametrize(("overrides", "accepted"), [
    # Memory: Lambda's 128-10240 MB, both ends.
    ({"workerMemoryMb": 128}, True), ({"workerMemoryMb": 10240}, True),
    ({"workerMemoryMb": 127}, False), ({"workerMemoryMb": 10241}, False),
    # Timeouts: 1-900 s, and 1-29 s for API functions (API Gateway's 30 s).
    ({"jobTimeoutSeconds": 1}, True), ({"jobTimeoutSeconds": 900}, True),
    ({"jobTimeoutSeconds": 0}, False), ({"jobTimeoutSeconds": 901}, False),
    ({"apiTimeoutSeconds": 1}, True), ({"apiTimeoutSeconds": 29}, True), ({"apiTimeoutSeconds": 30}, False),
    # Reserved: 0 means unreserved; provisioned may equal the reservation, never exceed it.
    ({"workerReservedConcurrency": 0}, True), ({"workerReservedConcurrency": -1}, False),
    ({"apiReservedConcurrency": 5, "apiProvisionedConcurrency": 5}, True),
    ({"apiReservedConcurrency": 5, "apiProvisionedConcurrency": 6}, False),
    ({"apiProvisionedConcurrency": -1}, False),
    ({"queueMaxReceiveCount": 3}, True), ({"queueMaxReceiveCount": 1000}, True),
    ({"queueMaxReceiveCount": 2}, False), ({"queueMaxReceiveCount": 1001}, False),
])
def test_sizing_limits_at_their_boundaries(overrides, accepted) -> None:
    if accepted:
        assert settings_for("dev", **overrides)
    else:
        # The problem is reported on the key that breaks the limit (the provisioned one, for a pair).
        assert set(problems_of(**overrides)) == {key(list(overrides)[-1])}


def test_provisioned_concurrency_within_its_reservation_is_what_the_profile_holds() -> None:
    profile = settings_for("dev", apiReservedConcurrency=5, apiProvisionedConcurrency=5).profile("api")
    assert (profile.reserved_concurrency, profile.provisioned_concurrency) == (5, 5)
    message = problems_of(apiReservedConcurrency=5, apiProvisionedConcurrency=6)[key("apiProvisionedConcurrency")]
    assert message == "must not exceed apiReservedConcurrency (5)"


def test_regions_are_botocores_regions() -> None:
    assert settings_for("dev", region="eu-central-1").region == "eu-central-1"
    message = problems_of(region="eu-centrl-1")[key("region")]
    assert message == "is not an AWS region (got 'eu-centrl-1'); did you mean 'eu-central-1'?"
    assert key("region") in problems_of(region="mars-north-1")


def test_jwt_issuer_and_audience_come_together() -> None:
    assert problems_of(apiJwtAudience=["orders-api"])[key("apiJwtIssuer")] == "is required when apiJwtAudience is set"
    assert problems_of(apiJwtIssuer="https://issuer.example.com/")[key("apiJwtAudience")] == (
        "must name at least one audience when apiJwtIssuer is set")
    assert key("apiJwtIssuer") in problems_of(apiJwtIssuer="http://issuer.example.com/", apiJwtAudience=["a"])
    settings = settings_for("dev", apiJwtIssuer="https://issuer.example.com/", apiJwtAudience=["a", "b"])
    assert settings.http_api.jwt is not None and settings.http_api.jwt.audience == ("a", "b")
