"""Outbox relay: new outbox items from the orders table stream -> domain events on the bus.

PutEvents takes up to 10 entries; a chunk never holds two events of one order, and publishing
stops at the first chunk with a failed entry, reporting that record: Lambda retries from it, so
an order's events reach the bus in the order they were written (an event after the failure may
be published twice; consumers de-duplicate on ``eventId``). A record that can never become an
event is parked whole on the on-failure queue and acknowledged: never blocking, never dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.dynamo import from_dynamo
from shared.money import amount_text
from shared.orders_schema import PARTITION_KEY

MAX_ENTRIES = 10


class UnpublishableRecordError(ValueError):
    pass


@dataclass
class RelayResult:
    published: int = 0
    parked: int = 0
    calls: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)


def _json_default(value: Any) -> Any:
    # DynamoDB numbers come back as Decimal: whole ones are counts (JSON integers, exact); any
    # other is written as its exact decimal text, never as a binary float (shared/money.py).
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else amount_text(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def entry(record: dict[str, Any], bus_name: str) -> tuple[str, dict[str, Any]]:
    """The record's ordering key (its item collection) and its PutEvents entry."""
    try:
        image = from_dynamo(record["dynamodb"]["NewImage"])
        if image.get("entity") != "outbox":
            raise ValueError("not an outbox item")
        detail = {**image["detail"], "eventId": image["eventId"]}
        occurred = datetime.fromisoformat(image["occurredAt"].replace("Z", "+00:00"))
        return image[PARTITION_KEY], {
            "Source": image["source"],
            "DetailType": image["eventType"],
            "Detail": json.dumps(detail, default=_json_default),
            "EventBusName": bus_name,
            "Time": occurred,
        }
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UnpublishableRecordError(str(error)) from error


def chunks(items: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> list[list[tuple[str, dict, dict]]]:
    """Consecutive groups of at most 10 with no ordering key twice, in stream order."""
    groups: list[list[tuple[str, dict, dict]]] = []
    keys: set[str] = set()
    for item in items:
        if not groups or len(groups[-1]) == MAX_ENTRIES or item[0] in keys:
            groups.append([])
            keys = set()
        groups[-1].append(item)
        keys.add(item[0])
    return groups


class OutboxRelay:
    def __init__(self, events: Any, sqs: Any, bus_name: str, failure_queue_url: str) -> None:
        self.events = events
        self.sqs = sqs
        self.bus_name = bus_name
        self.failure_queue_url = failure_queue_url

    def relay(self, records: list[dict[str, Any]]) -> RelayResult:
        """Publish in stream order. An unpublishable record is parked only once every record
        before it is on the bus: a failure reports its record, Lambda retries from there, and a
        record parked before that point is never parked again."""
        result = RelayResult()
        publishable: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for record in records:
            try:
                key, event = entry(record, self.bus_name)
            except UnpublishableRecordError as error:
                if not self._publish(publishable, result):
                    return result
                publishable = []
                self._park(record, str(error), result)
                continue
            publishable.append((key, event, record))
        self._publish(publishable, result)
        return result

    def _publish(self, items: list[tuple[str, dict[str, Any], dict[str, Any]]], result: RelayResult) -> bool:
        """False (and the failed record reported) at the first entry the bus refused."""
        for group in chunks(items):
            response = self.events.put_events(Entries=[event for _, event, _ in group])
            result.calls += 1
            if response.get("FailedEntryCount"):
                for (_, _, record), outcome in zip(group, response["Entries"], strict=True):
                    if outcome.get("ErrorCode"):
                        result.failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
                        return False
            result.published += len(group)
        return True

    def _park(self, record: dict[str, Any], reason: str, result: RelayResult) -> None:
        self.sqs.send_message(QueueUrl=self.failure_queue_url,
                              MessageBody=json.dumps({"reason": reason, "record": record}, default=str))
        result.calls += 1
        result.parked += 1
