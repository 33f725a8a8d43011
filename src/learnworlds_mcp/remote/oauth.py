"""The built-in OAuth 2.1 authorization server, and the one token verifier for every bearer token.

:class:`LearnWorldsAuthProvider` is the SDK's ``OAuthAuthorizationServerProvider``: the SDK's
handlers serve ``/authorize``, ``/token``, ``/register`` and ``/revoke`` and call it. It keeps its
records in an :class:`~learnworlds_mcp.state.oauth.OAuthStore` (codes and tokens only as SHA-256
hashes) and knows people only through the :class:`~learnworlds_mcp.remote.members.MemberDirectory`:

- Dynamic client registration, by the rules of ``remote/clients.py`` (public and confidential
  clients; https, loopback-http or app-scheme redirect URIs; secrets kept hashed).
- ``/authorize`` checks PKCE (S256 only) and the RFC 8707 ``resource`` (this server's ``/mcp``
  URL when given), then sends the browser to the sign-in page (``remote/signin.py``), where the
  person proves who they are with their member key.
- Authorization codes live 5 minutes and are single use; access tokens are opaque and live an
  hour; refresh tokens rotate (each works once, and using it retires the access token it came
  with), so a grant has one live access token and one live refresh token at any time; revoking
  either ends both.
- :meth:`LearnWorldsAuthProvider.load_access_token` verifies every bearer token: a member key
  (``lwm_…``) through the member directory, anything else as an access token — which also dies
  when its member is removed or their key rotated (the token remembers the key's hash).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl, AnyUrl, Field, ValidationError

from learnworlds_mcp.clock import Clock, SystemClock
from learnworlds_mcp.remote.clients import RegisteredClient, client_display_name, client_to_store
from learnworlds_mcp.remote.members import Member, MemberDirectory, is_member_key
from learnworlds_mcp.state.oauth import OAuthStore, secret_key

__all__ = [
    "ACCESS_TOKEN_SECONDS",
    "KEY_CLIENT_ID",
    "LearnWorldsAccessToken",
    "LearnWorldsAuthProvider",
    "LearnWorldsAuthorizationCode",
    "LearnWorldsRefreshToken",
    "PendingSignIn",
]

logger = logging.getLogger(__name__)

ACCESS_TOKEN_SECONDS = 3600
"""An access token lives an hour."""
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
"""A refresh token lives 30 days (each refresh issues a new one)."""
CODE_SECONDS = 300
"""An authorization code lives 5 minutes."""
SIGNIN_SECONDS = 600
"""A sign-in page stays usable 10 minutes."""
NEW_CLIENT_SECONDS = 7 * 24 * 3600
"""A registered client that never completes a sign-in is forgotten after a week…"""
CLIENT_SECONDS = 90 * 24 * 3600
"""…and one that does is kept 90 days from its last sign-in or refresh."""

KEY_CLIENT_ID = "key"
"""The ``client_id`` of an :class:`AccessToken` that is a member key (no OAuth client)."""

SIGNIN_PATH = "/signin"

_ACCESS_PREFIX = "lwa_"
_REFRESH_PREFIX = "lwr_"
_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")


class LearnWorldsAuthorizationCode(AuthorizationCode):
    """An authorization code, with the member who signed in and the hash of the key they used."""

    code: str = Field(repr=False)
    member: str
    key_hash: str


class LearnWorldsRefreshToken(RefreshToken):
    """A refresh token, with its member, their key's hash and the access token issued with it."""

    token: str = Field(repr=False)
    member: str
    key_hash: str
    client_name: str
    access_key: str


