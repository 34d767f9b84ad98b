"""AWS calls per 100-record batch for each worker, side by side with the code before the workers were
batched (issue 17, target 3), both run the same way in moto.

    python bench/worker_batches.py [--baseline REF] [--batches N]

Targets: at most 10 calls per 100 records for notifications, high-value review and the analytics
forwarder, at most 200 for the payments worker. (The fulfilment queue consumer measured by issue 17
became the fulfilment saga's first step in issue 16: one execution per order, nothing to batch.)
Each worker gets batches of 100 new events,
and batches where 10 of the 100 are redeliveries of events applied earlier. Calls are counted at the
handler's own botocore clients; its own time outside those calls (client ms) is measured apart from
moto's, and moto's records/s is printed too (in-process moto copies a table on every transaction,
so it is a ratio of work, not Lambda's throughput). The baseline is the tree at REF (default: the
last commit before batching) through `git archive`; without that history it is skipped and said so.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "33ca14f"  # main before the workers were batched (f3cc71c)
BATCH = 100
TARGETS = {"notifications": 10, "high_value_review": 10, "analytics_forwarder": 10, "payments_worker": 200}
REGION = "us-east-1"
ORDERS, MARKERS, STREAM = "bench-orders", "bench-idempotency", "bench-activity"


# --- the child: one worker from one tree, in moto -------------------------------------------------

def create_tables(first: bool = True) -> None:
    """Empty tables for each batch: moto copies a whole table on every transaction (to roll back),
    so a table grown by earlier batches would charge the batched code for moto's bookkeeping."""
    import boto3

    client = boto3.client("dynamodb", region_name=REGION)
    if not first:
        client.delete_table(TableName=ORDERS)
        client.delete_table(TableName=MARKERS)
    keys = [("pk", "HASH"), ("sk", "RANGE")]
    client.create_table(TableName=ORDERS, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": n, "KeyType": t} for n, t in keys],
                        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n, _ in keys])
    client.create_table(TableName=MARKERS, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    if first:
        boto3.client("kinesis", region_name=REGION).create_stream(StreamName=STREAM, ShardCount=1)


def put_order(order_id: str, state: str) -> None:
    import boto3

    boto3.client("dynamodb", region_name=REGION).put_item(TableName=ORDERS, Item={
        "pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}, "entity": {"S": "order"}, "orderId": {"S": order_id},
        "customerId": {"S": "c-1"}, "state": {"S": state}, "currency": {"S": "EUR"}, "totalAmount": {"N": "1200"},
        "items": {"L": []}, "createdAt": {"S": "2026-12-01T10:00:00.000Z"}, "updatedAt": {"S": "2026-12-01T10:00:00.000Z"}})


def bridge_event(name: str, order_id: str) -> dict[str, Any]:
    common = {"occurredAt": "2026-12-01T10:00:00.000Z", "eventId": str(uuid.uuid4()), "orderId": order_id}
    if name == "OrderPaid":
        detail = {**common, "version": 2, "customerId": "c-1", "paymentId": f"pay-{order_id}", "totalAmount": "1200",
                  "currency": "EUR"}
        source = "payments"
    else:
        detail = {**common, "version": 3, "customerId": "c-1", "currency": "EUR", "totalAmount": "1200",
                  "totalAmountRoundedUp": 1200, "itemCount": 1}
        source = "orders"
    return {"version": "0", "id": str(uuid.uuid4()), "source": source, "detail-type": name, "detail": detail}


def payment_message(order_id: str) -> str:
    payload = {"type": "payment.succeeded", "data": {"orderId": order_id, "paymentId": f"pay-{order_id}",
                                                     "amount": "1200", "currency": "EUR"}}
    return json.dumps({"id": f"wh-{uuid.uuid4()}", "source": "payments", "timestamp": 1, "body": json.dumps(payload)})


def sqs_records(bodies: list[str]) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": body, "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:q", "awsRegion": REGION}
                        for i, body in enumerate(bodies)]}


def bodies_for(worker: str, count: int) -> list[str]:
    """``count`` messages of new events for ``worker`` (and the orders they apply to)."""
    order_ids = [str(uuid.uuid4()) for _ in range(count)]
    if worker == "payments_worker":
        for order_id in order_ids:
            put_order(order_id, "PENDING")
        bodies = [payment_message(order_id) for order_id in order_ids]
    else:
        bodies = [json.dumps(bridge_event("OrderPlaced", order_id)) for order_id in order_ids]
    return bodies


