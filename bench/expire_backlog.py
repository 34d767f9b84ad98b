"""A 5,000-order backlog of unpaid orders, drained by expire-unpaid-orders runs whose remaining
time is short (each may check its clock ~1,700 times), under in-process moto. Prints the runs
needed, orders expired per run, and wall time. The same scenario, at 500 orders, is a test."""

from __future__ import annotations

import os
import sys
import time
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambdas")]
BACKLOG = 5_000


def main() -> int:
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    import moto.dynamodb.models as moto_dynamodb
    from moto import mock_aws

    from tests.lambdas.orders_fixtures import bulk_pending, orders_table, scan
    from tests.lambdas.test_expire_unpaid_orders import ShortLivedContext

    # moto deep-copies whole tables before each transaction (for rollback); none fails here.
    moto_dynamodb.copy = types.SimpleNamespace(deepcopy=lambda table: table)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    with mock_aws():
        client = orders_table()
        bulk_pending(client, now - timedelta(days=1), BACKLOG)
        from expire_unpaid_orders.expiry import Expirer

        expirer = Expirer(client, "orders-jobs-test")
        per_run, start = [], time.perf_counter()
        while True:
            context = ShortLivedContext(checks_allowed=1_700)
            result = expirer.run(now, now - timedelta(hours=1), context.get_remaining_time_in_millis)
            per_run.append(result.expired)
            if result.complete or len(per_run) > 20:
                break
        elapsed = time.perf_counter() - start
        left = sum(1 for i in scan(client) if i.get("entity") == "order" and i["state"] == "PENDING")
    print(f"{BACKLOG} unpaid orders: {len(per_run)} runs, expired per run {per_run}, {left} left PENDING, "
          f"{elapsed:.1f} s under moto: {'PASS' if left == 0 and sum(per_run) == BACKLOG else 'FAIL'}")
    return 0 if left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
