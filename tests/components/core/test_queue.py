from __future__ import annotations

import json

import pytest

from components.core.queue import QueueConfigError, QueueSpec, build_queue, queue_defaults

QUEUE = "aws:sqs/queue:Queue"


def build(spec: QueueSpec):
    return lambda ctx, parent: build_queue(ctx, "work", spec, parent)


def queues(template):
    by_name = {q["name"]: q["inputs"] for q in template.of_type(QUEUE)}
    return by_name["work"], by_name["work-dlq"]


def test_queue_and_dlq_encrypted_with_redrive_and_fourteen_day_dlq(run_builder) -> None:
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=30)), "dev")
    queue, dlq = queues(out.template)
    assert queue["sqsManagedSseEnabled"] is True and dlq["sqsManagedSseEnabled"] is True
    assert dlq["messageRetentionSeconds"] == 14 * 24 * 3600
    assert dlq["messageRetentionSeconds"] >= queue["messageRetentionSeconds"]
    redrive = json.loads(queue["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:123456789012:{dlq['name']}", "maxReceiveCount": 5}
    assert "redrivePolicy" not in dlq


def test_visibility_timeout_is_six_times_the_consumer_timeout_plus_its_batching_window(run_builder) -> None:
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=45)), "dev")
    queue, _ = queues(out.template)
    assert queue["visibilityTimeoutSeconds"] == 271  # 6 x 45 s + the default 1 s window
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=45, consumer_batching_window_seconds=20)), "dev")
    assert queues(out.template)[0]["visibilityTimeoutSeconds"] == 290
    assert queue_defaults(QueueSpec(consumer_timeout_seconds=45, fifo=True,
                                    consumer_batching_window_seconds=20), 5)["visibility_timeout_seconds"] == 270


@pytest.mark.parametrize(("spec", "message"), [
    (QueueSpec(consumer_timeout_seconds=30, visibility_timeout_seconds=60), "6 x"),
    (QueueSpec(consumer_timeout_seconds=30, visibility_timeout_seconds=180, consumer_batching_window_seconds=5),
     "batching window"),
    (QueueSpec(consumer_timeout_seconds=900, visibility_timeout_seconds=50_000), "maximum"),
    (QueueSpec(consumer_timeout_seconds=30, max_receive_count=1), "maxReceiveCount"),
    (QueueSpec(consumer_timeout_seconds=30, retention_seconds=30 * 24 * 3600), "retention"),
])
def test_unsafe_queue_settings_are_clear_errors(spec, message) -> None:
    with pytest.raises(QueueConfigError, match=message):
        queue_defaults(spec, 5)


def test_unsafe_visibility_fails_the_run_before_registering(run_builder) -> None:
    with pytest.raises(QueueConfigError):
        run_builder(build(QueueSpec(consumer_timeout_seconds=30, visibility_timeout_seconds=100)), "dev")


def test_max_receive_count_comes_from_settings(run_builder) -> None:
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=10)), "dev", queueMaxReceiveCount=8)
    queue, _ = queues(out.template)
    assert json.loads(queue["redrivePolicy"])["maxReceiveCount"] == 8


def test_both_queues_deny_non_tls_access_and_extra_statements_are_scoped(run_builder) -> None:
    allow = {"Sid": "RuleSends", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
             "Action": "sqs:SendMessage", "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:events:rule"}}}
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=10, queue_statements=[allow])), "dev")
    policies = {p["name"]: out.template.policy(p) for p in out.template.of_type("aws:sqs/queuePolicy:QueuePolicy")}
    assert set(policies) == {"work-policy", "work-dlq-policy"}
    for policy in policies.values():
        deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    queue_statements = policies["work-policy"]["Statement"]
    sends = [s for s in queue_statements if s.get("Sid") == "RuleSends"]
    assert sends and sends[0]["Resource"].endswith(":orders-dev-work")


def test_only_the_source_queue_may_use_the_dlq(run_builder) -> None:
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=10)), "dev")
    allow = json.loads(out.template.one("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy")["inputs"]["redriveAllowPolicy"])
    assert allow == {"redrivePermission": "byQueue", "sourceQueueArns": ["arn:aws:sqs:us-east-1:123456789012:orders-dev-work"]}


