"""The end-to-end flows notice when the wiring is broken: a rule pattern, a mapping's filter, a
redrive policy, a grant. Each test breaks one in the synth before it is deployed."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import edit_policy, resource, start_cloud

# A flow stops waiting as soon as the cloud is quiet (no poller had work, no function ran) this long.
QUIET = "nothing more happened in 3s while waiting for"


def run_flow(tmp_path, edit, flow_name: str):
    from tools.local import demo

    cloud = start_cloud(tmp_path, edit)
    try:
        flow = getattr(demo, flow_name)
        with pytest.raises(demo.FlowMismatchError) as mismatch:
            demo.run(cloud, echo=lambda line: None, flows=(flow,))
        return cloud, str(mismatch.value)
    except BaseException:
        cloud.stop()
        raise


def test_a_rule_pattern_that_misses_the_event_type_is_noticed(tmp_path) -> None:
    def misspell(synth):
        rule = resource(synth, "notifications-rule")["inputs"]
        rule["eventPattern"] = rule["eventPattern"].replace('"OrderPlaced"', '"OrderPlace"')

    cloud, message = run_flow(tmp_path, misspell, "flow_order_placed")
    from tools.local.demo import Driver

    delivered = {c: Driver(cloud).deliveries(c) for c in ("notifications-consumer", "analytics-consumer")}
    cloud.stop()
    assert message == f"{QUIET} OrderPlaced at its subscribers"
    assert delivered["notifications-consumer"] == [] and len(delivered["analytics-consumer"]) == 1


def test_a_mapping_filter_that_drops_the_outbox_is_noticed(tmp_path) -> None:
    def wrong_entity(synth):
        filters = resource(synth, "outbox-relay-events")["inputs"]["filterCriteria"]["filters"]
        filters[0]["pattern"] = filters[0]["pattern"].replace('"outbox"', '"outbocks"')

    cloud, message = run_flow(tmp_path, wrong_entity, "flow_order_placed")
    relayed = cloud.runtime.function("outbox-relay").invocations
    cloud.stop()
    assert message == f"{QUIET} OrderPlaced at its subscribers"
    assert relayed == []  # the filter dropped every record before the function


def test_a_redrive_policy_that_gives_up_early_is_noticed(tmp_path) -> None:
    def two_receives(synth):
        queue = resource(synth, "payments-webhook-queue")["inputs"]
        policy = json.loads(queue["redrivePolicy"])
        queue["redrivePolicy"] = json.dumps({**policy, "maxReceiveCount": 2})

    cloud, message = run_flow(tmp_path, two_receives, "flow_poison")
    cloud.stop()
    assert message == "the worker saw the poison message 2 times before the DLQ, expected maxReceiveCount 5"


def test_a_missing_grant_fails_the_flow_with_access_denied(tmp_path) -> None:
    def without_put_item(synth):
        def drop(document):
            for statement in document["Statement"]:
                if "dynamodb:PutItem" in statement["Action"]:
                    statement["Action"].remove("dynamodb:PutItem")
            document["Statement"] = [s for s in document["Statement"] if s["Action"]]
        edit_policy(synth, "notifications-consumer-policy", drop, "policy")

    cloud, message = run_flow(tmp_path, without_put_item, "flow_order_placed")
    calls = cloud.runtime.calls_by_function()[cloud.runtime.function("notifications-consumer").spec.name]
    cloud.stop()
    assert message == f"{QUIET} OrderPlaced at its subscribers"
    assert {(c["operation"], c.get("error")) for c in calls} >= {("TransactWriteItems", "AccessDenied")}
