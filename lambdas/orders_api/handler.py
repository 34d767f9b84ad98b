"""Orders API: create, read, list and cancel orders (HTTP API payload 2.0).

Every client error is a 4xx with {"error": {"code", "message"}}; only a real fault is a 5xx.
Cold start: the read routes import neither pydantic nor the idempotency utility; ``POST /orders``
loads them on first use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from components.runtime.environment import read_environment, variable
from components.runtime.idempotency_schema import IDEMPOTENCY_TABLE_ENV
from components.runtime.idempotency_schema import ttl_seconds as idempotency_ttl_seconds
from components.runtime.observability import logger, metrics, observed
from orders_api.caller import Caller, UnauthenticatedError, caller_of
from orders_api.ids import CUSTOMER_ID, ORDER_ID
from orders_api.models import CreateOrder
from orders_api.repository import (
    InvalidCursorError,
    OrderBusyError,
    OrderExistsError,
    OrderNotFoundError,
    OrdersRepository,
    OrderStateError,
)
from shared.http import error_response, error_result, validation_details
from shared.orders_schema import ORDERS_TABLE_ENV, ROUTES

MAX_BODY_BYTES = 64 * 1024
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
PAGE_SIZE = re.compile(r"[0-9]{1,3}")  # ASCII digits: "²".isdigit() is True, and int() of 5,000 digits raises
_ROUTE_PATTERNS = [(method, re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$")) for method, path in ROUTES]



@dataclass(frozen=True)
class Environment:
    """The tables ApiService wires; who the caller is (caller.py) is read per request."""

    orders_table: str = variable(ORDERS_TABLE_ENV)
    idempotency_table: str = variable(IDEMPOTENCY_TABLE_ENV)


environment = read_environment(Environment)
dynamodb = boto3.client("dynamodb")
repository = OrdersRepository(dynamodb, environment.orders_table)
app = APIGatewayHttpResolver()
_invocation: dict[str, LambdaContext] = {}


def now() -> datetime:
    return datetime.now(UTC)


def unreadable_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """Size and media type, checked before anything parses the body."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        return error_result(400, "MALFORMED_BODY", "request body is not text")
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
        raw.decode("utf-8")  # JSON bodies are UTF-8; anything else is the client's mistake, not a 500
    except (ValueError, binascii.Error):
        return error_result(400, "MALFORMED_BODY", "request body is not valid base64 or not UTF-8")
    size = len(raw)
    if size > MAX_BODY_BYTES:
        return error_result(413, "BODY_TOO_LARGE", f"request body exceeds {MAX_BODY_BYTES} bytes")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if size and content_type != "application/json":
        return error_result(415, "UNSUPPORTED_MEDIA_TYPE", "request body must be application/json")
    return None


def caller() -> Caller:
    return caller_of(app.current_event.raw_event)


def not_found() -> Response:
    return error_response(404, "ORDER_NOT_FOUND", "no such order")


def canonical_order(order: CreateOrder) -> dict[str, Any]:
    """The request as the idempotency check compares it: amounts by value (12.5 == 12.50)."""
    def amount(value: Any) -> str:
        return format(value.normalize(), "f") if value else "0"

    dumped = order.model_dump(mode="python")
    return {**dumped, "items": [{**item, "unitPrice": amount(item["unitPrice"])} for item in dumped["items"]]}