def test_fifo_queues_and_their_dlq_are_fifo(run_builder) -> None:
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=10, fifo=True)), "dev")
    queue, dlq = queues(out.template)
    assert queue["fifoQueue"] is True and dlq["fifoQueue"] is True
    assert queue["name"].endswith(".fifo") and dlq["name"].endswith(".fifo")


def test_queue_age_and_dlq_depth_alarms(run_builder) -> None:
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=10)), "prod")
    alarms = {a["inputs"].get("metricName"): a["inputs"] for a in out.template.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    age, depth = alarms["ApproximateAgeOfOldestMessage"], alarms["ApproximateNumberOfMessagesVisible"]
    assert age["dimensions"] == {"QueueName": "orders-prod-work"} and age["threshold"] == 300
    assert depth["dimensions"] == {"QueueName": "orders-prod-work-dlq"}
    assert depth["threshold"] == 1 and depth["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert age["treatMissingData"] == depth["treatMissingData"] == "missing"
    assert age["alarmActions"] and depth["okActions"]


def test_the_queue_holds_the_documented_numbers(run_builder) -> None:
    """Every number the builder chooses, written here: retention four days, long polling at SQS's
    maximum of 20 s, the DLQ fourteen days and tagged, SSE-SQS on both."""
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=30)), "dev")
    queue, dlq = queues(out.template)
    assert queue["messageRetentionSeconds"] == 345_600 and queue["receiveWaitTimeSeconds"] == 20
    assert queue["visibilityTimeoutSeconds"] == 181
    assert dlq["messageRetentionSeconds"] == 1_209_600 and dlq["tags"] == {"queue-role": "dead-letter"}
    assert "tags" not in queue and "receiveWaitTimeSeconds" not in dlq


@pytest.mark.parametrize(("fields", "accepted"), [
    ({"max_receive_count": 3}, True), ({"max_receive_count": 2}, False),
    ({"consumer_timeout_seconds": 1}, True), ({"consumer_timeout_seconds": 0}, False),
    ({"retention_seconds": 60}, True), ({"retention_seconds": 59}, False),
    ({"retention_seconds": 1_209_600}, True), ({"retention_seconds": 1_209_601}, False),
    ({"consumer_timeout_seconds": 7199, "consumer_batching_window_seconds": 0, "fifo": True,
      "visibility_timeout_seconds": 43_200}, True),
    ({"consumer_timeout_seconds": 7199, "visibility_timeout_seconds": 43_201}, False),
    ({"visibility_timeout_seconds": 181}, True), ({"visibility_timeout_seconds": 180}, False),
])
def test_queue_limits_at_their_boundaries(fields, accepted) -> None:
    spec = QueueSpec(**{"consumer_timeout_seconds": 30, **fields})
    if accepted:
        assert queue_defaults(spec, 5)
    else:
        with pytest.raises(QueueConfigError):
            queue_defaults(spec, 5)


def test_a_longer_source_retention_lengthens_the_dlq_but_fourteen_days_is_the_floor() -> None:
    assert queue_defaults(QueueSpec(consumer_timeout_seconds=30, retention_seconds=600), 5)["dlq_retention_seconds"] \
        == 1_209_600
    sizing = queue_defaults(QueueSpec(consumer_timeout_seconds=30, retention_seconds=600), 7)
    assert (sizing["message_retention_seconds"], sizing["max_receive_count"]) == (600, 7)


def test_polling_stays_within_the_consumers_reserved_concurrency() -> None:
    from components.core.queue import polling_ceiling

    assert polling_ceiling(None) is None and polling_ceiling(None, 50) == 50
    assert polling_ceiling(1) == 2 and polling_ceiling(20) == 20  # SQS's floor is 2
    assert polling_ceiling(20, 20) == 20
    with pytest.raises(QueueConfigError, match="exceeds the consumer's reserved concurrency"):
        polling_ceiling(20, 21)