class LambdaContext:
    function_name, memory_limit_in_mb, aws_request_id = "bench", 512, "bench"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def child(tree: Path, worker: str, batches: int) -> dict[str, float]:
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION,
                       "POWERTOOLS_SERVICE_NAME": "orders", "POWERTOOLS_METRICS_NAMESPACE": "orders",
                       "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_TRACE_DISABLED": "true",
                       "ORDERS_TABLE_NAME": ORDERS, "IDEMPOTENCY_TABLE_NAME": MARKERS, "ACTIVITY_STREAM_NAME": STREAM})
    sys.path[:0] = [str(tree / "lambdas"), str(tree)]  # the archive root: the folder, shared/, components/
    from botocore.client import BaseClient
    from moto import mock_aws

    with mock_aws():
        create_tables()
        module = __import__(f"{worker}.handler", fromlist=["handler"])
        counted: list[str] = []
        in_calls = [0.0, 0.0]  # the current call's start, the time spent inside calls (moto's share)

        def before(event_name: str, **_: Any) -> None:
            counted.append(event_name)
            in_calls[0] = time.perf_counter()

        def after(**_: Any) -> None:
            in_calls[1] += time.perf_counter() - in_calls[0]

        for client in {id(v): v for v in vars(module).values() if isinstance(v, BaseClient)}.values():
            client.meta.events.register("before-call.*.*", before)
            client.meta.events.register("after-call.*.*", after)
        direct = worker == "high_value_review" and not hasattr(module, "batch")  # before: one event per invocation
        context, results = LambdaContext(), {}

        def invoke(bodies: list[str]) -> None:
            if not bodies:
                return
            with contextlib.redirect_stdout(io.StringIO()):  # the metrics' EMF lines
                if direct:
                    for body in bodies:
                        module.handler(json.loads(body), context)
                    return
                response = module.handler(sqs_records(bodies), context)
            if response["batchItemFailures"]:
                raise SystemExit(f"{worker}: records failed: {response['batchItemFailures'][:3]}")

        for label, repeats in (("fresh", 0), ("repeats", 10)):
            elapsed, outside, calls = 0.0, 0.0, 0
            for _ in range(batches):
                create_tables(first=False)
                delivered = bodies_for(worker, repeats)
                invoke(delivered)  # applied by an earlier batch: their redeliveries come in this one
                bodies = bodies_for(worker, BATCH - repeats) + delivered
                counted.clear()
                in_calls[1] = 0.0
                start = time.perf_counter()
                invoke(bodies)
                elapsed += time.perf_counter() - start
                outside += time.perf_counter() - start - in_calls[1]
                calls += len(counted)
            results[f"calls_{label}"] = calls / batches
            results[f"records_per_s_{label}"] = BATCH * batches / elapsed
            results[f"client_ms_{label}"] = outside * 1000 / batches
        return results


# --- the parent: both trees, every worker ---------------------------------------------------------

def baseline_tree(ref: str, into: Path) -> Path | None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref, "lambdas", "components"],
                             capture_output=True)
    if archive.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def measure(tree: Path, worker: str, batches: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", str(tree), worker, str(batches)],
                          capture_output=True, text=True, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        raise SystemExit(f"{worker} in {tree}: {done.stderr.strip().splitlines()[-1] if done.stderr else done.stdout}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE, help="git ref of the code to compare with")
    parser.add_argument("--batches", type=int, default=3, help="batches of 100 per measurement")
    parser.add_argument("--child", nargs=3, metavar=("TREE", "WORKER", "BATCHES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        tree, worker, batches = args.child
        print(json.dumps(child(Path(tree), worker, int(batches))))
        return 0
    missed = []
    with tempfile.TemporaryDirectory() as scratch:
        before_tree = baseline_tree(args.baseline, Path(scratch))
        if before_tree is None:
            print(f"baseline {args.baseline} not in this clone's history: comparing with nothing")
        print(f"{'worker':<20} {'calls/100':>9} {'(10 repeats)':>12} {'before':>7} {'target':>7}  "
              f"{'client ms/100':>13} {'before':>7}  {'moto records/s':>14} {'before':>7}")
        for worker, target in TARGETS.items():
            now = measure(ROOT, worker, args.batches)
            before = measure(before_tree, worker, args.batches) if before_tree else None
            ok = max(now["calls_fresh"], now["calls_repeats"]) <= target
            if not ok:
                missed.append(worker)

            def old(key: str, before: dict[str, float] | None = before) -> str:
                return f"{before[key]:.0f}" if before else "-"

            print(f"{worker:<20} {now['calls_fresh']:>9.0f} {now['calls_repeats']:>12.0f} {old('calls_fresh'):>7} "
                  f"{target:>7}  {now['client_ms_fresh']:>13.0f} {old('client_ms_fresh'):>7}  "
                  f"{now['records_per_s_fresh']:>14.0f} {old('records_per_s_fresh'):>7}  {'PASS' if ok else 'FAIL'}")
        print("client ms: the handler's own time per 100 records, outside its AWS calls (each call adds a network "
              "round trip in AWS); moto records/s: in-process moto, which copies a table on every transaction")
    if missed:
        print(f"missed: {', '.join(missed)}")
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
