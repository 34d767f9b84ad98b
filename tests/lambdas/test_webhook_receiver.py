from __future__ import annotations

import base64
import hashlib
import json
import time

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from components.runtime import webhook_schema as names
from components.runtime.webhook_receiver.signatures import sign_github, sign_standard, sign_stripe
from tests.lambdas.conftest import REGION, fresh_import
from tests.lambdas.http_events import http_event, parse

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
ROTATED = "whsec_" + base64.b64encode(b"fedcba9876543210fedcba9876543210").decode()
BODY = json.dumps({"type": "payment.succeeded", "data": {"orderId": "o-1", "paymentId": "p-1", "amount": "10.00",
                                                         "currency": "EUR", "account": "acct-7"}})


@pytest.fixture
def receiver(aws, monkeypatch, lambda_context):
    def make(scheme: str = "standard", secret: str | None = SECRET, fifo: bool = False):
        parameters.clear_caches()
        sm = boto3.client("secretsmanager", region_name=REGION)
        arn = sm.create_secret(Name=f"signing-{scheme}-{fifo}", **({"SecretString": secret} if secret else {}))["ARN"]
        sqs = boto3.client("sqs", region_name=REGION)
        name = f"webhooks-{scheme}" + (".fifo" if fifo else "")
        url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"} if fifo else {})["QueueUrl"]
        monkeypatch.setenv(names.SCHEME_ENV, scheme)
        monkeypatch.setenv(names.SECRET_ARN_ENV, arn)
        monkeypatch.setenv(names.QUEUE_URL_ENV, url)
        monkeypatch.setenv(names.SOURCE_ENV, "payments")
        if fifo:
            monkeypatch.setenv(names.MESSAGE_GROUP_FIELD_ENV, "data.account")
        else:
            monkeypatch.delenv(names.MESSAGE_GROUP_FIELD_ENV, raising=False)
        module = fresh_import("components.runtime.webhook_receiver.handler")

        def call(headers: dict[str, str], body: str | bytes = BODY, **kwargs):
            event = http_event("POST", "/webhooks/payments", raw_body=body, headers=headers, **kwargs)
            return parse(module.handler(event, lambda_context))

        def messages() -> list[dict]:
            found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
            return found

        call.messages, call.module, call.secret_arn = messages, module, arn
        return call

    yield make
    parameters.clear_caches()


def standard_headers(secret: str = SECRET, body: str = BODY, msg_id: str = "msg_1", ts: int | None = None):
    ts = int(time.time()) if ts is None else ts
    signature = sign_standard(secret, msg_id, ts, body.encode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_valid_request_enqueues_exactly_one_envelope_and_answers_202(receiver) -> None:
    call = receiver()
    status, payload = call(standard_headers())
    assert (status, payload) == (202, {"id": "msg_1"})
    messages = call.messages()
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    assert set(envelope) == set(names.ENVELOPE_FIELDS)
    assert envelope["id"] == "msg_1" and envelope["source"] == "payments"
    assert envelope["encoding"] == "base64" and base64.b64decode(envelope["body"]) == BODY.encode()
    assert isinstance(envelope["timestamp"], int)


@pytest.mark.parametrize("headers", [
    standard_headers(secret=ROTATED),                       # wrong secret
    standard_headers(ts=int(time.time()) - 600),            # stale
    standard_headers(ts=int(time.time()) + 600),            # future
    {**standard_headers(), "webhook-id": "msg_other"},      # signed for another id
])
def test_unauthenticated_requests_get_a_generic_401_and_enqueue_nothing(receiver, headers) -> None:
    call = receiver()
    status, payload = call(headers)
    assert status == 401
    assert payload == {"error": {"code": "UNAUTHENTICATED", "message": "request could not be authenticated"}}
    assert call.messages() == []


def test_tampered_body_is_401(receiver) -> None:
    call = receiver()
    assert call(standard_headers(), body=BODY.replace("10.00", "0.01"))[0] == 401
    assert call.messages() == []


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_400(receiver, missing) -> None:
    call = receiver()
    headers = standard_headers()
    del headers[missing]
    status, payload = call(headers)
    assert status == 400 and payload["error"]["code"] == "MALFORMED_REQUEST"
    assert call.messages() == []


def test_body_over_256_kib_is_413(receiver) -> None:
    call = receiver()
    big = json.dumps({"padding": "x" * (256 * 1024)})
    status, _ = call(standard_headers(body=big), body=big)
    assert status == 413 and call.messages() == []


def test_base64_bodies_are_verified_as_received_bytes(receiver) -> None:
    call = receiver()
    assert call(standard_headers(), body=BODY.encode(), base64_encoded=True)[0] == 202


def test_a_rotation_takes_effect_without_a_redeploy(receiver) -> None:
    call = receiver()
    assert call(standard_headers(msg_id="before"))[0] == 202  # the old secret is now cached
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=call.secret_arn, SecretString=f"{ROTATED} {SECRET}")
    assert call(standard_headers(secret=ROTATED, msg_id="after"))[0] == 202  # miss -> refresh -> verified
    assert call(standard_headers(secret=SECRET, msg_id="old-still-valid"))[0] == 202
    assert len(call.messages()) == 3


