"""Webhook receiver: verify the signature of the raw body, enqueue it, answer 202. Nothing
unverified is ever enqueued; the worker does the business work from the queue.

Environment: WEBHOOK_SCHEME (standard | github | stripe), WEBHOOK_SECRET_ARN, QUEUE_URL,
WEBHOOK_SOURCE, and MESSAGE_GROUP_FIELD for FIFO queues.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from components.runtime.environment import read_environment, variable
from components.runtime.http import error_result
from components.runtime.observability import logger, metrics, observed
from components.runtime.webhook_receiver.signatures import MalformedRequestError, VerificationError, Verified, verify
from components.runtime.webhook_schema import (
    MAX_BODY_BYTES,
    MESSAGE_GROUP_FIELD_ENV,
    QUEUE_URL_ENV,
    SCHEME_ENV,
    SECRET_ARN_ENV,
    SOURCE_ENV,
    envelope,
)

__all__ = ["handler"]

SECRET_MAX_AGE_SECONDS = 300
# A verification miss refetches the secret (a rotation takes effect at once), but at most this
# often: a flood of bad signatures must not become a flood of GetSecretValue calls.
FORCED_REFRESH_INTERVAL_SECONDS = 30



@dataclass(frozen=True)
class Environment:
    """What WebhookIngestion sets on the receiver."""

    scheme: str = variable(SCHEME_ENV)
    secret_arn: str = variable(SECRET_ARN_ENV)
    queue_url: str = variable(QUEUE_URL_ENV)
    source: str = variable(SOURCE_ENV)
    message_group_field: str | None = variable(MESSAGE_GROUP_FIELD_ENV, default=None)


environment = read_environment(Environment)
SCHEME, SECRET_ARN, QUEUE_URL, SOURCE = environment.scheme, environment.secret_arn, environment.queue_url, environment.source
MESSAGE_GROUP_FIELD = environment.message_group_field
# Clients from one session: the second costs ~5 ms instead of ~55 ms for a new session's.
sqs = boto3.client("sqs")
secrets_provider = SecretsProvider(boto3_client=boto3.client("secretsmanager"))
_last_forced_refresh = 0.0


class SecretUnavailableError(RuntimeError):
    """The signing secret has no value yet, or Secrets Manager cannot be reached."""


def signing_secrets(force: bool = False) -> list[str]:
    """The current signing secrets (several during a rotation), cached per container."""
    try:
        value = secrets_provider.get(SECRET_ARN, max_age=SECRET_MAX_AGE_SECONDS, force_fetch=force)
    except GetParameterError as error:
        raise SecretUnavailableError(str(error)) from error
    return str(value).split()


def verify_with_rotation(headers: dict[str, str], body: bytes) -> Verified:
    global _last_forced_refresh
    now = int(time.time())
    try:
        return verify(SCHEME, headers, body, signing_secrets(), now)
    except VerificationError as failure:
        if failure.stale or time.monotonic() - _last_forced_refresh < FORCED_REFRESH_INTERVAL_SECONDS:
            raise
        _last_forced_refresh = time.monotonic()
        return verify(SCHEME, headers, body, signing_secrets(force=True), now)


def raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True)
    return body.encode()


def enqueue(verified: Verified, body: bytes) -> None:
    """The exact signed bytes, base64 in the envelope: what was verified is what the worker gets."""
    message: dict[str, Any] = {
        "QueueUrl": QUEUE_URL,
        "MessageBody": envelope(verified.id, SOURCE, verified.timestamp, base64.b64encode(body).decode("ascii")),
    }
    if MESSAGE_GROUP_FIELD:
        message["MessageGroupId"] = message_group_id(body)
        # A redelivered webhook is dropped by SQS; ids longer than SQS's 128 characters go by digest.
        message["MessageDeduplicationId"] = (verified.id if len(verified.id) <= 128
                                             else hashlib.sha256(verified.id.encode()).hexdigest())
    sqs.send_message(**message)


_GROUP_ID = re.compile(r"[\x21-\x7e]{1,128}")  # SQS MessageGroupId: 1-128 printable ASCII


def message_group(payload: bytes | str, dotted_field: str) -> Any:
    """The payload's ``a.b.c`` field, or None: events of one group stay in order on a FIFO queue."""
    try:
        value: Any = json.loads(payload)
        for part in dotted_field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def message_group_id(body: bytes) -> str:
    """The group of a FIFO message: the payload field when SQS can take it as a group id, else the source."""
    group = str(message_group(body, MESSAGE_GROUP_FIELD or "") or SOURCE)
    return group if _GROUP_ID.fullmatch(group) else SOURCE


@observed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        body = raw_body(event)
    except (binascii.Error, ValueError):
        return error_result(400, "MALFORMED_REQUEST", "body is not valid base64")
    if len(body) > MAX_BODY_BYTES:
        return error_result(413, "BODY_TOO_LARGE", f"body exceeds {MAX_BODY_BYTES} bytes")
    try:
        verified = verify_with_rotation(headers, body)
    except MalformedRequestError as malformed:
        metrics.add_metric(name="WebhookMalformed", unit=MetricUnit.Count, value=1)
        return error_result(400, "MALFORMED_REQUEST", str(malformed))
    except VerificationError as failure:
        metrics.add_metric(name="WebhookUnauthenticated", unit=MetricUnit.Count, value=1)
        logger.warning("webhook rejected", extra={"reason": str(failure)})
        return error_result(401, "UNAUTHENTICATED", "request could not be authenticated")
    except SecretUnavailableError:
        logger.exception("signing secret unavailable")
        return error_result(503, "NOT_CONFIGURED", "webhook endpoint is not ready")
    try:
        enqueue(verified, body)
    except (ClientError, BotoCoreError):
        logger.exception("could not enqueue a verified webhook")
        return error_result(503, "TRY_AGAIN", "webhook could not be accepted now; retry later")
    metrics.add_metric(name="WebhookAccepted", unit=MetricUnit.Count, value=1)
    logger.info("webhook accepted", extra={"webhookId": verified.id})
    return {"statusCode": 202, "headers": {"Content-Type": "application/json"}, "body": json.dumps({"id": verified.id})}
