"""Typed, validated stack settings: the only reader of Pulumi config.

Precedence, lowest first: the `default` declared in ``Pulumi.yaml``, then the stack's value in
``Pulumi.<stack>.yaml``. ``Pulumi.yaml`` is the one home for key names, types, descriptions and
defaults; this module adds ranges and cross-key rules. Validation collects every problem and
raises one :class:`SettingsError` naming each bad key, before any resource is registered.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from components.core.bounds import bounds
from components.core.defaults import (
    ARCHITECTURES,
    DEPLOYMENT_CONFIGS,
    FUNCTION_CLASSES,
    LOG_LEVELS,
    LOG_RETENTION_DAYS,
    MAX_API_TIMEOUT_SECONDS,
    MAX_TIMEOUT_SECONDS,
    MEMORY_RANGE_MB,
    SUPPORTED_RUNTIMES,
    AlarmSettings,
    AlertSettings,
    DynamoDbSettings,
    FunctionProfile,
    StackDefaults,
)
from components.core.errors import ComponentConfigError
from components.core.http_api import HttpApiSpec, JwtAuthorizer
from components.fan_out import FanOutArgs
from components.platform import PlatformArgs
from components.scheduled_job import ScheduledJobArgs
from components.stream_processor import KinesisSource, StreamProcessorArgs
from components.webhook_ingestion import SecretValue, WebhookIngestionArgs
from system.fulfilment import SagaTimeouts

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}$")


class SettingsError(ComponentConfigError):
    """Every problem found in a stack's settings, one line per bad key."""

    def __init__(self, stack: str, problems: list[tuple[str, str]]) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {key}: {why}" for key, why in problems)
        super().__init__(f"invalid settings for stack '{stack}' ({len(problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class ApiSettings:
    throttling_burst_limit: int
    throttling_rate_limit: int
    cors_allow_origins: tuple[str, ...] = ()
    jwt_issuer: str | None = None
    jwt_audience: tuple[str, ...] = ()
    public_in_production: bool = False
    caller_claim: str = "sub"
    operator_scope: str = ""


@dataclass(frozen=True)
class WebhookSettings:
    batch_size: int
    batching_window_seconds: int
    max_concurrency: int
    # Initial signing secret values by source; never printed, never plain text in state.
    secrets: Mapping[str, SecretValue] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamSettings:
    activity_shards: int  # 0: on-demand
    batch_size: int
    batching_window_seconds: int
    parallelization_factor: int
    maximum_retry_attempts: int
    maximum_record_age_seconds: int


@dataclass(frozen=True)
class EventSettings:
    maximum_event_age_seconds: int
    maximum_retry_attempts: int
    high_value_order_threshold: int


@dataclass(frozen=True)
class JobSettings:
    time_zone: str
    disabled: tuple[str, ...]
    expire_unpaid_after_minutes: int
    maximum_event_age_seconds: int
    maximum_retry_attempts: int


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    service: str
    owner: str
    cost_center: str
    region: str
    production: bool
    architecture: str
    runtime: str
    powertools_layer_version: int
    log_retention_days: int
    log_level: str
    profiles: Mapping[str, FunctionProfile]
    queue_max_receive_count: int
    dynamodb: DynamoDbSettings
    event_archive_retention_days: int
    stream_retention_hours: int
    alarms: AlarmSettings
    api: ApiSettings
    idempotency_ttl_seconds: int
    webhooks: WebhookSettings
    jobs: JobSettings
    streams: StreamSettings
    events: EventSettings
    fulfilment: SagaTimeouts = field(default_factory=SagaTimeouts)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    workload: Mapping[str, Any] = field(default_factory=dict)
    function_memory_mb: Mapping[str, int] = field(default_factory=dict)
    # False in sandbox accounts: no reserved or provisioned concurrency anywhere (single-run jobs included).
    concurrency_reservations: bool = True
    # Whether this stack creates the account-wide alarms (accountAlarmsStack).
    owns_account_alarms: bool = True

    @property
    def tags(self) -> dict[str, str]:
        """Default tags every resource carries through the stack's provider."""
        return {
            "environment": self.stack,
            "service": self.service,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
        }

    def profile(self, function_class: str) -> FunctionProfile:
        return self.defaults.profile(function_class)

    @property
    def defaults(self) -> StackDefaults:
        """What every component of the stack shares (the library's one stack-wide object)."""
        return StackDefaults(
            service=self.service, stack=self.stack, region=self.region, production=self.production,
            architecture=self.architecture, runtime=self.runtime, powertools_layer_version=self.powertools_layer_version,
            log_retention_days=self.log_retention_days, log_level=self.log_level, profiles=self.profiles,
            function_memory_mb=self.function_memory_mb, concurrency_reservations=self.concurrency_reservations,
            queue_max_receive_count=self.queue_max_receive_count, idempotency_ttl_seconds=self.idempotency_ttl_seconds,
            dynamodb=self.dynamodb, alarms=self.alarms, alerts=self.alerts, tags=self.tags,
        )

    @property
    def platform(self) -> PlatformArgs:
        return PlatformArgs(defaults=self.defaults, event_archive_retention_days=self.event_archive_retention_days,
                            account_alarms=self.owns_account_alarms)

    @property
    def http_api(self) -> HttpApiSpec:
        """The orders API's CORS, throttling and JWT authorizer."""
        api = self.api
        jwt = JwtAuthorizer(api.jwt_issuer, api.jwt_audience) if api.jwt_issuer else None
        return HttpApiSpec(cors_allow_origins=api.cors_allow_origins, throttling_burst_limit=api.throttling_burst_limit,
                           throttling_rate_limit=api.throttling_rate_limit, jwt=jwt)

    def stream_mapping(self) -> dict[str, int]:
        """The stack's stream mapping settings, for every StreamProcessor of the system."""
        streams = self.streams
        return {"batch_size": streams.batch_size, "batching_window_seconds": streams.batching_window_seconds,
                "parallelization_factor": streams.parallelization_factor,
                "maximum_retry_attempts": streams.maximum_retry_attempts,
                "maximum_record_age_seconds": streams.maximum_record_age_seconds}


@dataclass(frozen=True)
class KeySpec:
    name: str
    type: str
    description: str
    default: Any = None
    has_default: bool = False
    item_type: str | None = None


def read_yaml(path: Path) -> Any:
    """A YAML file, parsed with libyaml when PyYAML has it (several times faster)."""
    import yaml

    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@lru_cache(maxsize=4)
def load_schema(project_file: Path = PROJECT_FILE) -> tuple[str, dict[str, KeySpec]]:
    """The project name and its declared config keys, read from ``Pulumi.yaml``."""
    document = read_yaml(project_file)
    specs: dict[str, KeySpec] = {}
    for name, declaration in (document.get("config") or {}).items():
        specs[name] = KeySpec(
            name=name,
            type=declaration["type"],
            description=declaration.get("description", ""),
            default=declaration.get("default"),
            has_default="default" in declaration,
            item_type=(declaration.get("items") or {}).get("type"),
        )
    return document["name"], specs


def runtime_secret_keys(keys: Iterable[str]) -> frozenset[str]:
    from pulumi.runtime import config as runtime_config

    return frozenset(k for k in keys if runtime_config.is_config_secret(k)) | frozenset(
        runtime_config.get_config_secret_keys_env())


def raw_stack_config() -> dict[str, Any]:
    """Every config value the Pulumi runtime holds, keyed by full key (``<namespace>:<name>``)."""
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


class _Collector:
    """Parses raw config values by their declared type, collecting problems instead of stopping."""

    def __init__(self, project: str, specs: dict[str, KeySpec], raw: Mapping[str, Any],
                 secret_keys: frozenset[str] = frozenset()) -> None:
        self.project = project
        self.specs = specs
        self.raw = raw
        self.secret_keys = secret_keys
        self.problems: list[tuple[str, str]] = []

    def path(self, name: str) -> str:
        return f"{self.project}:{name}"

    def problem(self, name: str, why: str) -> None:
        self.problems.append((self.path(name), why))

    def value(self, name: str) -> Any:
        spec = self.specs[name]
        full = self.path(name)
        if full not in self.raw:
            if not spec.has_default:
                self.problem(name, f"is required ({spec.description})")
            return spec.default
        return self._parse(name, spec, self.raw[full])

    def _parse(self, name: str, spec: KeySpec, raw: Any) -> Any:
        try:
            if spec.type == "object":
                return _mapping(raw)
            if spec.type == "array":
                if isinstance(raw, str) and not raw.lstrip().startswith("["):
                    raise ValueError("must be a list (in the stack file, a YAML list: one '- item' per line)")
                items = json.loads(raw) if isinstance(raw, str) else raw
                if not isinstance(items, list):
                    raise ValueError("must be a list")
                return [self._scalar(spec.item_type or "string", item) for item in items]
            return self._scalar(spec.type, raw)
        except (ValueError, TypeError) as error:
            self.problem(name, f"{error} (got {raw!r})")
            return None

    @staticmethod
    def _scalar(kind: str, raw: Any) -> Any:
        text = str(raw).strip()
        if kind == "integer":
            if isinstance(raw, bool) or not re.fullmatch(r"-?\d+", text):
                raise ValueError("must be an integer")
            return int(text)
        if kind == "boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError("must be true or false")
            return text.lower() == "true"
        if kind == "string":
            if isinstance(raw, (dict, list)):
                raise ValueError("must be a string")
            return text
        raise ValueError(f"has an unsupported declared type '{kind}'")

    # Range checks: each returns the value (or None) and records a problem when out of range.
    def between(self, name: str, low: int, high: int, unit: str = "") -> int | None:
        value = self.value(name)
        if value is not None and not low <= value <= high:
            self.problem(name, f"must be between {low} and {high}{unit} (got {value})")
        return value

    def within(self, name: str, args_class: type, field_name: str) -> int | None:
        """A setting that becomes a component's bounded args field: checked against that field's range."""
        return self.between(name, *bounds(args_class, field_name))

    def positive(self, name: str) -> int | None:
        value = self.value(name)
        if value is not None and value <= 0:
            self.problem(name, f"must be greater than zero (got {value})")
        return value

    def one_of(self, name: str, allowed: tuple[Any, ...]) -> Any:
        value = self.value(name)
        if value is not None and value not in allowed:
            hint = _suggest(str(value), [str(a) for a in allowed])
            shown = ", ".join(str(a) for a in allowed)
            self.problem(name, f"must be one of {shown} (got {value!r}){hint}")
        return value



def _mapping(raw: Any) -> dict[str, Any]:
    """An ``object`` setting: the runtime hands it over as JSON; a YAML string (the form these
    settings had before they were declared ``object``, still handy with ``-c``) parses the same."""
    import yaml

    if isinstance(raw, str):
        try:
            raw = yaml.safe_load(raw) if raw.strip() else {}
        except yaml.YAMLError as error:
            raise ValueError(f"is not valid YAML or JSON ({str(error).splitlines()[0]})") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("must be a mapping")
    return raw


@lru_cache(maxsize=1)
def _known_regions() -> frozenset[str]:
    """AWS regions from botocore's endpoint data, when botocore is installed (tools and tests);
    a deploy without it checks the name's shape only."""
    try:
        import botocore.session
    except ImportError:
        return frozenset()
    session = botocore.session.get_session()
    return frozenset(region for partition in session.get_available_partitions()
                     for region in session.get_available_regions("lambda", partition_name=partition))


def _is_region(name: str) -> bool:
    known = _known_regions()
    return name in known if known else bool(_REGION.match(name))


def _suggest(word: str, candidates: list[str]) -> str:
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean '{matches[0]}'?" if matches else ""


def load_settings(
    stack: str,
    raw: Mapping[str, Any] | None = None,
    project_file: Path = PROJECT_FILE,
    secret_keys: frozenset[str] | None = None,
) -> Settings:
    """Build the stack's :class:`Settings` from raw config, or raise one :class:`SettingsError`.

    Parameters
    ----------
    stack
        The stack name; it is also the ``environment`` tag.
    raw
        Config values keyed ``<project>:<key>`` as the Pulumi runtime holds them (strings, lists as
        JSON). Defaults to the running program's config.
    secret_keys
        Which of those keys are Pulumi secrets. Defaults to the running program's secret keys.
    project_file
        The ``Pulumi.yaml`` whose ``config`` section declares the keys.
    """
    project, specs = load_schema(project_file)
    if raw is None:
        raw = raw_stack_config()
        secret_keys = runtime_secret_keys(raw)
    c = _Collector(project, specs, raw, frozenset(secret_keys or ()))
    _check_unknown_keys(c)

    service = c.value("service")
    if service is not None and not _NAME.match(service):
        c.problem("service", f"must be 2-31 lowercase letters, digits or '-', starting with a letter (got {service!r})")
    owner, cost_center = c.value("owner"), c.value("costCenter")
    for tag_key, value in (("owner", owner), ("costCenter", cost_center)):
        if value is not None and not value:
            c.problem(tag_key, "must not be empty")
    region = c.value("region")
    if region is not None and not _is_region(region):
        c.problem("region", f"is not an AWS region (got {region!r}){_suggest(str(region), sorted(_known_regions()))}")

    production = c.value("production")
    architecture = c.one_of("architecture", ARCHITECTURES)
    runtime = c.value("runtime")
    if runtime is not None and runtime not in SUPPORTED_RUNTIMES:
        c.problem(
            "runtime",
            f"must be a supported python runtime: {', '.join(SUPPORTED_RUNTIMES)} (got {runtime!r})",
        )
    layer_version = c.between("powertoolsLayerVersion", 0, 10_000)
    log_retention = c.one_of("logRetentionDays", LOG_RETENTION_DAYS)
    log_level = c.one_of("logLevel", LOG_LEVELS)

    reservations = c.value("concurrencyReservations")
    profiles = {function_class: _profile(c, function_class, reservations is not False)
                for function_class in FUNCTION_CLASSES}

    max_receive = c.value("queueMaxReceiveCount")
    if max_receive is not None and not 3 <= max_receive <= 1000:
        c.problem("queueMaxReceiveCount", f"must be between 3 and 1000 (got {max_receive})")

    dynamodb = DynamoDbSettings(
        deletion_protection=c.value("dynamodbDeletionProtection"),
        point_in_time_recovery=c.value("dynamodbPointInTimeRecovery"),
    )
    archive_days = c.within("eventArchiveRetentionDays", PlatformArgs, "event_archive_retention_days")
    stream_hours = c.within("streamRetentionHours", KinesisSource, "retention_hours")
    alarms = _alarms(c)
    api = _api(c, production)
    idempotency_ttl = c.between("idempotencyTtlSeconds", 60, 7 * 24 * 3600, " seconds")
    webhooks = _webhooks(c)
    jobs = _jobs(c)
    events = EventSettings(
        # EventBridge targets take up to 86400 s, but the same age bounds the Lambda subscribers'
        # async retries (FunctionEventInvokeConfig), which AWS caps at 21600 s.
        maximum_event_age_seconds=c.within("eventTargetMaximumEventAgeSeconds", FanOutArgs, "maximum_event_age_seconds"),
        maximum_retry_attempts=c.within("eventTargetMaximumRetryAttempts", FanOutArgs, "maximum_retry_attempts"),
        high_value_order_threshold=c.positive("highValueOrderThreshold"),
    )
    streams = StreamSettings(
        activity_shards=c.within("activityStreamShards", KinesisSource, "shards"),
        batch_size=c.within("streamBatchSize", StreamProcessorArgs, "batch_size"),
        batching_window_seconds=c.within("streamBatchingWindowSeconds", StreamProcessorArgs, "batching_window_seconds"),
        parallelization_factor=c.within("streamParallelizationFactor", StreamProcessorArgs, "parallelization_factor"),
        maximum_retry_attempts=c.within("streamMaximumRetryAttempts", StreamProcessorArgs, "maximum_retry_attempts"),
        maximum_record_age_seconds=c.within("streamMaximumRecordAgeSeconds", StreamProcessorArgs, "maximum_record_age_seconds"),
    )
    fulfilment = SagaTimeouts(
        approval_seconds=c.within("fulfilmentApprovalTimeoutSeconds", SagaTimeouts, "approval_seconds"),
        carrier_seconds=c.within("fulfilmentCarrierTimeoutSeconds", SagaTimeouts, "carrier_seconds"),
        carrier_heartbeat_seconds=c.within("fulfilmentCarrierHeartbeatSeconds", SagaTimeouts, "carrier_heartbeat_seconds"),
    )
    if isinstance(fulfilment.carrier_heartbeat_seconds, int) and isinstance(fulfilment.carrier_seconds, int) \
            and fulfilment.carrier_heartbeat_seconds >= fulfilment.carrier_seconds:
        c.problem("fulfilmentCarrierHeartbeatSeconds",
                  f"must be less than fulfilmentCarrierTimeoutSeconds ({fulfilment.carrier_seconds})")
    alerts = _alerts(c, production)
    workload = _workload(c)
    function_memory = _function_memory(c)

    if c.problems:
        raise SettingsError(stack, c.problems)
    return Settings(
        project=project,
        stack=stack,
        service=service,
        owner=owner,
        cost_center=cost_center,
        region=region,
        production=production,
        architecture=architecture,
        runtime=runtime,
        powertools_layer_version=layer_version,
        log_retention_days=log_retention,
        log_level=log_level,
        profiles=profiles,
        queue_max_receive_count=max_receive,
        dynamodb=dynamodb,
        event_archive_retention_days=archive_days,
        stream_retention_hours=stream_hours,
        alarms=alarms,
        api=api,
        idempotency_ttl_seconds=idempotency_ttl,
        webhooks=webhooks,
        jobs=jobs,
        streams=streams,
        events=events,
        fulfilment=fulfilment,
        alerts=alerts,
        workload=workload,
        function_memory_mb=function_memory,
        concurrency_reservations=reservations is not False,
        owns_account_alarms=(c.value("accountAlarmsStack") or stack) == stack,
    )


def _check_unknown_keys(c: _Collector) -> None:
    prefix = f"{c.project}:"
    declared = list(c.specs)
    for key in sorted(c.raw):
        namespace, _, name = key.partition(":")
        if key.startswith(prefix):
            if name not in c.specs:
                c.problems.append((key, "is not a known setting" + _suggest(name, declared)))
        elif namespace == "aws":
            # The program uses one explicit provider; aws:* keys would silently do nothing.
            c.problems.append((key, f"is ignored by the explicit provider; set {prefix}region and tags instead"))


def _profile(c: _Collector, function_class: str, reserve: bool = True) -> FunctionProfile:
    memory = c.between(f"{function_class}MemoryMb", *MEMORY_RANGE_MB, " MB")
    limit = MAX_API_TIMEOUT_SECONDS if function_class == "api" else MAX_TIMEOUT_SECONDS
    timeout_key = f"{function_class}TimeoutSeconds"
    timeout = c.value(timeout_key)
    if timeout is not None and not 1 <= timeout <= limit:
        why = " (API Gateway's integration timeout is 30 s)" if function_class == "api" else ""
        c.problem(timeout_key, f"must be between 1 and {limit} seconds{why} (got {timeout})")
    reserved_key = f"{function_class}ReservedConcurrency"
    reserved = c.value(reserved_key)
    if reserved is not None and reserved < 0:
        c.problem(reserved_key, f"must be zero (unreserved) or more (got {reserved})")
    reserved = reserved or None  # 0 would throttle every call: it means "not reserved"
    provisioned_key = f"{function_class}ProvisionedConcurrency"
    provisioned = 0
    if provisioned_key in c.specs:
        provisioned = c.value(provisioned_key)
        if provisioned is not None and provisioned < 0:
            c.problem(provisioned_key, f"must be zero or more (got {provisioned})")
        elif provisioned and reserved is not None and provisioned > reserved:
            c.problem(provisioned_key, f"must not exceed {function_class}ReservedConcurrency ({reserved})")
    deployment = c.one_of(f"{function_class}Deployment", DEPLOYMENT_CONFIGS)
    if not reserve:  # concurrencyReservations: false (the ranges above are still checked)
        return FunctionProfile(memory, timeout, None, 0, deployment)
    return FunctionProfile(memory, timeout, reserved, provisioned or 0, deployment)


def _alarms(c: _Collector) -> AlarmSettings:
    period = c.value("alarmPeriodSeconds")
    # Every alarm watches an AWS service metric, published at standard (one-minute) resolution:
    # 10 and 30 s periods exist only for high-resolution custom metrics and would never fill.
    if period is not None and not (period >= 60 and period % 60 == 0):
        c.problem("alarmPeriodSeconds", f"must be a multiple of 60 seconds (AWS metrics are per minute; got {period})")
    evaluation = c.positive("alarmEvaluationPeriods")
    datapoints = c.positive("alarmDatapointsToAlarm")
    if evaluation and datapoints and datapoints > evaluation:
        c.problem("alarmDatapointsToAlarm", f"must not exceed alarmEvaluationPeriods ({evaluation})")
    return AlarmSettings(
        period_seconds=period,
        evaluation_periods=evaluation,
        datapoints_to_alarm=datapoints,
        errors_threshold=c.positive("alarmErrorsThreshold"),
        throttles_threshold=c.positive("alarmThrottlesThreshold"),
        duration_percent_of_timeout=c.between("alarmDurationPercentOfTimeout", 1, 100, "%"),
        queue_age_seconds=c.positive("alarmQueueAgeSeconds"),
        iterator_age_ms=c.positive("alarmIteratorAgeMs"),
        api_5xx_rate_percent=c.between("alarmApi5xxRatePercent", 1, 100, "%"),
        api_4xx_rate_percent=c.between("alarmApi4xxRatePercent", 1, 100, "%"),
        api_latency_p90_ms=c.positive("alarmApiLatencyP90Ms"),
        dynamodb_throttles_threshold=c.positive("alarmDynamoDbThrottlesThreshold"),
    )


def _api(c: _Collector, production: bool | None = False) -> ApiSettings:
    burst = c.within("apiThrottlingBurstLimit", HttpApiSpec, "throttling_burst_limit")
    rate = c.within("apiThrottlingRateLimit", HttpApiSpec, "throttling_rate_limit")
    origins = c.value("apiCorsAllowOrigins") or []
    for index, origin in enumerate(origins):
        if origin != "*" and not re.match(r"^https?://[^/\s]+$", origin):
            c.problems.append((f"{c.path('apiCorsAllowOrigins')}[{index}]",
                               f"must be '*' or a scheme://host origin without a path (got {origin!r})"))
    issuer = c.value("apiJwtIssuer") or None
    audience = c.value("apiJwtAudience") or []
    if issuer is not None and not issuer.startswith("https://"):
        c.problem("apiJwtIssuer", f"must be an https:// URL (got {issuer!r})")
    if issuer and not audience:
        c.problem("apiJwtAudience", "must name at least one audience when apiJwtIssuer is set")
    if audience and not issuer:
        c.problem("apiJwtIssuer", "is required when apiJwtAudience is set")
    public_in_production = bool(c.value("apiPublicInProduction"))
    if production and not issuer and not audience and not public_in_production:
        c.problem("apiJwtIssuer", "a production stack must not serve an unauthenticated API: set apiJwtIssuer and "
                                  "apiJwtAudience, or apiPublicInProduction: true to open it deliberately")
    claim = c.value("apiCallerClaim")
    if claim is not None and not re.fullmatch(r"[A-Za-z0-9_:./-]{1,128}", claim):
        c.problem("apiCallerClaim", f"must be a JWT claim name such as sub or email (got {claim!r})")
    scope = c.value("apiOperatorScope")
    if scope is not None and scope and not re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]{1,256}", scope):
        c.problem("apiOperatorScope", f"must be one OAuth scope, without spaces (got {scope!r})")
    return ApiSettings(burst, rate, tuple(origins), issuer, tuple(audience), public_in_production,
                       claim or "sub", scope or "")


