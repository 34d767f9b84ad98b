"""Signature vectors for the three schemes. Expected values come from the schemes' own published
examples or from an independent HMAC computed here, never from the code under test."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from components.runtime.webhook_receiver.signatures import (
    MalformedRequestError,
    VerificationError,
    sign_standard,
    verify,
)

# Standard Webhooks' published example (standard-webhooks/standard-webhooks README).
STD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STD_ID, STD_TS, STD_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
STD_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# GitHub's published example ("Validating webhook deliveries").
GH_SECRET, GH_BODY = "It's a Secret to Everybody", b"Hello, World!"
GH_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
STRIPE_SECRET = "whsec_stripe_test_secret"
STRIPE_BODY = b'{"id": "evt_123", "type": "payment.succeeded"}'
NOW = 1_795_435_200


def std_headers(signature: str = STD_SIGNATURE, ts: int = STD_TS, msg_id: str = STD_ID) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def stripe_signature(secret: str, ts: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


class TestStandard:
    def test_published_vector_verifies(self) -> None:
        verified = verify("standard", std_headers(), STD_BODY, [STD_SECRET], STD_TS)
        assert (verified.id, verified.timestamp) == (STD_ID, STD_TS)

    def test_signing_matches_the_published_vector(self) -> None:
        assert sign_standard(STD_SECRET, STD_ID, STD_TS, STD_BODY) == STD_SIGNATURE

    def test_tampered_body_fails(self) -> None:
        with pytest.raises(VerificationError):
            verify("standard", std_headers(), STD_BODY + b" ", [STD_SECRET], STD_TS)

    def test_wrong_secret_fails(self) -> None:
        other = "whsec_" + base64.b64encode(b"another key of thirty-two bytes!").decode()
        with pytest.raises(VerificationError):
            verify("standard", std_headers(), STD_BODY, [other], STD_TS)

    def test_rotated_secrets_any_may_verify(self) -> None:
        other = "whsec_" + base64.b64encode(b"another key of thirty-two bytes!").decode()
        assert verify("standard", std_headers(), STD_BODY, [other, STD_SECRET], STD_TS).id == STD_ID

    @pytest.mark.parametrize("skew", [301, -301, 10_000])
    def test_stale_or_future_timestamps_fail(self, skew: int) -> None:
        with pytest.raises(VerificationError) as caught:
            verify("standard", std_headers(), STD_BODY, [STD_SECRET], STD_TS + skew)
        assert caught.value.stale

    @pytest.mark.parametrize("skew", [300, -300, 0])
    def test_within_five_minutes_passes(self, skew: int) -> None:
        verify("standard", std_headers(), STD_BODY, [STD_SECRET], STD_TS + skew)

    def test_several_signatures_one_valid(self) -> None:
        header = f"v1,{base64.b64encode(b'x' * 32).decode()} v2,whatever {STD_SIGNATURE}"
        assert verify("standard", std_headers(header), STD_BODY, [STD_SECRET], STD_TS).id == STD_ID

    def test_only_other_versions_fails(self) -> None:
        with pytest.raises(VerificationError):
            verify("standard", std_headers("v2," + STD_SIGNATURE[3:]), STD_BODY, [STD_SECRET], STD_TS)

    @pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
    def test_missing_headers_are_malformed(self, missing: str) -> None:
        headers = std_headers()
        del headers[missing]
        with pytest.raises(MalformedRequestError):
            verify("standard", headers, STD_BODY, [STD_SECRET], STD_TS)

    @pytest.mark.parametrize("headers", [
        std_headers(ts="soon"),  # type: ignore[arg-type]
        std_headers(signature="garbage-without-version"),
    ])
    def test_malformed_headers(self, headers: dict[str, str]) -> None:
        with pytest.raises(MalformedRequestError):
            verify("standard", headers, STD_BODY, [STD_SECRET], STD_TS)


class TestGitHub:
    def headers(self, signature: str = GH_SIGNATURE) -> dict[str, str]:
        return {"x-hub-signature-256": signature, "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}

    def test_published_vector_verifies(self) -> None:
        # The id is the body's digest, which the signature covers; the delivery header is not.
        expected = "sha256:" + hashlib.sha256(GH_BODY).hexdigest()
        assert verify("github", self.headers(), GH_BODY, [GH_SECRET], NOW).id == expected

    def test_tampered_body_and_wrong_secret_fail(self) -> None:
        with pytest.raises(VerificationError):
            verify("github", self.headers(), GH_BODY + b"!", [GH_SECRET], NOW)
        with pytest.raises(VerificationError):
            verify("github", self.headers(), GH_BODY, ["not it"], NOW)

    def test_rotated_secret(self) -> None:
        assert verify("github", self.headers(), GH_BODY, ["old one", GH_SECRET], NOW)

    @pytest.mark.parametrize("missing", ["x-hub-signature-256", "x-github-delivery"])
    def test_missing_headers_are_malformed(self, missing: str) -> None:
        headers = self.headers()
        del headers[missing]
        with pytest.raises(MalformedRequestError):
            verify("github", headers, GH_BODY, [GH_SECRET], NOW)

    def test_sha1_signature_header_is_malformed(self) -> None:
        with pytest.raises(MalformedRequestError):
            verify("github", self.headers("sha1=abc"), GH_BODY, [GH_SECRET], NOW)


class TestStripe:
    def test_valid_signature_and_id_from_payload(self) -> None:
        header = {"stripe-signature": stripe_signature(STRIPE_SECRET, NOW, STRIPE_BODY)}
        verified = verify("stripe", header, STRIPE_BODY, [STRIPE_SECRET], NOW)
        assert (verified.id, verified.timestamp) == ("evt_123", NOW)

    def test_several_v1_one_valid(self) -> None:
        good = stripe_signature(STRIPE_SECRET, NOW, STRIPE_BODY).split(",v1=")[1]
        header = {"stripe-signature": f"t={NOW},v1={'0' * 64},v1={good},v0=legacy"}
        assert verify("stripe", header, STRIPE_BODY, [STRIPE_SECRET], NOW).id == "evt_123"

    def test_tampered_wrong_secret_rotated(self) -> None:
        header = {"stripe-signature": stripe_signature(STRIPE_SECRET, NOW, STRIPE_BODY)}
        with pytest.raises(VerificationError):
            verify("stripe", header, STRIPE_BODY.replace(b"123", b"124"), [STRIPE_SECRET], NOW)
        with pytest.raises(VerificationError):
            verify("stripe", header, STRIPE_BODY, ["whsec_other"], NOW)
        assert verify("stripe", header, STRIPE_BODY, ["whsec_other", STRIPE_SECRET], NOW)

    @pytest.mark.parametrize("skew", [301, -301])
    def test_stale_and_future(self, skew: int) -> None:
        header = {"stripe-signature": stripe_signature(STRIPE_SECRET, NOW + skew, STRIPE_BODY)}
        with pytest.raises(VerificationError):
            verify("stripe", header, STRIPE_BODY, [STRIPE_SECRET], NOW)

    @pytest.mark.parametrize("header", [{}, {"stripe-signature": "v1=abc"}, {"stripe-signature": f"t={NOW}"}])
    def test_missing_or_malformed_header(self, header: dict[str, str]) -> None:
        with pytest.raises(MalformedRequestError):
            verify("stripe", header, STRIPE_BODY, [STRIPE_SECRET], NOW)

    def test_signed_payload_without_id_is_malformed(self) -> None:
        body = b'{"type": "x"}'
        header = {"stripe-signature": stripe_signature(STRIPE_SECRET, NOW, body)}
        with pytest.raises(MalformedRequestError):
            verify("stripe", header, body, [STRIPE_SECRET], NOW)