class LearnWorldsAccessToken(AccessToken):
    """A verified bearer token: ``kind`` says whether it is a member key or an OAuth token.

    ``subject`` is the member's name. ``client_name`` is what the audit log records as the client:
    ``key`` for a member key, the OAuth client's registered name (or id) otherwise.
    """

    token: str = Field(repr=False)  # a member key or an access token: never in a repr or log
    kind: Literal["key", "oauth"]
    member: str
    key_hash: str
    client_name: str
    refresh_key: str | None = None


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in in progress: the authorization request the sign-in page completes."""

    client: OAuthClientInformationFull
    redirect_uri: str
    redirect_uri_provided_explicitly: bool
    code_challenge: str
    state: str | None
    scopes: list[str]
    resource: str | None

    @property
    def client_name(self) -> str:
        """The client's registered name, else its id (for people: the page, the audit log)."""
        return client_display_name(self.client)


def _same_url(a: str, b: str) -> bool:
    """Compare as URLs (case of scheme and host, default ports), a trailing slash aside."""
    try:
        first = str(AnyHttpUrl(a)).removesuffix("/")
        second = str(AnyHttpUrl(b)).removesuffix("/")
    except ValidationError:
        return False
    return first == second


class LearnWorldsAuthProvider(
    OAuthAuthorizationServerProvider[
        LearnWorldsAuthorizationCode, LearnWorldsRefreshToken, LearnWorldsAccessToken
    ]
):
    """The authorization server's logic over an :class:`OAuthStore` and a :class:`MemberDirectory`."""

    def __init__(
        self,
        public_url: str,
        members: MemberDirectory,
        store: OAuthStore,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.public_url = public_url.rstrip("/")
        self.resource_url = f"{self.public_url}/mcp"
        self.signin_url = f"{self.public_url}{SIGNIN_PATH}"
        self.members = members
        self.store = store
        self.clock: Clock = clock or SystemClock()

    # ----------------------------------------------------------------------------------------
    # Clients
    # ----------------------------------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        if not client_id or len(client_id) > 100:
            return None
        record = await self.store.get("client", client_id)
        if record is None:
            return None
        return RegisteredClient.model_validate(record)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        stored = client_to_store(client_info)
        await self._save_client(stored, NEW_CLIENT_SECONDS)
        logger.info(
            "registered OAuth client %s (%s, %s)",
            client_info.client_id,
            client_display_name(client_info)[:60],
            "public" if client_info.token_endpoint_auth_method == "none" else "confidential",
        )

    async def _save_client(self, client: OAuthClientInformationFull, ttl: float) -> None:
        await self.store.put("client", client.client_id, client.model_dump(mode="json"), ttl)

    # ----------------------------------------------------------------------------------------
    # Authorization: the sign-in page
    # ----------------------------------------------------------------------------------------

    async def authorize(
        self, client: OAuthClientInformationFull, params: AuthorizationParams
    ) -> str:
        if not _CHALLENGE_RE.fullmatch(params.code_challenge):
            raise AuthorizeError(
                "invalid_request",
                "code_challenge must be an S256 PKCE challenge (43 base64url characters)",
            )
        if params.resource is not None and not _same_url(params.resource, self.resource_url):
            raise AuthorizeError(
                "invalid_target", f"this server only issues tokens for {self.resource_url}"
            )
        request_id = secrets.token_urlsafe(32)
        record = {
            "client_id": client.client_id,
            "redirect_uri": str(params.redirect_uri),
            "redirect_uri_provided_explicitly": params.redirect_uri_provided_explicitly,
            "code_challenge": params.code_challenge,
            "state": params.state,
            "scopes": list(params.scopes or []),
            "resource": params.resource,
        }
        await self.store.put("signin", secret_key(request_id), record, SIGNIN_SECONDS)
        return construct_redirect_uri(self.signin_url, request=request_id)

    async def pending_signin(self, request_id: str) -> PendingSignIn | None:
        """The sign-in in progress for ``request_id`` (from the page's URL or form), if any."""
        if not request_id or len(request_id) > 100:
            return None
        record = await self.store.get("signin", secret_key(request_id))
        if record is None:
            return None
        client = await self.get_client(str(record["client_id"]))
        if client is None:
            return None
        return PendingSignIn(
            client=client,
            redirect_uri=str(record["redirect_uri"]),
            redirect_uri_provided_explicitly=bool(record["redirect_uri_provided_explicitly"]),
            code_challenge=str(record["code_challenge"]),
            state=record.get("state"),
            scopes=list(record.get("scopes") or []),
            resource=record.get("resource"),
        )

    def check_key(self, key: str) -> Member | None:
        """The member whose key this is, or ``None``."""
        return self.members.authenticate(key)

    async def approve(self, request_id: str, member: Member) -> str | None:
        """Complete a sign-in for ``member``: the URL to send the browser to (with ``code`` and
        ``state``), or ``None`` if the sign-in is gone (expired, or completed by a twin request)."""
        record = await self.store.take("signin", secret_key(request_id))
        if record is None:
            return None
        code = secrets.token_urlsafe(32)
        await self.store.put(
            "code",
            secret_key(code),
            {
                "client_id": record["client_id"],
                "redirect_uri": record["redirect_uri"],
                "redirect_uri_provided_explicitly": record["redirect_uri_provided_explicitly"],
                "code_challenge": record["code_challenge"],
                "scopes": record.get("scopes") or [],
                "resource": record.get("resource"),
                "expires_at": self.clock.time() + CODE_SECONDS,
                "member": member.name,
                "key_hash": member.key_hash,
            },
            CODE_SECONDS,
        )
        logger.info("member %s signed in for OAuth client %s", member.name, record["client_id"])
        return construct_redirect_uri(
            str(record["redirect_uri"]), code=code, state=record.get("state")
        )

    # ----------------------------------------------------------------------------------------
    # Codes and tokens
    # ----------------------------------------------------------------------------------------

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> LearnWorldsAuthorizationCode | None:
        if not authorization_code or len(authorization_code) > 200:
            return None
        record = await self.store.get("code", secret_key(authorization_code))
        if record is None or record["client_id"] != client.client_id:
            return None
        return LearnWorldsAuthorizationCode(
            code=authorization_code,
            scopes=record["scopes"],
            expires_at=record["expires_at"],
            client_id=record["client_id"],
            code_challenge=record["code_challenge"],
            redirect_uri=AnyUrl(record["redirect_uri"]),
            redirect_uri_provided_explicitly=record["redirect_uri_provided_explicitly"],
            resource=record.get("resource"),
            subject=record["member"],
            member=record["member"],
            key_hash=record["key_hash"],
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: LearnWorldsAuthorizationCode
    ) -> OAuthToken:
        record = await self.store.take("code", secret_key(authorization_code.code))
        if record is None:
            raise TokenError("invalid_grant", "authorization code was already used or has expired")
        if self.clock.time() >= float(record["expires_at"]):
            raise TokenError("invalid_grant", "authorization code has expired")
        member = self._current(record["member"], record["key_hash"])
        if member is None:
            raise TokenError(
                "invalid_grant", "the member who signed in was removed or given a new key"
            )
        return await self._issue(client, member, list(record["scopes"]))

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> LearnWorldsRefreshToken | None:
        if not refresh_token.startswith(_REFRESH_PREFIX) or len(refresh_token) > 200:
            return None
        record = await self.store.get("refresh", secret_key(refresh_token))
        if record is None or record["client_id"] != client.client_id:
            return None
        return LearnWorldsRefreshToken(
            token=refresh_token,
            client_id=record["client_id"],
            scopes=record["scopes"],
            expires_at=int(record["expires_at"]),
            resource=self.resource_url,
            subject=record["member"],
            member=record["member"],
            key_hash=record["key_hash"],
            client_name=record["client_name"],
            access_key=record["access_key"],
        )

    async def exchange_refresh_token(
        self,
        client: OAuthClientInformationFull,
        refresh_token: LearnWorldsRefreshToken,
        scopes: list[str],
    ) -> OAuthToken:
        record = await self.store.take("refresh", secret_key(refresh_token.token))
        if record is None:
            raise TokenError("invalid_grant", "refresh token was already used or has expired")
        await self.store.delete("access", str(record["access_key"]))
        if self.clock.time() >= float(record["expires_at"]):
            raise TokenError("invalid_grant", "refresh token has expired")
        member = self._current(record["member"], record["key_hash"])
        if member is None:
            raise TokenError(
                "invalid_grant", "the member was removed or given a new key; sign in again"
            )
        return await self._issue(client, member, scopes)

    async def _issue(
        self, client: OAuthClientInformationFull, member: Member, scopes: list[str]
    ) -> OAuthToken:
        access = _ACCESS_PREFIX + secrets.token_urlsafe(32)
        refresh = _REFRESH_PREFIX + secrets.token_urlsafe(32)
        access_key, refresh_key = secret_key(access), secret_key(refresh)
        now = self.clock.time()
        common = {
            "client_id": client.client_id,
            "client_name": client_display_name(client),
            "scopes": scopes,
            "member": member.name,
            "key_hash": member.key_hash,
        }
        await self.store.put(
            "access",
            access_key,
            {**common, "expires_at": now + ACCESS_TOKEN_SECONDS, "refresh_key": refresh_key},
            ACCESS_TOKEN_SECONDS,
        )
        await self.store.put(
            "refresh",
            refresh_key,
            {**common, "expires_at": now + REFRESH_TOKEN_SECONDS, "access_key": access_key},
            REFRESH_TOKEN_SECONDS,
        )
        await self._save_client(client, CLIENT_SECONDS)  # in use: keep it registered (hashed)
        return OAuthToken(
            access_token=access,
            expires_in=ACCESS_TOKEN_SECONDS,
            scope=" ".join(scopes) if scopes else None,
            refresh_token=refresh,
        )

    def _current(self, name: str, key_hash: str) -> Member | None:
        """The member ``name`` if they still exist with the key they signed in with."""
        member = self.members.get(name)
        if member is None or not hmac.compare_digest(member.key_hash, key_hash):
            return None
        return member

    # ----------------------------------------------------------------------------------------
    # The token verifier
    # ----------------------------------------------------------------------------------------

    async def load_access_token(self, token: str) -> LearnWorldsAccessToken | None:
        """Verify a bearer token: a member key or an access token. ``None`` = refuse (401)."""
        if is_member_key(token):
            member = self.members.authenticate(token)
            if member is None:
                return None
            return LearnWorldsAccessToken(
                token=token,
                client_id=KEY_CLIENT_ID,
                scopes=[],
                expires_at=None,
                resource=self.resource_url,
                subject=member.name,
                kind="key",
                member=member.name,
                key_hash=member.key_hash,
                client_name=KEY_CLIENT_ID,
            )
        if not token.startswith(_ACCESS_PREFIX) or len(token) > 200:
            return None
        record = await self.store.get("access", secret_key(token))
        if record is None or self.clock.time() >= float(record["expires_at"]):
            return None
        member = self._current(record["member"], record["key_hash"])
        if member is None:
            return None
        return LearnWorldsAccessToken(
            token=token,
            client_id=record["client_id"],
            scopes=record["scopes"],
            expires_at=int(record["expires_at"]),
            resource=self.resource_url,
            subject=member.name,
            kind="oauth",
            member=member.name,
            key_hash=member.key_hash,
            client_name=record["client_name"],
            refresh_key=record.get("refresh_key"),
        )

    async def revoke_token(self, token: LearnWorldsAccessToken | LearnWorldsRefreshToken) -> None:
        """End the grant the token belongs to: its access token and its refresh token."""
        if isinstance(token, LearnWorldsAccessToken):
            if token.kind != "oauth":
                return  # a member key is ended with `members rotate`, not OAuth revocation
            await self.store.delete("access", secret_key(token.token))
            if token.refresh_key:
                await self.store.delete("refresh", token.refresh_key)
        else:
            await self.store.delete("refresh", secret_key(token.token))
            await self.store.delete("access", token.access_key)
        logger.info("revoked a token of OAuth client %s", token.client_id)

    def __repr__(self) -> str:
        return f"LearnWorldsAuthProvider({self.public_url!r})"
