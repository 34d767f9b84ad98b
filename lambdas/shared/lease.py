"""A job's own overlap guard: a lease item in the job's table, taken with a conditional write.

Reserved concurrency of 1 keeps a scheduled job from overlapping itself, but a sandbox account
(``concurrencyReservations: false``) cannot reserve any. Scheduler retries or a slow run would
then start a second copy; the lease makes that copy return at once. A run that dies keeps the
lease until it expires (the job's timeout), so the next schedule takes over.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from shared.orders_schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

LEASE_PREFIX = "LEASE#"
LEASE_SORT_KEY = "LEASE"


@dataclass
class Lease:
    client: Any
    table_name: str
    job: str
    holder: str = ""

    def _key(self) -> dict[str, Any]:
        return {PARTITION_KEY: {"S": f"{LEASE_PREFIX}{self.job}"}, SORT_KEY: {"S": LEASE_SORT_KEY}}

    def acquire(self, now: datetime, seconds: int) -> bool:
        """True if this run holds the lease until ``now + seconds``; False if another run does."""
        self.holder = uuid.uuid4().hex
        until = int(now.timestamp()) + seconds
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={**self._key(), "holder": {"S": self.holder}, "leaseUntil": {"N": str(until)},
                      TTL_ATTRIBUTE: {"N": str(until + 86400)}, "entity": {"S": "lease"}},
                ConditionExpression="attribute_not_exists(#pk) OR leaseUntil < :now",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
                ExpressionAttributeValues={":now": {"N": str(int(now.timestamp()))}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, now: datetime) -> None:
        """End the lease early (only our own: a run that outlived its lease must not end the next one's)."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={**self._key(), "holder": {"S": ""}, "leaseUntil": {"N": "0"},
                      TTL_ATTRIBUTE: {"N": str(int(now.timestamp()) + 86400)}, "entity": {"S": "lease"}},
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": {"S": self.holder}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
