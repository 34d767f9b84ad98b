"""Arbitrary requests at the orders API: whatever a client sends, the answer is never a 5xx."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lambdas.http_events import http_event, parse
from tests.lambdas.test_orders_api import api  # noqa: F401 - the fixture

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
order_like = st.fixed_dictionaries(
    {},
    optional={
        "customerId": st.text(max_size=70) | st.integers(),
        "currency": st.sampled_from(["EUR", "USD", "eur", "", "XYZ"]) | st.text(max_size=4),
        "items": st.lists(st.fixed_dictionaries({}, optional={
            "sku": st.text(max_size=70) | st.integers(),
            "quantity": st.integers(-5, 20_000) | st.floats() | st.text(max_size=3),
            "unitPrice": st.decimals(allow_nan=True, allow_infinity=True).map(str) | st.floats() | st.integers(),
        }), max_size=5),
    },
)
segment = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"), max_size=40)
paths = st.one_of(
    st.lists(segment, max_size=4).map(lambda parts: "/" + "/".join(parts)),
    st.builds(lambda s: f"/orders/{s}", segment),
    st.builds(lambda s: f"/orders/{s}/cancel", segment),
    st.builds(lambda s: f"/customers/{s}/orders", segment),
)
bodies = st.one_of(st.none(), json_values.map(json.dumps), order_like.map(json.dumps), st.text(max_size=200))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]), path=paths, body=bodies,
       content_type=st.sampled_from(["application/json", "text/plain", "", "application/json; charset=utf-8"]),
       query=st.dictionaries(st.sampled_from(["limit", "cursor", "x"]), st.text(max_size=30), max_size=2),
       idempotency_key=st.none() | st.text(max_size=300))
def test_no_request_gets_a_5xx(api, method, path, body, content_type, query, idempotency_key) -> None:  # noqa: F811
    headers = {"content-type": content_type}
    if idempotency_key is not None:
        headers["idempotency-key"] = idempotency_key
    event = http_event(method, path, raw_body=body, headers=headers, query=query or None)
    status, payload = parse(api.module.handler(event, _Context()))
    assert status < 500, (method, path, body, payload)


class _Context:
    function_name = "orders-fuzz"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-fuzz"
    aws_request_id = "fuzz"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
