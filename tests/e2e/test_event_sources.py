"""The local runtime plays event source mappings as Lambda does: bisect on error (not counted as a
retry), maximum retry attempts, the on-failure destination's batch description, filter criteria
(what they drop is deleted, never delivered), partial batch responses, and moto's own redrive."""

from __future__ import annotations

import json
import time

ACCOUNT = "123456789012"
ARN = "arn:aws:{}:us-east-1:" + ACCOUNT + ":{}"
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def res(type_: str, logical: str, **inputs) -> dict:
    return {"type": type_, "name": logical, "urn": f"urn:{logical}", "inputs": inputs}


def function(name: str, handler: str) -> dict:
    return res("aws:lambda/function:Function", name, name=name, handler=f"tests.e2e.handlers.{handler}",
               role=f"arn:aws:iam::{ACCOUNT}:role/fn", runtime="python3.13", code={"archive": {"files": []}},
               timeout=10.0, memorySize=128.0)


def synth() -> dict:
    queue_arn = ARN.format("sqs", "{}")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
         "Resource": [f"{ARN.format('dynamodb', 'table/t')}/stream/*"]},
        {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                       "sqs:SendMessage"], "Resource": [queue_arn.format("*")]}]}
    return {"stack": "test", "resources": [
        res("aws:iam/role:Role", "fn", name="fn", assumeRolePolicy=LAMBDA_TRUST),
        res("aws:iam/rolePolicy:RolePolicy", "fn-policy", role="fn", policy=json.dumps(policy)),
        res("aws:dynamodb/table:Table", "t", name="t", hashKey="pk", attributes=[{"name": "pk", "type": "S"}],
            billingMode="PAY_PER_REQUEST", streamEnabled=True, streamViewType="NEW_IMAGE"),
        res("aws:sqs/queue:Queue", "failures", name="failures"),
        res("aws:sqs/queue:Queue", "in-dlq", name="in-dlq"),
        res("aws:sqs/queue:Queue", "in", name="in", visibilityTimeoutSeconds=30.0,
            redrivePolicy=json.dumps({"deadLetterTargetArn": queue_arn.format("in-dlq"), "maxReceiveCount": 2})),
        function("streamfn", "stream"), function("queuefn", "queue"),
        res("aws:lambda/eventSourceMapping:EventSourceMapping", "stream-events",
            eventSourceArn=ARN.format("dynamodb", "table/t/stream/2026-01-01T00:00:00.000"),
            functionName=ARN.format("lambda", "function:streamfn"), batchSize=4.0, bisectBatchOnFunctionError=True,
            maximumRetryAttempts=1.0, startingPosition="TRIM_HORIZON",
            destinationConfig={"onFailure": {"destinationArn": queue_arn.format("failures")}}),
        res("aws:lambda/eventSourceMapping:EventSourceMapping", "queue-events", eventSourceArn=queue_arn.format("in"),
            functionName=ARN.format("lambda", "function:queuefn"), batchSize=10.0,
            functionResponseTypes=["ReportBatchItemFailures"],
            filterCriteria={"filters": [{"pattern": json.dumps({"body": {"kind": ["order"]}})}]}),
    ]}


