"""Activity aggregator: AWS calls per 100-record batch (target <= 8) and records/s in-process
against moto, side by side with a naive version that updates one item per record."""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambdas")]
BATCHES, BATCH_SIZE = 20, 100


def records(batch: int) -> list[dict]:
    out = []
    for i in range(BATCH_SIZE):
        seq = f"{batch * BATCH_SIZE + i + 1:056d}"
        data = {"type": ("OrderPlaced", "PageView", "OrderPaid")[i % 3], "occurredAt": f"2026-11-23T12:{i % 60:02d}:00Z",
                "amount": "12.5"}
        out.append({"eventID": f"shardId-000000000000:{seq}",
                    "kinesis": {"sequenceNumber": seq, "data": base64.b64encode(json.dumps(data).encode()).decode()}})
    return out


def naive(client, table: str, batch: list[dict]) -> int:
    from activity_aggregator.aggregator import parse

    for record in batch:
        activity = parse(record, 300)
        client.update_item(TableName=table, Key={"pk": {"S": f"AGG#{activity.window}"}, "sk": {"S": activity.type}},
                           UpdateExpression="ADD #c :one, #a :amount",
                           ExpressionAttributeNames={"#c": "count", "#a": "amount"},
                           ExpressionAttributeValues={":one": {"N": "1"}, ":amount": {"N": str(activity.amount)}})
    return len(batch)


def main() -> int:
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    import boto3
    from activity_aggregator.aggregator import Aggregator
    from moto import mock_aws

    from system.analytics import AGGREGATES_TABLE
    from tests.lambdas.conftest import create_table

    batches = [records(b) for b in range(BATCHES)]
    with mock_aws():
        create_table(AGGREGATES_TABLE, "batched")
        create_table(AGGREGATES_TABLE, "naive")
        client = boto3.client("dynamodb")
        aggregator = Aggregator(client, "batched", 300)
        calls, start = [], time.perf_counter()
        for batch in batches:
            calls.append(aggregator.process(batch).calls)
        batched = BATCHES * BATCH_SIZE / (time.perf_counter() - start)
        start = time.perf_counter()
        for batch in batches:
            naive(client, "naive", batch)
        one_by_one = BATCHES * BATCH_SIZE / (time.perf_counter() - start)
    worst = max(calls)
    print(f"AWS calls per {BATCH_SIZE}-record batch: {worst} (naive: {BATCH_SIZE}) (target <= 8): "
          f"{'PASS' if worst <= 8 else 'FAIL'}")
    print(f"records/s under in-process moto: batched {batched:.0f}, naive {one_by_one:.0f} ({batched / one_by_one:.1f}x)")
    return 0 if worst <= 8 else 1


if __name__ == "__main__":
    sys.exit(main())
