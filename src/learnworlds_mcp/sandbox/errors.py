"""The school's error answers: one exception type, the two documented body families.

LearnWorlds answers auth-layer failures with `{"errors": [{code, context, message}],
"success": false}` and resource-layer failures with `{"error": "<text>"}`. Handlers raise
`ApiError` (built by `error()` or `auth_error()`); the app turns it into the response.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

NOT_FOUND_MESSAGE = "Sorry the resource your trying to access does not exist."
ACCESS_DENIED_MESSAGE = "The resource owner or authorization server denied the request."
TOO_MANY_REQUESTS = "Too many requests"
SERVER_ERROR = "Server Error"


class ApiError(Exception):
    """An error answer: status, JSON body and extra headers."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


def error(status: int, message: str) -> ApiError:
    """A resource-layer error: `{"error": message}`."""
    return ApiError(status, {"error": message})


def not_found(message: str = NOT_FOUND_MESSAGE) -> ApiError:
    return error(404, message)


def auth_error(status: int, context: str | None, message: str) -> ApiError:
    """An auth-layer error: `{"errors": [{"code": "<status>", context, message}], "success": false}`."""
    return ApiError(
        status,
        {
            "errors": [{"code": str(status), "context": context, "message": message}],
            "success": False,
        },
    )


def access_denied(status: int) -> ApiError:
    """The answer to a missing, unknown or expired bearer token (400 or 401)."""
    return auth_error(status, "access_denied", ACCESS_DENIED_MESSAGE)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Compact JSON, UTF-8, no ASCII escaping (names and emails stay readable)."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status, headers=headers, media_type="application/json")
