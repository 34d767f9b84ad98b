"""Prices for the cost model: one table, updated in one place.

Source: docs/PRICES.md (us-east-1, as published by late 2026; most figures from
infracost's test fixtures, internal/resources/aws/*_test.golden, cross-checked with AWS pricing
pages). Units as named; tiers are (monthly upper bound, price) pairs.
"""

from __future__ import annotations

AS_OF = "2026-11"
REGION = "us-east-1"
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600

LAMBDA_REQUEST_PER_MILLION = 0.20
LAMBDA_GB_SECOND = {  # tiers per GB-s per month
    "x86_64": ((6e9, 0.0000166667), (15e9, 0.000015), (float("inf"), 0.0000133334)),
    "arm64": ((7.5e9, 0.0000133334), (18.75e9, 0.0000120001), (float("inf"), 0.0000106667)),
}
LAMBDA_PROVISIONED_CONFIGURED_GB_SECOND = {"arm64": 0.0000033333, "x86_64": 0.0000041667}
LAMBDA_PROVISIONED_DURATION_GB_SECOND = {"arm64": 0.0000077778, "x86_64": 0.0000097222}
LAMBDA_FREE_REQUESTS, LAMBDA_FREE_GB_SECONDS = 1_000_000, 400_000

HTTP_API_PER_MILLION = ((300e6, 1.00), (float("inf"), 0.90))  # 512 KB request units
REST_API_PER_MILLION = ((333e6, 3.50), (667e6, 2.80), (19e9, 2.38), (float("inf"), 1.51))
SQS_PER_MILLION = {"standard": 0.40, "fifo": 0.50}  # 64 KB units
SQS_FREE_REQUESTS = 1_000_000
SNS_PUBLISH_PER_MILLION = 0.50  # deliveries to SQS/Lambda are free
EVENTBRIDGE_EVENT_PER_MILLION = 1.00  # 64 KB units
EVENTBRIDGE_ARCHIVE_PER_GB_PROCESSED, EVENTBRIDGE_ARCHIVE_PER_GB_MONTH = 0.10, 0.023
SCHEDULER_PER_MILLION, SCHEDULER_FREE_INVOCATIONS = 1.00, 14_000_000
# Step Functions Standard: per state transition (the always-free 4,000 a month are not applied).
STEP_FUNCTIONS_PER_THOUSAND_TRANSITIONS = 0.025
KINESIS_SHARD_HOUR, KINESIS_PUT_UNIT_PER_MILLION = 0.015, 0.014  # 25 KB PUT payload units
KINESIS_ON_DEMAND_STREAM_HOUR, KINESIS_ON_DEMAND_GB_IN, KINESIS_ON_DEMAND_GB_OUT = 0.04, 0.08, 0.04
DYNAMODB_WRITE_PER_MILLION, DYNAMODB_READ_PER_MILLION = 0.625, 0.125
DYNAMODB_STORAGE_GB_MONTH, DYNAMODB_PITR_GB_MONTH = 0.25, 0.20
CLOUDWATCH_LOGS_INGEST_GB, CLOUDWATCH_LOGS_STORAGE_GB_MONTH = 0.50, 0.03
CLOUDWATCH_ALARM_MONTH = 0.10  # per metric in the alarm
CLOUDWATCH_COMPOSITE_ALARM_MONTH = 0.50
CLOUDWATCH_CUSTOM_METRIC_MONTH = 0.30  # first 10,000 metrics
# HTTP API detailed metrics: 4xx, 5xx, Count, Latency, IntegrationLatency, DataProcessed per route,
# billed as custom metrics ("Monitor CloudWatch metrics for HTTP APIs in API Gateway").
HTTP_API_DETAILED_METRICS_PER_ROUTE = 6
XRAY_PER_MILLION_TRACES, XRAY_FREE_TRACES = 5.00, 100_000
SECRET_MONTH, SECRET_PER_10K_CALLS = 0.40, 0.05


def tiered(quantity: float, tiers: tuple[tuple[float, float], ...], per: float = 1.0) -> float:
    """Cost of ``quantity`` units over graduated tiers (prices per ``per`` units)."""
    cost, lower = 0.0, 0.0
    for upper, price in tiers:
        if quantity <= lower:
            break
        cost += (min(quantity, upper) - lower) * price / per
        lower = upper
    return cost
