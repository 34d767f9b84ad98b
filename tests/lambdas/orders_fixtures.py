"""Orders written through the real code paths (orders API repository, payments ledger)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import boto3

from lambdas.shared import orders_schema as schema
from system.orders import ORDERS_TABLE
from tests.lambdas.conftest import REGION, create_table

TABLE = "orders-jobs-test"
MARKERS = "payments-webhook-markers-test"


def orders_table(reset: bool = False) -> Any:
    """The orders table under moto; ``reset`` drops an existing one first (property tests reuse the mock)."""
    client = boto3.client("dynamodb", region_name=REGION)
    if reset and TABLE in client.list_tables()["TableNames"]:
        client.delete_table(TableName=TABLE)
    create_table(ORDERS_TABLE, TABLE)
    return client


def payments_ledger(client: Any) -> Any:
    """The payments ledger on the orders table, with its webhook markers table (created on first use)."""
    from payments_worker.payments import PaymentsLedger

    from components.core.table import idempotency_table

    if MARKERS not in client.list_tables()["TableNames"]:
        create_table(idempotency_table("payments-webhook-idempotency"), MARKERS)
    return PaymentsLedger(client, TABLE, MARKERS, marker_ttl_seconds=3600)


def place(client: Any, created: datetime, total: str = "10.00", currency: str = "EUR") -> str:
    from orders_api.models import CreateOrder
    from orders_api.repository import OrdersRepository

    order = CreateOrder.model_validate({"customerId": "c-1", "currency": currency,
                                        "items": [{"sku": "s", "quantity": 1, "unitPrice": total}]})
    return OrdersRepository(client, TABLE).place(order, created)["orderId"]


def pay(client: Any, order_id: str, now: datetime, amount: str = "10.00", currency: str = "EUR") -> str:
    from payments_worker.payments import PaymentEvent

    event = PaymentEvent(type="payment.succeeded", data={"orderId": order_id, "paymentId": f"pay-{order_id}",
                                                         "amount": amount, "currency": currency})
    return payments_ledger(client).apply(f"wh-{order_id}", event, now)


def cancel(client: Any, order_id: str, now: datetime) -> None:
    from orders_api.repository import OrdersRepository

    OrdersRepository(client, TABLE).cancel(order_id, now)


def bulk_pending(client: Any, created: datetime, count: int) -> None:
    """Many PENDING orders at once (batch writes), keyed exactly as the API writes them."""
    from shared.dynamo import to_dynamo
    from shared.outbox import iso

    stamp = iso(created)
    items = []
    for _ in range(count):
        order_id = str(uuid.uuid4())
        items.append({**schema.order_key(order_id), "entity": "order", "orderId": order_id, "customerId": "bulk",
                      "state": "PENDING", "currency": "EUR", "totalAmount": Decimal("1"), "items": [],
                      "createdAt": stamp, "updatedAt": stamp, **schema.index_keys(order_id, stamp)})
    for start in range(0, len(items), 25):
        client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": to_dynamo(i)}}
                                                      for i in items[start:start + 25]]})


def scan(client: Any) -> list[dict[str, Any]]:
    from shared.dynamo import from_dynamo

    items, request = [], {"TableName": TABLE}
    while True:
        page = client.scan(**request)
        items += [from_dynamo(i) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def state_of(client: Any, order_id: str) -> str:
    return client.get_item(TableName=TABLE, Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}})["Item"]["state"]["S"]
