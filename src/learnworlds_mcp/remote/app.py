"""The remote server's ASGI app: MCP at `/mcp`, `/healthz`, the authorization server, safety.

`build_http_app` assembles what `cli.py` serves with `--transport http`: the same MCP server as
over stdio (tools, prompts, completions, progress, confirmation) with the caller's identity
feeding the per-member gates and the audit log, the SDK's Streamable HTTP app (both protocol
generations), bearer auth with the built-in authorization server, Host/Origin checks against
the public URL, and a cap on request bodies.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, ServerRequestContext
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from learnworlds_mcp import __version__
from learnworlds_mcp.clock import Clock
from learnworlds_mcp.config import ConfigError, Settings, is_loopback_host
from learnworlds_mcp.errors import SharedStateUnavailableError
from learnworlds_mcp.remote.auth import RemoteAuth, build_remote_auth
from learnworlds_mcp.remote.gate import Gates, MemberGate
from learnworlds_mcp.remote.members import Member, MemberDirectory, MembersError
from learnworlds_mcp.server import build_server, instructions_for, selected_tools
from learnworlds_mcp.state.shared import shared_state

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"
MAX_MCP_BODY_BYTES = 1024 * 1024
"""Largest `/mcp` request body: tool arguments are small; 1 MiB leaves ample room."""
MAX_OTHER_BODY_BYTES = 64 * 1024
"""Largest body anywhere else (sign-in form, client registration, token requests)."""


@dataclass
class HttpApp:
    """The assembled app, and what `serve` reports about it."""

    app: ASGIApp
    members: int


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Host/Origin checks (DNS rebinding): the public URL's origin, plus loopback when bound there."""
    public = httpx2.URL(settings.effective_public_url)
    default_port = {"http": 80, "https": 443}[public.scheme]
    netloc = public.host if ":" not in public.host else f"[{public.host}]"
    hosts = {f"{netloc}:{public.port or default_port}"}
    origins = {f"{public.scheme}://{netloc}:{public.port or default_port}"}
    if public.port in (None, default_port):
        hosts.add(netloc)
        origins.add(f"{public.scheme}://{netloc}")
    if is_loopback_host(settings.host):
        hosts |= {"127.0.0.1:*", "localhost:*", "[::1]:*"}
        origins |= {"http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"}
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=sorted(hosts),
        allowed_origins=sorted(origins),
    )


class Callers:
    """Who is calling, from the verified bearer token of the current request."""

    def __init__(self, auth: RemoteAuth | None) -> None:
        self.auth = auth

    def member(self) -> Member | None:
        return None if self.auth is None else self.auth.member_of(get_access_token())

    def gates(self) -> Gates | None:
        """The member's gates; None without auth (`--no-auth`: the server's gates only)."""
        if self.auth is None:
            return None
        member = self.member()
        if member is None:  # verified a moment ago, removed since: nothing at all
            return Gates(frozenset(), frozenset())
        return Gates(frozenset(member.tool_kinds), frozenset(member.toolsets))

    def identify(self) -> tuple[str, str]:
        """(member, client) for the audit log."""
        if self.auth is None:
            return ("local", "no-auth")
        token = get_access_token()
        # The name the token was verified for, even if the member was removed a moment ago.
        name = (token.subject if token is not None else None) or "unknown"
        return (name, self.auth.client_name_of(token))


def build_http_app(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
) -> HttpApp:
    """The ASGI app for `--transport http` (`settings.port` must be the port actually bound)."""
    try:
        members = MemberDirectory(settings.members_file)
    except MembersError as error:  # unreadable or corrupt: the one-line start-up error
        raise ConfigError(str(error)) from None
    state = shared_state(settings, clock)
    auth = (
        None
        if settings.no_auth
        else build_remote_auth(
            settings.effective_public_url,
            members,
            state.oauth,
            server_gates=settings,
            clock=clock,
        )
    )
    callers = Callers(auth)
    gate = MemberGate(
        selected_tools(settings),
        callers.gates,
        lambda gates: instructions_for(settings, gates.kinds),
    )

    async def note_seen(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> Any:
        """When each member was last seen (written at most once a minute per member)."""
        member = callers.member()
        if member is not None:
            await state.seen.touch(member.name)
        return await call_next(ctx)

    server = build_server(
        settings,
        transport=transport,
        clock=clock,
        identify=callers.identify,
        middleware=[note_seen, gate],
        auth=None if auth is None else auth.settings,
        auth_server_provider=None if auth is None else auth.provider,
        state=state,
    )
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        host=settings.host,
        transport_security=transport_security(settings),
        max_request_body_size=MAX_MCP_BODY_BYTES,
    )
    if auth is not None:
        auth.mount(app)
    app.add_middleware(SharedStateGuard)

    async def healthz(_: Request) -> Response:
        if await state.healthy():
            return JSONResponse({"status": "ok", "version": __version__})
        return JSONResponse(
            {
                "status": "degraded",
                "version": __version__,
                "reason": f"the shared state at {state.where} cannot be reached "
                "(LEARNWORLDS_REDIS_URL); tools answer errors until it is back",
            },
            status_code=503,
        )

    app.add_route("/healthz", healthz, methods=["GET"])
    return HttpApp(app=BodyLimit(app), members=members.count())


class SharedStateGuard:
    """Answer 503 with a clear message when the shared state (Redis) is out of reach outside a
    tool call — verifying a token, registering a client, signing in — instead of a bare 500
    with a traceback: connectors give up on a 5xx in their discovery chain, but a 503 with
    `Retry-After` says "try again shortly"."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            unavailable = _unavailable(error)
            if unavailable is None or started:
                raise
            logger.warning("%s %s: %s", scope.get("method"), scope.get("path"), unavailable)
            body = json.dumps(
                {"error": "temporarily_unavailable", "error_description": str(unavailable)}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"retry-after", b"5"),
                        (b"access-control-allow-origin", b"*"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


def _unavailable(error: BaseException) -> SharedStateUnavailableError | None:
    if isinstance(error, SharedStateUnavailableError):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _unavailable(inner)
            if found is not None:
                return found
    return None


class BodyLimit:
    """Refuse request bodies over `MAX_OTHER_BODY_BYTES` with 413 outside `/mcp`, announced or
    streamed (chunked): the body is read, up to the cap, before the route sees it. `/mcp` has
    the SDK's own cap (`max_request_body_size`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.rstrip("/") == MCP_PATH:
            await self.app(scope, receive, send)
            return
        limit = MAX_OTHER_BODY_BYTES
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": f"request body over {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})
