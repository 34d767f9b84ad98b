"""Cold-start proxy: a fresh interpreter imports a handler and serves one request against moto
server on 127.0.0.1, side by side with the floor `python -c "import boto3; from aws_lambda_powertools import Logger"`.

    python bench/cold_start.py [orders_api] [webhook_receiver]

Target (issues 3 and 4): handler <= 1.5 x floor. Prints medians over interleaved runs.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUNS = 9
FLOOR = "import boto3; from aws_lambda_powertools import Logger"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("moto server did not start")


def orders_api_case(endpoint: str) -> tuple[dict[str, str], str]:
    """Tables from the component's specs, one order, and the script that serves GET /orders/{id}."""
    import boto3

    from components.runtime.idempotency_schema import IDEMPOTENCY_TABLE_ENV
    from lambdas.shared import orders_schema as schema
    from system.orders import IDEMPOTENCY_TABLE, ORDERS_TABLE
    from tests.lambdas.conftest import create_table

    create_table(ORDERS_TABLE, "orders-bench")
    create_table(IDEMPOTENCY_TABLE, "idempotency-bench")
    order_id = str(uuid.uuid4())
    item = {**schema.order_key(order_id), "orderId": order_id, "customerId": "c", "state": "PENDING", "currency": "EUR",
            "totalAmount": 10, "items": [], "createdAt": "2026-11-23T12:00:00.000Z", "updatedAt": "2026-11-23T12:00:00.000Z"}
    boto3.resource("dynamodb").Table("orders-bench").put_item(Item=item)
    env = {schema.ORDERS_TABLE_ENV: "orders-bench", IDEMPOTENCY_TABLE_ENV: "idempotency-bench"}
    event = {"version": "2.0", "routeKey": "GET /orders/{orderId}", "rawPath": f"/orders/{order_id}", "rawQueryString": "",
             "headers": {}, "requestContext": {"http": {"method": "GET", "path": f"/orders/{order_id}", "sourceIp": "1.1.1.1"},
                                               "requestId": "bench", "stage": "$default"}, "isBase64Encoded": False}
    script = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(ROOT / 'lambdas')!r}, {str(ROOT)!r}]\n"  # the archive root: folder, shared/, components/
        "from orders_api.handler import handler\n"
        "class C:\n function_name='bench'; memory_limit_in_mb=256; aws_request_id='b'\n"
        " invoked_function_arn='arn:aws:lambda:us-east-1:123456789012:function:bench'\n"
        " def get_remaining_time_in_millis(self): return 10000\n"
        f"r = handler(json.loads({json.dumps(event)!r}), C())\n"
        "assert r['statusCode'] == 200, r\n"
    )
    return env, script


WEBHOOK_SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


def webhook_setup(endpoint: str) -> dict[str, str]:
    """A signing secret and a queue on moto server; the receiver's environment."""
    import boto3

    from components.runtime import webhook_schema as names

    arn = boto3.client("secretsmanager").create_secret(Name=f"bench-{uuid.uuid4()}", SecretString=WEBHOOK_SECRET)["ARN"]
    url = boto3.client("sqs").create_queue(QueueName=f"bench-{uuid.uuid4()}")["QueueUrl"]
    return {names.SCHEME_ENV: "standard", names.SECRET_ARN_ENV: arn, names.QUEUE_URL_ENV: url, names.SOURCE_ENV: "payments"}


def signed_webhook_event(body: str, msg_id: str) -> dict:
    sys.path.insert(0, str(ROOT / "lambdas"))
    from components.runtime.webhook_receiver.signatures import sign_standard

    now = int(time.time())
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(now),
               "webhook-signature": sign_standard(WEBHOOK_SECRET, msg_id, now, body.encode())}
    return {"version": "2.0", "rawPath": "/webhooks/payments", "headers": headers, "body": body, "isBase64Encoded": False,
            "requestContext": {"http": {"method": "POST", "path": "/webhooks/payments"}, "requestId": "bench"}}


def webhook_receiver_case(endpoint: str) -> tuple[dict[str, str], str]:
    """One signed request, prepared here (valid for the 5-minute tolerance, far longer than the bench)."""
    env = webhook_setup(endpoint)
    body = json.dumps({"type": "payment.succeeded", "data": {"orderId": "o", "paymentId": "p", "amount": "1",
                                                             "currency": "EUR"}})
    event = signed_webhook_event(body, "m1")
    script = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(ROOT / 'lambdas')!r}, {str(ROOT)!r}]\n"  # the archive root: folder, shared/, components/
        "from components.runtime.webhook_receiver.handler import handler\n"
        "class C:\n function_name='bench'; memory_limit_in_mb=256; aws_request_id='b'\n"
        " invoked_function_arn='arn:aws:lambda:us-east-1:123456789012:function:bench'\n"
        " def get_remaining_time_in_millis(self): return 5000\n"
        f"r = handler(json.loads({json.dumps(event)!r}), C())\n"
        "assert r['statusCode'] == 202, r\n"
    )
    return env, script


CASES = {"orders_api": orders_api_case, "webhook_receiver": webhook_receiver_case}


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    names = sys.argv[1:] or list(CASES)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    base_env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "orders",
                "POWERTOOLS_METRICS_NAMESPACE": "orders", "POWERTOOLS_LOG_LEVEL": "WARNING",
                # As inside Lambda with tracing Active: the X-Ray SDK uses its Lambda context and local sampler.
                "AWS_LAMBDA_FUNCTION_NAME": "bench", "LAMBDA_TASK_ROOT": str(ROOT / "lambdas"),
                "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}
    os.environ.update({k: v for k, v in base_env.items() if k.startswith("AWS_")})
    server = start_moto(port)
    worst = 0.0
    try:
        for name in names:
            case_env, script = CASES[name](endpoint)
            env = {**base_env, **case_env}
            commands = {"floor": [sys.executable, "-c", FLOOR], name: [sys.executable, "-c", script]}
            for command in commands.values():
                timed(command, env)  # warm caches
            samples: dict[str, list[float]] = {key: [] for key in commands}
            for _ in range(RUNS):
                for key, command in commands.items():
                    samples[key].append(timed(command, env))
            floor, handler = statistics.median(samples["floor"]), statistics.median(samples[name])
            ratio = handler / floor
            worst = max(worst, ratio)
            print(f"{name}: floor {floor * 1000:.0f} ms, import + one request {handler * 1000:.0f} ms, "
                  f"ratio {ratio:.2f} (target <= 1.50): {'PASS' if ratio <= 1.5 else 'FAIL'}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0 if worst <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
