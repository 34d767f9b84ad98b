"""The orders API's answers, exactly: codes and messages a client reads, the body-size boundary,
media types, the order id an Idempotency-Key stands for, and what a replayed create returns."""

from __future__ import annotations

import uuid

import pytest

from tests.lambdas.test_orders_api import ORDERS, VALID, api, items  # noqa: F401 - the fixture


@pytest.mark.parametrize(("kwargs", "status", "code", "message"), [
    ({"raw_body": "%%%", "base64_encoded": False, "headers": {"content-type": "text/plain"}}, 415,
     "UNSUPPORTED_MEDIA_TYPE", "request body must be application/json"),
    ({"raw_body": b"\xff", "base64_encoded": True}, 400, "MALFORMED_BODY",
     "request body is not valid base64 or not UTF-8"),
    ({"raw_body": "x" * (64 * 1024 + 1)}, 413, "BODY_TOO_LARGE", "request body exceeds 65536 bytes"),
])
def test_unreadable_bodies_are_answered_exactly(api, kwargs, status, code, message) -> None:  # noqa: F811
    assert api("POST", "/orders", **kwargs) == (status, {"error": {"code": code, "message": message}})


def test_a_body_of_exactly_the_limit_is_read(api) -> None:  # noqa: F811
    padded = ('{"customerId": "cust-1", "currency": "EUR", "items": [], "pad": "' + "x" * (64 * 1024) + '"}')
    body = padded[: 64 * 1024 - 2] + '"}'
    status, error = api("POST", "/orders", raw_body=body)
    assert status in (400, 422) and error["error"]["code"] != "BODY_TOO_LARGE"


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=utf-8", " application/json "])
def test_json_media_types_are_accepted_in_any_case_with_parameters(api, content_type) -> None:  # noqa: F811
    assert api("POST", "/orders", VALID, headers={"content-type": content_type})[0] == 201


def test_an_empty_body_needs_no_media_type(api) -> None:  # noqa: F811
    status, error = api("POST", "/orders", raw_body="", headers={"content-type": ""})
    assert status == 422 or error["error"]["code"] == "MALFORMED_JSON"


def test_a_missing_order_is_404_with_the_generic_message(api) -> None:  # noqa: F811
    assert api("GET", f"/orders/{uuid.uuid4()}") == (404, {"error": {"code": "ORDER_NOT_FOUND",
                                                                      "message": "no such order"}})


def test_the_order_id_of_an_idempotency_key_is_a_stable_v4_uuid_per_caller(api) -> None:  # noqa: F811
    make = api.module.idempotent_order_id
    first = make("cust-1", "key-1")
    assert first == make("cust-1", "key-1") and uuid.UUID(first).version == 4
    assert len({first, make("cust-2", "key-1"), make("cust-1", "key-2"), make("cust-1key", "-1")}) == 4
    _, order = api("POST", "/orders", VALID, headers={"Idempotency-Key": "key-1"})
    assert order["orderId"] == first


def test_a_create_replayed_after_its_idempotency_record_expired_returns_the_same_order(api) -> None:  # noqa: F811
    import boto3

    from tests.lambdas.conftest import REGION
    from tests.lambdas.test_orders_api import IDEMPOTENCY

    headers = {"Idempotency-Key": "replayed"}
    status, first = api("POST", "/orders", VALID, headers=headers)
    table = boto3.resource("dynamodb", region_name=REGION).Table(IDEMPOTENCY)
    for record in table.scan()["Items"]:
        table.delete_item(Key={"id": record["id"]})
    again = api("POST", "/orders", VALID, headers=headers)
    assert status == 201 and again == (201, first)
    assert sum(1 for i in items(ORDERS) if i["entity"] == "order") == 1


def test_the_canonical_order_compares_amounts_by_value_only(api) -> None:  # noqa: F811
    from orders_api.models import CreateOrder

    canonical = api.module.canonical_order
    order = CreateOrder.model_validate({**VALID, "items": [{"sku": "A", "quantity": 2, "unitPrice": "12.50"},
                                                           {"sku": "B", "quantity": 1, "unitPrice": "100"},
                                                           {"sku": "C", "quantity": 1, "unitPrice": "0.00"}]})
    assert canonical(order) == {"customerId": "cust-1", "currency": "EUR", "items": [
        {"sku": "A", "quantity": 2, "unitPrice": "12.5"}, {"sku": "B", "quantity": 1, "unitPrice": "100"},
        {"sku": "C", "quantity": 1, "unitPrice": "0"}]}
