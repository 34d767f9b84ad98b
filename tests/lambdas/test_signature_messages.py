"""What a sender reads in a 400 or a log line: each malformed request names what is wrong, exactly
(these strings reach the client in the error body, so they are part of the interface)."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from components.runtime.webhook_receiver.signatures import (
    MalformedRequestError,
    VerificationError,
    _matches,
    sign_standard,
    standard_key,
    verify,
)
from tests.lambdas.test_webhook_receiver import SECRET

NOW = int(time.time())
STANDARD = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": "v1,abc"}


@pytest.mark.parametrize(("scheme", "headers", "message"), [
    ("standard", {**STANDARD, "webhook-id": "bad id"}, "webhook-id must be 1-256 printable ASCII characters"),
    ("standard", {**STANDARD, "webhook-timestamp": "x"}, "webhook-timestamp must be unix seconds"),
    ("standard", {**STANDARD, "webhook-signature": "nocomma"},
     "webhook-signature entries must be '<version>,<signature>'"),
    ("standard", {k: v for k, v in STANDARD.items() if k != "webhook-id"}, "missing header webhook-id"),
    ("standard", {**STANDARD, "webhook-signature": "v1," + "a" * 8200}, "header webhook-signature is too long"),
    ("github", {"x-hub-signature-256": "sha1=abc", "x-github-delivery": "d"}, "x-hub-signature-256 must be 'sha256=<hex>'"),
    ("github", {"x-hub-signature-256": "sha256=abc", "x-github-delivery": "d d"},
     "x-github-delivery must be 1-256 printable ASCII characters"),
    ("stripe", {"stripe-signature": "t=x,v1=abc"}, "stripe-signature t must be unix seconds"),
    ("stripe", {"stripe-signature": f"t={NOW}"}, "stripe-signature has no v1 signature"),
    ("stripe", {"stripe-signature": f"t={NOW},v1="}, "stripe-signature has no v1 signature"),
])
def test_each_malformed_request_says_what_is_wrong(scheme, headers, message) -> None:
    with pytest.raises(MalformedRequestError) as caught:
        verify(scheme, headers, b"{}", ["whsec_c2VjcmV0"], NOW)
    assert str(caught.value) == message


def test_a_stripe_payload_without_an_id_says_so() -> None:
    body = b'{"object": "event"}'
    signature = hmac.new(b"sk", f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    with pytest.raises(MalformedRequestError) as caught:
        verify("stripe", {"stripe-signature": f"t={NOW},v1={signature}"}, body, ["sk"], NOW)
    assert str(caught.value) == "a Stripe event payload needs an 'id'"


def test_verification_failures_say_stale_or_mismatch() -> None:
    body = b"{}"
    stale = {"webhook-id": "m", "webhook-timestamp": str(NOW - 3600),
             "webhook-signature": sign_standard(SECRET, "m", NOW - 3600, body)}
    with pytest.raises(VerificationError) as old:
        verify("standard", stale, body, [SECRET], NOW)
    assert (str(old.value), old.value.stale) == ("stale timestamp", True)
    wrong = {"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": "v1,AAAA"}
    with pytest.raises(VerificationError) as mismatch:
        verify("standard", wrong, body, [SECRET], NOW)
    assert (str(mismatch.value), mismatch.value.stale) == ("signature mismatch", False)


def test_a_match_anywhere_among_the_candidates_counts() -> None:
    assert _matches(b"x", [b"x", b"y"]) and _matches(b"x", [b"y", b"x"]) and not _matches(b"x", [b"y", b"z"])


def test_a_signature_header_at_the_limit_is_read() -> None:
    header = "v1," + "A" * (8192 - 3)
    with pytest.raises(VerificationError):  # read, then simply not matching
        verify("standard", {**STANDARD, "webhook-signature": header}, b"{}", [SECRET], NOW)


def test_secrets_without_the_prefix_and_with_padding_give_the_same_key() -> None:
    bare = SECRET.removeprefix("whsec_")
    assert standard_key(bare) == standard_key(SECRET) == standard_key(SECRET.rstrip("="))
    assert standard_key("whsec_not base64!") is None
