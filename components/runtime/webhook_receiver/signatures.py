"""Webhook signature schemes: Standard Webhooks, GitHub and Stripe.

Every comparison is constant-time; the raw body is verified exactly as received. A request whose
headers cannot be read is *malformed* (400); one that does not verify is *unauthenticated* (401,
and the caller never learns which part failed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from components.runtime.webhook_schema import MAX_ID_CHARS, TOLERANCE_SECONDS

__all__ = [
    "MalformedRequestError",
    "VerificationError",
    "Verified",
    "github_id",
    "sign_github",
    "sign_standard",
    "sign_stripe",
    "standard_key",
    "verify",
    "verify_github",
    "verify_standard",
    "verify_stripe",
]

# Unix seconds as ASCII digits only: str.isdigit() accepts "²" and int() refuses more than 4,300
# digits, both of which would be a 500; twelve digits reach the year 33658.
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_WEBHOOK_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_ID_CHARS}}}")  # printable ASCII, no spaces
_MAX_SIGNATURE_HEADER = 8192  # several signatures during a rotation, never kilobytes more

class MalformedRequestError(ValueError):
    """Missing or unreadable headers (or, for Stripe, a payload without an id)."""


class VerificationError(Exception):
    """The signature does not verify, or the timestamp is outside the tolerance."""

    def __init__(self, stale: bool = False) -> None:
        super().__init__("stale timestamp" if stale else "signature mismatch")
        self.stale = stale


@dataclass(frozen=True)
class Verified:
    id: str
    timestamp: int | None


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _matches(expected: bytes, candidates: Sequence[bytes]) -> bool:
    # Check every candidate so timing does not reveal which one matched.
    found = False
    for candidate in candidates:
        found |= hmac.compare_digest(expected, candidate)
    return found


def _timestamp(text: str | None, header: str) -> int:
    if text is None or not _UNIX_SECONDS.fullmatch(text.strip()):
        raise MalformedRequestError(f"{header} must be unix seconds")
    return int(text.strip())


def _identifier(text: str, header: str) -> str:
    if not _WEBHOOK_ID.fullmatch(text):
        raise MalformedRequestError(f"{header} must be 1-{MAX_ID_CHARS} printable ASCII characters")
    return text


def _check_tolerance(timestamp: int, now: int) -> None:
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise VerificationError(stale=True)


def _required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not isinstance(value, str) or not value.strip():
        raise MalformedRequestError(f"missing header {name}")
    if len(value) > _MAX_SIGNATURE_HEADER:
        raise MalformedRequestError(f"header {name} is too long")
    return value.strip()


def standard_key(secret: str) -> bytes | None:
    """``whsec_<base64>`` (the prefix is optional) to the HMAC key; None if it is not base64.

    Providers hand out the base64 with or without its ``=`` padding (the reference libraries
    decode both), so missing padding is restored before decoding."""
    encoded = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    encoded = encoded.rstrip("=")
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def verify_standard(headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: int) -> Verified:
    webhook_id = _identifier(_required(headers, "webhook-id"), "webhook-id")
    timestamp = _timestamp(_required(headers, "webhook-timestamp"), "webhook-timestamp")
    signature_header = _required(headers, "webhook-signature")
    candidates = []
    for entry in signature_header.split():
        version, _, signature = entry.partition(",")
        if not signature:
            raise MalformedRequestError("webhook-signature entries must be '<version>,<signature>'")
        if version == "v1":
            candidates.append(signature.encode())
    _check_tolerance(timestamp, now)
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    keys = [k for k in (standard_key(s) for s in secrets) if k is not None]
    if not candidates or not any(_matches(base64.b64encode(_hmac(key, signed)), candidates) for key in keys):
        raise VerificationError()
    return Verified(webhook_id, timestamp)


def github_id(body: bytes) -> str:
    """GitHub's idempotency key: the digest of the signed body. X-GitHub-Delivery is not covered by
    the signature, so a captured request replayed under a new delivery id must not count as new."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def verify_github(headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: int) -> Verified:
    _identifier(_required(headers, "x-github-delivery"), "x-github-delivery")  # required, but not trusted
    signature_header = _required(headers, "x-hub-signature-256")
    scheme, _, signature = signature_header.partition("=")
    if scheme != "sha256" or not signature:
        raise MalformedRequestError("x-hub-signature-256 must be 'sha256=<hex>'")
    candidate = signature.lower().encode()
    if not any(_matches(_hmac(s.encode(), body).hex().encode(), [candidate]) for s in secrets):
        raise VerificationError()
    return Verified(github_id(body), None)


def verify_stripe(headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: int) -> Verified:
    signature_header = _required(headers, "stripe-signature")
    timestamp_text, candidates = None, []
    for part in signature_header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp_text = value
        elif key == "v1" and value:
            candidates.append(value.lower().encode())
    timestamp = _timestamp(timestamp_text, "stripe-signature t")
    if not candidates:
        raise MalformedRequestError("stripe-signature has no v1 signature")
    _check_tolerance(timestamp, now)
    signed = f"{timestamp}.".encode() + body
    if not any(_matches(_hmac(s.encode(), signed).hex().encode(), candidates) for s in secrets):
        raise VerificationError()
    try:
        event_id = json.loads(body).get("id")
    except (ValueError, AttributeError, UnicodeDecodeError, RecursionError):
        event_id = None
    if not isinstance(event_id, str) or not _WEBHOOK_ID.fullmatch(event_id):
        raise MalformedRequestError("a Stripe event payload needs an 'id'")
    return Verified(event_id, timestamp)


VERIFIERS: dict[str, Callable[[Mapping[str, str], bytes, Sequence[str], int], Verified]] = {
    "standard": verify_standard,
    "github": verify_github,
    "stripe": verify_stripe,
}


def verify(scheme: str, headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: int) -> Verified:
    """Verify a request; ``headers`` lower-cased, ``secrets`` the candidate signing secrets."""
    return VERIFIERS[scheme](headers, body, secrets, now)


# Signing, for tests, benchmarks and anyone calling us in development.
def sign_standard(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    key = standard_key(secret)
    assert key is not None, "not a base64 secret"
    return "v1," + base64.b64encode(_hmac(key, f"{webhook_id}.{timestamp}.".encode() + body)).decode()


def sign_github(secret: str, body: bytes) -> str:
    return "sha256=" + _hmac(secret.encode(), body).hex()


def sign_stripe(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1=" + _hmac(secret.encode(), f"{timestamp}.".encode() + body).hex()
