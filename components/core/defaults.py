"""Stack-wide defaults: the one small frozen object a program builds from its config and hands to
every component (``StackContext.defaults``).

Each value's default is written once, here, next to what it means; they equal the defaults the
reference program declares in its ``Pulumi.yaml`` (a test pins the two equal). Ranges that AWS
imposes live here too, so the builders and a program's config reader check the same numbers.
Per-instance choices (a queue's batch size, a stream's shards, an API's CORS) are not here: they are
fields of each component's args.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from components.core.errors import ComponentConfigError
from components.runtime.idempotency_schema import IDEMPOTENCY_TTL_FALLBACK_SECONDS

__all__ = [
    "ALL_AT_ONCE",
    "ARCHITECTURES",
    "DEPLOYMENT_CONFIGS",
    "FUNCTION_CLASSES",
    "GRADUAL_CONFIGS",
    "LOG_LEVELS",
    "LOG_RETENTION_DAYS",
    "MAX_API_TIMEOUT_SECONDS",
    "MAX_ASYNC_EVENT_AGE_SECONDS",
    "MAX_TIMEOUT_SECONDS",
    "MEMORY_RANGE_MB",
    "SUPPORTED_RUNTIMES",
    "AlarmSettings",
    "AlertSettings",
    "DynamoDbSettings",
    "FunctionProfile",
    "StackDefaults",
]

FUNCTION_CLASSES = ("api", "worker", "stream", "job")
ARCHITECTURES = ("arm64", "x86_64")
# Lambda python runtimes that are neither deprecated nor blocked (python3.10 reached end of support in 2026).
SUPPORTED_RUNTIMES = ("python3.11", "python3.12", "python3.13", "python3.14")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# CloudWatch Logs PutRetentionPolicy accepts only these values.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)
MEMORY_RANGE_MB = (128, 10240)
MAX_TIMEOUT_SECONDS = 900
# API Gateway's integration timeout is 30 s; a function must answer before it.
MAX_API_TIMEOUT_SECONDS = 29
# Lambda PutFunctionEventInvokeConfig: MaximumEventAgeInSeconds is 60-21600 (botocore's lambda model).
MAX_ASYNC_EVENT_AGE_SECONDS = 21600
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
# How new code reaches traffic (FunctionProfile.deployment): at once, or one of CodeDeploy's
# predefined Lambda configurations ("Deployment configurations on an AWS Lambda compute platform",
# CodeDeploy User Guide) -> minutes until all traffic is on the new version. components/core/rollout.py.
ALL_AT_ONCE = "AllAtOnce"
GRADUAL_CONFIGS: Mapping[str, int] = {
    "Canary10Percent5Minutes": 5,
    "Canary10Percent10Minutes": 10,
    "Canary10Percent15Minutes": 15,
    "Canary10Percent30Minutes": 30,
    "Linear10PercentEvery1Minute": 10,
    "Linear10PercentEvery2Minutes": 20,
    "Linear10PercentEvery3Minutes": 30,
    "Linear10PercentEvery10Minutes": 100,
}
DEPLOYMENT_CONFIGS = (ALL_AT_ONCE, *GRADUAL_CONFIGS)

@dataclass(frozen=True)
class FunctionProfile:
    """Sizing of one class of functions (api, worker, stream, job)."""

    memory_mb: int = 256
    timeout_seconds: int = 30
    reserved_concurrency: int | None = None
    """@default None: the function draws from the account's unreserved pool."""
    provisioned_concurrency: int = 0
    deployment: str = "AllAtOnce"
    """@default AllAtOnce: Pulumi points the function at the new code at once. Any other value is one
    of CodeDeploy's predefined Lambda configurations (``DEPLOYMENT_CONFIGS``): the ``live`` alias
    shifts gradually, rolled back by the function's alarms (:mod:`components.core.rollout`)."""


def _profiles() -> dict[str, FunctionProfile]:
    # An API answers within API Gateway's limit; a job may run for minutes.
    return {
        "api": FunctionProfile(memory_mb=256, timeout_seconds=10),
        "worker": FunctionProfile(memory_mb=256, timeout_seconds=30),
        "stream": FunctionProfile(memory_mb=256, timeout_seconds=60),
        "job": FunctionProfile(memory_mb=256, timeout_seconds=300),
    }


