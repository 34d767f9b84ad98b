from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC
from decimal import Decimal
from typing import Any

import boto3
import pytest

from components.runtime import idempotency_schema as idem
from lambdas.shared import orders_schema as schema
from system.orders import IDEMPOTENCY_TABLE, ORDERS_TABLE
from tests.lambdas.conftest import REGION, create_table, fresh_import
from tests.lambdas.http_events import http_event, parse

ORDERS, IDEMPOTENCY = "orders-test", "idempotency-test"
VALID = {"customerId": "cust-1", "currency": "EUR",
         "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "12.50"}, {"sku": "SKU-2", "quantity": 1, "unitPrice": 5}]}


@pytest.fixture
def api(aws, monkeypatch, lambda_context):
    return orders_api(monkeypatch, lambda_context)


def orders_api(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Any:
    """The orders handler on fresh moto tables; ``call(method, path, body, **http_event kwargs)``."""
    create_table(ORDERS_TABLE, ORDERS)
    create_table(IDEMPOTENCY_TABLE, IDEMPOTENCY)
    monkeypatch.setenv(schema.ORDERS_TABLE_ENV, ORDERS)
    monkeypatch.setenv(idem.IDEMPOTENCY_TABLE_ENV, IDEMPOTENCY)
    module = fresh_import("orders_api.handler")

    def call(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        response = module.handler(http_event(method, path, body, **kwargs), lambda_context)
        status, payload = parse(response)
        if status >= 400:
            assert set(payload) == {"error"} and {"code", "message"} <= set(payload["error"]), payload
            assert "Traceback" not in json.dumps(payload)
        return status, payload

    call.module = module
    return call


def items(table: str) -> list[dict[str, Any]]:
    return boto3.resource("dynamodb", region_name=REGION).Table(table).scan()["Items"]


def test_create_returns_201_pending_with_server_computed_total(api) -> None:
    status, order = api("POST", "/orders", VALID)
    assert status == 201
    assert order["state"] == "PENDING"
    assert Decimal(order["totalAmount"]) == Decimal("30.00")
    assert uuid.UUID(order["orderId"]).version == 4
    assert order["customerId"] == "cust-1" and len(order["items"]) == 2


def test_create_writes_the_order_and_an_order_placed_outbox_item_together(api) -> None:
    _, order = api("POST", "/orders", VALID)
    stored = items(ORDERS)
    kinds = sorted(item["entity"] for item in stored)
    assert kinds == ["order", "outbox"]
    outbox = next(item for item in stored if item["entity"] == "outbox")
    assert outbox[schema.PARTITION_KEY] == f"ORDER#{order['orderId']}"
    assert outbox[schema.SORT_KEY].startswith(schema.OUTBOX_PREFIX)
    assert outbox["eventType"] == "OrderPlaced" and outbox["source"] == "orders"
    assert outbox["detail"]["totalAmount"] == "30.00" and outbox["detail"]["orderId"] == order["orderId"]
    assert outbox["detail"]["totalAmountRoundedUp"] == Decimal(30) and outbox["detail"]["version"] == 3
    assert outbox[schema.TTL_ATTRIBUTE] > 0


def test_failed_transaction_writes_neither_item(api, monkeypatch) -> None:
    from orders_api.models import CreateOrder
    from orders_api.repository import OrderExistsError

    module = api.module
    module.repository.place(CreateOrder.model_validate(VALID), module.now(), order_id=str(uuid.uuid4()))
    existing = next(i for i in items(ORDERS) if i["entity"] == "order")["orderId"]
    before = len(items(ORDERS))
    with pytest.raises(OrderExistsError):
        module.repository.place(CreateOrder.model_validate(VALID), module.now(), order_id=existing)
    assert len(items(ORDERS)) == before  # no orphan outbox item


def test_get_returns_200_or_404(api) -> None:
    _, order = api("POST", "/orders", VALID)
    assert api("GET", f"/orders/{order['orderId']}") == (200, order)
    status, error = api("GET", f"/orders/{uuid.uuid4()}")
    assert status == 404 and error["error"]["code"] == "ORDER_NOT_FOUND"


def test_list_is_newest_first_and_pages_with_a_cursor(api, monkeypatch) -> None:
    from datetime import datetime, timedelta

    module = api.module
    start = datetime(2026, 11, 1, tzinfo=UTC)
    created = []
    for minute in range(5):
        monkeypatch.setattr(module, "now", lambda m=minute: start + timedelta(minutes=m))
        created.append(api("POST", "/orders", VALID)[1]["orderId"])
    api("POST", "/orders", {**VALID, "customerId": "someone-else"})
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        status, page = api("GET", "/customers/cust-1/orders", query=query)
        assert status == 200 and len(page["orders"]) <= 2
        seen += [o["orderId"] for o in page["orders"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == list(reversed(created))


def test_cancel_only_from_pending_and_writes_an_outbox_item(api) -> None:
    _, order = api("POST", "/orders", VALID)
    status, cancelled = api("POST", f"/orders/{order['orderId']}/cancel")
    assert status == 200 and cancelled["state"] == "CANCELLED"
    events = sorted(i["eventType"] for i in items(ORDERS) if i["entity"] == "outbox")
    assert events == ["OrderCancelled", "OrderPlaced"]
    status, error = api("POST", f"/orders/{order['orderId']}/cancel")
    assert status == 409 and error["error"]["code"] == "ORDER_NOT_CANCELLABLE"
    assert sum(1 for i in items(ORDERS) if i["entity"] == "outbox") == 2  # the refused cancel wrote nothing
    assert api("POST", f"/orders/{uuid.uuid4()}/cancel")[0] == 404


def test_idempotency_key_returns_the_same_order_and_creates_one(api) -> None:
    headers = {"Idempotency-Key": "retry-abc-123"}
    first = api("POST", "/orders", VALID, headers=headers)
    second = api("POST", "/orders", VALID, headers=headers)
    assert first[0] == 201 and second == first
    assert sum(1 for i in items(ORDERS) if i["entity"] == "order") == 1
    idempotency_records = items(IDEMPOTENCY)
    assert len(idempotency_records) == 1 and idempotency_records[0][idem.IDEMPOTENCY_TTL_ATTRIBUTE] > 0


def test_idempotency_key_reused_with_another_body_is_refused(api) -> None:
    headers = {"Idempotency-Key": "k-1"}
    api("POST", "/orders", VALID, headers=headers)
    status, error = api("POST", "/orders", {**VALID, "currency": "USD"}, headers=headers)
    assert status == 422 and error["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert sum(1 for i in items(ORDERS) if i["entity"] == "order") == 1


def test_without_a_key_each_post_creates_an_order(api) -> None:
    api("POST", "/orders", VALID)
    api("POST", "/orders", VALID)
    assert sum(1 for i in items(ORDERS) if i["entity"] == "order") == 2


BAD_BODIES = {
    "wrong type quantity": {**VALID, "items": [{"sku": "a", "quantity": "2", "unitPrice": 1}]},
    "wrong type customer": {**VALID, "customerId": 42},
    "missing currency": {k: v for k, v in VALID.items() if k != "currency"},
    "unknown field": {**VALID, "discount": 10},
    "unknown item field": {**VALID, "items": [{"sku": "a", "quantity": 1, "unitPrice": 1, "colour": "red"}]},
    "zero quantity": {**VALID, "items": [{"sku": "a", "quantity": 0, "unitPrice": 1}]},
    "negative quantity": {**VALID, "items": [{"sku": "a", "quantity": -1, "unitPrice": 1}]},
    "negative price": {**VALID, "items": [{"sku": "a", "quantity": 1, "unitPrice": "-0.01"}]},
    "no items": {**VALID, "items": []},
    "101 items": {**VALID, "items": [{"sku": f"s{i}", "quantity": 1, "unitPrice": 1} for i in range(101)]},
    "lowercase currency": {**VALID, "currency": "eur"},
    "unknown currency": {**VALID, "currency": "XYZ"},
    "not an object": [VALID],
    "NaN price": {**VALID, "items": [{"sku": "a", "quantity": 1, "unitPrice": "NaN"}]},
    "bad customer id": {**VALID, "customerId": "../etc"},
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_invalid_bodies_are_422_and_store_nothing(api, body) -> None:
    status, error = api("POST", "/orders", body)
    assert status == 422 and error["error"]["code"] == "VALIDATION_FAILED"
    assert items(ORDERS) == []


def test_exactly_100_items_is_accepted(api) -> None:
    body = {**VALID, "items": [{"sku": f"s{i}", "quantity": 1, "unitPrice": 1} for i in range(100)]}
    assert api("POST", "/orders", body)[0] == 201


@pytest.mark.parametrize("raw", ['{"customerId":', "not json", '{"a": 1,}', ""])
def test_malformed_json_is_400(api, raw) -> None:
    status, error = api("POST", "/orders", raw_body=raw or " ", headers={"content-type": "application/json"})
    assert status in (400, 422)
    if raw.strip():
        assert status == 400 and error["error"]["code"] == "MALFORMED_JSON"


def test_body_over_64_kib_is_413(api) -> None:
    raw = json.dumps({**VALID, "padding": "x" * (64 * 1024)})
    status, error = api("POST", "/orders", raw_body=raw)
    assert status == 413 and error["error"]["code"] == "BODY_TOO_LARGE"


def test_base64_encoded_bodies_are_decoded(api) -> None:
    assert api("POST", "/orders", raw_body=json.dumps(VALID).encode(), base64_encoded=True)[0] == 201


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_non_json_content_type_is_415(api, content_type) -> None:
    status, error = api("POST", "/orders", raw_body=json.dumps(VALID), headers={"content-type": content_type})
    assert status == 415 and error["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("path", ["/orders/not-a-uuid", "/orders/123", "/orders/7d0c2f6e-3b8e-4c2e-9a57-1f2a3b4c5d6eX",
                                  "/orders/7D0C2F6E-3B8E-1C2E-9A57-1F2A3B4C5D6E", "/orders/%2e%2e",
                                  "/customers/a%20b/orders"])
def test_invalid_ids_are_400(api, path) -> None:
    status, error = api("GET", path)
    assert status == 400 and error["error"]["code"] == "INVALID_ID"


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5"])
def test_limit_out_of_range_is_4xx(api, limit) -> None:
    status, _ = api("GET", "/customers/cust-1/orders", query={"limit": limit})
    assert 400 <= status < 500


@pytest.mark.parametrize("cursor", [
    "garbage!!", "eyJmb28iOiAiYmFyIn0",  # base64 of {"foo": "bar"}
])
def test_tampered_cursors_are_400(api, cursor) -> None:
    status, error = api("GET", "/customers/cust-1/orders", query={"cursor": cursor})
    assert status == 400 and error["error"]["code"] == "INVALID_CURSOR"


def test_a_cursor_for_another_customer_is_refused(api) -> None:
    for _ in range(3):
        api("POST", "/orders", {**VALID, "customerId": "victim"})
    cursor = api("GET", "/customers/victim/orders", query={"limit": "1"})[1]["nextCursor"]
    assert cursor
    status, error = api("GET", "/customers/attacker/orders", query={"cursor": cursor})
    assert status == 400 and error["error"]["code"] == "INVALID_CURSOR"


def test_unknown_route_is_404_and_wrong_method_is_405(api) -> None:
    status, error = api("GET", "/nothing-here")
    assert status == 404 and error["error"]["code"] == "ROUTE_NOT_FOUND"
    status, error = api("DELETE", "/orders")
    assert status == 405 and error["error"]["code"] == "METHOD_NOT_ALLOWED"
    status, _ = api("PUT", f"/orders/{uuid.uuid4()}")
    assert status == 405


def test_invalid_idempotency_key_is_400(api) -> None:
    status, error = api("POST", "/orders", VALID, headers={"Idempotency-Key": "x" * 300})
    assert status == 400 and error["error"]["code"] == "INVALID_IDEMPOTENCY_KEY"


def test_a_real_server_fault_is_a_500_without_details(api, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("database exploded: secret detail")

    monkeypatch.setattr(api.module.repository, "get", broken)
    status, error = api("GET", f"/orders/{uuid.uuid4()}")
    assert status == 500 and "secret" not in json.dumps(error)


def test_every_declared_route_is_served(api) -> None:
    samples = {"orderId": str(uuid.uuid4()), "customerId": "cust-1"}
    for method, path in schema.ROUTES:
        concrete = path.format(**samples)
        status, payload = api(method, concrete, VALID if (method, path) == ("POST", "/orders") else None)
        assert status not in (404, 405) or payload["error"]["code"] == "ORDER_NOT_FOUND", (method, path)


def test_cancelling_a_malformed_order_id_is_a_400_and_touches_nothing(api) -> None:
    status, created = api("POST", "/orders", VALID)
    assert status == 201
    before = items(ORDERS)
    for malformed in ("not-a-uuid", created["orderId"] + "0", created["orderId"].upper() + "x"):
        status, error = api("POST", f"/orders/{malformed}/cancel")
        assert (status, error["error"]["code"], error["error"]["message"]) == (400, "INVALID_ID", "orderId must be a UUID")
    assert items(ORDERS) == before


def test_a_create_whose_key_is_still_being_processed_is_a_409_to_retry(api, monkeypatch) -> None:
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    module = api.module
    real = module.idempotent_place_order

    def in_progress():
        _, config = real()

        def place_once(request):
            raise IdempotencyAlreadyInProgressError("in progress")

        return place_once, config

    monkeypatch.setattr(module, "idempotent_place_order", in_progress)
    status, error = api("POST", "/orders", VALID, headers={"Idempotency-Key": "k-busy"})
    assert (status, error["error"]["code"]) == (409, "REQUEST_IN_PROGRESS")
    assert error["error"]["message"] == "a request with this Idempotency-Key is still in progress"
    assert [i for i in items(ORDERS) if i.get("entity") == "order"] == []


def test_a_body_that_is_not_text_or_not_strict_base64_is_a_400(api, lambda_context) -> None:
    from tests.lambdas.http_events import http_event, parse

    module = api.module
    event = http_event("POST", "/orders", VALID)
    event["body"] = {"already": "parsed"}  # a proxy or test client handing over an object
    status, error = parse(module.handler(event, lambda_context))
    assert (status, error) == (400, {"error": {"code": "MALFORMED_BODY", "message": "request body is not text"}})
    event = http_event("POST", "/orders", VALID)
    event["body"], event["isBase64Encoded"] = base64.b64encode(json.dumps(VALID).encode()).decode() + "$$", True
    status, error = parse(module.handler(event, lambda_context))  # lenient decoding would drop the '$$' and accept it
    assert (status, error["error"]["code"]) == (400, "MALFORMED_BODY")
    assert [i for i in items(ORDERS) if i.get("entity") == "order"] == []



def test_a_placed_order_is_counted_and_logged_once_whatever_the_retries(api, capsys, caplog) -> None:
    """The OrderPlaced metric (EMF on stdout) and the INFO record, once per order, not per request."""
    api.module.logger.setLevel("INFO")  # the suite runs at WARNING
    _, order = api("POST", "/orders", VALID, headers={"Idempotency-Key": "count-once"})
    again_status, again = api("POST", "/orders", VALID, headers={"Idempotency-Key": "count-once"})
    assert again_status == 201 and again["orderId"] == order["orderId"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    counted = [line for line in lines if "OrderPlaced" in line]
    assert [line["OrderPlaced"] for line in counted] in ([1.0], [[1.0]])
    assert counted[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "OrderPlaced", "Unit": "Count"}]
    placed = [r for r in caplog.records if r.getMessage() == "order placed"]
    assert [(r.levelname, r.orderId, r.items) for r in placed] == [("INFO", order["orderId"], 2)]