# Webhook sources whose signing secret the stack config may carry: `<source>WebhookSecret`.
WEBHOOK_SOURCES = ("payments",)


def _webhooks(c: _Collector) -> WebhookSettings:
    batch = c.within("webhookBatchSize", WebhookIngestionArgs, "batch_size")
    window = c.within("webhookBatchingWindowSeconds", WebhookIngestionArgs, "batching_window_seconds")
    concurrency = c.within("webhookMaxConcurrency", WebhookIngestionArgs, "max_concurrency")
    secrets = {}
    for source in WEBHOOK_SOURCES:
        key = f"{source}WebhookSecret"
        value = c.value(key)
        if not value:
            continue
        if c.path(key) not in c.secret_keys:
            c.problem(key, f"must be set as a secret: pulumi config set --secret {key} ...")
        elif not value.split():
            c.problem(key, "must hold at least one signing secret")
            continue
        secrets[source] = SecretValue(value)
    return WebhookSettings(batch, window, concurrency, secrets)



def _jobs(c: _Collector) -> JobSettings:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    zone = c.value("timeZone")
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            c.problem("timeZone", f"is not an IANA time zone such as UTC or Europe/Berlin (got {zone!r})")
    return JobSettings(
        time_zone=zone,
        disabled=tuple(c.value("disabledJobs") or ()),
        expire_unpaid_after_minutes=c.between("expireUnpaidOrdersAfterMinutes", 5, 7 * 24 * 60, " minutes"),
        maximum_event_age_seconds=c.within("schedulerMaximumEventAgeSeconds", ScheduledJobArgs, "maximum_event_age_seconds"),
        maximum_retry_attempts=c.within("schedulerMaximumRetryAttempts", ScheduledJobArgs, "maximum_retry_attempts"),
    )