def test_stream_batches_are_bisected_retried_and_given_up_to_the_destination(tmp_path) -> None:
    from tools.local.cloud import LocalCloud

    with LocalCloud("test", synth=synth(), log_dir=tmp_path, http=False, retry_delay_seconds=0, prewarm=False,
                    pollers=False) as cloud:  # the mapping reads once, when the four records are there
        runtime = cloud.runtime
        dynamodb = cloud.client("dynamodb")
        for key in ("a", "b", "p", "c"):
            item = {"pk": {"S": key}, **({"poison": {"BOOL": True}} if key == "p" else {})}
            dynamodb.put_item(TableName="t", Item=item)
        next(p for p in runtime.pollers if p.mapping["name"] == "stream-events").poll_once()
        batches = [[r["dynamodb"]["Keys"]["pk"]["S"] for r in i.event["Records"]]
                   for i in runtime.function("streamfn").invocations if isinstance(i.event, dict)]
        sqs = cloud.client("sqs")
        url = sqs.get_queue_url(QueueName="failures")["QueueUrl"]
        described = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    # split, split, then one retry of the poison record alone (maximumRetryAttempts 1), then the rest
    assert batches == [["a", "b", "p", "c"], ["a", "b"], ["p", "c"], ["p"], ["p"], ["c"]]
    assert len(described) == 1
    info = described[0]["DDBStreamBatchInfo"]
    assert described[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"]


def test_queue_filters_delete_what_they_drop_and_partial_failures_end_in_the_dlq(tmp_path) -> None:
    from tools.local.cloud import LocalCloud

    with LocalCloud("test", synth=synth(), log_dir=tmp_path, http=False, retry_delay_seconds=0, prewarm=False) as cloud:
        sqs = cloud.client("sqs")
        url, dlq = (sqs.get_queue_url(QueueName=n)["QueueUrl"] for n in ("in", "in-dlq"))
        for body in ({"kind": "order", "n": 1}, {"kind": "order", "n": 2, "fail": True}, {"kind": "other"}):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
        sqs.send_message(QueueUrl=url, MessageBody="not json")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0).get("Messages"):
            time.sleep(0.2)
        cloud.runtime.settle(timeout=10)
        delivered = [json.loads(r["body"]).get("n") for i in cloud.runtime.function("queuefn").invocations
                     if isinstance(i.event, dict) for r in i.event["Records"]]
        dead = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])]
        left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                      "ApproximateNumberOfMessagesNotVisible"])
    assert sorted(delivered) == [1, 2, 2]  # the failing one twice (maxReceiveCount 2); "other" and "not json" never
    assert dead == [{"kind": "order", "n": 2, "fail": True}]
    assert left["Attributes"] == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def lambda_target_synth(permitted: bool) -> dict:
    queue_arn = ARN.format("sqs", "{}")
    rule_arn = ARN.format("events", "rule/bus/r")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [queue_arn.format("async-failures")]}]}
    resources = [
        res("aws:iam/role:Role", "fn", name="fn", assumeRolePolicy=LAMBDA_TRUST),
        res("aws:iam/rolePolicy:RolePolicy", "fn-policy", role="fn", policy=json.dumps(policy)),
        res("aws:sqs/queue:Queue", "async-failures", name="async-failures"),
        res("aws:sqs/queue:Queue", "target-dlq", name="target-dlq"),
        res("aws:cloudwatch/eventBus:EventBus", "bus", name="bus"),
        res("aws:cloudwatch/eventRule:EventRule", "r", name="r", eventBusName="bus",
            eventPattern=json.dumps({"source": ["test"]})),
        function("asyncfn", "async_target"),
        res("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "asyncfn-async", functionName="asyncfn",
            maximumRetryAttempts=1.0, maximumEventAgeInSeconds=3600.0,
            destinationConfig={"onFailure": {"destination": queue_arn.format("async-failures")}}),
        res("aws:cloudwatch/eventTarget:EventTarget", "r-target", rule="r", eventBusName="bus",
            arn=ARN.format("lambda", "function:asyncfn"), deadLetterConfig={"arn": queue_arn.format("target-dlq")},
            retryPolicy={"maximumRetryAttempts": 3.0, "maximumEventAgeInSeconds": 3600.0}),
    ]
    if permitted:
        resources.append(res("aws:lambda/permission:Permission", "asyncfn-invoke", function="asyncfn",
                             action="lambda:InvokeFunction", principal="events.amazonaws.com", sourceArn=rule_arn))
    return {"stack": "test", "resources": resources}


def drain(sqs, name: str) -> list[dict]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]


def test_a_lambda_target_is_invoked_asynchronously_retried_then_sent_to_its_destination(tmp_path) -> None:
    from tools.local.cloud import LocalCloud

    with LocalCloud("test", synth=lambda_target_synth(permitted=True), log_dir=tmp_path, http=False,
                    prewarm=False, pollers=False) as cloud:
        events = cloud.client("events")
        events.put_events(Entries=[{"Source": "test", "DetailType": "t", "EventBusName": "bus",
                                    "Detail": json.dumps(detail)} for detail in ({"n": 1}, {"n": 2, "fail": True})])
        invoker = cloud.runtime.pollers[0]
        assert invoker.poll_once()
        invoked = [i.event["detail"]["n"] for i in cloud.runtime.function("asyncfn").invocations if i.event]
        failures, dead = drain(cloud.client("sqs"), "async-failures"), drain(cloud.client("sqs"), "target-dlq")
    assert invoked == [1, 2, 2]  # the failing event once more (maximumRetryAttempts 1)
    assert [f["requestContext"]["condition"] for f in failures] == ["RetriesExhausted"]
    assert failures[0]["requestPayload"]["detail"] == {"n": 2, "fail": True}
    assert failures[0]["requestContext"]["approximateInvokeCount"] == 2 and dead == []


def test_a_lambda_target_without_the_rules_permission_ends_in_the_targets_dlq(tmp_path) -> None:
    from tools.local.cloud import LocalCloud

    with LocalCloud("test", synth=lambda_target_synth(permitted=False), log_dir=tmp_path, http=False,
                    prewarm=False, pollers=False) as cloud:
        cloud.client("events").put_events(Entries=[{"Source": "test", "DetailType": "t", "EventBusName": "bus",
                                                    "Detail": json.dumps({"n": 3})}])
        cloud.runtime.pollers[0].poll_once()
        invoked = cloud.runtime.function("asyncfn").invocations
        dead = drain(cloud.client("sqs"), "target-dlq")
    assert invoked == [] and [d["detail"] for d in dead] == [{"n": 3}]
