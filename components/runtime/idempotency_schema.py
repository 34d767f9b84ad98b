"""Powertools idempotency names shared by the infrastructure (the tables it builds) and handlers."""

from __future__ import annotations

IDEMPOTENCY_TABLE_ENV = "IDEMPOTENCY_TABLE_NAME"
IDEMPOTENCY_TTL_ENV = "IDEMPOTENCY_TTL_SECONDS"
# DynamoDBPersistenceLayer defaults: partition key "id", TTL attribute "expiration".
IDEMPOTENCY_KEY_ATTRIBUTE = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"
