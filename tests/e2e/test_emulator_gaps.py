"""Where moto differs from AWS in what the local cloud needs, shown on plain moto, and the one
adapter (tools/local/emulator.py) closing it. If a moto upgrade closes a gap, its "plain" test fails:
then the adapter's part can go."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tools.local.emulator import Emulator

TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/{}"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"AWS": "arn:aws:iam::123456789012:user/local-lambda-service"}}]}


def role_with(emulator: Emulator, name: str, statements: list[dict]) -> object:
    iam = emulator.client("iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    return emulator.assume_role(f"arn:aws:iam::123456789012:role/{name}", name)


def setup(emulator: Emulator) -> tuple[str, object]:
    dynamodb = emulator.client("dynamodb")
    for table in ("granted", "other"):
        dynamodb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
    queue = emulator.client("sqs").create_queue(QueueName="q")["QueueUrl"]
    credentials = role_with(emulator, "fn", [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": [TABLE_ARN.format("granted")]},
        {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
         "Resource": ["arn:aws:sqs:us-east-1:123456789012:q"]}])
    emulator.enforce_iam()
    return queue, credentials


def denied(call) -> bool:
    try:
        call()
    except ClientError as error:
        return "AccessDenied" in str(error) or error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return False


@pytest.fixture(scope="module", params=["plain", "adapted"])
def emulator(request):
    with Emulator(plain=request.param == "plain") as started:
        queue, credentials = setup(started)
        yield request.param, started, queue, credentials


def test_a_grant_on_one_table_allows_that_table_only(emulator) -> None:
    kind, started, _, credentials = emulator
    dynamodb = started.client("dynamodb", credentials=credentials)
    get_granted = denied(lambda: dynamodb.get_item(TableName="granted", Key={"pk": {"S": "1"}}))
    get_other = denied(lambda: dynamodb.get_item(TableName="other", Key={"pk": {"S": "1"}}))
    # plain moto checks DynamoDB against "*": a role granted one table is refused every table
    assert (get_granted, get_other) == ((True, True) if kind == "plain" else (False, True))


def test_a_transaction_is_authorized_by_each_item_action(emulator) -> None:
    kind, started, _, credentials = emulator
    dynamodb = started.client("dynamodb", credentials=credentials)
    put = {"Put": {"TableName": "granted", "Item": {"pk": {"S": "t"}}}}
    other = {"Put": {"TableName": "other", "Item": {"pk": {"S": "t"}}}}
    granted = denied(lambda: dynamodb.transact_write_items(TransactItems=[put]))
    outside = denied(lambda: dynamodb.transact_write_items(TransactItems=[put, other]))
    # plain moto asks for dynamodb:TransactWriteItems, an action IAM does not have
    assert (granted, outside) == ((True, True) if kind == "plain" else (False, True))


def test_sqs_batch_calls_are_authorized_as_their_single_message_action(emulator) -> None:
    kind, started, queue, credentials = emulator
    sqs = started.client("sqs", credentials=credentials)
    assert not denied(lambda: sqs.send_message(QueueUrl=queue, MessageBody="m"))
    batch = denied(lambda: sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": "1", "MessageBody": "m"}]))
    assert batch == (kind == "plain")  # plain moto asks for sqs:SendMessageBatch


def test_message_move_tasks_exist_only_with_the_adapter(emulator) -> None:
    kind, started, queue, _ = emulator
    sqs = started.client("sqs")
    dlq = sqs.create_queue(QueueName="q-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody="dead")
    arn = "arn:aws:sqs:us-east-1:123456789012:{}"
    if kind == "plain":
        with pytest.raises(ClientError):
            sqs.start_message_move_task(SourceArn=arn.format("q-dlq"), DestinationArn=arn.format("q"))
        return
    sqs.start_message_move_task(SourceArn=arn.format("q-dlq"), DestinationArn=arn.format("q"))
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])]
    task = sqs.list_message_move_tasks(SourceArn=arn.format("q-dlq"))["Results"][0]
    assert "dead" in bodies and task["Status"] == "COMPLETED" and task["ApproximateNumberOfMessagesMoved"] == 1


def test_moto_has_no_composite_alarms() -> None:
    """Why the deployer lists composite alarms as not created (tools/local/deploy.py EMULATOR_GAPS)."""
    with Emulator() as started:
        with pytest.raises(ClientError):
            started.client("cloudwatch").put_composite_alarm(AlarmName="a", AlarmRule='ALARM("x")')


def test_a_cancelled_transaction_orphans_earlier_stream_iterators() -> None:
    """Why the stream poller takes a fresh iterator after an empty read (tools/local/runtime.py)."""
    with Emulator() as started:
        dynamodb, streams = started.client("dynamodb"), started.client("dynamodbstreams")
        arn = dynamodb.create_table(
            TableName="s", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
        with pytest.raises(ClientError):  # a condition fails: moto restores its copy of the table
            dynamodb.transact_write_items(TransactItems=[{"Put": {
                "TableName": "s", "Item": {"pk": {"S": "x"}}, "ConditionExpression": "attribute_exists(pk)"}}])
        dynamodb.put_item(TableName="s", Item={"pk": {"S": "after"}})
        stale = streams.get_records(ShardIterator=iterator)["Records"]
        fresh = streams.get_records(ShardIterator=streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"])["Records"]
        assert stale == [] and [r["dynamodb"]["Keys"]["pk"]["S"] for r in fresh] == ["after"]


def test_stream_calls_need_the_account_endpoint_off(monkeypatch) -> None:
    """botocore sends stream-ARN calls to <account>.streams-ddb.<region>.amazonaws.com, which moto's
    URL patterns do not match; the runtime's processes set AWS_ACCOUNT_ID_ENDPOINT_MODE=disabled."""
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        arn = dynamodb.create_table(
            TableName="s", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]["LatestStreamArn"]
        monkeypatch.delenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", raising=False)
        with pytest.raises(Exception):  # noqa: B017 - whatever botocore makes of moto not answering
            boto3.client("dynamodbstreams", region_name="us-east-1").describe_stream(StreamArn=arn)
        monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
        answer = boto3.client("dynamodbstreams", region_name="us-east-1").describe_stream(StreamArn=arn)
        assert answer["StreamDescription"]["StreamArn"] == arn
