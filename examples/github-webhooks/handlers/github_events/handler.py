"""Applies GitHub webhooks from the queue: one envelope per message (components.runtime.webhook_schema)."""

from __future__ import annotations

import base64
import json
from typing import Any

from components.runtime.observability import logger, observed
from components.runtime.webhook_schema import ENVELOPE_ENCODING


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            envelope = json.loads(record["body"])
            body = envelope["body"]
            payload = json.loads(base64.b64decode(body) if envelope.get("encoding") == ENVELOPE_ENCODING else body)
            logger.info("github event", extra={"webhookId": envelope["id"], "action": payload.get("action")})
        except (KeyError, ValueError):
            failures.append({"itemIdentifier": record.get("messageId", "")})
    return {"batchItemFailures": failures}
