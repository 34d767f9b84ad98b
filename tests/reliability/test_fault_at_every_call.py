"""A fault at each AWS call of each entry point: nothing is lost, nothing happens twice, and the
client sees a retryable answer (503/5xx for the receiver and API, a failed record for workers)."""

from __future__ import annotations

import json
import time
from collections import Counter

import boto3
import pytest

from tests.lambdas.conftest import REGION
from tests.lambdas.test_orders_api import IDEMPOTENCY, ORDERS, VALID, api  # noqa: F401
from tests.lambdas.test_payments_worker import message, order, put_order, worker  # noqa: F401
from tests.lambdas.test_webhook_receiver import receiver, standard_headers  # noqa: F401
from tests.reliability.faults import fault_at


def scan(table: str) -> list[dict]:
    return boto3.resource("dynamodb", region_name=REGION).Table(table).scan()["Items"]


def clear(table: str, *keys: str, only: dict | None = None) -> None:
    """Delete every item (or those matching ``only``) of a moto table with key attributes ``keys``."""
    resource = boto3.resource("dynamodb", region_name=REGION).Table(table)
    for item in resource.scan()["Items"]:
        if all(item.get(k) == v for k, v in (only or {}).items()):
            resource.delete_item(Key={key: item[key] for key in keys or ("id",)})


# --- payments worker ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["payment.succeeded", "payment.failed"])
def test_payments_worker_survives_a_fault_at_each_call(worker, kind) -> None:  # noqa: F811
    from tests.lambdas.test_payments_worker import IDEMPOTENCY as WORKER_IDEMPOTENCY
    from tests.lambdas.test_payments_worker import ORDERS as WORKER_ORDERS

    def effects() -> Counter:
        return Counter((i.get("entity"), i.get("eventType"), i.get("state")) for i in scan(WORKER_ORDERS))

    order_id = put_order()
    body = message("wh-fault", kind, order_id)
    clients = [worker.module.dynamodb]
    with fault_at(clients, None) as clean:
        assert worker([body]) == []
    expected, total = effects(), len(clean.calls)
    assert clean.calls == ["dynamodb.GetItem", "dynamodb.TransactWriteItems"]  # the marker rides in the transaction
    for k in range(1, total + 1):
        clear(WORKER_ORDERS, "pk", "sk")
        clear(WORKER_IDEMPOTENCY)
        fresh = put_order()
        body = message(f"wh-fault-{k}", kind, fresh)
        with fault_at(clients, k):
            failed = worker([body])
        if failed:  # SQS redelivers: nothing of the failed attempt stands in the way
            failed = worker([body])
        assert failed == [], k
        assert effects() == expected, (k, clean.calls[k - 1])


# --- orders API ---------------------------------------------------------------------------------

def test_orders_api_create_survives_a_fault_at_each_call(api) -> None:  # noqa: F811
    clients = [api.module.dynamodb]
    headers = {"Idempotency-Key": "fault-walk"}
    with fault_at(clients, None) as clean:
        assert api("POST", "/orders", VALID, headers=headers)[0] == 201
    total = len(clean.calls)
    assert total >= 2
    for k in range(1, total + 1):
        clear(ORDERS, "pk", "sk")
        clear(IDEMPOTENCY)
        with fault_at(clients, k):
            status, _ = api("POST", "/orders", VALID, headers=headers)
        entities = sorted(i["entity"] for i in scan(ORDERS))
        assert entities in ([], ["order", "outbox"]), (k, entities)  # all or nothing
        if status != 201:
            assert status >= 500, (k, status)  # our fault, retryable
            clear(IDEMPOTENCY)  # an unfinished record expires before the client retries
            assert api("POST", "/orders", VALID, headers=headers)[0] == 201
        assert sorted(i["entity"] for i in scan(ORDERS)) == ["order", "outbox"], k


# --- webhook receiver ---------------------------------------------------------------------------

def test_webhook_receiver_survives_a_fault_at_each_call(receiver) -> None:  # noqa: F811
    call = receiver()
    clients = [call.module.sqs, call.module.secrets_provider.client]
    with fault_at(clients, None) as clean:
        assert call(standard_headers(msg_id="clean"))[0] == 202
    call.messages()
    total = len(clean.calls)
    assert total == 2  # GetSecretValue, SendMessage
    for k in range(1, total + 1):
        call.module.secrets_provider.clear_cache()  # a cold container: both calls happen
        with fault_at(clients, k) as faulty:
            status, payload = call(standard_headers(msg_id=f"m-{k}"))
        assert status != 202, (k, faulty.calls, payload)
        assert (status, payload["error"]["code"]) in ((503, "NOT_CONFIGURED"), (503, "TRY_AGAIN")), k
        assert call.messages() == []  # nothing half-accepted: the sender retries
        assert call(standard_headers(msg_id=f"m-{k}"))[0] == 202
        assert [json.loads(m["Body"])["id"] for m in call.messages()] == [f"m-{k}"]
    assert time.time()
