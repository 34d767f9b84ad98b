"""The library's code defaults are the reference program's Pulumi.yaml defaults: a program that sets
nothing gets the same stack from either."""

from __future__ import annotations

import dataclasses

import pytest

from components.core.bounds import bounds
from components.core.defaults import StackDefaults
from components.core.errors import ComponentConfigError
from components.core.http_api import HttpApiSpec
from components.fan_out import FanOutArgs
from components.platform import PlatformArgs
from components.scheduled_job import ScheduledJobArgs
from components.stream_processor import KinesisSource, StreamProcessorArgs
from components.webhook_ingestion import WebhookIngestionArgs
from system.settings import load_schema, load_settings
from tests.conftest import PROJECT


def project_defaults_settings():
    """The settings of a stack that sets only what has no default (owner and cost center)."""
    return load_settings("dev", {f"{PROJECT}:owner": "o", f"{PROJECT}:costCenter": "c"}, secret_keys=frozenset())


def test_stack_defaults_equal_the_pulumi_yaml_defaults() -> None:
    settings = project_defaults_settings()
    expected = dataclasses.replace(StackDefaults(), tags=settings.tags)  # tags name the owner and cost center
    assert settings.defaults == expected


# Args fields that a setting of the reference program maps onto: (Pulumi.yaml key, args class, field).
MAPPED = [
    ("webhookBatchSize", WebhookIngestionArgs, "batch_size"),
    ("webhookBatchingWindowSeconds", WebhookIngestionArgs, "batching_window_seconds"),
    ("webhookMaxConcurrency", WebhookIngestionArgs, "max_concurrency"),
    ("activityStreamShards", KinesisSource, "shards"),
    ("streamRetentionHours", KinesisSource, "retention_hours"),
    ("streamBatchSize", StreamProcessorArgs, "batch_size"),
    ("streamBatchingWindowSeconds", StreamProcessorArgs, "batching_window_seconds"),
    ("streamParallelizationFactor", StreamProcessorArgs, "parallelization_factor"),
    ("streamMaximumRetryAttempts", StreamProcessorArgs, "maximum_retry_attempts"),
    ("streamMaximumRecordAgeSeconds", StreamProcessorArgs, "maximum_record_age_seconds"),
    ("eventTargetMaximumEventAgeSeconds", FanOutArgs, "maximum_event_age_seconds"),
    ("eventTargetMaximumRetryAttempts", FanOutArgs, "maximum_retry_attempts"),
    ("schedulerMaximumEventAgeSeconds", ScheduledJobArgs, "maximum_event_age_seconds"),
    ("schedulerMaximumRetryAttempts", ScheduledJobArgs, "maximum_retry_attempts"),
    ("timeZone", ScheduledJobArgs, "time_zone"),
    ("apiThrottlingBurstLimit", HttpApiSpec, "throttling_burst_limit"),
    ("apiThrottlingRateLimit", HttpApiSpec, "throttling_rate_limit"),
    ("eventArchiveRetentionDays", PlatformArgs, "event_archive_retention_days"),
]


@pytest.mark.parametrize(("key", "args_class", "name"), MAPPED, ids=[m[0] for m in MAPPED])
def test_each_per_instance_default_equals_its_setting_default(key, args_class, name) -> None:
    _, specs = load_schema()
    field = next(f for f in dataclasses.fields(args_class) if f.name == name)
    assert field.default == specs[key].default


@pytest.mark.parametrize(("key", "args_class", "name"), [m for m in MAPPED if m[0] != "timeZone"],
                         ids=[m[0] for m in MAPPED if m[0] != "timeZone"])
def test_a_setting_out_of_its_fields_range_is_refused_by_key(key, args_class, name) -> None:
    from tests.conftest import settings_for

    low, high, _ = bounds(args_class, name)
    from system.settings import SettingsError

    for bad in (low - 1, high + 1):
        with pytest.raises(SettingsError, match=rf"{key}: must be between {low} and {high}"):
            settings_for("dev", **{key: bad})
    assert settings_for("dev", **{key: low}) and settings_for("dev", **{key: high})


@pytest.mark.parametrize("fields", [{"runtime": "python3.9"}, {"architecture": "sparc"}, {"log_retention_days": 10},
                                    {"service": "Orders!"}, {"log_level": "LOUD"}, {"profiles": {}}])
def test_stack_defaults_refuse_what_aws_refuses(fields) -> None:
    with pytest.raises(ComponentConfigError):
        StackDefaults(**fields)


def test_every_configuration_error_shares_one_base() -> None:
    import components.api_service
    import components.core.alarms
    import components.core.archive
    import components.core.function
    import components.core.http_api
    import components.core.iam
    import components.core.queue
    import components.core.table
    import components.fan_out
    import components.scheduled_job
    import components.stream_processor
    import components.webhook_ingestion
    import system.settings

    modules = [components.api_service, components.core.alarms, components.core.archive, components.core.function,
               components.core.http_api, components.core.iam, components.core.queue, components.core.table,
               components.fan_out, components.scheduled_job, components.stream_processor, components.webhook_ingestion,
               system.settings]
    errors = {obj for module in modules for obj in vars(module).values()
              if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__ == module.__name__}
    assert len(errors) >= 12
    assert all(issubclass(error, ComponentConfigError) for error in errors), errors
