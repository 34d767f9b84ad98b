"""The one DynamoDB table builder: on-demand, encrypted, protected where settings ask, alarmed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.core.alarms import AlarmSpec, MetricRef, build_alarms
from components.core.context import StackContext
from components.core.errors import ComponentConfigError
from components.core.naming import physical_name
from components.runtime.idempotency_schema import IDEMPOTENCY_KEY_ATTRIBUTE, IDEMPOTENCY_TTL_ATTRIBUTE

__all__ = [
    "BuiltTable",
    "IndexSpec",
    "TableAccess",
    "TableConfigError",
    "TableSpec",
    "build_table",
    "idempotency_table",
    "table_wiring",
]

# Operations whose SystemErrors we watch (the metric exists only per TableName and Operation).
WATCHED_OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "TransactWriteItems", "BatchWriteItem")
STREAM_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


class TableConfigError(ComponentConfigError):
    """A table whose key schema cannot be created."""


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index; ``projection``: None projects all attributes, a tuple only
    those (an empty tuple: keys only). Narrow projections cost less to write and store."""

    name: str
    partition_key: str
    sort_key: str | None = None
    projection: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableSpec:
    """Key schema and options of one table. ``attributes`` types every key attribute (S, N or B)."""

    name: str
    partition_key: str
    attributes: Mapping[str, str]
    sort_key: str | None = None
    indexes: Sequence[IndexSpec] = ()
    ttl_attribute: str | None = None
    stream_view_type: str | None = None

    def key_attributes(self) -> list[str]:
        keys = [self.partition_key, self.sort_key]
        for index in self.indexes:
            keys += [index.partition_key, index.sort_key]
        return [k for k in dict.fromkeys(keys) if k]


@dataclass(frozen=True)
class TableAccess:
    """The DynamoDB actions a function needs on one of its component's tables, the indexes it
    queries, and the environment variable that receives the table's name.

    ``actions`` are granted on the table only: item actions on an index ARN authorize nothing.
    Each index in ``queried_indexes`` gets ``dynamodb:Query`` on its own ARN, and no other index does."""

    table: str
    actions: tuple[str, ...]
    environment_variable: str | None = None
    queried_indexes: tuple[str, ...] = ()


def table_wiring(tables: dict[str, BuiltTable], accesses: Sequence[TableAccess]) -> tuple[dict[str, Any], list[Any]]:
    """Environment and grants for a function's table accesses."""
    from components.core.iam import Grant

    environment: dict[str, Any] = {}
    grants = []
    for access in accesses:
        table = tables[access.table]
        grants.append(Grant(sorted(set(access.actions)), [table.table.arn]))
        if access.queried_indexes:
            grants.append(Grant(["dynamodb:Query"], [table.index_arn(index) for index in access.queried_indexes]))
        if access.environment_variable:
            environment[access.environment_variable] = table.table.name
    return environment, grants


@dataclass
class BuiltTable:
    table: aws.dynamodb.Table
    spec: TableSpec
    alarms: dict[str, aws.cloudwatch.MetricAlarm] = field(default_factory=dict)

    def arns(self) -> list[pulumi.Output[str]]:
        """The table and each of its indexes: what a grant on this table should name."""
        return [self.table.arn, *(self.index_arn(i.name) for i in self.spec.indexes)]

    def index_arn(self, index: str) -> pulumi.Output[str]:
        if index not in {i.name for i in self.spec.indexes}:
            raise ValueError(f"table '{self.spec.name}' has no index '{index}'")
        return pulumi.Output.concat(self.table.arn, "/index/", index)


def idempotency_table(name: str) -> TableSpec:
    """A table for Powertools idempotency records, with the persistence layer's default names."""
    return TableSpec(
        name=name,
        partition_key=IDEMPOTENCY_KEY_ATTRIBUTE,
        attributes={IDEMPOTENCY_KEY_ATTRIBUTE: "S"},
        ttl_attribute=IDEMPOTENCY_TTL_ATTRIBUTE,
    )


