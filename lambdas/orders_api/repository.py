"""Orders data access: one table, order and outbox item written in one transaction."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.dynamo import from_dynamo, to_dynamo
from shared.money import amount_text, rounded_up
from shared.orders_schema import (
    CUSTOMER_INDEX,
    CUSTOMER_INDEX_PARTITION_KEY,
    CUSTOMER_INDEX_SORT_KEY,
    LEAVE_PENDING,
    ORDER_PREFIX,
    ORDER_SORT_KEY,
    PARTITION_KEY,
    SORT_KEY,
    customer_partition,
    index_keys,
    order_key,
)
from shared.outbox import iso, outbox_item

if TYPE_CHECKING:
    from orders_api.models import CreateOrder

PENDING, CANCELLED = "PENDING", "CANCELLED"
SOURCE = "orders"
_CURSOR_KEYS = {PARTITION_KEY, SORT_KEY, CUSTOMER_INDEX_PARTITION_KEY, CUSTOMER_INDEX_SORT_KEY}


class OrderNotFoundError(Exception):
    pass


class OrderStateError(Exception):
    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


class InvalidCursorError(ValueError):
    pass


class OrderExistsError(Exception):
    """An order with this id exists already: the request was applied before (an idempotent retry)."""


class OrderBusyError(Exception):
    """Another transaction on the order won the race (TransactionConflict): the caller may retry."""


# DynamoDB key size limits: a partition key value 1-2048 bytes, a sort key 1-1024 bytes (the same
# for index keys). A forged cursor breaking them would be a ValidationException, i.e. a 500.
_KEY_LIMITS = {PARTITION_KEY: 2048, SORT_KEY: 1024, CUSTOMER_INDEX_PARTITION_KEY: 2048, CUSTOMER_INDEX_SORT_KEY: 1024}
_ORDER_PARTITION = re.compile(rf"{ORDER_PREFIX}[0-9a-f]{{8}}-[0-9a-f]{{4}}-4[0-9a-f]{{3}}-[89ab][0-9a-f]{{3}}-[0-9a-f]{{12}}")
_CREATED_KEY = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z#[0-9a-f-]{36}")
_MAX_CURSOR_CHARS = 4096

def order_view(item: dict[str, Any]) -> dict[str, Any]:
    """The API's representation: amounts as decimal strings, no storage keys."""
    return {
        "orderId": item["orderId"],
        "customerId": item["customerId"],
        "state": item["state"],
        "currency": item["currency"],
        "totalAmount": str(item["totalAmount"]),
        "items": [{"sku": i["sku"], "quantity": int(i["quantity"]), "unitPrice": str(i["unitPrice"])} for i in item["items"]],
        "createdAt": item["createdAt"],
        "updatedAt": item["updatedAt"],
    }


