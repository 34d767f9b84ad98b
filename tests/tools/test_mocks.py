from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from tests.conftest import PROJECT, stack_raw_config
from tools.mocks import ACCOUNT_ID, ProgramMocks, run_mocked


def test_data_sources_are_answered_in_camel_case() -> None:
    outputs: dict[str, object] = {}

    def program() -> None:
        provider = aws.Provider("p", region="eu-central-1")
        opts = pulumi.InvokeOutputOptions(provider=provider)
        identity = aws.get_caller_identity_output(opts=opts)
        region = aws.get_region_output(opts=opts)
        partition = aws.get_partition_output(opts=opts)
        document = aws.iam.get_policy_document_output(statements=[{
            "actions": ["sqs:SendMessage"], "resources": ["arn:aws:sqs:eu-central-1:1:q"],
            "principals": [{"type": "Service", "identifiers": ["events.amazonaws.com"]}],
            "conditions": [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": ["arn:rule"]}],
        }], opts=opts)
        pulumi.Output.all(identity.account_id, region.region, partition.partition, document.json).apply(
            lambda values: outputs.update(values=values))

    run_mocked(program, PROJECT, "dev", stack_raw_config("dev"))
    account, region, partition, document = outputs["values"]
    assert (account, region, partition) == (ACCOUNT_ID, "eu-central-1", "aws")
    statement = json.loads(document)["Statement"][0]
    assert statement["Principal"] == {"Service": ["events.amazonaws.com"]}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": ["arn:rule"]}}


def test_resources_get_plausible_physical_outputs() -> None:
    mocks = ProgramMocks()
    queue_id, queue = mocks.new_resource(pulumi.runtime.MockResourceArgs(
        typ="aws:sqs/queue:Queue", name="q", inputs={"name": "orders-dev-q"}, custom=True))
    assert queue["arn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:orders-dev-q"
    assert queue_id == queue["url"] == f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT_ID}/orders-dev-q"
    _, function = mocks.new_resource(pulumi.runtime.MockResourceArgs(
        typ="aws:lambda/function:Function", name="f", inputs={}, custom=True))
    assert function["name"] == "f" and function["invokeArn"].endswith("function:f/invocations")
