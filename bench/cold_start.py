"""Cold start: each function of the prod synth imported by a fresh interpreter, side by side with
its floor: `import boto3` + Powertools Logger + creating exactly the clients that handler creates at
import (found by recording botocore's create_client while it imports), as the child's CPU time. Then the first invocation,
reported apart, for the API and the webhook receiver against moto server on 127.0.0.1.

    python bench/cold_start.py [--runs N] [--only NAME ...] [--cookbook DIR]

Target (issue 17): every import <= 1.2 x its floor (medians of interleaved runs). With --cookbook,
a checkout of aws-lambda-handler-cookbook, its create-order handler's import is timed in its own
venv (dependencies from PyPI) as a peer; without it the peer line says why it is skipped.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
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
TARGET = 1.2
ARCHIVE_PATH = f"sys.path[:0] = [{str(ROOT / 'lambdas')!r}, {str(ROOT)!r}]\n"  # the archive root: folder, shared/, components/
RECORD_CLIENTS = (
    "import botocore.session, json, atexit\n"
    "created = []\n"
    "real = botocore.session.Session.create_client\n"
    "def create_client(self, service_name, *a, **k):\n"
    "    created.append(service_name)\n"
    "    return real(self, service_name, *a, **k)\n"
    "botocore.session.Session.create_client = create_client\n"
)


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


CONTEXT = ("class C:\n function_name='bench'; memory_limit_in_mb=256; aws_request_id='b'\n"
           " invoked_function_arn='arn:aws:lambda:us-east-1:123456789012:function:bench'\n"
           " def get_remaining_time_in_millis(self): return 10000\n")


def first_invocation_script(module: str, event: dict, status: int) -> str:
    """Import, then one invocation: both timed in-process, and the modules the invocation still loads."""
    return (
        "import json, sys, time\n" + ARCHIVE_PATH + CONTEXT
        + "start = time.perf_counter()\n"
        + f"from {module} import handler\n"
        + "imported = time.perf_counter(); loaded = set(sys.modules)\n"
        + f"r = handler(json.loads({json.dumps(event)!r}), C())\n"
        + "done = time.perf_counter()\n"
        + f"assert r['statusCode'] == {status}, r\n"
        + "late = sorted({'.'.join(m.split('.')[:3]) for m in set(sys.modules) - loaded})\n"
        + "print(json.dumps({'import_ms': (imported - start) * 1000, 'first_ms': (done - imported) * 1000,"
        + " 'late_modules': late}))\n"
    )


def orders_tables() -> tuple[dict[str, str], object]:
    """Fresh orders and idempotency tables on moto server: the API's environment and the orders table."""
    import boto3

    from components.runtime.idempotency_schema import IDEMPOTENCY_TABLE_ENV
    from lambdas.shared import orders_schema as schema
    from system.orders import IDEMPOTENCY_TABLE, ORDERS_TABLE
    from tests.lambdas.conftest import create_table

    suffix = uuid.uuid4().hex[:8]
    create_table(ORDERS_TABLE, f"orders-bench-{suffix}")
    create_table(IDEMPOTENCY_TABLE, f"idempotency-bench-{suffix}")
    env = {schema.ORDERS_TABLE_ENV: f"orders-bench-{suffix}", IDEMPOTENCY_TABLE_ENV: f"idempotency-bench-{suffix}",
           schema.AUTHORIZER_ENV: "jwt"}
    return env, boto3.resource("dynamodb").Table(env[schema.ORDERS_TABLE_ENV])


def orders_api_case() -> tuple[dict[str, str], str]:
    """GET /orders/{id} of one order the caller owns."""
    from lambdas.shared import orders_schema as schema
    from tests.lambdas.http_events import http_event

    env, table = orders_tables()
    order_id = str(uuid.uuid4())
    table.put_item(Item={
        **schema.order_key(order_id), "entity": "order", "orderId": order_id, "customerId": "c", "state": "PENDING",
        "currency": "EUR", "totalAmount": 10, "items": [], "createdAt": "2026-11-23T12:00:00.000Z",
        "updatedAt": "2026-11-23T12:00:00.000Z"})
    event = http_event("GET", f"/orders/{order_id}", route_key="GET /orders/{orderId}", claims={"sub": "c"})
    event["pathParameters"] = {"orderId": order_id}
    return env, first_invocation_script("orders_api.handler", event, 200)


