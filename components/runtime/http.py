"""JSON error responses in one shape for every HTTP handler: {"error": {"code", "message"}}.

The library's webhook receiver answers with these; applications' handlers use them too."""

from __future__ import annotations

import json
from typing import Any


def error_body(code: str, message: str, details: Any = None) -> str:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return json.dumps({"error": error}, default=str)


def error_result(status: int, code: str, message: str) -> dict[str, Any]:
    """A finished HTTP API (payload 2.0) result, for refusals made before the router runs."""
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": error_body(code, message)}


__all__ = ["error_body", "error_result"]
