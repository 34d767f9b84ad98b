"""The orders API under hostile input and partial failure: never a 5xx for the client's mistake,
cursors that real DynamoDB would refuse are refused first, idempotency keys belong to their caller."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from lambdas.shared import orders_schema as schema
from tests.lambdas.test_orders_api import ORDERS, VALID, api, items  # noqa: F401 - the fixture

CUSTOMER = "cust-1"


@pytest.mark.parametrize("limit", ["²", "9" * 5000, "\uff11", "-1", "0", "101", "1.5", " 5", "5 ", "0x10", ""])
def test_hostile_page_sizes_are_400(api, limit) -> None:  # noqa: F811
    status, error = api("GET", f"/customers/{CUSTOMER}/orders", query={"limit": limit})
    assert (status, error["error"]["code"]) == (400, "INVALID_LIMIT")


@pytest.mark.parametrize("raw", [b"\xff\xfe{}", b'{"customerId": "\xc3"}', b"\x80" * 10])
def test_base64_bodies_that_are_not_utf8_are_400(api, raw) -> None:  # noqa: F811
    status, error = api("POST", "/orders", raw_body=raw, base64_encoded=True)
    assert (status, error["error"]["code"]) == (400, "MALFORMED_BODY")


def cursor_of(plain: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def forged(**changes: str) -> str:
    order_id = str(uuid.uuid4())
    plain = {"pk": f"ORDER#{order_id}", "sk": "ORDER", "gsi1pk": f"CUSTOMER#{CUSTOMER}",
             "gsi1sk": f"2026-11-23T10:00:00.000Z#{order_id}"}
    return cursor_of({**plain, **changes})


@pytest.mark.parametrize("cursor", [
    forged(pk=""), forged(gsi1sk=""), forged(pk="ORDER#"), forged(pk="ORDER#" + "a" * 3000),
    forged(gsi1sk="x" * 1025), forged(gsi1sk="2026-11-23T10:00:00.000Z#" + "a" * 2000),
    forged(gsi1sk=f"2026-11-23T10:00:00.000Z#{uuid.uuid4()}"),  # names another order than pk
    "A" * 5000,
])
def test_forged_cursors_that_decode_are_refused_before_dynamodb_sees_them(api, cursor) -> None:  # noqa: F811
    status, error = api("GET", f"/customers/{CUSTOMER}/orders", query={"cursor": cursor})
    assert (status, error["error"]["code"]) == (400, "INVALID_CURSOR")


def test_a_well_formed_cursor_still_pages(api) -> None:  # noqa: F811
    assert api("GET", f"/customers/{CUSTOMER}/orders", query={"cursor": forged()})[0] == 200


def transaction_conflict(**_: object) -> None:
    raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                       "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}]},
                      "TransactWriteItems")


def test_a_transaction_conflict_while_cancelling_is_a_retryable_409(api, monkeypatch) -> None:  # noqa: F811
    _, order = api("POST", "/orders", VALID)
    monkeypatch.setattr(api.module.repository.client, "transact_write_items", transaction_conflict)
    status, error = api("POST", f"/orders/{order['orderId']}/cancel")
    assert (status, error["error"]["code"]) == (409, "ORDER_BUSY")
    monkeypatch.undo()
    assert api("GET", f"/orders/{order['orderId']}")[1]["state"] == "PENDING"  # nothing half-done


def test_an_idempotency_key_is_the_callers_own(api) -> None:  # noqa: F811
    headers = {"Idempotency-Key": "shared-key"}
    first = api("POST", "/orders", VALID, headers=headers)
    other = api("POST", "/orders", {**VALID, "customerId": "cust-2"}, headers=headers)
    assert first[0] == other[0] == 201
    assert first[1]["orderId"] != other[1]["orderId"]


def test_equivalent_bodies_are_the_same_request(api) -> None:  # noqa: F811
    headers = {"Idempotency-Key": "amounts"}
    first = api("POST", "/orders", {**VALID, "items": [{"sku": "SKU-1", "quantity": 1, "unitPrice": "12.5"}]},
                headers=headers)
    again = api("POST", "/orders", {**VALID, "items": [{"sku": "SKU-1", "quantity": 1, "unitPrice": "12.50"}]},
                headers=headers)
    assert first[0] == 201 and again == first
    assert sum(1 for i in items(ORDERS) if i["entity"] == "order") == 1
    different = api("POST", "/orders", {**VALID, "items": [{"sku": "SKU-1", "quantity": 1, "unitPrice": "12.51"}]},
                    headers=headers)
    assert different[1]["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert schema.ORDERS_TABLE_ENV  # the table the fixture wired
