"""The local cloud: time from start to ready, and one order's end-to-end latency to every subscriber.

    python bench/local_cloud.py [--stack dev] [--orders 5]

Ready: `make local`'s work, from nothing to serving (synth, moto server, deploy, IAM on, every
function's sandbox started as its role). Target: <= 30 s on 2 cores.
Latency: a high-value order and its payment webhook, warm, from POST /orders until every subscriber
has its event (OrderPlaced at analytics and high-value review, OrderPaid at notifications, and the
fulfilment saga's execution started by OrderPaid), median of ``--orders``. Its floor is what Lambda
itself must wait before OrderPaid exists on the bus (webhook -> queue -> worker -> table stream ->
relay -> bus): the batching windows of the worker's and the relay's mappings, read from the synth (a
batch that is not full waits that long). The consumers' own windows are not added: the order's
OrderPlaced opens them earlier, so they overlap (the saga's rule starts it at once).
Target: <= 2.0x the floor (the rest is polling, moto and the invocations).
Exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

READY_TARGET_SECONDS = 30.0
LATENCY_TARGET_RATIO = 2.0
EXPECTED = {"notifications-consumer": "OrderPaid", "analytics-consumer": "OrderPlaced",
            "high-value-review-consumer": "OrderPlaced"}


def window(cloud, mapping_name: str) -> float:
    mapping = next(m for m in cloud.deployed.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
                   if m["name"] == mapping_name)
    return float(mapping["inputs"].get("maximumBatchingWindowInSeconds", 0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--orders", type=int, default=5)
    args = parser.parse_args(argv)
    from tools.local.cloud import LocalCloud
    from tools.local.demo import Driver

    marks = {"start": time.monotonic()}
    ends = {"starting moto": "synth", "IAM enforced": "moto server + deploy", "starting ": "runtime"}

    def progress(line: str) -> None:
        step = next((name for prefix, name in ends.items() if line.startswith(prefix)), None)
        if step and step not in marks:
            marks[step] = time.monotonic()

    with tempfile.TemporaryDirectory() as logs:
        cloud = LocalCloud(args.stack, progress=progress, log_dir=Path(logs), http=False)
        cloud.start()
        marks["sandboxes"] = time.monotonic()
        try:
            ready = cloud.ready_seconds
            names = list(marks)
            steps = {name: marks[name] - marks[previous] for previous, name in itertools.pairwise(names)}
            driver = Driver(cloud)
            unit = f"{driver.high_value_threshold / 2 + 0.5:.2f}"
            latencies = []
            for _ in range(args.orders + 1):  # the first one warms every sandbox's code path
                started = time.monotonic()
                order_id = driver.place_order(unit, quantity=2)
                status, _ = driver.send_payment_webhook(order_id, f"{2 * float(unit):.2f}")
                assert status == 202, status
                driver.wait_for(lambda order_id=order_id: all(
                    EXPECTED[c] in driver.received(order_id)[c] for c in EXPECTED) and driver.executions(order_id),
                    "the order's events at every subscriber")
                latencies.append(time.monotonic() - started)
            floor = window(cloud, "payments-webhook-worker-events") + window(cloud, "outbox-relay-events")
        finally:
            cloud.stop()
    warm = latencies[1:]
    median = statistics.median(warm)
    print(f"ready in {ready:.1f} s (target <= {READY_TARGET_SECONDS:.0f} s); steps: "
          + ", ".join(f"{name}: {seconds:.1f}s" for name, seconds in steps.items()))
    print(f"one order (placed, paid) to every subscriber: median {median:.2f} s over {len(warm)} warm orders "
          f"(min {min(warm):.2f}, max {max(warm):.2f}; first {latencies[0]:.2f}); floor {floor:.1f} s of batching "
          f"windows -> {median / floor:.2f}x (target <= {LATENCY_TARGET_RATIO:.1f}x)")
    met = ready <= READY_TARGET_SECONDS and median <= LATENCY_TARGET_RATIO * floor
    print("PASS" if met else "FAIL")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