def _index(index: IndexSpec) -> dict[str, object]:
    projection: dict[str, object] = {"projection_type": "ALL"}
    if index.projection == ():
        projection = {"projection_type": "KEYS_ONLY"}
    elif index.projection:
        projection = {"projection_type": "INCLUDE", "non_key_attributes": list(index.projection)}
    # key_schemas, not the GSI's hash_key/range_key: pulumi-aws 7 deprecates those.
    key_schemas = [{"attribute_name": index.partition_key, "key_type": "HASH"}]
    if index.sort_key:
        key_schemas.append({"attribute_name": index.sort_key, "key_type": "RANGE"})
    return {"name": index.name, "key_schemas": key_schemas, **projection}


def _check(spec: TableSpec) -> None:
    keys = spec.key_attributes()
    missing = [k for k in keys if k not in spec.attributes]
    extra = [a for a in spec.attributes if a not in keys]
    bad_types = {a: t for a, t in spec.attributes.items() if t not in ("S", "N", "B")}
    problems = []
    if missing:
        problems.append(f"key attributes without a type: {missing}")
    if extra:
        problems.append(f"attributes that are not keys (DynamoDB refuses them): {extra}")
    if bad_types:
        problems.append(f"attribute types must be S, N or B: {bad_types}")
    if spec.stream_view_type not in (None, *STREAM_VIEW_TYPES):
        problems.append(f"stream view type must be one of {STREAM_VIEW_TYPES}")
    if problems:
        raise TableConfigError(f"table '{spec.name}': " + "; ".join(problems))


def build_table(ctx: StackContext, name: str, spec: TableSpec, parent: pulumi.Resource) -> BuiltTable:
    """An on-demand table with server-side encryption (KMS), PITR and deletion protection per settings."""
    _check(spec)
    settings = ctx.defaults
    protected = settings.dynamodb.deletion_protection
    table = aws.dynamodb.Table(
        name,
        name=physical_name(settings, spec.name, max_length=255),
        billing_mode="PAY_PER_REQUEST",
        hash_key=spec.partition_key,
        range_key=spec.sort_key,
        attributes=[{"name": n, "type": t} for n, t in spec.attributes.items()],
        global_secondary_indexes=[_index(i) for i in spec.indexes] or None,
        server_side_encryption={"enabled": True},
        point_in_time_recovery={"enabled": settings.dynamodb.point_in_time_recovery},
        deletion_protection_enabled=protected,
        ttl={"attribute_name": spec.ttl_attribute, "enabled": True} if spec.ttl_attribute else None,
        stream_enabled=bool(spec.stream_view_type),
        stream_view_type=spec.stream_view_type,
        # Pulumi refuses to delete or replace a protected table; changing that is a deliberate edit.
        opts=ctx.options(parent, protect=protected),
    )
    built = BuiltTable(table=table, spec=spec)
    alarms = settings.alarms
    dimensions = {"TableName": table.name}
    specs = {
        f"{direction.lower()}-throttles": AlarmSpec(
            family="dynamodb", namespace="AWS/DynamoDB", metric_name=f"{direction}ThrottleEvents",
            dimensions=dimensions, threshold=alarms.dynamodb_throttles_threshold,
            description=f"{direction} requests to the table are throttled.",
        )
        for direction in ("Read", "Write")
    }
    specs["system-errors"] = AlarmSpec(
        family="dynamodb", namespace="AWS/DynamoDB", metric_name="SystemErrors", dimensions=dimensions,
        statistic=None, threshold=1, description="DynamoDB is failing requests to the table (5xx).",
        sum_of=tuple(MetricRef("SystemErrors", {**dimensions, "Operation": op}) for op in WATCHED_OPERATIONS),
    )
    built.alarms = build_alarms(ctx, name, specs, parent)
    return built
