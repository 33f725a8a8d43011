"""Auth for the remote server, in one piece: the authorization server, its settings and routes.

:func:`build_remote_auth` gives a :class:`RemoteAuth`; the HTTP app is then assembled as::

    auth = build_remote_auth(public_url, MemberDirectory(path), MemoryOAuthStore(), server_gates=settings)
    mcp = MCPServer(..., auth=auth.settings, auth_server_provider=auth.provider)
    app = mcp.streamable_http_app(...)
    auth.mount(app)        # the sign-in page, and the connector-friendly discovery and CORS

``auth.member_of(get_access_token())`` is the member behind the current request (their current
entry: gates edited in the members file apply at once), ``auth.client_name_of(...)`` the client
the audit log names.

:meth:`RemoteAuth.mount` puts its routes in front of the SDK's own. They serve the same SDK
handlers, with what the web connectors (claude.ai, ChatGPT) need on top: CORS preflights that
allow ``Authorization`` and ``Content-Type`` on the discovery, ``/register``, ``/token`` and
``/revoke`` endpoints; ``none`` (public clients with PKCE) listed among the token endpoint's auth
methods in the RFC 8414 metadata; and the protected-resource metadata at the root well-known URL
as well as at ``/.well-known/oauth-protected-resource/mcp``, and the authorization-server
metadata at ``/.well-known/openid-configuration`` as well.

Two endpoints store a record for anyone who asks, so each source address (as the sign-in page
counts it: :func:`~learnworlds_mcp.remote.signin.request_source`) gets a limited number, counted
in the :class:`~learnworlds_mcp.state.oauth.OAuthStore` (so across replicas with Redis):

- ``/register`` (a client record, kept a week): :data:`REGISTRATIONS_PER_SOURCE` an hour, a body of
  at most 16 KiB. The web connectors register from their own servers, so everyone connecting
  through one of them shares its addresses: the limit is generous for a school's team.
- ``/authorize`` (a sign-in record, kept 10 minutes): :data:`AUTHORIZATIONS_PER_SOURCE` per 10
  minutes (a person's browser; an office behind one address shares it).

Over the limit: 429 with ``Retry-After`` (the window's length), an OAuth-style JSON error from
``/register`` (with its CORS headers), a plain page from ``/authorize``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.metadata import MetadataHandler, ProtectedResourceMetadataHandler
from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.handlers.revoke import RevocationHandler
from mcp.server.auth.handlers.token import TokenHandler
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import build_metadata, build_resource_metadata_url
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, RequestBodyLimitMiddleware
from mcp.shared.auth import ProtectedResourceMetadata
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Message

from learnworlds_mcp.clock import Clock
from learnworlds_mcp.remote.clients import ClientSecretAuthenticator
from learnworlds_mcp.remote.members import Member, MemberDirectory
from learnworlds_mcp.remote.oauth import (
    KEY_CLIENT_ID,
    LearnWorldsAccessToken,
    LearnWorldsAuthProvider,
)
from learnworlds_mcp.remote.signin import (
    GateSettings,
    ServerGates,
    problem_page,
    request_source,
    signin_routes,
)
from learnworlds_mcp.state.oauth import OAuthStore

__all__ = [
    "AUTHORIZATIONS_PER_SOURCE",
    "AUTHORIZATION_WINDOW",
    "MAX_REGISTRATION_BODY",
    "REGISTRATIONS_PER_SOURCE",
    "REGISTRATION_WINDOW",
    "RemoteAuth",
    "build_remote_auth",
]

logger = logging.getLogger(__name__)

REGISTRATIONS_PER_SOURCE = 30
"""Client registrations a source address may make per :data:`REGISTRATION_WINDOW`."""
REGISTRATION_WINDOW = 3600.0
"""An hour, in seconds."""
AUTHORIZATIONS_PER_SOURCE = 60
"""Authorization requests (each a sign-in record) a source may make per :data:`AUTHORIZATION_WINDOW`."""
AUTHORIZATION_WINDOW = 600.0
"""10 minutes, in seconds: as long as a sign-in record lives."""
MAX_REGISTRATION_BODY = 16 * 1024
"""The largest registration request body, in bytes."""

_CORS_HEADERS = ["Authorization", "Content-Type", MCP_PROTOCOL_VERSION_HEADER]


@dataclass
class RemoteAuth:
    """The authorization server and token verifier of one remote server, ready to wire in."""

    provider: LearnWorldsAuthProvider
    """The SDK provider: ``MCPServer(auth_server_provider=...)``; also the token verifier."""
    settings: AuthSettings
    """``MCPServer(auth=...)``: issuer = the public URL, resource = ``<public URL>/mcp``."""
    routes: list[Route]
    """The sign-in page and the connector-friendly discovery, registration, token, revocation."""
    members: MemberDirectory

    def mount(self, app: Starlette) -> None:
        """Serve :attr:`routes` from ``app`` (the SDK's streamable HTTP app), ahead of its own."""
        app.router.routes[0:0] = self.routes

    def member_of(self, token: AccessToken | None) -> Member | None:
        """The current entry of the member a verified token belongs to (``None``: no member)."""
        if token is None or not token.subject:
            return None
        member = self.members.get(token.subject)
        if member is None:
            return None
        if isinstance(token, LearnWorldsAccessToken) and not hmac.compare_digest(
            member.key_hash, token.key_hash
        ):
            return None  # rotated since the token was verified
        return member

    def client_name_of(self, token: AccessToken | None) -> str:
        """What the audit log names as the client: ``key`` for a member key, else the OAuth
        client's registered name (or its id)."""
        if token is None:
            return "unknown"
        if isinstance(token, LearnWorldsAccessToken):
            return token.client_name
        return KEY_CLIENT_ID if token.client_id == KEY_CLIENT_ID else token.client_id


def build_remote_auth(
    public_url: str,
    members: MemberDirectory,
    store: OAuthStore,
    *,
    server_gates: ServerGates | GateSettings,
    clock: Clock | None = None,
) -> RemoteAuth:
    """Build the authorization server for a server reached at ``public_url``.

    ``server_gates`` is the server's :class:`~learnworlds_mcp.config.Settings` (or a
    :class:`ServerGates`): the sign-in page states them. ``clock`` is for tests (token expiry).
    """
    public = public_url.rstrip("/")
    provider = LearnWorldsAuthProvider(public, members, store, clock=clock)
    gates = server_gates if isinstance(server_gates, ServerGates) else ServerGates.of(server_gates)
    registration = ClientRegistrationOptions(enabled=True)
    revocation = RevocationOptions(enabled=True)
    settings = AuthSettings(
        # Strings, not AnyHttpUrl: the model keeps a path-less issuer without a trailing slash
        # (RFC 8414 compares issuers as strings).
        issuer_url=public,  # type: ignore[arg-type]
        resource_server_url=provider.resource_url,  # type: ignore[arg-type]
        client_registration_options=registration,
        revocation_options=revocation,
        validate_token_resource=True,  # member keys and access tokens both carry this resource
    )
    routes: list[Route] = [*signin_routes(provider, gates)]
    routes.extend(_connector_routes(provider, settings, registration, revocation))
    return RemoteAuth(provider=provider, settings=settings, routes=routes, members=members)


def _cors(app: ASGIApp, methods: list[str]) -> ASGIApp:
    return CORSMiddleware(
        app=app, allow_origins="*", allow_methods=methods, allow_headers=_CORS_HEADERS
    )


def _route(path: str, handler: Callable[[Request], Any], methods: list[str]) -> Route:
    app = RequestBodyLimitMiddleware(request_response(handler), DEFAULT_MAX_REQUEST_BODY_SIZE)
    return Route(path, endpoint=_cors(app, [*methods, "OPTIONS"]), methods=[*methods, "OPTIONS"])


def _public_clients_may_revoke(
    handle: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Let public clients (PKCE, no secret) revoke their tokens, as RFC 7009 allows.

    The SDK's revocation request model requires a `client_secret` field even for clients that
    have none; a request without one gets an empty one, which the client authenticator treats
    exactly as a missing secret (refused for confidential clients, ignored for public ones).
    """

    async def revoke(request: Request) -> Response:
        body = await request.body()
        if b"client_secret" not in {key.encode() for key, _ in parse_qsl(body.decode("latin-1"))}:
            body += b"&client_secret=" if body else b"client_secret="

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        return await handle(Request(request.scope, receive))

    return revoke


def _registration_error(status: int, error: str, description: str, **headers: str) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store", **headers},
    )


async def _body_within(request: Request, limit: int) -> bytes | None:
    """The request body, or ``None`` as soon as it is known to be longer than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


def _limited_registration(
    store: OAuthStore, handle: Callable[[Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    """``/register``, at most :data:`REGISTRATIONS_PER_SOURCE` an hour per source address and
    with a body of at most :data:`MAX_REGISTRATION_BODY` bytes."""

    async def register(request: Request) -> Response:
        source = request_source(request)
        count = await store.hit("register", source, REGISTRATION_WINDOW)
        if count > REGISTRATIONS_PER_SOURCE:
            if count == REGISTRATIONS_PER_SOURCE + 1:  # once per window, not once per request
                logger.warning("client registrations refused: too many from %s this hour", source)
            return _registration_error(
                429,
                "temporarily_unavailable",
                f"too many client registrations from your address (at most "
                f"{REGISTRATIONS_PER_SOURCE} an hour): register once and reuse the client",
                **{"Retry-After": str(int(REGISTRATION_WINDOW))},
            )
        body = await _body_within(request, MAX_REGISTRATION_BODY)
        if body is None:
            return _registration_error(
                400,
                "invalid_client_metadata",
                f"the registration request is larger than {MAX_REGISTRATION_BODY // 1024} KiB",
            )

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        return await handle(Request(request.scope, receive))

    return register


def _limited_authorization(
    store: OAuthStore, handle: Callable[[Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    """``/authorize``, at most :data:`AUTHORIZATIONS_PER_SOURCE` per 10 minutes per source."""

    async def authorize(request: Request) -> Response:
        source = request_source(request)
        count = await store.hit("authorize", source, AUTHORIZATION_WINDOW)
        if count > AUTHORIZATIONS_PER_SOURCE:
            if count == AUTHORIZATIONS_PER_SOURCE + 1:
                logger.warning("authorization requests refused: too many from %s", source)
            minutes = int(AUTHORIZATION_WINDOW // 60)
            return problem_page(
                429,
                "Too many sign-in attempts",
                f"More than {AUTHORIZATIONS_PER_SOURCE} sign-ins were started from your address "
                f"within {minutes} minutes. Wait {minutes} minutes, then connect again from the "
                "app.",
                {"Retry-After": str(int(AUTHORIZATION_WINDOW))},
            )
        return await handle(request)

    return authorize


def _connector_routes(
    provider: LearnWorldsAuthProvider,
    settings: AuthSettings,
    registration: ClientRegistrationOptions,
    revocation: RevocationOptions,
) -> list[Route]:
    metadata = build_metadata(settings.issuer_url, None, registration, revocation)
    metadata.token_endpoint_auth_methods_supported = [
        "none",
        "client_secret_post",
        "client_secret_basic",
    ]
    resource = ProtectedResourceMetadata.model_validate(
        {
            "resource": provider.resource_url,
            "authorization_servers": [provider.public_url],
            "resource_name": "LearnWorlds MCP",
        }
    )
    resource_path = str(build_resource_metadata_url(AnyHttpUrl(provider.resource_url)))
    resource_path = "/" + resource_path.split("://", 1)[1].split("/", 1)[1]
    authenticator = ClientSecretAuthenticator(provider)
    metadata_handler = MetadataHandler(metadata).handle
    resource_handler = ProtectedResourceMetadataHandler(resource).handle

    return [
        _route("/.well-known/oauth-authorization-server", metadata_handler, ["GET"]),
        # Some connectors (ChatGPT among them) also probe the OpenID location; a 404 anywhere in
        # discovery can end their attempt, so the same RFC 8414 document is served there too.
        _route("/.well-known/openid-configuration", metadata_handler, ["GET"]),
        _route(resource_path, resource_handler, ["GET"]),
        _route("/.well-known/oauth-protected-resource", resource_handler, ["GET"]),
        # No CORS on /authorize (a browser goes there; scripts need not), as in the SDK.
        Route(
            "/authorize",
            endpoint=RequestBodyLimitMiddleware(
                request_response(
                    _limited_authorization(provider.store, AuthorizationHandler(provider).handle)
                ),
                DEFAULT_MAX_REQUEST_BODY_SIZE,
            ),
            methods=["GET", "POST"],
        ),
        _route(
            "/register",
            _limited_registration(
                provider.store, RegistrationHandler(provider, registration).handle
            ),
            ["POST"],
        ),
        _route("/token", TokenHandler(provider, authenticator).handle, ["POST"]),
        _route(
            "/revoke",
            _public_clients_may_revoke(RevocationHandler(provider, authenticator).handle),
            ["POST"],
        ),
    ]