def orders_api_post_case() -> tuple[dict[str, str], str]:
    """POST /orders with an Idempotency-Key: the parser, pydantic and Powertools idempotency at work."""
    from tests.lambdas.http_events import http_event

    env, _ = orders_tables()
    body = {"customerId": "c", "currency": "EUR", "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "12.50"}]}
    event = http_event("POST", "/orders", body, headers={"Idempotency-Key": "bench-1"}, claims={"sub": "c"})
    return env, first_invocation_script("orders_api.handler", event, 201)


WEBHOOK_SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


def webhook_receiver_case() -> tuple[dict[str, str], str]:
    """One signed request, prepared here (valid for the 5-minute tolerance, far longer than the bench)."""
    import boto3

    from components.runtime import webhook_schema as names
    from components.runtime.webhook_receiver.signatures import sign_standard

    arn = boto3.client("secretsmanager").create_secret(Name=f"bench-{uuid.uuid4()}", SecretString=WEBHOOK_SECRET)["ARN"]
    url = boto3.client("sqs").create_queue(QueueName=f"bench-{uuid.uuid4()}")["QueueUrl"]
    env = {names.SCHEME_ENV: "standard", names.SECRET_ARN_ENV: arn, names.QUEUE_URL_ENV: url, names.SOURCE_ENV: "payments"}
    body = json.dumps({"type": "payment.succeeded", "data": {"orderId": "o", "paymentId": "p", "amount": "1",
                                                             "currency": "EUR"}})
    now = int(time.time())
    headers = {"webhook-id": "m1", "webhook-timestamp": str(now),
               "webhook-signature": sign_standard(WEBHOOK_SECRET, "m1", now, body.encode())}
    event = {"version": "2.0", "rawPath": "/webhooks/payments", "headers": headers, "body": body,
             "isBase64Encoded": False, "requestContext": {"http": {"method": "POST", "path": "/webhooks/payments"},
                                                          "requestId": "bench"}}
    return env, first_invocation_script("components.runtime.webhook_receiver.handler", event, 202)


FIRST_INVOCATIONS = {"orders_api GET": orders_api_case, "orders_api POST": orders_api_post_case,
                     "webhook_receiver": webhook_receiver_case}


def functions_of_the_synth() -> dict[str, tuple[str, dict[str, str]]]:
    """Each function of the prod synth: its handler module and its environment."""
    done = subprocess.run([sys.executable, "-m", "tools.synth", "prod"], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    functions = {}
    for resource in json.loads(done.stdout)["resources"]:
        if resource["type"] == "aws:lambda/function:Function":
            inputs = resource["inputs"]
            variables = (inputs.get("environment") or {}).get("variables") or {}
            functions[resource["name"]] = (inputs["handler"].rsplit(".", 1)[0], {k: str(v) for k, v in variables.items()})
    return functions


def run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{command[-1][:80]!r} failed: {done.stderr.strip()[-400:]}")
    return done.stdout


def timed(command: list[str], env: dict[str, str], cwd: Path = ROOT) -> float:
    """The child's CPU time (user + system): steadier than wall time on a shared 2-core machine,
    and what an import costs where nothing else competes for the CPU."""
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{command[-1][:80]!r} exited {child.returncode}")
    return usage.ru_utime + usage.ru_stime


def interleaved(commands: dict[str, list[str]], env: dict[str, str], runs: int, cwd: Path = ROOT) -> dict[str, float]:
    for command in commands.values():
        timed(command, env, cwd)  # warm the page cache
    samples: dict[str, list[float]] = {key: [] for key in commands}
    for _ in range(runs):
        for key, command in commands.items():
            samples[key].append(timed(command, env, cwd))
    return {key: statistics.median(values) for key, values in samples.items()}


def clients_created_at_import(module: str, env: dict[str, str]) -> list[str]:
    script = (RECORD_CLIENTS + "import sys\n" + ARCHIVE_PATH + f"import {module}\n"
              + "print(json.dumps(created))\n")
    return json.loads(run([sys.executable, "-c", script], env).strip().splitlines()[-1])


def floor_script(services: list[str]) -> str:
    return "import boto3\nfrom aws_lambda_powertools import Logger\n" + "".join(
        f"boto3.client({service!r})\n" for service in services)


def cookbook_peer(checkout: Path | None, base_env: dict[str, str], ours: dict[str, str], runs: int) -> str:
    """The cookbook's create-order handler import in its own venv, against its own floor."""
    if checkout is None:
        return ("peer: skipped (aws-lambda-handler-cookbook is not published on PyPI, the only registry here; "
                "pass --cookbook DIR with a checkout of it)")
    venv = checkout / ".bench-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pydantic>=2.12.0", "email-validator",
                        "aws-lambda-powertools[tracer]>=3.22.1", "pydynox[pydantic]>=0.22.0", "cachetools", "boto3",
                        "aws-lambda-env-modeler"], check=True)
    env = {**base_env, **ours, "PYTHONPATH": str(checkout), "TABLE_NAME": "orders", "IDEMPOTENCY_TABLE_NAME": "idem",
           "CONFIGURATION_APP": "app", "CONFIGURATION_ENV": "dev", "CONFIGURATION_NAME": "conf",
           "CONFIGURATION_MAX_AGE_MINUTES": "5", "REST_API": "https://example.com/api",
           "ROLE_ARN": "arn:aws:iam::123456789012:role/bench-role", "LOG_LEVEL": "INFO"}
    handler = [str(python), "-c", "import service.handlers.handle_create_order"]
    our_handler = [sys.executable, "-c", "import sys\n" + ARCHIVE_PATH + "import orders_api.handler"]
    # Its OpenAPI resolver discovers handler files relative to the working directory: run from the checkout.
    medians = interleaved({"cookbook": handler, "ours": our_handler}, env, runs, cwd=checkout)
    return (f"peer: cookbook create-order import {medians['cookbook'] * 1000:.0f} ms, orders_api "
            f"{medians['ours'] * 1000:.0f} ms: ratio {medians['ours'] / medians['cookbook']:.2f} of the cookbook's")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", nargs="*", help="function names of the synth (default: all)")
    parser.add_argument("--cookbook", type=Path, help="a checkout of ran-isenberg/aws-lambda-handler-cookbook")
    args = parser.parse_args()
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    base_env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "orders",
                "POWERTOOLS_METRICS_NAMESPACE": "orders", "POWERTOOLS_LOG_LEVEL": "WARNING",
                # As inside Lambda with tracing Active: the X-Ray SDK uses its Lambda context and local sampler.
                "AWS_LAMBDA_FUNCTION_NAME": "bench", "LAMBDA_TASK_ROOT": str(ROOT / "lambdas"),
                "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}
    base_env.pop("PYTHONPATH", None)
    os.environ.update({k: v for k, v in base_env.items() if k.startswith("AWS_")})
    worst = 0.0
    print(f"{'function':<28} {'clients':<24} {'floor ms':>8} {'import ms':>9} {'ratio':>6}  (target <= {TARGET})")
    functions = functions_of_the_synth()
    for name, (module, variables) in functions.items():
        if args.only and name not in args.only:
            continue
        env = {**base_env, **variables, "POWERTOOLS_LOG_LEVEL": "WARNING"}
        services = clients_created_at_import(module, env)
        medians = interleaved({"floor": [sys.executable, "-c", floor_script(services)],
                               "import": [sys.executable, "-c", "import sys\n" + ARCHIVE_PATH + f"import {module}"]},
                              env, args.runs)
        ratio = medians["import"] / medians["floor"]
        worst = max(worst, ratio)
        print(f"{name:<28} {','.join(services) or '-':<24} {medians['floor'] * 1000:>8.0f} "
              f"{medians['import'] * 1000:>9.0f} {ratio:>6.2f}  {'PASS' if ratio <= TARGET else 'FAIL'}")
    server = start_moto(port)
    try:
        print("first invocation (in-process, after the import; modules it still loads):")
        for label, case in FIRST_INVOCATIONS.items():
            case_env, script = case()
            env = {**base_env, **case_env}
            results = [json.loads(run([sys.executable, "-c", script], env).strip().splitlines()[-1])
                       for _ in range(max(3, args.runs // 2))]
            import_ms = statistics.median(r["import_ms"] for r in results)
            first_ms = statistics.median(r["first_ms"] for r in results)
            late = results[-1]["late_modules"]
            print(f"  {label:<20} import {import_ms:>5.0f} ms, first invocation {first_ms:>5.0f} ms, "
                  f"{len(late)} modules loaded late{': ' + ', '.join(late[:6]) if late else ''}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(cookbook_peer(args.cookbook, base_env, functions["api-orders"][1], args.runs))
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