def test_a_fifo_consumer_takes_at_most_ten_messages_and_no_batching_window(run_builder) -> None:
    from components.core.function import build_function
    from components.core.queue import connect_consumer
    from tests.specs import spec

    def build_pair(fifo: bool, batch_size: int):
        def build(ctx, parent):
            queue = build_queue(ctx, "work", QueueSpec(consumer_timeout_seconds=30, fifo=fifo), parent)
            consumer = build_function(ctx, "consumer", spec("fulfilment", "worker"), parent)
            connect_consumer(ctx, "consumer-events", queue, consumer, parent, batch_size=batch_size, fifo=fifo,
                             batching_window_seconds=1)
        return build

    fifo = run_builder(build_pair(True, 25), "dev").template.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert fifo["inputs"]["batchSize"] == 10 and "maximumBatchingWindowInSeconds" not in fifo["inputs"]
    standard = run_builder(build_pair(False, 25), "dev").template.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert standard["inputs"]["batchSize"] == 25 and standard["inputs"]["maximumBatchingWindowInSeconds"] == 1
    assert standard["inputs"]["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert standard["inputs"]["scalingConfig"] == {"maximumConcurrency": 2}  # dev workers reserve 2


def test_a_consumer_slower_than_its_queue_allows_is_refused(run_builder) -> None:
    from components.core.function import build_function
    from components.core.queue import connect_consumer
    from tests.specs import spec

    def build(ctx, parent):
        queue = build_queue(ctx, "work", QueueSpec(consumer_timeout_seconds=10), parent)
        consumer = build_function(ctx, "consumer", spec("fulfilment", "worker", timeout_seconds=11), parent)
        connect_consumer(ctx, "consumer-events", queue, consumer, parent)

    with pytest.raises(QueueConfigError, match=r"below 6 x the consumer's 11 s timeout"):
        run_builder(build, "dev")


def test_every_queue_resource_is_the_builders_child_on_the_stack_provider_and_replaced_delete_first(run_builder) -> None:
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=30)), "dev")
    records = [r for r in out.run.resources() if r.type.startswith("aws:")]
    assert {r.type for r in records} >= {QUEUE, "aws:sqs/queuePolicy:QueuePolicy",
                                         "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
                                         "aws:cloudwatch/metricAlarm:MetricAlarm"}
    built = [r for r in records if r.name.startswith("work")]
    assert len(built) == 7  # queue, DLQ, two policies, redrive allow, two alarms
    assert {r.parent.rsplit("::", 1)[-1] for r in built} == {"harness"}
    assert {(r.provider or "").rsplit("::", 1)[-1] for r in built} == {"aws-provider-id"}
    assert all(r.options["deleteBeforeReplace"] for r in built)


def test_the_built_queue_reports_what_it_built(run_builder) -> None:
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=30)), "prod")
    built = out.result
    assert (built.visibility_timeout_seconds, built.max_receive_count) == (181, 5)
    assert built.dlq is not None and set(built.alarms) == {"age", "dlq-depth"}


def test_names_longer_than_sqs_allows_are_shortened_to_its_80_characters(run_builder) -> None:
    long = "q" * 90
    out = run_builder(lambda ctx, parent: build_queue(ctx, long, QueueSpec(consumer_timeout_seconds=30), parent), "dev")
    names = sorted(q["inputs"]["name"] for q in out.template.of_type(QUEUE))
    assert [len(n) for n in names] == [80, 80] and names[0] != names[1]
    fifo = run_builder(lambda ctx, parent: build_queue(ctx, long, QueueSpec(consumer_timeout_seconds=30, fifo=True), parent),
                       "dev")
    assert {len(q["inputs"]["name"]) for q in fifo.template.of_type(QUEUE)} == {80}


