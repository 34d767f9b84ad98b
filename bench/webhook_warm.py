"""Warm receiver latency: 1,000 signed requests through one warm handler. Target (issue 4):
p99 <= 20 ms. Prints p50/p90/p99/max for two backends, side by side:

- in-process moto (`mock_aws`): the handler's own cost plus a cheap fake AWS;
- moto server on 127.0.0.1: adds a local HTTP round trip to a single-threaded fake whose own
  send_message p50/p99 is printed too, as that backend's floor.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambdas")]

from bench.cold_start import free_port, signed_webhook_event, start_moto, webhook_setup  # noqa: E402

REQUESTS = 1000


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "bench", 256, "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 5000


def drain() -> None:
    """Empty the fake queue, outside the timed region: moto's send_message walks every message
    in the queue (its cost grows with depth), real SQS's does not."""
    import boto3

    sqs, url = boto3.client("sqs"), os.environ["QUEUE_URL"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


def measure(handler, events) -> list[float]:
    for event in events[:20]:  # warm up: clients, connection pool, cached secret
        assert handler(event, Context())["statusCode"] == 202
    samples = []
    for index, event in enumerate(events[20:]):
        if index % 20 == 0:
            drain()
        start = time.perf_counter()
        response = handler(event, Context())
        samples.append((time.perf_counter() - start) * 1000)
        assert response["statusCode"] == 202, response
    return sorted(samples)


def report(label: str, samples: list[float]) -> float:
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"{label}: p50 {statistics.median(samples):.2f} ms, p90 {samples[int(len(samples) * 0.9) - 1]:.2f} ms, "
          f"p99 {p99:.2f} ms, max {samples[-1]:.2f} ms")
    return p99


def events() -> list[dict]:
    body = json.dumps({"type": "payment.succeeded", "data": {"orderId": "o", "paymentId": "p", "amount": "1",
                                                             "currency": "EUR"}})
    return [signed_webhook_event(body, f"msg_{i}") for i in range(REQUESTS + 20)]


def in_process() -> float:
    from moto import mock_aws

    with mock_aws():
        os.environ.update(webhook_setup(""))
        handler = fresh_handler()
        return report(f"in-process moto, {REQUESTS} requests", measure(handler, events()))


def fresh_handler():
    for name in [m for m in sys.modules if m.startswith(("components.runtime", "shared"))]:
        del sys.modules[name]
    from components.runtime.webhook_receiver.handler import handler

    return handler


def main() -> int:
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                       "POWERTOOLS_SERVICE_NAME": "orders", "POWERTOOLS_METRICS_NAMESPACE": "orders",
                       "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_TRACE_DISABLED": "true"})
    p99 = in_process()
    port = free_port()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    server = start_moto(port)
    try:
        os.environ.update(webhook_setup(os.environ["AWS_ENDPOINT_URL"]))
        import boto3

        sqs, url = boto3.client("sqs"), os.environ["QUEUE_URL"]
        floor = []
        for index in range(200):
            if index % 20 == 0:
                drain()
            start = time.perf_counter()
            sqs.send_message(QueueUrl=url, MessageBody="x" * 300)
            floor.append((time.perf_counter() - start) * 1000)
        report("moto server floor: bare send_message", sorted(floor))
        p99 = max(p99, report(f"moto server 127.0.0.1, {REQUESTS} requests", measure(fresh_handler(), events())))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"worst p99 {p99:.2f} ms (target <= 20 ms): {'PASS' if p99 <= 20 else 'FAIL'}")
    return 0 if p99 <= 20 else 1


if __name__ == "__main__":
    sys.exit(main())
