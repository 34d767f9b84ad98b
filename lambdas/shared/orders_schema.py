"""Names the orders infrastructure and its handlers agree on: one module both import.

The infrastructure (system/orders.py) builds the tables and environment from these names;
handlers read them. Key layout of the single orders table:

- order:        pk = ORDER#<orderId>, sk = ORDER, gsi1pk = CUSTOMER#<customerId>, gsi1sk = <createdAt>#<orderId>
- outbox event: pk = ORDER#<orderId>, sk = OUTBOX#<occurredAt>#<eventId>, expiresAt (TTL)

Outbox items share their order's partition key, so the table stream delivers an order's events
in the order they were written.
"""

from __future__ import annotations

# Environment variables set by the infrastructure.
ORDERS_TABLE_ENV = "ORDERS_TABLE_NAME"

# Orders table key schema.
PARTITION_KEY = "pk"
SORT_KEY = "sk"
CUSTOMER_INDEX = "byCustomer"
CUSTOMER_INDEX_PARTITION_KEY = "gsi1pk"
CUSTOMER_INDEX_SORT_KEY = "gsi1sk"
TTL_ATTRIBUTE = "expiresAt"
STREAM_VIEW_TYPE = "NEW_IMAGE"

ORDER_PREFIX = "ORDER#"
ORDER_SORT_KEY = "ORDER"
OUTBOX_PREFIX = "OUTBOX#"
CUSTOMER_PREFIX = "CUSTOMER#"

# Routes of the orders API: the infrastructure creates exactly these, the handler serves exactly these.
ROUTES = (
    ("POST", "/orders"),
    ("GET", "/orders/{orderId}"),
    ("GET", "/customers/{customerId}/orders"),
    ("POST", "/orders/{orderId}/cancel"),
)


def order_key(order_id: str) -> dict[str, str]:
    return {PARTITION_KEY: f"{ORDER_PREFIX}{order_id}", SORT_KEY: ORDER_SORT_KEY}


def customer_partition(customer_id: str) -> str:
    return f"{CUSTOMER_PREFIX}{customer_id}"
