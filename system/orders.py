"""The orders service's API, tables and routes, built from the names its handlers use."""

from __future__ import annotations

from components.api_service import ApiFunction, ApiServiceArgs, Route
from components.core.context import StackContext
from components.core.table import IndexSpec, TableAccess, TableSpec, idempotency_table
from components.runtime.idempotency_schema import IDEMPOTENCY_TABLE_ENV, IDEMPOTENCY_TTL_ENV
from lambdas.shared import orders_schema as schema
from system.functions import app_function
from system.settings import Settings

ORDERS_TABLE = TableSpec(
    name="orders",
    partition_key=schema.PARTITION_KEY,
    sort_key=schema.SORT_KEY,
    attributes={
        schema.PARTITION_KEY: "S",
        schema.SORT_KEY: "S",
        schema.CUSTOMER_INDEX_PARTITION_KEY: "S",
        schema.CUSTOMER_INDEX_SORT_KEY: "S",
        schema.PENDING_INDEX_PARTITION_KEY: "S",
        schema.PENDING_INDEX_SORT_KEY: "S",
        schema.DAY_INDEX_PARTITION_KEY: "S",
        schema.DAY_INDEX_SORT_KEY: "S",
    },
    indexes=(
        IndexSpec(schema.CUSTOMER_INDEX, schema.CUSTOMER_INDEX_PARTITION_KEY, schema.CUSTOMER_INDEX_SORT_KEY),
        IndexSpec(schema.PENDING_INDEX, schema.PENDING_INDEX_PARTITION_KEY, schema.PENDING_INDEX_SORT_KEY, projection=()),
        IndexSpec(schema.DAY_INDEX, schema.DAY_INDEX_PARTITION_KEY, schema.DAY_INDEX_SORT_KEY,
                  projection=schema.DAY_INDEX_ATTRIBUTES),
    ),
    ttl_attribute=schema.TTL_ATTRIBUTE,
    stream_view_type=schema.STREAM_VIEW_TYPE,  # the outbox relay reads new images
)

IDEMPOTENCY_TABLE = idempotency_table("orders-idempotency")

# Only what the routes do (proven by the local cloud's flows, tools/local/grants.py): transactions
# put and update items; listing a customer's orders queries the customer index, nothing else.
ORDERS_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
# Powertools idempotency. GetItem (its fallback read) and DeleteItem (after a failed placement) are
# kept although no local flow reaches them: tools/local/grants.py KEPT says why.
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


def orders_api_args(settings: Settings, stack: StackContext | None = None) -> ApiServiceArgs:
    """Routes are protected by the stack's JWT authorizer when it has one, and explicitly public otherwise."""
    public = not settings.api.jwt_issuer
    return ApiServiceArgs(
        tables=(ORDERS_TABLE, IDEMPOTENCY_TABLE),
        api=settings.http_api,
        shared=True,  # the payments webhook adds its route; __main__ deploys the API after it
        stack=stack or StackContext(settings.defaults),
        functions=(
            ApiFunction(
                name="orders",
                function=app_function(
                    "orders_api", "Orders API: create, read, list and cancel orders",
                    runtime_modules=("idempotency_schema",),
                    environment={
                        IDEMPOTENCY_TTL_ENV: str(settings.idempotency_ttl_seconds),
                        # With the authorizer, customers see only their own orders (orders_api/caller.py).
                        schema.AUTHORIZER_ENV: "none" if public else "jwt",
                        schema.CALLER_CLAIM_ENV: settings.api.caller_claim,
                        schema.OPERATOR_SCOPE_ENV: settings.api.operator_scope,
                    },
                ),
                routes=tuple(Route(method, path, public=public) for method, path in schema.ROUTES),
                tables=(
                    TableAccess(ORDERS_TABLE.name, ORDERS_ACTIONS, schema.ORDERS_TABLE_ENV,
                                queried_indexes=(schema.CUSTOMER_INDEX,)),
                    TableAccess(IDEMPOTENCY_TABLE.name, IDEMPOTENCY_ACTIONS, IDEMPOTENCY_TABLE_ENV),
                ),
            ),
        ),
    )
