"""Names the webhook infrastructure and its receiver and workers agree on."""

from __future__ import annotations

# Receiver environment, set by components/webhook_ingestion.py.
SCHEME_ENV = "WEBHOOK_SCHEME"
SECRET_ARN_ENV = "WEBHOOK_SECRET_ARN"
QUEUE_URL_ENV = "QUEUE_URL"
SOURCE_ENV = "WEBHOOK_SOURCE"
MESSAGE_GROUP_FIELD_ENV = "MESSAGE_GROUP_FIELD"  # FIFO only: the payload field (a.b.c) that orders messages

SCHEMES = ("standard", "github", "stripe")
PATH_PREFIX = "/webhooks/"
MAX_BODY_BYTES = 256 * 1024
TOLERANCE_SECONDS = 5 * 60

# The message the receiver enqueues: {"id", "source", "timestamp", "body"} (body = the raw payload string).
ENVELOPE_FIELDS = ("id", "source", "timestamp", "body")
