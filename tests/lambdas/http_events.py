"""API Gateway HTTP API (payload 2.0) events, as the orders and webhook handlers receive them."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode


def http_event(method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
               query: dict[str, str] | None = None, raw_body: str | bytes | None = None,
               base64_encoded: bool = False, route_key: str | None = None,
               claims: dict[str, Any] | None = None, scopes: list[str] | None = None) -> dict[str, Any]:
    """An HTTP API event; ``claims``/``scopes``: as API Gateway passes a token its JWT authorizer verified."""
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    all_headers = {"content-type": "application/json"} if raw_body else {}
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    if isinstance(raw_body, bytes) or base64_encoded:
        data = raw_body if isinstance(raw_body, bytes) else (raw_body or "").encode()
        raw_body, base64_encoded = base64.b64encode(data).decode(), True
    context_extra = {"authorizer": {"jwt": {"claims": claims, "scopes": scopes}}} if claims is not None else {}
    return {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": all_headers,
        "queryStringParameters": query,
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com", "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                     "userAgent": "pytest"},
            "requestId": "request-1", "routeKey": route_key or f"{method} {path}", "stage": "$default",
            "time": "23/Nov/2026:12:00:00 +0000", "timeEpoch": 1795435200000, **context_extra,
        },
        "body": raw_body,
        "isBase64Encoded": base64_encoded,
    }


def parse(response: dict[str, Any]) -> tuple[int, Any]:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return response["statusCode"], json.loads(body) if body else None
