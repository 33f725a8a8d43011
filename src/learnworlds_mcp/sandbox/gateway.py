"""The school's front door: an ASGI app wrapping the Starlette routes.

For every HTTP request, in this order:

1. read the whole body and append a `LoggedRequest` to the request log (arrival time from the
   school's clock);
2. take the fault armed for it, if any (`faults.py`); before-apply faults answer here;
3. the rate limit (per client id: the `Lw-Client` header, or the token request's `client_id`);
4. authentication for `/v2` paths: `Lw-Client` must be the client id (else 401 "Invalid object
   ID"), the bearer token must be valid (else 400/401 `access_denied`), the plan must have API
   access (else 403 `{"error": ...}`);
5. the Starlette routes (`app.py`), whose answer is buffered so after-apply faults can replace it.

A request that breaks the rate limit, fails authentication or hits a before-apply fault never
reaches the routes, so nothing is written.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

import httpx2
from starlette.applications import Starlette
from starlette.responses import Response

from learnworlds_mcp.clock import Clock
from learnworlds_mcp.sandbox.auth import TokenStore, parse_token_body
from learnworlds_mcp.sandbox.errors import (
    SERVER_ERROR,
    TOO_MANY_REQUESTS,
    ApiError,
    access_denied,
    auth_error,
    error,
    json_response,
)
from learnworlds_mcp.sandbox.faults import Fault, Faults
from learnworlds_mcp.sandbox.options import SandboxOptions
from learnworlds_mcp.sandbox.ratelimit import RateLimiter
from learnworlds_mcp.sandbox.validate import is_object_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BASE_PATH = "/admin/api"
TOKEN_PATH = "/oauth2/access_token"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MALFORMED_BODY = b'{"data": [{"id": "5f1e9a3c7b2d4e6f80a1b2c3", "email": '
NO_API_ACCESS = "Your plan does not include API access. Please upgrade your plan to use the API."


@dataclass
class LoggedRequest:
    """One request as the school received it, and how it was answered.

    `path`/`raw_path` are relative to `/admin/api` (decoded / as sent). `query` maps each name to
    its last value; `query_items` keeps every pair. `json` is the parsed body (None if absent or
    not JSON; for the token endpoint's form bodies, the parsed form). `status` is None for a
    dropped connection. `is_write` is true for POST/PUT/PATCH/DELETE under `/v2`. `fault` names the
    fault that hit the request ("fail", "rate_limit", "slow", "drop", "malformed",
    "expire_tokens"), or "rate_limited" when the school's own limiter refused it.
    """

    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    query_items: list[tuple[str, str]]
    json: Any
    body: bytes
    headers: dict[str, str]
    at: float
    is_write: bool
    status: int | None = None
    fault: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _status_of(answer: Response | _Buffered) -> int:
    return answer.status if isinstance(answer, _Buffered) else answer.status_code


@dataclass
class _Buffered:
    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


class Gateway:
    """The ASGI callable served as `school.app`."""

    def __init__(
        self,
        routes: Starlette,
        options: SandboxOptions,
        clock: Clock,
        tokens: TokenStore,
        faults: Faults,
        log: list[LoggedRequest],
    ) -> None:
        self.routes = routes
        self.options = options
        self.clock = clock
        self.tokens = tokens
        self.faults = faults
        self.log = log
        limit = options.rate_limit
        self.limiter = None if limit is None else RateLimiter(limit[0], limit[1], clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        entry = self._log_entry(scope, body)
        self.log.append(entry)
        fault = self.faults.take(entry.method, entry.path)
        if fault is not None:
            entry.fault = fault.kind
        if fault is not None and fault.kind == "expire_tokens":
            self.tokens.expire_all(include_static=False)
            fault = None
        if fault is not None and fault.kind == "malformed" and entry.is_write:
            # A 2xx means the school processed the write: its unreadable reply comes after.
            fault = replace(fault, after_apply=True)
        if fault is not None and not fault.after_apply:
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
            elif fault.kind == "drop":
                await _drop(send)
                return
            else:
                await self._send(entry, _fault_response(fault), send)
                return
        answer = await self._process(scope, body, entry)
        if fault is not None and fault.kind == "malformed" and _status_of(answer) >= 300:
            fault = None  # refused (limit, auth, conflict): nothing processed, the real answer
        if fault is not None:  # an after-apply fault: the request has been processed
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
            elif fault.kind == "drop":
                await _drop(send)
                return
            else:
                answer = _fault_response(fault)
        await self._send(entry, answer, send)

    def _log_entry(self, scope: Scope, body: bytes) -> LoggedRequest:
        path: str = scope["path"]
        raw = (scope.get("raw_path") or path.encode()).decode("latin-1")
        rel = path[len(BASE_PATH) :] if path.startswith(BASE_PATH) else path
        raw_rel = raw[len(BASE_PATH) :] if raw.startswith(BASE_PATH) else raw
        items = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        parsed: Any = None
        if body:
            try:
                if rel == TOKEN_PATH:
                    parsed = parse_token_body(headers.get("content-type", ""), body)
                else:
                    parsed = json.loads(body)
            except (ValueError, ApiError):
                parsed = None
        method = scope["method"].upper()
        return LoggedRequest(
            method=method,
            path=rel,
            raw_path=raw_rel,
            query=dict(items),
            query_items=items,
            json=parsed,
            body=body,
            headers=headers,
            at=self.clock.monotonic(),
            is_write=method in WRITE_METHODS and rel.startswith("/v2/"),
        )

    async def _process(
        self, scope: Scope, body: bytes, entry: LoggedRequest
    ) -> Response | _Buffered:
        is_token = entry.path == TOKEN_PATH
        if self.limiter is not None and (self.options.count_token_requests or not is_token):
            key = entry.headers.get("lw-client") or ""
            if not key and is_token and isinstance(entry.json, dict):
                key = str(entry.json.get("client_id", ""))
            wait = self.limiter.admit(key)
            if wait is not None:
                entry.fault = entry.fault or "rate_limited"
                headers: dict[str, str] = {}
                if self.options.retry_after_header:
                    headers["Retry-After"] = str(max(1, math.ceil(wait)))
                return json_response({"error": TOO_MANY_REQUESTS}, 429, headers)
        if scope["path"].startswith(BASE_PATH + "/v2/"):
            problem = self._auth_problem(entry.headers)
            if problem is not None:
                return problem.response()
        return await _call_buffered(self.routes, scope, body)

    def _auth_problem(self, headers: dict[str, str]) -> ApiError | None:
        client = headers.get("lw-client", "")
        if not is_object_id(client) or client != self.options.client_id:
            return auth_error(401, None, "Invalid object ID")
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self.tokens.is_valid(token.strip()):
            return access_denied(self.faults.auth_error_status)
        if not self.options.api_access:
            return error(403, NO_API_ACCESS)
        return None

    async def _send(self, entry: LoggedRequest, answer: Response | _Buffered, send: Send) -> None:
        if isinstance(answer, Response):
            status, headers, body = answer.status_code, answer.raw_headers, answer.body
        else:
            status, headers, body = answer.status, answer.headers, answer.body
        entry.status = status
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": bytes(body), "more_body": False})


def _fault_response(fault: Fault) -> Response:
    if fault.kind == "rate_limit":
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        return json_response({"error": TOO_MANY_REQUESTS}, 429, headers)
    if fault.kind == "malformed":
        return Response(MALFORMED_BODY, 200, media_type="application/json")
    return json_response({"error": SERVER_ERROR}, fault.status)


async def _drop(send: Send) -> None:
    """Close the connection without answering.

    Under uvicorn, `send` is a method of the connection's request cycle, which holds the
    transport: mark the cycle disconnected (so uvicorn does not answer 500 for us) and close it.
    In-process (`httpx2.ASGITransport`, which re-raises app exceptions) raise the error the
    client's transport would raise.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None:
        cycle.disconnected = True  # type: ignore[union-attr]
        transport.close()
        return
    raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _call_buffered(app: Starlette, scope: Scope, body: bytes) -> _Buffered:
    """Run the routes with the body already read, collecting the whole answer."""
    sent = False
    out = _Buffered()
    parts: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # nothing more: wait like a quiet client would
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            out.status = message["status"]
            out.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    out.body = b"".join(parts)
    return out


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
