from __future__ import annotations

from dataclasses import dataclass

import pytest

from components.runtime.environment import EnvironmentConfigError, read_environment, variable


@dataclass(frozen=True)
class Sample:
    table: str = variable("TABLE_NAME")
    window: int = variable("WINDOW_SECONDS", parse=int)
    group: str | None = variable("GROUP_FIELD", default=None)


def test_reads_parses_and_defaults() -> None:
    assert read_environment(Sample, {"TABLE_NAME": "t", "WINDOW_SECONDS": "300"}) == Sample("t", 300, None)
    assert read_environment(Sample, {"TABLE_NAME": "t", "WINDOW_SECONDS": "5", "GROUP_FIELD": "a.b"}).group == "a.b"


def test_every_missing_or_malformed_variable_is_named_once_without_its_value() -> None:
    with pytest.raises(EnvironmentConfigError) as raised:
        read_environment(Sample, {"WINDOW_SECONDS": "arn:aws:secretsmanager:x"})
    assert str(raised.value) == "Sample: TABLE_NAME is not set; WINDOW_SECONDS is malformed"


def test_a_receiver_deployed_without_its_queue_fails_at_init(monkeypatch) -> None:
    from tests.lambdas.conftest import fresh_import

    for name in ("WEBHOOK_SCHEME", "WEBHOOK_SECRET_ARN", "WEBHOOK_SOURCE"):
        monkeypatch.setenv(name, "standard" if name == "WEBHOOK_SCHEME" else "x")
    monkeypatch.delenv("QUEUE_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(EnvironmentConfigError, match=r"^Environment: QUEUE_URL is not set$"):
        fresh_import("components.runtime.webhook_receiver.handler")
