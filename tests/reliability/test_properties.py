"""A property per entry point: no generated input yields a 5xx or an uncaught exception.

(For SQS and stream handlers, "every record failed" (Powertools' BatchProcessingError, the subscribers'
BatchFailedError) is the
designed answer that makes Lambda retry the batch; it is allowed, anything else is not.)
The orders API has its own property in tests/lambdas/test_orders_api_fuzz.py.
"""

from __future__ import annotations

import base64
import json

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lambdas.conftest import REGION
from tests.lambdas.test_activity_aggregator import aggregator  # noqa: F401
from tests.lambdas.test_fan_out_e2e import consumers, sqs_event  # noqa: F401
from tests.lambdas.test_payments_worker import worker  # noqa: F401
from tests.lambdas.test_webhook_receiver import receiver  # noqa: F401

FIXTURE_OK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=15,
)
header_values = st.text(max_size=60) | st.sampled_from(["9" * 5000, "²", "v1,", "t=³,v1=ab", "sha256="])
headers = st.dictionaries(st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "stripe-signature",
                                           "x-hub-signature-256", "x-github-delivery", "content-type"]),
                          header_values, max_size=5)


@FIXTURE_OK
@given(scheme=st.sampled_from(["standard", "github", "stripe"]), request_headers=headers,
       body=st.binary(max_size=300), as_base64=st.booleans())
def test_the_receiver_answers_every_request_without_a_5xx(receiver, scheme, request_headers, body, as_base64) -> None:  # noqa: F811
    call = getattr(test_the_receiver_answers_every_request_without_a_5xx, "calls", {}).get(scheme)
    if call is None:
        call = receiver(scheme=scheme, secret="whsec_" + base64.b64encode(b"k" * 24).decode())
        test_the_receiver_answers_every_request_without_a_5xx.__dict__.setdefault("calls", {})[scheme] = call
    raw = body if as_base64 else body.decode("utf-8", errors="replace")
    status, payload = call(request_headers, body=raw, base64_encoded=as_base64)
    assert status in (400, 401, 413), (status, payload)


def sqs_bodies() -> st.SearchStrategy[str]:
    envelope = st.fixed_dictionaries({}, optional={
        "id": st.text(max_size=10) | st.integers(), "source": st.text(max_size=5), "timestamp": json_values,
        "encoding": st.sampled_from(["base64", "gzip"]) | st.none(),
        "body": st.text(max_size=50) | st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode())})
    return st.one_of(st.text(max_size=100), json_values.map(json.dumps), envelope.map(json.dumps))


@FIXTURE_OK
@given(bodies=st.lists(sqs_bodies(), min_size=1, max_size=3))
def test_the_payments_worker_never_raises_on_any_message(worker, bodies) -> None:  # noqa: F811
    failed = worker(bodies)  # the fixture turns BatchProcessingError into "all failed"
    assert set(failed) <= {f"m{i}" for i in range(len(bodies))}


@FIXTURE_OK
@given(bodies=st.lists(st.one_of(st.text(max_size=60), json_values.map(json.dumps), st.fixed_dictionaries({
    "source": st.sampled_from(["orders", "payments", "x"]),
    "detail-type": st.sampled_from(["OrderPlaced", "OrderPaid", "OrderCancelled", "Nope"]),
    "detail": json_values}).map(json.dumps)), min_size=1, max_size=3),
    consumer=st.sampled_from(["notifications", "analytics_forwarder", "high_value_review"]))
def test_event_consumers_never_raise_on_any_message(consumers, lambda_context, monkeypatch, bodies,  # noqa: F811
                                                    consumer) -> None:
    from tests.lambdas.conftest import fresh_import

    kinesis = boto3.client("kinesis", region_name=REGION)
    if "activity-property" not in kinesis.list_streams()["StreamNames"]:
        kinesis.create_stream(StreamName="activity-property", ShardCount=1)
    monkeypatch.setenv("ACTIVITY_STREAM_NAME", "activity-property")
    module = fresh_import(f"{consumer}.handler")
    records = sqs_event()
    records["Records"] = [{**sqs_event({})["Records"][0], "messageId": f"m{i}", "body": body}
                          for i, body in enumerate(bodies)]
    from shared.subscriber import BatchFailedError  # the module as the handlers import it

    try:
        response = module.handler(records, lambda_context)
    except BatchFailedError:
        return
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} <= {f"m{i}" for i in range(len(bodies))}


@FIXTURE_OK
@given(payloads=st.lists(st.one_of(st.binary(max_size=80), json_values.map(lambda v: json.dumps(v).encode()),
                                   st.fixed_dictionaries({"type": st.text(max_size=70) | json_values,
                                                          "occurredAt": st.text(max_size=40) | json_values,
                                                          "amount": st.text(max_size=50) | json_values}).map(
                                       lambda v: json.dumps(v).encode())), min_size=1, max_size=4),
       sequence_digits=st.integers(1, 128))
def test_the_aggregator_never_raises_on_any_record(aggregator, payloads, sequence_digits) -> None:  # noqa: F811
    records = []
    for index, data in enumerate(payloads):
        sequence = str(index + 1).rjust(sequence_digits, "1")
        records.append({"eventID": f"shardId-000000000000:{sequence}", "eventSource": "aws:kinesis",
                        "kinesis": {"sequenceNumber": sequence, "partitionKey": "p",
                                    "data": base64.b64encode(data).decode()}})
    assert isinstance(aggregator(records), list)


@FIXTURE_OK
@given(images=st.lists(st.dictionaries(st.sampled_from(["pk", "sk", "entity", "eventId", "eventType", "source",
                                                        "occurredAt", "detail"]),
                                       st.text(max_size=20).map(lambda t: {"S": t}) | st.just({"NULL": True}) |
                                       st.just({"M": {}}), max_size=8), min_size=1, max_size=4))
def test_the_outbox_relay_never_raises_on_any_stream_record(aws, monkeypatch, lambda_context, images) -> None:
    from components.runtime.stream_schema import ON_FAILURE_QUEUE_URL_ENV
    from lambdas.shared.orders_schema import EVENT_BUS_ENV
    from tests.lambdas.conftest import fresh_import

    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="relay-property-failures")["QueueUrl"]
    boto3.client("events", region_name=REGION).create_event_bus(Name="property-bus") \
        if "property-bus" not in str(boto3.client("events", region_name=REGION).list_event_buses()) else None
    monkeypatch.setenv(EVENT_BUS_ENV, "property-bus")
    monkeypatch.setenv(ON_FAILURE_QUEUE_URL_ENV, url)
    module = fresh_import("outbox_relay.handler")
    records = [{"eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": str(index)}}
               for index, image in enumerate(images)]
    response = module.handler({"Records": records}, lambda_context)
    assert isinstance(response["batchItemFailures"], list)
