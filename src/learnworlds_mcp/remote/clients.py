"""Registered OAuth clients: what registration accepts, and how a client proves itself.

Dynamic client registration (RFC 7591) accepts public clients (``token_endpoint_auth_method:
"none"``, with PKCE) and confidential ones (``client_secret_post``, ``client_secret_basic``).
Redirect URIs must be ``https``, ``http`` to a loopback host (local tools such as Claude Code), or
a desktop app's private-use scheme (RFC 8252 §7.1, e.g. ``cursor://…``): at most 10 of them,
each at most 2,000 characters, with a ``client_name`` of at most 200 (``remote/auth.py`` caps the
whole request at 16 KiB). A client secret is stored only as a hash, and
:class:`ClientSecretAuthenticator` checks presented secrets against it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from urllib.parse import unquote, urlsplit

from mcp.server.auth.middleware.client_auth import AuthenticationError, ClientAuthenticator
from mcp.server.auth.provider import RegistrationError
from mcp.shared.auth import OAuthClientInformationFull
from starlette.requests import Request

from learnworlds_mcp.remote.members import hash_key

__all__ = [
    "ClientSecretAuthenticator",
    "RegisteredClient",
    "check_redirect_uri",
    "client_display_name",
    "client_to_store",
]

_SCHEME_RE = re.compile(r"[a-z][a-z0-9+.-]*")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
_FORBIDDEN_SCHEMES = frozenset(
    {"javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss", "filesystem"}
)
_AUTH_METHODS = frozenset({"none", "client_secret_post", "client_secret_basic"})
_MAX_CLIENT_NAME = 200
_MAX_REDIRECT_URIS = 10
_MAX_REDIRECT_URI = 2000


class RegisteredClient(OAuthClientInformationFull):
    """A registered client whose requested scopes are all accepted.

    This server has no scopes: what a member may do comes from their gates. Connectors send
    what they like — ChatGPT an empty ``scope=``, Claude Code ``offline_access`` — and the SDK's
    default check (only scopes named at registration) would refuse them with ``invalid_scope``.
    """

    def validate_scope(self, requested_scope: str | None) -> list[str] | None:
        if requested_scope is None:
            return None
        return [scope for scope in requested_scope.split() if scope][:20]


def client_display_name(client: OAuthClientInformationFull) -> str:
    """The registered ``client_name`` (trimmed), or the client id when it has none."""
    name = " ".join((client.client_name or "").split())
    return name[:_MAX_CLIENT_NAME] if name else client.client_id


def check_redirect_uri(uri: str) -> None:
    """Raise ``ValueError`` unless ``uri`` is an acceptable redirect URI.

    Accepted: ``https`` anywhere; ``http`` only to a loopback host (local tools such as Claude
    Code); a private-use scheme (``cursor://…``, ``com.example.app:/cb``). Never a fragment, and
    never a scheme a browser would run or read locally (``javascript:``, ``data:``, ``file:``…).
    """
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise ValueError("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if parts.fragment or "#" in uri:
        raise ValueError("must not contain a fragment")
    if scheme == "https":
        if not parts.hostname:
            raise ValueError("has no host")
        return
    if scheme == "http":
        if (parts.hostname or "").lower() not in _LOOPBACK_HOSTS:
            raise ValueError("must use https (plain http only to localhost / 127.0.0.1 / [::1])")
        return
    if not scheme or not _SCHEME_RE.fullmatch(scheme) or scheme in _FORBIDDEN_SCHEMES:
        raise ValueError("must use https, http to a loopback host, or an app's own scheme")


def client_to_store(client_info: OAuthClientInformationFull) -> OAuthClientInformationFull:
    """Check a registration and return the record to keep (its secret hashed).

    Raises the SDK's ``RegistrationError`` (a 400 with ``invalid_redirect_uri`` or
    ``invalid_client_metadata``) naming what is wrong.
    """
    uris = [str(uri) for uri in client_info.redirect_uris or []]
    if not uris:
        raise RegistrationError("invalid_redirect_uri", "redirect_uris must name at least one URI")
    if len(uris) > _MAX_REDIRECT_URIS:
        raise RegistrationError(
            "invalid_redirect_uri", f"at most {_MAX_REDIRECT_URIS} redirect_uris"
        )
    for uri in uris:
        if len(uri) > _MAX_REDIRECT_URI:
            raise RegistrationError(
                "invalid_redirect_uri",
                f"redirect URI {uri[:60]!r}… is longer than {_MAX_REDIRECT_URI} characters",
            )
        try:
            check_redirect_uri(uri)
        except ValueError as exc:
            raise RegistrationError(
                "invalid_redirect_uri", f"redirect URI {uri[:100]!r} {exc}"
            ) from None
    method = client_info.token_endpoint_auth_method or "client_secret_post"
    if method not in _AUTH_METHODS:
        raise RegistrationError(
            "invalid_client_metadata",
            f"token_endpoint_auth_method {method[:40]!r} is not supported; use none "
            "(public client with PKCE), client_secret_post or client_secret_basic",
        )
    if len(client_info.client_name or "") > _MAX_CLIENT_NAME:
        raise RegistrationError(
            "invalid_client_metadata",
            f"client_name is longer than {_MAX_CLIENT_NAME} characters",
        )
    # Kept only as a hash (ClientSecretAuthenticator compares hashes); the SDK's handler answers
    # the registration with the object it passed in, secret intact.
    if client_info.client_secret:
        return client_info.model_copy(update={"client_secret": hash_key(client_info.client_secret)})
    return client_info


class ClientSecretAuthenticator(ClientAuthenticator):
    """The SDK's client authentication for ``/token`` and ``/revoke``, against hashed secrets.

    Same rules as the SDK's :class:`ClientAuthenticator` (``client_secret_basic``,
    ``client_secret_post`` or ``none``, as registered), but the stored secret is a SHA-256 hash,
    so the store never holds a client secret in clear.
    """

    async def authenticate_request(self, request: Request) -> OAuthClientInformationFull:
        form = await request.form()
        client_id = form.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise AuthenticationError("Missing client_id")
        client = await self.provider.get_client(client_id)
        if client is None:
            raise AuthenticationError("Invalid client_id")
        method = client.token_endpoint_auth_method
        presented: str | None = None
        if method == "client_secret_basic":
            header = request.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                raise AuthenticationError(
                    "Missing or invalid Basic authentication in Authorization header"
                )
            try:
                decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
                basic_id, presented = (unquote(part) for part in decoded.split(":", 1))
            except (ValueError, UnicodeDecodeError, binascii.Error):
                raise AuthenticationError("Invalid Basic authentication header") from None
            if basic_id != client_id:
                raise AuthenticationError("Client ID mismatch in Basic auth")
        elif method == "client_secret_post":
            value = form.get("client_secret")
            presented = value if isinstance(value, str) else None
        elif method != "none":
            raise AuthenticationError("Unsupported client authentication method")
        if method == "none":
            return client
        if not client.client_secret:
            raise AuthenticationError(
                "Client is registered for secret-based authentication but has no stored secret"
            )
        if not presented:
            raise AuthenticationError("Client secret is required")
        if not hmac.compare_digest(client.client_secret, hash_key(presented)):
            raise AuthenticationError("Invalid client_secret")
        return client
