"""Names the orders infrastructure and its handlers agree on: one module both import.

The infrastructure (system/orders.py) builds the tables and environment from these names;
handlers read them. Key layout of the single orders table:

- order:        pk = ORDER#<orderId>, sk = ORDER, gsi1pk = CUSTOMER#<customerId>, gsi1sk = <createdAt>#<orderId>,
                dayShard = DAY#<UTC date>#<n>, createdKey = <createdAt>#<orderId>,
                while PENDING only: pendingShard = PENDING#<n>, pendingSince = <createdAt>#<orderId>
- outbox event: pk = ORDER#<orderId>, sk = OUTBOX#<occurredAt>#<eventId>, expiresAt (TTL)
- summary:      pk = SUMMARY#<date>, sk = DAILY (and its outbox event, sk = OUTBOX#DailySummary)

The PENDING and per-day indexes are sharded (the shard is derived from the order id) so that no
single index partition takes every write.

Outbox items share their order's partition key, so the table stream delivers an order's events
in the order they were written.
"""

from __future__ import annotations

# Environment variables set by the infrastructure.
ORDERS_TABLE_ENV = "ORDERS_TABLE_NAME"
EXPIRE_AFTER_MINUTES_ENV = "EXPIRE_AFTER_MINUTES"
TIME_ZONE_ENV = "TIME_ZONE"
HIGH_VALUE_THRESHOLD_ENV = "HIGH_VALUE_THRESHOLD"  # orders above it wait for a reviewer's approval
# Who the caller is, when the routes sit behind the JWT authorizer.
AUTHORIZER_ENV = "API_AUTHORIZER"  # "jwt", or "none" (routes deliberately public: dev)
CALLER_CLAIM_ENV = "CALLER_CLAIM"  # the token claim that is the caller's customerId
OPERATOR_SCOPE_ENV = "OPERATOR_SCOPE"  # a token scope that may read every customer's orders

# Orders table key schema.
PARTITION_KEY = "pk"
SORT_KEY = "sk"
CUSTOMER_INDEX = "byCustomer"
CUSTOMER_INDEX_PARTITION_KEY = "gsi1pk"
CUSTOMER_INDEX_SORT_KEY = "gsi1sk"
TTL_ATTRIBUTE = "expiresAt"
PENDING_INDEX = "pendingByAge"
PENDING_INDEX_PARTITION_KEY = "pendingShard"
PENDING_INDEX_SORT_KEY = "pendingSince"
DAY_INDEX = "byDay"
DAY_INDEX_PARTITION_KEY = "dayShard"
DAY_INDEX_SORT_KEY = "createdKey"
DAY_INDEX_ATTRIBUTES = ("state", "totalAmount", "currency")  # what the daily summary reads
INDEX_SHARDS = 4
STREAM_VIEW_TYPE = "NEW_IMAGE"

# Custom metric (Powertools EMF, namespace and "service" dimension = the service name) of payments
# that could not be applied: a customer may have been charged for nothing. Alarmed critical.
PAYMENT_EXCEPTIONS_METRIC = "PaymentExceptions"

SUMMARY_PREFIX = "SUMMARY#"
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


def shard_of(order_id: str) -> int:
    return int(order_id.replace("-", "")[-8:], 16) % INDEX_SHARDS


def index_keys(order_id: str, created_at: str) -> dict[str, str]:
    """The per-day and PENDING index keys of a new (PENDING) order."""
    shard, sort_key = shard_of(order_id), f"{created_at}#{order_id}"
    return {
        DAY_INDEX_PARTITION_KEY: f"DAY#{created_at[:10]}#{shard}",
        DAY_INDEX_SORT_KEY: sort_key,
        PENDING_INDEX_PARTITION_KEY: f"PENDING#{shard}",
        PENDING_INDEX_SORT_KEY: sort_key,
    }


# Appended to every update that moves an order out of PENDING: it leaves the PENDING index.
LEAVE_PENDING = f" REMOVE {PENDING_INDEX_PARTITION_KEY}, {PENDING_INDEX_SORT_KEY}"
# The outbox relay publishes to this bus (system/outbox.py sets it).
EVENT_BUS_ENV = "EVENT_BUS_NAME"
