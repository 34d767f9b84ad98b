"""JSON error responses in one shape for every HTTP handler: {"error": {"code", "message"}}."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.runtime.http import error_body, error_result

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

__all__ = ["error_body", "error_response", "error_result", "validation_details"]


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> Response:
    """For Powertools routes and exception handlers."""
    from aws_lambda_powertools.event_handler import Response  # lazy: handlers without a router skip it

    return Response(status_code=status, content_type="application/json", body=error_body(code, message, details),
                    headers=headers)


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic errors without the echoed input or doc links: where and what, nothing more."""
    return [{"location": [str(part) for part in e.get("loc", ())], "problem": e.get("msg", "")} for e in errors]
