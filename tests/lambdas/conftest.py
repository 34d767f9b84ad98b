"""Handlers under moto: tables created from the same specs the components declare."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from components.core.table import TableSpec

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and the environment the function builder sets, so nothing reaches AWS."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "orders", "POWERTOOLS_METRICS_NAMESPACE": "orders",
        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_DEV": "false",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def create_table(spec: TableSpec, table_name: str) -> None:
    """A moto table with exactly the key schema, indexes, TTL and stream the component declares."""
    client = boto3.client("dynamodb", region_name=REGION)
    key_schema = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        key_schema.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    request: dict[str, Any] = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": key_schema,
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in spec.attributes.items()],
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
                + ([{"AttributeName": index.sort_key, "KeyType": "RANGE"}] if index.sort_key else []),
                "Projection": _projection(index.projection),
            }
            for index in spec.indexes
        ]
    if spec.stream_view_type:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream_view_type}
    client.create_table(**request)
    if spec.ttl_attribute:
        client.update_time_to_live(TableName=table_name,
                                   TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute})


def _projection(attributes: tuple[str, ...] | None) -> dict[str, Any]:
    if attributes is None:
        return {"ProjectionType": "ALL"}
    if not attributes:
        return {"ProjectionType": "KEYS_ONLY"}
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(attributes)}


def fresh_import(module: str) -> Any:
    """Import a handler module anew, so its module-level clients are created inside the moto mock."""
    package = module.rsplit(".", 1)[0]  # the handler's folder: orders_api, components.runtime.webhook_receiver
    for name in [m for m in sys.modules if m == module or m.startswith(package + ".")]:
        del sys.modules[name]
    return importlib.import_module(module)


class LambdaContext:
    function_name = "orders-test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-test"
    aws_request_id = "req-1"

    def __init__(self, remaining_ms: int = 10_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


def environ(**values: str) -> None:
    os.environ.update(values)
