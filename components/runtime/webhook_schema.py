"""Names the webhook infrastructure and its receiver and workers agree on."""

from __future__ import annotations

import json

__all__ = [
    "ENVELOPE_ENCODING",
    "ENVELOPE_FIELDS",
    "MAX_BODY_BYTES",
    "MAX_ID_CHARS",
    "MESSAGE_GROUP_FIELD_ENV",
    "PATH_PREFIX",
    "QUEUE_URL_ENV",
    "SCHEMES",
    "SCHEME_ENV",
    "SECRET_ARN_ENV",
    "SOURCE_ENV",
    "TOLERANCE_SECONDS",
    "envelope",
]

# Receiver environment, set by components/webhook_ingestion.py.
SCHEME_ENV = "WEBHOOK_SCHEME"
SECRET_ARN_ENV = "WEBHOOK_SECRET_ARN"
QUEUE_URL_ENV = "QUEUE_URL"
SOURCE_ENV = "WEBHOOK_SOURCE"
MESSAGE_GROUP_FIELD_ENV = "MESSAGE_GROUP_FIELD"  # FIFO only: the payload field (a.b.c) that orders messages

SCHEMES = ("standard", "github", "stripe")
PATH_PREFIX = "/webhooks/"
TOLERANCE_SECONDS = 5 * 60

# The message the receiver enqueues: {"id", "source", "timestamp", "encoding", "body"}, the body
# being the exact signed bytes in base64 (encoding "base64"; older messages carry the payload
# text without "encoding"). Base64 grows by exactly 4/3 whatever the bytes are, where JSON escaping
# of raw text can grow six-fold, so the largest body that fits SQS is computed, not guessed.
ENVELOPE_FIELDS = ("id", "source", "timestamp", "encoding", "body")
ENVELOPE_ENCODING = "base64"
SQS_MAX_MESSAGE_BYTES = 262_144  # SendMessage: the body (plus attributes, none here) at most 256 KiB
MAX_ID_CHARS = 256  # webhook ids (and GitHub's body digest) are refused above this
MAX_SOURCE_CHARS = 31  # the component's source name rule
MAX_TIMESTAMP = 10**12 - 1  # 12 ASCII digits: the receiver refuses longer timestamps as malformed


def envelope(webhook_id: str, source: str, timestamp: int | None, body_base64: str) -> str:
    """The queue message for one verified webhook (compact JSON, ASCII only)."""
    return json.dumps({"id": webhook_id, "source": source, "timestamp": timestamp, "encoding": ENVELOPE_ENCODING,
                       "body": body_base64}, separators=(",", ":"))


def _max_body_bytes() -> int:
    """The largest raw body whose envelope, with the longest id, source and timestamp allowed
    (and every id character escaped by JSON), still fits one SQS message."""
    overhead = len(envelope('"' * MAX_ID_CHARS, "s" * MAX_SOURCE_CHARS, MAX_TIMESTAMP, "").encode())
    return (SQS_MAX_MESSAGE_BYTES - overhead) // 4 * 3


MAX_BODY_BYTES = _max_body_bytes()
