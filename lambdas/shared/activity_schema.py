"""Names the activity analytics infrastructure, producers and the aggregator agree on.

Activity event (a Kinesis record's JSON data; partition key = customer or order id):
    {"type": str (1-64 chars), "occurredAt": ISO-8601 with a UTC offset (years 2000-9998),
     "customerId"?: str, "orderId"?: str, "eventId"?: str,
     "amount"?: decimal string, 0 <= amount < 10^15, at most 4 decimal places}

Aggregates table: pk = AGG#<window start>, sk = <type>, count (N), amount (N); and one
checkpoint per shard: pk = SHARD#<shard id>, sk = CHECKPOINT, lastSequence (S, the sequence number's
digits; compared as a number: Kinesis sequence numbers have up to 128 digits).
"""

from __future__ import annotations

AGGREGATES_TABLE_ENV = "AGGREGATES_TABLE_NAME"
ACTIVITY_STREAM_ENV = "ACTIVITY_STREAM_NAME"
WINDOW_SECONDS_ENV = "AGGREGATE_WINDOW_SECONDS"
DEFAULT_WINDOW_SECONDS = 300

PARTITION_KEY = "pk"
SORT_KEY = "sk"
AGGREGATE_PREFIX = "AGG#"
SHARD_PREFIX = "SHARD#"
CHECKPOINT_SORT_KEY = "CHECKPOINT"
MAX_SEQUENCE_DIGITS = 128
MAX_AMOUNT = 10**15  # far above any order total, and well inside DynamoDB's 38 significant digits when summed
AMOUNT_DECIMALS = 4
EARLIEST_YEAR, LATEST_YEAR = 2000, 9998