def encode_cursor(last_key: dict[str, Any]) -> str:
    plain = from_dynamo(last_key)
    return base64.urlsafe_b64encode(json.dumps(plain, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, customer_id: str) -> dict[str, Any]:
    """The cursor back to an ExclusiveStartKey; anything that is not one we issued for this customer is refused."""
    if len(cursor) > _MAX_CURSOR_CHARS:
        raise InvalidCursorError("cursor is too long")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCursorError("cursor is not valid") from error
    if (
        not isinstance(plain, dict)
        or set(plain) != _CURSOR_KEYS
        or not all(isinstance(v, str) for v in plain.values())
        or plain[CUSTOMER_INDEX_PARTITION_KEY] != customer_partition(customer_id)
        or plain[SORT_KEY] != ORDER_SORT_KEY
        or not _ORDER_PARTITION.fullmatch(plain[PARTITION_KEY])
        or not _CREATED_KEY.fullmatch(plain[CUSTOMER_INDEX_SORT_KEY])
        or not plain[CUSTOMER_INDEX_SORT_KEY].endswith(plain[PARTITION_KEY][len(ORDER_PREFIX):])
        or any(not 1 <= len(plain[key].encode()) <= limit for key, limit in _KEY_LIMITS.items())
    ):
        raise InvalidCursorError("cursor is not valid for this listing")
    return to_dynamo(plain)


class OrdersRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def place(self, command: CreateOrder, now: datetime, order_id: str | None = None) -> dict[str, Any]:
        order_id = order_id or str(uuid.uuid4())
        created_at = iso(now)
        total = command.total()
        order = {
            **order_key(order_id),
            "entity": "order",
            "orderId": order_id,
            "customerId": command.customerId,
            "state": PENDING,
            "currency": command.currency,
            "totalAmount": total,
            "items": [{"sku": i.sku, "quantity": i.quantity, "unitPrice": i.unitPrice} for i in command.items],
            "createdAt": created_at,
            "updatedAt": created_at,
            CUSTOMER_INDEX_PARTITION_KEY: customer_partition(command.customerId),
            CUSTOMER_INDEX_SORT_KEY: f"{created_at}#{order_id}",
            **index_keys(order_id, created_at),
        }
        event = outbox_item(order_id, "OrderPlaced", SOURCE, {
            "orderId": order_id, "customerId": command.customerId, "currency": command.currency,
            "totalAmount": amount_text(total), "totalAmountRoundedUp": rounded_up(total),
            "itemCount": sum(i.quantity for i in command.items),
        }, now, version=3)
        try:
            self.client.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.table_name, "Item": to_dynamo(order),
                         "ConditionExpression": "attribute_not_exists(#pk)",
                         "ExpressionAttributeNames": {"#pk": PARTITION_KEY}}},
                {"Put": {"TableName": self.table_name, "Item": to_dynamo(event)}},
            ])
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise OrderExistsError(order_id) from error
            raise
        return order_view(order)

    def get(self, order_id: str) -> dict[str, Any] | None:
        response = self.client.get_item(TableName=self.table_name, Key=to_dynamo(order_key(order_id)))
        item = response.get("Item")
        return order_view(from_dynamo(item)) if item else None

    def list_for_customer(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": CUSTOMER_INDEX,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": CUSTOMER_INDEX_PARTITION_KEY},
            "ExpressionAttributeValues": {":pk": {"S": customer_partition(customer_id)}},
            "ScanIndexForward": False,  # newest first
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = decode_cursor(cursor, customer_id)
        response = self.client.query(**request)
        orders = [order_view(from_dynamo(item)) for item in response.get("Items", [])]
        last_key = response.get("LastEvaluatedKey")
        return orders, encode_cursor(last_key) if last_key else None

    def cancel(self, order_id: str, now: datetime, owner: str | None = None) -> dict[str, Any]:
        """Cancel a PENDING order; with ``owner``, only that customer's (another's is not found)."""
        updated_at = iso(now)
        condition, values = "#state = :pending", {":pending": {"S": PENDING}}
        if owner is not None:  # in the same condition, so the check and the change cannot be split
            condition, values = condition + " AND customerId = :owner", {**values, ":owner": {"S": owner}}
        event = outbox_item(order_id, "OrderCancelled", SOURCE, {"orderId": order_id, "reason": "customer"}, now)
        try:
            self.client.transact_write_items(TransactItems=[
                {"Update": {
                    "TableName": self.table_name,
                    "Key": to_dynamo(order_key(order_id)),
                    "UpdateExpression": "SET #state = :cancelled, updatedAt = :now" + LEAVE_PENDING,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {":cancelled": {"S": CANCELLED}, ":now": {"S": updated_at}, **values},
                }},
                {"Put": {"TableName": self.table_name, "Item": to_dynamo(event)}},
            ])
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            current = self.get(order_id)
            if current is None or (owner is not None and current["customerId"] != owner):
                raise OrderNotFoundError(order_id) from error
            if current["state"] == PENDING:
                # Still PENDING, so the condition held: another transaction on the order won the
                # race (TransactionConflict). Retrying is the client's move, not a server fault.
                raise OrderBusyError(order_id) from error
            raise OrderStateError(current["state"]) from error
        order = self.get(order_id)
        assert order is not None  # just updated under a condition
        return order