def test_standard_queues_and_standalone_dlqs_are_not_fifo_and_deny_every_sqs_action_without_tls(run_builder) -> None:
    from components.core.queue import build_dead_letter_queue

    out = run_builder(build(QueueSpec(consumer_timeout_seconds=30)), "dev")
    assert all("fifoQueue" not in q["inputs"] for q in out.template.of_type(QUEUE))
    deny = out.template.policy(out.template.named("work-policy"))["Statement"][0]
    assert (deny["Action"], deny["Principal"]) == ("sqs:*", "*")
    sends = {"Sid": "TopicSends", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage"}
    alone = run_builder(lambda ctx, parent: build_dead_letter_queue(ctx, "alone", parent, [sends]), "dev")
    queue = alone.template.one(QUEUE)["inputs"]
    assert "fifoQueue" not in queue and queue["messageRetentionSeconds"] == 1_209_600
    statements = alone.template.policy(alone.template.named("alone-policy"))["Statement"]
    assert [s.get("Sid") for s in statements] == ["DenyInsecureTransport", "TopicSends"]
    assert statements[1]["Resource"].endswith(":orders-dev-alone")


def test_dlq_statements_reach_the_dead_letter_queues_policy(run_builder) -> None:
    sends = {"Sid": "TopicSends", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage"}
    out = run_builder(build(QueueSpec(consumer_timeout_seconds=30, dlq_statements=[sends])), "dev")
    assert [s.get("Sid") for s in out.template.policy(out.template.named("work-dlq-policy"))["Statement"]] == [
        "DenyInsecureTransport", "TopicSends"]
    assert [s.get("Sid") for s in out.template.policy(out.template.named("work-policy"))["Statement"]] == [
        "DenyInsecureTransport"]


def consumer_pair(queue_spec: QueueSpec, **connect: object):
    from components.core.function import build_function
    from components.core.queue import connect_consumer
    from tests.specs import spec

    def build_pair(ctx, parent):
        queue = build_queue(ctx, "work", queue_spec, parent)
        consumer = build_function(ctx, "consumer", spec("fulfilment", "worker"), parent)
        connect_consumer(ctx, "consumer-events", queue, consumer, parent, **connect)
    return build_pair


def test_consumer_mapping_defaults_and_its_concurrency_ceiling(run_builder) -> None:
    mapping = "aws:lambda/eventSourceMapping:EventSourceMapping"
    plain = run_builder(consumer_pair(QueueSpec(consumer_timeout_seconds=30)), "dev", workerReservedConcurrency=0)
    inputs = plain.template.one(mapping)["inputs"]
    assert (inputs["batchSize"], inputs["maximumBatchingWindowInSeconds"]) == (10, 1)
    assert "scalingConfig" not in inputs  # an unreserved consumer: no ceiling needed
    assert inputs["eventSourceArn"] == "arn:aws:sqs:us-east-1:123456789012:orders-dev-work"
    record = next(r for r in plain.run.resources() if r.type == mapping)
    assert record.parent.rsplit("::", 1)[-1] == "harness" and record.provider and record.options["deleteBeforeReplace"]
    prod = run_builder(consumer_pair(QueueSpec(consumer_timeout_seconds=20), max_concurrency=10), "prod")
    assert prod.template.one(mapping)["inputs"]["scalingConfig"] == {"maximumConcurrency": 10}  # below prod's 20


def test_a_consumer_window_longer_than_the_queue_was_built_for_is_refused(run_builder) -> None:
    with pytest.raises(QueueConfigError) as refused:
        run_builder(consumer_pair(QueueSpec(consumer_timeout_seconds=30), batching_window_seconds=5), "dev")
    assert str(refused.value) == (
        "queue visibility timeout 181 s is below 6 x the consumer's 30 s timeout + its batching window (185 s): "
        "build the queue with the consumer's timeout and window")


def test_queue_errors_list_every_problem_in_one_message() -> None:
    from components.core.queue import polling_ceiling

    with pytest.raises(QueueConfigError) as refused:
        queue_defaults(QueueSpec(consumer_timeout_seconds=30, max_receive_count=1, retention_seconds=10), 5)
    assert str(refused.value) == ("maxReceiveCount 1 would dead-letter on a transient fault; use 3 or more; "
                                  "retention 10 s is outside SQS's 60-1209600 s")
    with pytest.raises(QueueConfigError) as refused:
        polling_ceiling(2, 3)
    assert str(refused.value) == ("maximum concurrency 3 exceeds the consumer's reserved concurrency (2): throttled "
                                  "batches would burn receive counts and dead-letter good messages")
