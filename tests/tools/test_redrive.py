from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from tools import redrive

DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:orders-dev-payments-webhook-queue-dlq"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:orders-dev-payments-webhook-queue"


@pytest.mark.usefixtures("synth_once")
def test_list_names_the_queues_that_have_a_dlq(capsys) -> None:
    assert redrive.main(["dev", "--list"]) == 0
    out = capsys.readouterr().out
    assert "payments-webhook-queue" in out and "orders-dev-payments-webhook-queue-dlq" in out


@pytest.mark.usefixtures("synth_once")
def test_starts_a_message_move_task_from_the_dlq_to_its_source(capsys) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sqs) as stub:
        for name, arn in (("orders-dev-payments-webhook-queue-dlq", DLQ_ARN), ("orders-dev-payments-webhook-queue", QUEUE_ARN)):
            url = f"https://sqs.us-east-1.amazonaws.com/123456789012/{name}"
            stub.add_response("get_queue_url", {"QueueUrl": url}, {"QueueName": name})
            stub.add_response("get_queue_attributes", {"Attributes": {"QueueArn": arn}},
                              {"QueueUrl": url, "AttributeNames": ["QueueArn"]})
        stub.add_response("start_message_move_task", {"TaskHandle": "handle-1"},
                          {"SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN, "MaxNumberOfMessagesPerSecond": 5})
        assert redrive.main(["dev", "payments-webhook-queue", "--rate", "5"], sqs=sqs) == 0
        stub.assert_no_pending_responses()
    assert "handle-1" in capsys.readouterr().out


@pytest.mark.usefixtures("synth_once")
def test_unknown_queue_and_bad_rate_are_refused(capsys) -> None:
    assert redrive.main(["dev", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("unknown queue 'nope'; one of: ") and "payments-webhook-queue" in err
    assert redrive.main(["dev", "payments-webhook-queue", "--rate", "9999"]) == 2
    assert capsys.readouterr().err == "--rate must be 1-500 messages per second\n"