def idempotent_order_id(scope: str, key: str) -> str:
    """The order id an Idempotency-Key stands for (UUID v4-shaped, from a digest): a retry that
    outlived its idempotency record writes the same order id, which the table's condition refuses."""
    digest = hashlib.sha256(f"{scope}\n{key}".encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def place_order(order: CreateOrder, order_id: str | None = None) -> dict[str, Any]:
    if order_id is not None:
        try:
            created = repository.place(order, now(), order_id=order_id)
        except OrderExistsError:
            existing = repository.get(order_id)
            if existing is None:  # pragma: no cover - the condition just saw it
                raise
            return existing
    else:
        created = repository.place(order, now())
    metrics.add_metric(name="OrderPlaced", unit=MetricUnit.Count, value=1)
    logger.info("order placed", extra={"orderId": created["orderId"], "items": len(order.items)})
    return created


@cache
def idempotent_place_order() -> tuple[Callable[..., dict[str, Any]], Any]:
    """``place_order`` made idempotent on the Idempotency-Key (Powertools, DynamoDB persistence, TTL'd)."""
    config = IdempotencyConfig(
        # A key is the caller's own: the same key from another customer is another request.
        event_key_jmespath="[customer, idempotencyKey]",
        payload_validation_jmespath="order",
        expires_after_seconds=idempotency_ttl_seconds(),
    )
    persistence = DynamoDBPersistenceLayer(table_name=environment.idempotency_table, boto3_client=dynamodb)

    @idempotent_function(data_keyword_argument="request", config=config, persistence_store=persistence)
    def place_once(request: dict[str, Any]) -> dict[str, Any]:
        return place_order(CreateOrder.model_validate(request["order"]), request["orderId"])

    return place_once, config


# The POST path's parser, models and idempotency layer load and build at init, where provisioned
# concurrency absorbs them, not in the first customer's request.
idempotent_place_order()


@app.post("/orders")
def create_order() -> Response:
    key = app.current_event.headers.get("idempotency-key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        return error_response(400, "INVALID_IDEMPOTENCY_KEY", "Idempotency-Key must be 1-255 printable ASCII characters")
    try:
        order = parse(event=app.current_event.decoded_body or "", model=CreateOrder)
    except ValidationError as invalid:
        errors = invalid.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "MALFORMED_JSON", "request body is not valid JSON")
        return error_response(422, "VALIDATION_FAILED", "request is not valid", details=validation_details(errors))
    who = caller()
    if not who.may_act_for(order.customerId):
        return error_response(403, "FORBIDDEN", "orders can only be placed for the authenticated customer")
    if key is None:
        created = place_order(order)
    else:
        place_once, config = idempotent_place_order()
        config.register_lambda_context(_invocation.get("context"))
        try:
            scope = who.customer_id or order.customerId
            created = place_once(request={"idempotencyKey": key, "customer": scope, "order": canonical_order(order),
                                          "orderId": idempotent_order_id(scope, key)})
        except IdempotencyValidationError:
            return error_response(422, "IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used with a different request")
        except IdempotencyAlreadyInProgressError:
            return error_response(409, "REQUEST_IN_PROGRESS", "a request with this Idempotency-Key is still in progress")
    return Response(201, "application/json", body=created, headers={"Location": f"/orders/{created['orderId']}"})


@app.get("/orders/<orderId>")
def get_order(orderId: str) -> Response:  # noqa: N803 - the path parameter's name
    if not ORDER_ID.match(orderId):
        return error_response(400, "INVALID_ID", "orderId must be a UUID")
    order = repository.get(orderId)
    if order is None or not caller().may_act_for(order["customerId"]):
        return not_found()
    return Response(200, "application/json", body=order)


@app.get("/customers/<customerId>/orders")
def list_orders(customerId: str) -> Response:  # noqa: N803
    if not CUSTOMER_ID.match(customerId):
        return error_response(400, "INVALID_ID", "customerId must be 1-64 letters, digits, '_' or '-'")
    if not caller().may_act_for(customerId):
        return error_response(404, "CUSTOMER_NOT_FOUND", "no such customer")
    limit_text = app.current_event.get_query_string_value("limit", str(DEFAULT_PAGE_SIZE)) or ""
    if not PAGE_SIZE.fullmatch(limit_text) or not 1 <= int(limit_text) <= MAX_PAGE_SIZE:
        return error_response(400, "INVALID_LIMIT", f"limit must be an integer from 1 to {MAX_PAGE_SIZE}")
    cursor = app.current_event.get_query_string_value("cursor")
    try:
        orders, next_cursor = repository.list_for_customer(customerId, int(limit_text), cursor)
    except InvalidCursorError:
        return error_response(400, "INVALID_CURSOR", "cursor is not valid for this listing")
    return Response(200, "application/json", body={"orders": orders, "nextCursor": next_cursor})


@app.post("/orders/<orderId>/cancel")
def cancel_order(orderId: str) -> Response:  # noqa: N803
    if not ORDER_ID.match(orderId):
        return error_response(400, "INVALID_ID", "orderId must be a UUID")
    who = caller()
    owner = None if who.customer_id is None or who.operator else who.customer_id
    try:
        order = repository.cancel(orderId, now(), owner=owner)
    except OrderNotFoundError:
        return not_found()
    except OrderStateError as conflict:
        return error_response(409, "ORDER_NOT_CANCELLABLE", f"only PENDING orders can be cancelled; this one is {conflict.state}")
    except OrderBusyError:
        return error_response(409, "ORDER_BUSY", "the order is being changed by another request; retry",
                              headers={"Retry-After": "1"})
    metrics.add_metric(name="OrderCancelled", unit=MetricUnit.Count, value=1)
    return Response(200, "application/json", body=order)


@app.not_found
def route_not_found(_: Exception) -> Response:
    event = app.current_event
    allowed = sorted({method for method, pattern in _ROUTE_PATTERNS if pattern.match(event.path)})
    if allowed:
        return error_response(405, "METHOD_NOT_ALLOWED", f"{event.http_method} is not allowed here",
                              headers={"Allow": ", ".join(allowed)})
    return error_response(404, "ROUTE_NOT_FOUND", "no such route")


@app.exception_handler(UnauthenticatedError)
def unauthenticated(_: UnauthenticatedError) -> Response:
    return error_response(401, "UNAUTHENTICATED", "a valid token is required")


@app.exception_handler(Exception)
def server_fault(error: Exception) -> Response:
    logger.exception("unhandled error")
    return error_response(500, "INTERNAL_ERROR", "internal error")


@observed(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _invocation["context"] = context
    return unreadable_body(event) or app.resolve(event, context)