def test_verification_misses_do_not_refetch_the_secret_every_time(receiver, monkeypatch) -> None:
    call = receiver()
    fetches = []
    original = call.module.secrets_provider.get
    monkeypatch.setattr(call.module.secrets_provider, "get",
                        lambda *a, **k: fetches.append(k.get("force_fetch")) or original(*a, **k))
    for _ in range(20):
        assert call(standard_headers(secret=ROTATED))[0] == 401
    assert fetches.count(True) <= 1


def test_github_and_stripe_schemes(receiver) -> None:
    call = receiver("github", secret="gh-secret")
    headers = {"x-github-delivery": "d-1", "x-hub-signature-256": sign_github("gh-secret", BODY.encode())}
    assert call(headers) == (202, {"id": "sha256:" + hashlib.sha256(BODY.encode()).hexdigest()})
    stripe_body = json.dumps({"id": "evt_9", "type": "payment.succeeded"})
    call = receiver("stripe", secret="whsec_s")
    headers = {"stripe-signature": sign_stripe("whsec_s", int(time.time()), stripe_body.encode())}
    assert call(headers, body=stripe_body) == (202, {"id": "evt_9"})
    assert json.loads(call.messages()[0]["Body"])["id"] == "evt_9"


def test_fifo_messages_are_grouped_by_the_payload_field_and_deduplicated(receiver) -> None:
    call = receiver(fifo=True)
    headers = standard_headers(msg_id="msg_fifo")
    assert call(headers)[0] == 202
    assert call(headers)[0] == 202  # a redelivery by the sender
    messages = call.messages()
    assert len(messages) == 1
    assert messages[0]["Attributes"]["MessageGroupId"] == "acct-7"


def test_a_secret_without_a_value_is_a_503_not_a_401(receiver) -> None:
    call = receiver(secret=None)
    status, payload = call(standard_headers())
    assert status == 503 and payload["error"]["code"] == "NOT_CONFIGURED"
    assert call.messages() == []


def test_a_debug_run_logs_no_secret_and_no_response_body(receiver, monkeypatch, capsys, caplog) -> None:
    """At DEBUG (dev) botocore would log the Secrets Manager response, secret string included."""
    import logging
    import sys

    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    logging.getLogger().setLevel(logging.DEBUG)  # what the Lambda runtime does for a DEBUG function
    caplog.set_level(logging.DEBUG)
    for name in ("botocore", "urllib3"):  # as a fresh runtime leaves them: inheriting the root's level
        logging.getLogger(name).setLevel(logging.NOTSET)
    sys.modules.pop("components.runtime.observability", None)  # a cold start imports it anew
    call = receiver()
    assert logging.getLogger("botocore").getEffectiveLevel() >= logging.INFO  # the handler's import quieted it
    caplog.clear()
    capsys.readouterr()  # only what the invocation logs counts
    status, _ = call(standard_headers())
    assert status == 202
    logged = caplog.text + capsys.readouterr().out
    assert "whsec_" not in logged and SECRET.split("_", 1)[1] not in logged
    assert BODY not in logged and '"orderId": "o-1"' not in logged
    assert logged  # the run did log (the receiver's own records)
