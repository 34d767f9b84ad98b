from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from tools import replay

BUS_ARN = "arn:aws:events:us-east-1:123456789012:event-bus/orders-dev-events"
ARCHIVE_ARN = "arn:aws:events:us-east-1:123456789012:archive/orders-dev-events-archive"
RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/orders-dev-events/orders-dev-fulfilment"


@pytest.mark.usefixtures("synth_once")
def test_replays_a_window_from_the_archive_to_chosen_rules(capsys) -> None:
    events = boto3.client("events", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    start, end = datetime(2026, 11, 23, 10, tzinfo=UTC), datetime(2026, 11, 23, 11, tzinfo=UTC)
    with Stubber(events) as stub:
        stub.add_response("describe_event_bus", {"Arn": BUS_ARN, "Name": "orders-dev-events"},
                          {"Name": "orders-dev-events"})
        stub.add_response("describe_rule", {"Arn": RULE_ARN}, {"Name": "orders-dev-fulfilment",
                                                              "EventBusName": "orders-dev-events"})
        stub.add_response("describe_archive", {"ArchiveArn": ARCHIVE_ARN},
                          {"ArchiveName": "orders-dev-events-archive"})
        stub.add_response("start_replay", {"State": "STARTING"}, {
            "ReplayName": stub_any(), "EventSourceArn": ARCHIVE_ARN, "EventStartTime": start, "EventEndTime": end,
            "Destination": {"Arn": BUS_ARN, "FilterArns": [RULE_ARN]}})
        assert replay.main(["dev", "--from", "2026-11-23T10:00:00Z", "--to", "2026-11-23T11:00:00Z",
                            "--subscriber", "fulfilment"], events=events) == 0
        stub.assert_no_pending_responses()
    assert "replay-" in capsys.readouterr().out


def stub_any():
    from botocore.stub import ANY

    return ANY


@pytest.mark.usefixtures("synth_once")
def test_bad_windows_and_unknown_subscribers_are_refused() -> None:
    events = boto3.client("events", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    assert replay.main(["dev", "--from", "2026-11-23T11:00:00Z", "--to", "2026-11-23T10:00:00Z"], events=events) == 2
    assert replay.main(["dev", "--from", "yesterday", "--to", "today"], events=events) == 2
    with Stubber(events) as stub:
        stub.add_response("describe_event_bus", {"Arn": BUS_ARN}, {"Name": "orders-dev-events"})
        assert replay.main(["dev", "--from", "2026-11-23T10:00:00Z", "--to", "2026-11-23T11:00:00Z",
                            "--subscriber", "nobody"], events=events) == 2