@dataclass(frozen=True)
class AlarmSettings:
    """Thresholds and evaluation of the standard alarms (docs/ALARMS.md)."""

    period_seconds: int = 60
    """@default 60: AWS service metrics are per minute; a period must be a multiple of 60."""
    evaluation_periods: int = 5
    datapoints_to_alarm: int = 3
    errors_threshold: int = 5
    throttles_threshold: int = 10
    duration_percent_of_timeout: int = 90
    queue_age_seconds: int = 900
    iterator_age_ms: int = 300_000
    api_5xx_rate_percent: int = 5
    api_4xx_rate_percent: int = 10
    api_latency_p90_ms: int = 2500
    dynamodb_throttles_threshold: int = 5


@dataclass(frozen=True)
class AlertSettings:
    """Alert routing. Critical alarms go to ``emails`` and ``https_endpoints`` (through the service
    health alarm); every metric alarm notifies the notices topic, read by ``warning_emails`` when
    ``separate_warning_topic``, else by ``emails``."""

    emails: tuple[str, ...] = ()
    https_endpoints: tuple[str, ...] = ()
    separate_warning_topic: bool = False
    warning_emails: tuple[str, ...] = ()
    account_concurrency_limit: int = 1000
    """@default 1000: the account's Lambda concurrency quota (AWS's default)."""


@dataclass(frozen=True)
class DynamoDbSettings:
    deletion_protection: bool = False
    """@default False: dev tables can be destroyed; production stacks turn it on."""
    point_in_time_recovery: bool = False


@dataclass(frozen=True)
class StackDefaults:
    """What every component of one stack shares. Build it once from the program's config."""

    service: str = "orders"
    """Physical names are ``<service>-<stack>-<name>``; also the Powertools service and namespace."""
    stack: str = "dev"
    region: str = "us-east-1"
    production: bool = False
    """@default False: production keeps deleted keys and secrets recoverable for 30 days."""
    architecture: str = "arm64"
    """@default arm64: Graviton costs ~20% less per GB-second than x86_64."""
    runtime: str = "python3.13"
    powertools_layer_version: int = 0
    """@default 0: the layer of the pinned Powertools release, looked up in Powertools' public SSM parameter."""
    log_retention_days: int = 14
    log_level: str = "INFO"
    profiles: Mapping[str, FunctionProfile] = field(default_factory=_profiles)
    function_memory_mb: Mapping[str, int] = field(default_factory=dict)
    """Measured memory sizes (Lambda Power Tuning) by a function's logical name."""
    concurrency_reservations: bool = True
    """@default True; False in sandbox accounts: nothing reserved or provisioned anywhere."""
    queue_max_receive_count: int = 5
    idempotency_ttl_seconds: int = IDEMPOTENCY_TTL_FALLBACK_SECONDS
    """@default 3600: how long handled requests and webhooks are remembered (replays within it are no-ops)."""
    dynamodb: DynamoDbSettings = field(default_factory=DynamoDbSettings)
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    tags: Mapping[str, str] = field(default_factory=dict)
    """Default tags of every resource, applied by the stack's provider."""

    def __post_init__(self) -> None:
        problems = []
        if not _NAME.match(self.service):
            problems.append(f"service {self.service!r} must be 2-31 lowercase letters, digits or '-'")
        if not _NAME.match(self.stack) and not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", self.stack):
            problems.append(f"stack {self.stack!r} is not a Pulumi stack name")
        if self.architecture not in ARCHITECTURES:
            problems.append(f"architecture {self.architecture!r} must be one of {', '.join(ARCHITECTURES)}")
        if self.runtime not in SUPPORTED_RUNTIMES:
            problems.append(f"runtime {self.runtime!r} must be one of {', '.join(SUPPORTED_RUNTIMES)}")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(f"log retention {self.log_retention_days} days is not a value CloudWatch Logs accepts")
        if self.log_level not in LOG_LEVELS:
            problems.append(f"log level {self.log_level!r} must be one of {', '.join(LOG_LEVELS)}")
        problems += [f"profile '{name}': deployment {profile.deployment!r} must be one of {', '.join(DEPLOYMENT_CONFIGS)}"
                     for name, profile in self.profiles.items() if profile.deployment not in DEPLOYMENT_CONFIGS]
        missing = [c for c in FUNCTION_CLASSES if c not in self.profiles]
        if missing:
            problems.append(f"profiles lack the classes {missing}")
        if problems:
            raise ComponentConfigError("stack defaults: " + "; ".join(problems))

    def profile(self, function_class: str) -> FunctionProfile:
        try:
            return self.profiles[function_class]
        except KeyError:
            raise ComponentConfigError(
                f"unknown function class '{function_class}'; expected one of {', '.join(FUNCTION_CLASSES)}"
            ) from None
