"""Behind the JWT authorizer a customer sees and changes only its own orders; an operator scope
sees all. Another customer's order is 404 (not 403), so order ids are not an oracle."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.shared import orders_schema as schema
from tests.lambdas.test_orders_api import orders_api

ALICE, BOB = "alice-1", "bob-2"
OPERATOR = "orders/operator"


def order_for(customer: str) -> dict[str, Any]:
    return {"customerId": customer, "currency": "EUR", "items": [{"sku": "SKU-1", "quantity": 1, "unitPrice": "3"}]}


@pytest.fixture
def api(aws, monkeypatch, lambda_context):
    """The orders API behind the JWT authorizer (the handler reads these at each request)."""
    orders = orders_api(monkeypatch, lambda_context)
    monkeypatch.setenv(schema.AUTHORIZER_ENV, "jwt")
    monkeypatch.setenv(schema.CALLER_CLAIM_ENV, "sub")
    monkeypatch.setenv(schema.OPERATOR_SCOPE_ENV, OPERATOR)

    def call(method: str, path: str, body: Any = None, *, as_: str | None = None, scopes: list[str] | None = None,
             claims: dict | None = None) -> tuple[int, Any]:
        token = claims if claims is not None else ({"sub": as_} if as_ else None)
        return orders(method, path, body, claims=token, scopes=scopes)

    return call


def test_a_customer_places_orders_only_for_itself(api) -> None:
    status, order = api("POST", "/orders", order_for(ALICE), as_=ALICE)
    assert status == 201 and order["customerId"] == ALICE
    status, error = api("POST", "/orders", order_for(BOB), as_=ALICE)
    assert status == 403 and error["error"]["code"] == "FORBIDDEN"


def test_another_customers_order_is_not_found_for_reading_and_cancelling(api) -> None:
    _, order = api("POST", "/orders", order_for(ALICE), as_=ALICE)
    path = f"/orders/{order['orderId']}"
    assert api("GET", path, as_=ALICE)[0] == 200
    status, error = api("GET", path, as_=BOB)
    assert status == 404 and error["error"]["code"] == "ORDER_NOT_FOUND"
    status, error = api("POST", f"{path}/cancel", as_=BOB)
    assert status == 404 and error["error"]["code"] == "ORDER_NOT_FOUND"
    assert api("GET", path, as_=ALICE)[1]["state"] == "PENDING"  # Bob changed nothing
    status, cancelled = api("POST", f"{path}/cancel", as_=ALICE)
    assert status == 200 and cancelled["state"] == "CANCELLED"
    # A missing order and someone else's look the same.
    assert api("GET", "/orders/00000000-0000-4000-8000-000000000000", as_=BOB)[1] == error


def test_a_customer_lists_only_its_own_orders(api) -> None:
    api("POST", "/orders", order_for(ALICE), as_=ALICE)
    api("POST", "/orders", order_for(BOB), as_=BOB)
    status, page = api("GET", f"/customers/{ALICE}/orders", as_=ALICE)
    assert status == 200 and [o["customerId"] for o in page["orders"]] == [ALICE]
    status, error = api("GET", f"/customers/{ALICE}/orders", as_=BOB)
    assert status == 404 and error["error"]["code"] == "CUSTOMER_NOT_FOUND"


def test_an_operator_scope_reads_and_cancels_every_customers_orders(api) -> None:
    _, order = api("POST", "/orders", order_for(ALICE), as_=ALICE)
    path = f"/orders/{order['orderId']}"
    assert api("GET", path, as_="support-7", scopes=[OPERATOR])[0] == 200
    assert api("GET", f"/customers/{ALICE}/orders", claims={"sub": "support-7", "scope": f"openid {OPERATOR}"})[0] == 200
    assert api("POST", f"{path}/cancel", as_="support-7", scopes=[OPERATOR])[1]["state"] == "CANCELLED"
    assert api("GET", path, as_="support-7", scopes=["orders/read"])[0] == 404  # another scope is not enough


@pytest.mark.parametrize("claims", [None, {}, {"sub": ""}, {"sub": "not a customer id!"}, {"sub": 7}, {"email": "a@b.c"}])
def test_a_request_without_a_usable_caller_is_401(api, claims) -> None:
    status, error = api("GET", f"/customers/{ALICE}/orders", claims=claims)
    assert status == 401 and error["error"]["code"] == "UNAUTHENTICATED"


def test_the_caller_claim_comes_from_settings(api, monkeypatch) -> None:
    monkeypatch.setenv(schema.CALLER_CLAIM_ENV, "custom:customerId")
    status, order = api("POST", "/orders", order_for(ALICE), claims={"sub": "idp-uuid", "custom:customerId": ALICE})
    assert status == 201 and order["customerId"] == ALICE


def test_without_an_authorizer_behaviour_is_as_before(api, monkeypatch) -> None:
    monkeypatch.setenv(schema.AUTHORIZER_ENV, "none")
    _, order = api("POST", "/orders", order_for(ALICE))
    assert api("GET", f"/orders/{order['orderId']}")[0] == 200
    assert api("GET", f"/customers/{ALICE}/orders")[0] == 200
