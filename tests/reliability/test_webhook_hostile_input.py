"""The webhook receiver under hostile input: sizes, bytes, headers, replays and secrets.

Every class the receiver accepts with 202 must reach the worker byte for byte; everything else
is a 4xx with the generic body, never a 500 and never a lost verified payment.
"""

from __future__ import annotations

import base64
import json
import time

import pytest

from components.runtime import webhook_schema as names
from components.runtime.webhook_receiver.signatures import (
    MalformedRequestError,
    sign_github,
    sign_standard,
    sign_stripe,
    standard_key,
    verify,
)
from tests.lambdas.test_webhook_receiver import SECRET, receiver, standard_headers  # noqa: F401 - the fixture

SQS_LIMIT = 262_144


def padded_json(size: int, filler: str) -> bytes:
    """A JSON payload of exactly ``size`` UTF-8 bytes made of ``filler`` characters."""
    head, tail = b'{"type":"payment.succeeded","data":{},"pad":"', b'"}'
    unit = filler.encode()
    room = size - len(head) - len(tail)
    count, rest = divmod(room, len(unit))
    return head + unit * count + b"x" * rest + tail


def test_the_largest_accepted_body_is_computed_for_the_queue_limit() -> None:
    # (262,144 - envelope overhead with a 256-char id that JSON escapes to 512) // 4 * 3
    assert names.MAX_BODY_BYTES == 196_143
    worst = names.envelope('"' * names.MAX_ID_CHARS, "s" * names.MAX_SOURCE_CHARS, names.MAX_TIMESTAMP,
                           base64.b64encode(b"\xff" * names.MAX_BODY_BYTES).decode())
    assert len(worst.encode()) <= SQS_LIMIT
    over = names.envelope('"' * names.MAX_ID_CHARS, "s" * names.MAX_SOURCE_CHARS, names.MAX_TIMESTAMP,
                          base64.b64encode(b"\xff" * (names.MAX_BODY_BYTES + 3)).decode())
    assert len(over.encode()) > SQS_LIMIT


@pytest.mark.parametrize("filler", ["a", "中", "é", "\u0000", '"', "\\", "😀"])
def test_a_body_at_the_limit_of_any_text_fits_the_queue_byte_for_byte(receiver, filler) -> None:  # noqa: F811
    call = receiver()
    body = padded_json(names.MAX_BODY_BYTES, filler)
    assert len(body) == names.MAX_BODY_BYTES
    status, _ = call(standard_headers(body=body.decode(), msg_id="m" * 256), body=body, base64_encoded=True)
    assert status == 202
    [message] = call.messages()
    assert len(message["Body"].encode()) <= SQS_LIMIT
    assert base64.b64decode(json.loads(message["Body"])["body"]) == body


@pytest.mark.parametrize(("size", "filler"), [(160_000, "中"), (90_000, "é")])
def test_the_bodies_that_used_to_overflow_the_envelope_now_arrive(receiver, size, filler) -> None:  # noqa: F811
    """JSON-escaped text grew six-fold (\\u4e2d per 3 bytes); base64 grows by 4/3 whatever the bytes."""
    call = receiver()
    body = padded_json(size, filler)
    assert call(standard_headers(body=body.decode()), body=body, base64_encoded=True)[0] == 202
    [message] = call.messages()
    assert base64.b64decode(json.loads(message["Body"])["body"]) == body


@pytest.mark.parametrize(("size", "filler"), [(262_143, "a"), (196_144, "é"), (196_144, "a"), (200_000, "中")])
def test_a_body_over_the_limit_is_413_before_verifying(receiver, size, filler) -> None:  # noqa: F811
    call = receiver()
    body = padded_json(size, filler)
    status, payload = call({"webhook-id": "x"}, body=body, base64_encoded=True)  # not even signed
    assert (status, payload["error"]["code"]) == (413, "BODY_TOO_LARGE")
    assert call.messages() == []


