"""Money is never a binary float: amounts keep their exact decimal value from the request, through
the table and the outbox relay onto the bus, to the consumer's contract model and the payment check."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdas.shared import contracts
from lambdas.shared.dynamo import to_dynamo
from lambdas.shared.money import amount_text

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# The example: 950492595953.4472 became ...4471 as a float; ~8% of such amounts do.
FOUR_DECIMALS_1E11_1E12 = st.decimals(min_value=Decimal("100000000000"), max_value=Decimal("999999.9999") * 10**6,
                                      places=4, allow_nan=False, allow_infinity=False)


def relayed_detail(outbox_item: dict) -> dict:
    """What a consumer receives: the relay's PutEvents detail, parsed as JSON (floats where numbers)."""
    from outbox_relay.relay import entry

    _, event = entry({"dynamodb": {"NewImage": to_dynamo(outbox_item)}}, "bus")
    return json.loads(event["Detail"])


def test_the_known_bad_example_survives_exactly() -> None:
    from shared.outbox import outbox_item

    amount = Decimal("950492595953.4472")
    assert Decimal(float(amount)) != amount  # the bug this guards against
    detail = relayed_detail(outbox_item("o-1", "OrderPaid", "payments", {
        "orderId": "o-1", "paymentId": "p", "totalAmount": amount_text(amount), "currency": "EUR"}, NOW, version=2))
    assert detail["totalAmount"] == "950492595953.4472"
    _, model = contracts.parse({"source": "payments", "detail-type": "OrderPaid", "detail": detail})
    assert model.totalAmount == amount


@settings(max_examples=200, deadline=None)
@given(amount=FOUR_DECIMALS_1E11_1E12, kind=st.sampled_from(["OrderPaid", "PaymentFailed"]))
def test_any_amount_survives_the_relay_and_the_contract(amount: Decimal, kind: str) -> None:
    from shared.outbox import outbox_item

    field = "totalAmount" if kind == "OrderPaid" else "amount"
    item = outbox_item("o", kind, "payments", {"orderId": "o", "paymentId": "p", field: amount_text(amount),
                                                "currency": "EUR"}, NOW, version=2)
    _, model = contracts.parse({"source": "payments", "detail-type": kind, "detail": relayed_detail(item)})
    assert getattr(model, field) == amount


UNIT_PRICES = st.decimals(min_value=Decimal("100000"), max_value=Decimal("999999.9999"), places=4,
                          allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(price=UNIT_PRICES, quantity=st.integers(1, 10_000), lines=st.integers(1, 3))
def test_amounts_round_trip_from_the_order_to_every_consumer(aws, price: Decimal, quantity: int, lines: int) -> None:
    from orders_api.models import CreateOrder
    from orders_api.repository import OrdersRepository

    from tests.lambdas.orders_fixtures import TABLE, orders_table, scan

    client = orders_table(reset=True)
    command = CreateOrder.model_validate({"customerId": "c", "currency": "EUR", "items": [
        {"sku": f"s{n}", "quantity": quantity, "unitPrice": str(price)} for n in range(lines)]})
    amount = price * quantity * lines
    order = OrdersRepository(client, TABLE).place(command, NOW)
    assert Decimal(order["totalAmount"]) == amount  # the API's answer
    [outbox] = [i for i in scan(client) if i.get("entity") == "outbox"]
    detail = relayed_detail(outbox)
    _, model = contracts.parse({"source": "orders", "detail-type": "OrderPlaced", "detail": detail})
    assert model.totalAmount == amount and isinstance(detail["totalAmount"], str)
    assert model.totalAmountRoundedUp >= amount > model.totalAmountRoundedUp - 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=UNIT_PRICES)
def test_a_payment_of_exactly_the_total_pays_and_one_ten_thousandth_less_does_not(aws, amount: Decimal) -> None:
    from tests.lambdas.orders_fixtures import orders_table, pay, place, state_of

    client = orders_table(reset=True)
    exact, short = place(client, NOW, total=str(amount)), place(client, NOW, total=str(amount))
    assert pay(client, exact, NOW, amount=str(amount)) == "paid"
    assert pay(client, short, NOW, amount=str(amount - Decimal("0.0001"))) == "exception:amount-mismatch"
    assert state_of(client, exact) == "PAID" and state_of(client, short) == "PENDING"
