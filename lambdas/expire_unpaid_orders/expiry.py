"""Expire PENDING orders older than a limit: conditional update + OrderExpired outbox item in one
transaction, so a concurrent payment (or cancel) wins cleanly and a second run has no effect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from shared.dynamo import to_dynamo
from shared.orders_schema import (
    INDEX_SHARDS,
    LEAVE_PENDING,
    ORDER_PREFIX,
    PARTITION_KEY,
    PENDING_INDEX,
    PENDING_INDEX_PARTITION_KEY,
    PENDING_INDEX_SORT_KEY,
    order_key,
)
from shared.outbox import iso, outbox_item

PAGE_SIZE = 100
# Stop with this much time left: enough to finish the transaction in flight and report.
STOP_MARGIN_MS = 10_000


@dataclass
class ExpiryRun:
    expired: int = 0
    lost_race: int = 0
    complete: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"expired": self.expired, "lostRace": self.lost_race, "complete": self.complete}


class Expirer:
    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def run(self, now: datetime, cutoff: datetime, remaining_ms: Callable[[], int]) -> ExpiryRun:
        """Page through every shard of the PENDING index oldest first; leave the rest for the
        next run when time runs short."""
        result = ExpiryRun()
        for shard in range(INDEX_SHARDS):
            start_key = None
            while True:
                if remaining_ms() < STOP_MARGIN_MS:
                    result.complete = False
                    return result
                request: dict[str, Any] = {
                    "TableName": self.table_name,
                    "IndexName": PENDING_INDEX,
                    "KeyConditionExpression": "#shard = :shard AND #since < :cutoff",
                    "ExpressionAttributeNames": {"#shard": PENDING_INDEX_PARTITION_KEY, "#since": PENDING_INDEX_SORT_KEY},
                    "ExpressionAttributeValues": {":shard": {"S": f"PENDING#{shard}"}, ":cutoff": {"S": iso(cutoff)}},
                    "Limit": PAGE_SIZE,
                }
                if start_key:
                    request["ExclusiveStartKey"] = start_key
                page = self.client.query(**request)
                for item in page.get("Items", []):
                    if remaining_ms() < STOP_MARGIN_MS:
                        result.complete = False
                        return result
                    order_id = item[PARTITION_KEY]["S"][len(ORDER_PREFIX):]
                    if self.expire(order_id, now):
                        result.expired += 1
                    else:
                        result.lost_race += 1
                start_key = page.get("LastEvaluatedKey")
                if not start_key:
                    break
        return result

    def expire(self, order_id: str, now: datetime) -> bool:
        """True if this run expired the order; False if it was no longer PENDING."""
        event = outbox_item(order_id, "OrderExpired", "orders", {"orderId": order_id, "reason": "unpaid"}, now)
        try:
            self.client.transact_write_items(TransactItems=[
                {"Update": {
                    "TableName": self.table_name,
                    "Key": to_dynamo(order_key(order_id)),
                    "UpdateExpression": "SET #state = :expired, updatedAt = :now, expiredAt = :now" + LEAVE_PENDING,
                    "ConditionExpression": "#state = :pending",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": to_dynamo({":expired": "EXPIRED", ":pending": "PENDING", ":now": iso(now)}),
                }},
                {"Put": {"TableName": self.table_name, "Item": to_dynamo(event)}},
            ])
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                return False  # paid, cancelled or expired meanwhile: the index lags the table
            raise
        return True