def test_signed_bytes_that_are_not_utf8_reach_the_worker_unchanged(receiver) -> None:  # noqa: F811
    call = receiver()
    body = b'{"type":"payment.succeeded","data":{"note":"\xff\xfe\x80"}}'
    timestamp = int(time.time())
    headers = {"webhook-id": "bin-1", "webhook-timestamp": str(timestamp),
               "webhook-signature": sign_standard(SECRET, "bin-1", timestamp, body)}
    assert call(headers, body=body, base64_encoded=True)[0] == 202
    [message] = call.messages()
    assert base64.b64decode(json.loads(message["Body"])["body"]) == body  # no U+FFFD


HOSTILE_STANDARD = [
    {"webhook-timestamp": "9" * 5000},
    {"webhook-timestamp": "²"},
    {"webhook-timestamp": "\uff11\uff12\uff13"},  # full-width digits
    {"webhook-timestamp": "-5"},
    {"webhook-timestamp": "1e9"},
    {"webhook-id": "id with spaces"},
    {"webhook-id": "é"},
    {"webhook-id": "x" * 257},
    {"webhook-signature": "v1," + "A" * 9000},
    {"webhook-signature": "nocomma"},
]


@pytest.mark.parametrize("override", HOSTILE_STANDARD)
def test_malformed_standard_headers_are_400_with_the_generic_code(receiver, override) -> None:  # noqa: F811
    call = receiver()
    status, payload = call({**standard_headers(), **override})
    assert status == 400 and payload["error"]["code"] == "MALFORMED_REQUEST"
    assert call.messages() == []


@pytest.mark.parametrize("header", [
    "t=" + "9" * 5000 + ",v1=" + "a" * 64,
    "t=³,v1=" + "a" * 64,
    "t=,v1=abc",
    "v1=abc",
    "t=1700000000",
    "t=1700000000,v1=" + "ab" * 5000,
])
def test_malformed_stripe_headers_are_4xx_never_500(receiver, header) -> None:  # noqa: F811
    call = receiver(scheme="stripe", secret="whsec_stripe")
    status, payload = call({"stripe-signature": header})
    assert status in (400, 401) and payload["error"]["code"] in ("MALFORMED_REQUEST", "UNAUTHENTICATED")
    assert call.messages() == []


def test_a_github_request_replayed_under_a_new_delivery_id_keeps_its_id(receiver) -> None:  # noqa: F811
    call = receiver(scheme="github", secret="gh-secret")
    body = b'{"action":"completed","id":1}'
    signature = sign_github("gh-secret", body)
    first = call({"x-github-delivery": "d-1", "x-hub-signature-256": signature}, body=body, base64_encoded=True)
    replay = call({"x-github-delivery": "d-2-forged", "x-hub-signature-256": signature}, body=body,
                  base64_encoded=True)
    assert first[0] == replay[0] == 202
    assert first[1]["id"] == replay[1]["id"]  # the worker's idempotency record drops the replay
    ids = {json.loads(m["Body"])["id"] for m in call.messages()}
    assert len(ids) == 1


def test_unpadded_standard_secrets_verify_like_padded_ones() -> None:
    padded = SECRET
    unpadded = padded.rstrip("=")
    assert unpadded != padded and standard_key(unpadded) == standard_key(padded)
    body, timestamp = b'{"a":1}', int(time.time())
    signature = sign_standard(padded, "m", timestamp, body)
    headers = {"webhook-id": "m", "webhook-timestamp": str(timestamp), "webhook-signature": signature}
    assert verify("standard", headers, body, [unpadded], timestamp).id == "m"


def test_an_unpadded_secret_in_secrets_manager_accepts_requests(receiver) -> None:  # noqa: F811
    call = receiver(secret=SECRET.rstrip("="))
    assert call(standard_headers())[0] == 202


def test_a_stripe_payload_with_a_hostile_id_is_malformed() -> None:
    timestamp = int(time.time())
    for body in (b'{"id": "evt with space"}', b'{"id": ' + b"[" * 5000 + b"]" * 5000 + b"}", b'{"id": 7}'):
        header = sign_stripe("whsec_s", timestamp, body)
        with pytest.raises(MalformedRequestError):
            verify("stripe", {"stripe-signature": header}, body, ["whsec_s"], timestamp)
