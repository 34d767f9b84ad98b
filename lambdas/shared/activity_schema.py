"""Names the activity analytics infrastructure, producers and the aggregator agree on.

Activity event (a Kinesis record's JSON data; partition key = customer or order id):
    {"type": str, "occurredAt": ISO-8601 UTC, "customerId"?: str, "orderId"?: str, "amount"?: decimal string}

Aggregates table: pk = AGG#<window start>, sk = <type>, count (N), amount (N); and one
checkpoint per shard: pk = SHARD#<shard id>, sk = CHECKPOINT, lastSequence (S, zero-padded).
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
SEQUENCE_WIDTH = 64  # Kinesis sequence numbers are up to 128 digits long; ours compare as padded text