def _function_memory(c: _Collector) -> dict[str, int]:
    overrides = c.value("functionMemoryMb")
    if overrides is None:  # already reported as not a mapping
        return {}
    for function, memory in overrides.items():
        if isinstance(memory, bool) or not isinstance(memory, int) or not MEMORY_RANGE_MB[0] <= memory <= MEMORY_RANGE_MB[1]:
            c.problems.append((f"{c.path('functionMemoryMb')}.{function}",
                               f"must be an integer between {MEMORY_RANGE_MB[0]} and {MEMORY_RANGE_MB[1]} MB (got {memory!r})"))
    return {str(k): v for k, v in overrides.items() if isinstance(v, int)}


def _workload(c: _Collector) -> dict[str, Any]:
    """The cost model's input, parsed as a mapping only: tools/cost reads and checks its contents
    against the stack (``tools.cost.model.workload_problems``); the program does not use it."""
    workload = c.value("workload")
    return {} if workload is None else workload  # None: already reported as not a mapping


def _alerts(c: _Collector, production: bool | None) -> AlertSettings:
    emails = c.value("alertEmails") or []
    endpoints = c.value("alertHttpsEndpoints") or []
    for index, email in enumerate(emails):
        if not _EMAIL.match(email):
            c.problems.append((f"{c.path('alertEmails')}[{index}]", f"is not an email address (got {email!r})"))
    for index, url in enumerate(endpoints):
        if not url.startswith("https://") or len(url) <= len("https://"):
            c.problems.append((f"{c.path('alertHttpsEndpoints')}[{index}]", f"must be an https:// URL (got {url!r})"))
    if production and not emails and not endpoints:
        c.problem("alertEmails", "a production stack needs at least one alert subscription (alertEmails or alertHttpsEndpoints)")
    separate = c.value("separateWarningTopic")
    warning_emails = c.value("warningAlertEmails") or []
    for index, email in enumerate(warning_emails):
        if not _EMAIL.match(email):
            c.problems.append((f"{c.path('warningAlertEmails')}[{index}]", f"is not an email address (got {email!r})"))
    if separate and not warning_emails:
        c.problem("warningAlertEmails", "a separate warning topic needs at least one subscriber")
    limit = c.between("accountConcurrencyLimit", 10, 1_000_000)
    return AlertSettings(tuple(emails), tuple(endpoints), bool(separate), tuple(warning_emails), limit)
