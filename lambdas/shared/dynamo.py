"""Plain Python <-> DynamoDB attribute values (the low-level client's format)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer, _deserializer = TypeSerializer(), TypeDeserializer()


def to_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items()}


def from_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def cancellation_codes(response: dict[str, Any]) -> list[str]:
    """The per-action codes of a cancelled TransactWriteItems (``error.response``), in the order of
    its actions: "None" for an action cancelled only because another one failed."""
    return [reason.get("Code", "None") for reason in response.get("CancellationReasons") or []]
