"""The deployer reads the synth as it is: it refuses what it cannot apply, orders what refers to
what, and replaces the mock runtime's outputs with the emulator's."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import dev_synth, resource


def test_an_input_it_cannot_apply_is_an_error_naming_the_resource_and_property() -> None:
    from tools.local.deploy import DeployError, deploy
    from tools.local.emulator import Emulator

    synth = dev_synth()
    resource(synth, "analytics-queue")["inputs"]["fifoThroughputLimit"] = "perMessageGroupId"
    with Emulator() as emulator, pytest.raises(DeployError) as refused:
        deploy(synth, emulator)
    assert str(refused.value) == ("analytics-queue (aws:sqs/queue:Queue): the local cloud cannot apply "
                                  "fifoThroughputLimit")


def test_a_type_it_does_not_know_is_listed_before_anything_is_created() -> None:
    from tools.local.deploy import DeployError, deploy

    synth = dev_synth()
    synth["resources"].append({"type": "aws:s3/bucketV2:BucketV2", "name": "b", "inputs": {}, "urn": "u"})
    synth["resources"].append({"type": "aws:rds/instance:Instance", "name": "db", "inputs": {}, "urn": "v"})
    with pytest.raises(DeployError) as refused:
        deploy(synth, emulator=None)  # refused before the emulator is used
    assert str(refused.value) == "the local cloud cannot create: aws:rds/instance:Instance, aws:s3/bucketV2:BucketV2"


def test_what_an_input_names_is_created_first() -> None:
    from tools.local.deploy import creation_order

    synth = dev_synth()
    cloud = [r for r in synth["resources"] if not r["type"].startswith(("pulumi:", "serverless:"))]
    order = [(r["type"].split(":")[-1], r["name"]) for r in creation_order(cloud)]
    registered = [(r["type"].split(":")[-1], r["name"]) for r in cloud]
    # the rule names its bus by a plain string and is registered first; it is created after it
    rule, bus = ("EventRule", "analytics-rule"), ("EventBus", "platform-events")
    assert registered.index(rule) < registered.index(bus)
    assert order.index(bus) < order.index(rule)
    for before, after in ((("Queue", "analytics-queue-dlq"), ("Queue", "analytics-queue")),
                          (("Role", "api-orders-role"), ("Function", "api-orders")),
                          (("Api", "api"), ("Integration", "api-orders-integration")),
                          (("Integration", "api-orders-integration"), ("Route", "api-orders-post-orders")),
                          (("Table", "api-orders"), ("EventSourceMapping", "outbox-relay-events")),
                          (("Secret", "payments-webhook-signing-secret"), ("Function", "payments-webhook-receiver"))):
        assert order.index(before) < order.index(after), (before, after)
    assert sorted(order) == sorted(registered)


def test_mock_outputs_are_replaced_by_the_emulators(tmp_path) -> None:
    from tools.local.deploy import deploy
    from tools.local.emulator import Emulator

    with Emulator() as emulator:
        deployed = deploy(dev_synth(), emulator)
        receiver = next(r for r in deployed.of_type("aws:lambda/function:Function")
                        if r["name"] == "payments-webhook-receiver")["inputs"]["environment"]["variables"]
        secret = emulator.client("secretsmanager").describe_secret(SecretId=receiver["WEBHOOK_SECRET_ARN"])
        queue_url = receiver["QUEUE_URL"]
        attributes = emulator.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    assert not receiver["WEBHOOK_SECRET_ARN"].endswith("-AbCdEf")  # the mock's suffix, replaced
    assert secret["Name"] == "orders-dev-payments-webhook-signing-secrets"
    assert queue_url.startswith(emulator.url)
    assert '"maxReceiveCount": 5' in attributes["Attributes"]["RedrivePolicy"] or \
        '"maxReceiveCount":5' in attributes["Attributes"]["RedrivePolicy"]
    assert deployed.skipped == {"aws:cloudwatch/compositeAlarm:CompositeAlarm": 2}
