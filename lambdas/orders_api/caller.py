"""Who is calling: the customer in the JWT authorizer's claims, or an operator by scope.

API Gateway has already verified the token (issuer, audience, expiry, signature) when a route has
the JWT authorizer; its claims arrive in ``requestContext.authorizer.jwt`` (payload 2.0). Without
an authorizer (a stack whose routes are deliberately public) there is no caller and no ownership
check, as before. Another customer's order answers 404, never 403, so ids are not an oracle.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from orders_api.ids import CUSTOMER_ID
from shared.orders_schema import AUTHORIZER_ENV, CALLER_CLAIM_ENV, OPERATOR_SCOPE_ENV

DEFAULT_CLAIM = "sub"


class UnauthenticatedError(Exception):
    """The route needs a caller and the request carries none that can own orders."""


@dataclass(frozen=True)
class Caller:
    customer_id: str | None  # None: no authorizer on this stack, everyone sees everything
    operator: bool = False

    def may_act_for(self, customer_id: str) -> bool:
        return self.customer_id is None or self.operator or customer_id == self.customer_id


def _scopes(jwt: dict[str, Any]) -> set[str]:
    scopes = jwt.get("scopes") or []
    claimed = (jwt.get("claims") or {}).get("scope") or ""
    return {s for s in scopes if isinstance(s, str)} | (set(claimed.split()) if isinstance(claimed, str) else set())


def caller_of(event: dict[str, Any]) -> Caller:
    """The caller of a request; raises :class:`UnauthenticatedError` when the stack requires one."""
    if os.environ.get(AUTHORIZER_ENV, "none") != "jwt":
        return Caller(customer_id=None)
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") if isinstance(authorizer, dict) else None
    if not isinstance(jwt, dict):
        raise UnauthenticatedError("no verified token on the request")
    operator_scope = os.environ.get(OPERATOR_SCOPE_ENV, "")
    operator = bool(operator_scope) and operator_scope in _scopes(jwt)
    claim = (jwt.get("claims") or {}).get(os.environ.get(CALLER_CLAIM_ENV) or DEFAULT_CLAIM)
    if isinstance(claim, str) and CUSTOMER_ID.match(claim):
        return Caller(customer_id=claim, operator=operator)
    if operator:
        return Caller(customer_id="", operator=True)  # an operator token need not be a customer
    raise UnauthenticatedError("the token names no customer")
