"""Powertools idempotency names shared by the infrastructure (the tables it builds) and handlers."""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = [
    "IDEMPOTENCY_KEY_ATTRIBUTE",
    "IDEMPOTENCY_TABLE_ENV",
    "IDEMPOTENCY_TTL_ATTRIBUTE",
    "IDEMPOTENCY_TTL_ENV",
    "IDEMPOTENCY_TTL_FALLBACK_SECONDS",
    "ttl_seconds",
]

IDEMPOTENCY_TABLE_ENV = "IDEMPOTENCY_TABLE_NAME"
IDEMPOTENCY_TTL_ENV = "IDEMPOTENCY_TTL_SECONDS"
# DynamoDBPersistenceLayer defaults: partition key "id", TTL attribute "expiration".
IDEMPOTENCY_KEY_ATTRIBUTE = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"
# How long a handled request is remembered when the component did not say (it always does):
# the one default, also StackDefaults.idempotency_ttl_seconds.
IDEMPOTENCY_TTL_FALLBACK_SECONDS = 3600


def ttl_seconds(environ: Mapping[str, str] = os.environ) -> int:
    """The idempotency records' lifetime the component gave the function."""
    return int(environ.get(IDEMPOTENCY_TTL_ENV, IDEMPOTENCY_TTL_FALLBACK_SECONDS))
