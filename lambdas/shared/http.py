"""JSON error responses in one shape for every HTTP handler: {"error": {"code", "message"}}."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response


def error_body(code: str, message: str, details: Any = None) -> str:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return json.dumps({"error": error}, default=str)


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> Response:
    """For Powertools routes and exception handlers."""
    from aws_lambda_powertools.event_handler import Response  # lazy: handlers without a router skip it

    return Response(status_code=status, content_type="application/json", body=error_body(code, message, details),
                    headers=headers)


def error_result(status: int, code: str, message: str) -> dict[str, Any]:
    """A finished HTTP API (payload 2.0) result, for refusals made before the router runs."""
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": error_body(code, message)}


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic errors without the echoed input or doc links: where and what, nothing more."""
    return [{"location": [str(part) for part in e.get("loc", ())], "problem": e.get("msg", "")} for e in errors]
