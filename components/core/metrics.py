"""The AWS metrics the alarms may watch: namespace, metric, the statistics that mean something
for it and the dimension sets AWS publishes it under, with the documentation page each row
comes from. A test holds every alarm the program builds to a row, so an alarm cannot watch a
metric under dimensions AWS never publishes (it would never fire)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["METRICS", "MetricFamily", "find_metric"]

LAMBDA = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html"
SQS = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html"
HTTP_API = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html"
DYNAMODB = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html"
EVENTS = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html"
SCHEDULER = "https://docs.aws.amazon.com/scheduler/latest/UserGuide/monitoring-cloudwatch.html"
KINESIS = "https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html"
SNS = "https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html"
STATES = "https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html"
USAGE = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Quotas-Visualize-Alarms.html"
POWERTOOLS_METRICS = "https://docs.aws.amazon.com/powertools/python/latest/core/metrics/"
SERVICE_NAMESPACE = "<service>"  # a custom namespace: the service's name (POWERTOOLS_METRICS_NAMESPACE)

SUMS = frozenset({"Sum"})
PEAKS = frozenset({"Maximum"})
TIMINGS = frozenset({"Maximum", "Average", "p50", "p90", "p95", "p99"})
RATES = frozenset({"Average", "Sum"})  # API Gateway 4xx/5xx: Average is the error rate


@dataclass(frozen=True)
class MetricFamily:
    namespace: str
    metrics: frozenset[str]
    statistics: frozenset[str]
    dimension_sets: tuple[frozenset[str], ...]
    source: str


def _family(namespace: str, metrics: str, statistics: frozenset[str], dimension_sets: list[tuple[str, ...]],
            source: str) -> MetricFamily:
    return MetricFamily(namespace, frozenset(metrics.split()), statistics,
                        tuple(frozenset(d) for d in dimension_sets), source)


METRICS: tuple[MetricFamily, ...] = (
    # Execution metrics are published per state machine (dimension StateMachineArn).
    _family("AWS/States", "ExecutionsFailed ExecutionsTimedOut ExecutionThrottled ExecutionsAborted ExecutionsStarted "
            "ExecutionsSucceeded", SUMS, [("StateMachineArn",)], STATES),
    _family("AWS/Lambda", "Errors Throttles Invocations AsyncEventsDropped DestinationDeliveryFailures "
            "DeadLetterErrors", SUMS, [("FunctionName",), ("FunctionName", "Resource")], LAMBDA),
    _family("AWS/Lambda", "Duration", TIMINGS, [("FunctionName",), ("FunctionName", "Resource")], LAMBDA),
    _family("AWS/Lambda", "IteratorAge", PEAKS, [("FunctionName",), ("FunctionName", "Resource")], LAMBDA),
    _family("AWS/Lambda", "ClaimedAccountConcurrency ConcurrentExecutions", PEAKS, [()], LAMBDA),
    _family("AWS/Usage", "ResourceCount", PEAKS, [("Service", "Type", "Resource", "Class")], USAGE),
    _family("AWS/SQS", "ApproximateAgeOfOldestMessage ApproximateNumberOfMessagesVisible", PEAKS,
            [("QueueName",)], SQS),
    # HTTP APIs: per API and stage; per route only with detailed metrics on. Method/Resource are REST's.
    _family("AWS/ApiGateway", "4xx 5xx", RATES, [("ApiId",), ("ApiId", "Stage"), ("ApiId", "Stage", "Route")],
            HTTP_API),
    _family("AWS/ApiGateway", "Latency IntegrationLatency", TIMINGS,
            [("ApiId",), ("ApiId", "Stage"), ("ApiId", "Stage", "Route")], HTTP_API),
    _family("AWS/DynamoDB", "ReadThrottleEvents WriteThrottleEvents", SUMS,
            [("TableName",), ("TableName", "GlobalSecondaryIndexName")], DYNAMODB),
    _family("AWS/DynamoDB", "SystemErrors", SUMS, [("TableName", "Operation")], DYNAMODB),
    _family("AWS/Events", "FailedInvocations InvocationsFailedToBeSentToDlq", SUMS,
            [("RuleName",), ("EventBusName", "RuleName")], EVENTS),
    _family("AWS/Scheduler", "TargetErrorCount TargetErrorThrottledCount InvocationDroppedCount "
            "InvocationsFailedToBeSentToDeadLetterCount", SUMS, [(), ("ScheduleGroup",)], SCHEDULER),
    _family("AWS/Kinesis", "WriteProvisionedThroughputExceeded", frozenset({"Average", "Sum"}), [("StreamName",)],
            KINESIS),
    _family("AWS/SNS", "NumberOfNotificationsFailed NumberOfNotificationsFailedToRedriveToDlq", SUMS,
            [("TopicName",)], SNS),
    # The service's own counters, published by Powertools Metrics (EMF) under the namespace
    # POWERTOOLS_METRICS_NAMESPACE with the default "service" dimension.
    _family(SERVICE_NAMESPACE, "PaymentExceptions", SUMS, [("service",)], POWERTOOLS_METRICS),
)


def find_metric(namespace: str, metric: str) -> MetricFamily | None:
    """The table row of a metric; any namespace outside ``AWS/`` is a service's own."""
    wanted = namespace if namespace.startswith("AWS/") else SERVICE_NAMESPACE
    return next((f for f in METRICS if f.namespace == wanted and metric in f.metrics), None)
