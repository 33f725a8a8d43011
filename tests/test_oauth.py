"""The built-in authorization server, the sign-in page and the one token verifier, over real HTTP.

A minimal MCP server (one `whoami` tool) is served by uvicorn on a loopback port with the
authorization server mounted exactly as the remote server mounts it, and reached by
- the SDK's own OAuth client (`OAuthClientProvider`): discovery, registration, PKCE, the sign-in
  form, token, refresh, then tool calls;
- httpx2 walking the chain by hand as the web connectors (claude.ai, ChatGPT) walk it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from pydantic import AnyUrl
from starlette.requests import Request

from learnworlds_mcp.clock import FakeClock
from learnworlds_mcp.remote.auth import (
    AUTHORIZATION_WINDOW,
    AUTHORIZATIONS_PER_SOURCE,
    REGISTRATION_WINDOW,
    REGISTRATIONS_PER_SOURCE,
    RemoteAuth,
    build_remote_auth,
)
from learnworlds_mcp.remote.members import MemberDirectory, MembersFile
from learnworlds_mcp.remote.serve import bind
from learnworlds_mcp.remote.signin import ServerGates, request_source
from learnworlds_mcp.state.oauth import MemoryOAuthStore

CONNECTOR_ORIGIN = "https://claude.ai"
CONNECTOR_CALLBACK = "https://claude.ai/api/mcp/auth_callback"
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


@dataclass
class Served:
    url: str
    auth: RemoteAuth
    members: MembersFile
    clock: FakeClock
    keys: dict[str, str]
    secrets: set[str] = field(default_factory=set)

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"

    def remember(self, *values: str | None) -> None:
        self.secrets.update(v for v in values if v)


class NetworkedStore(MemoryOAuthStore):
    """The in-process store, yielding to other tasks on every call as a networked store does."""

    async def get(self, *args: Any) -> Any:
        await anyio.sleep(0.001)
        return await super().get(*args)

    async def count(self, *args: Any) -> Any:
        await anyio.sleep(0.001)
        return await super().count(*args)

    async def hit(self, *args: Any) -> Any:
        await anyio.sleep(0.001)
        return await super().hit(*args)


def whoami_app(auth: RemoteAuth) -> Any:
    """A minimal MCP app behind `auth`, with one tool that says who is calling, and how."""
    mcp = MCPServer("t", auth=auth.settings, auth_server_provider=auth.provider)

    @mcp.tool()
    def whoami() -> str:
        """Who is calling, and through which client."""
        token = get_access_token()
        member = auth.member_of(token)
        return f"{member.name if member else '?'} via {auth.client_name_of(token)}"

    app = mcp.streamable_http_app(host="127.0.0.1")
    auth.mount(app)
    return app


@asynccontextmanager
async def serving(
    tmp_path: Path, *, recheck: float = 0.0, store: type[MemoryOAuthStore] = MemoryOAuthStore
) -> AsyncIterator[Served]:
    """The test server on 127.0.0.1 (port 0: the socket is bound first, then the app built)."""
    sock = bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    members = MembersFile(tmp_path / "members.json")
    keys = {
        "anna": members.add("anna", allow_writes=True),
        "ben": members.add("ben"),
    }
    clock = FakeClock()
    directory = MemberDirectory(members.path, recheck_seconds=recheck)
    auth = build_remote_auth(
        url,
        directory,
        store(clock),
        server_gates=ServerGates(allow_writes=True, toolsets=frozenset({"users", "groups"})),
        clock=clock,
    )
    server = uvicorn.Server(uvicorn.Config(whoami_app(auth), log_level="warning", lifespan="on"))
    served = Served(url, auth, members, clock, keys)
    served.remember(*keys.values())
    async with anyio.create_task_group() as group:
        # The socket already listens: connections wait in its backlog until uvicorn accepts.
        group.start_soon(server.serve, [sock])
        try:
            yield served
        finally:
            server.should_exit = True


def assert_no_secrets(served: Served, caplog: pytest.LogCaptureFixture, *texts: str) -> None:
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in served.secrets:
        assert secret not in logged, "a key or token reached a log line"
        for text in texts:
            assert secret not in text, "a key or token reached a page"


# --------------------------------------------------------------------------------------------
# A browser, by hand
# --------------------------------------------------------------------------------------------


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def hidden_request_id(page: str) -> str:
    found = re.search(r'name="request" value="([^"]+)"', page)
    assert found, "the sign-in page has no request field"
    return found.group(1)


async def sign_in(
    http: httpx2.AsyncClient, served: Served, authorize_url: str, key: str
) -> dict[str, list[str]]:
    """Follow /authorize to the sign-in page, submit `key`, return the callback's query."""
    start = await http.get(authorize_url)
    assert start.status_code == 302, start.text
    signin = start.headers["location"]
    assert signin.startswith(f"{served.url}/signin?request=")
    page = await http.get(signin)
    assert page.status_code == 200
    done = await http.post(
        f"{served.url}/signin",
        data={"request": hidden_request_id(page.text), "key": key},
        headers={"Origin": served.url},
    )
    assert done.status_code == 302, done.text
    return parse_qs(urlsplit(done.headers["location"]).query)


async def register(http: httpx2.AsyncClient, served: Served, **metadata: Any) -> dict[str, Any]:
    body = {
        "client_name": "Claude",
        "redirect_uris": [CONNECTOR_CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    response = await http.post(
        f"{served.url}/register", json=body, headers={"Origin": CONNECTOR_ORIGIN}
    )
    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    client: dict[str, Any] = response.json()
    served.remember(client.get("client_secret"))
    return client


def authorize_url(served: Served, client: dict[str, Any], challenge: str, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": client["redirect_uris"][0],
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st-123",
        "resource": served.mcp_url,
        **extra,
    }
    return f"{served.url}/authorize?{urlencode(params)}"


def client_auth(client: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Form fields and headers that authenticate `client` at the token endpoint."""
    method = client["token_endpoint_auth_method"]
    if method == "client_secret_basic":
        raw = f"{client['client_id']}:{client['client_secret']}".encode()
        return {"client_id": client["client_id"]}, {
            "Authorization": "Basic " + base64.b64encode(raw).decode()
        }
    if method == "client_secret_post":
        return {"client_id": client["client_id"], "client_secret": client["client_secret"]}, {}
    return {"client_id": client["client_id"]}, {}


async def token_request(
    http: httpx2.AsyncClient, served: Served, client: dict[str, Any], **form: str
) -> httpx2.Response:
    fields, headers = client_auth(client)
    response = await http.post(
        f"{served.url}/token",
        data={**fields, **form},
        headers={**headers, "Origin": CONNECTOR_ORIGIN},
    )
    if response.status_code == 200:
        body = response.json()
        served.remember(body.get("access_token"), body.get("refresh_token"))
    return response


async def tokens_for(
    http: httpx2.AsyncClient, served: Served, member: str = "anna", **register_args: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Register a client, sign `member` in, exchange the code: (client, token response)."""
    client = await register(http, served, **register_args)
    verifier, challenge = pkce()
    query = await sign_in(
        http, served, authorize_url(served, client, challenge), served.keys[member]
    )
    response = await token_request(
        http,
        served,
        client,
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri=client["redirect_uris"][0],
        code_verifier=verifier,
        resource=served.mcp_url,
    )
    assert response.status_code == 200, response.text
    return client, response.json()


async def call_mcp(http: httpx2.AsyncClient, served: Served, bearer: str | None) -> httpx2.Response:
    headers = dict(MCP_HEADERS)
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return await http.post(served.mcp_url, json=INITIALIZE, headers=headers)


def assert_401(response: httpx2.Response, served: Served) -> None:
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{served.url}/.well-known/oauth-protected-resource/mcp"' in challenge


# --------------------------------------------------------------------------------------------
# The SDK's own OAuth client
# --------------------------------------------------------------------------------------------


class MemoryTokens:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def sdk_oauth_provider(
    browser: httpx2.AsyncClient,
    site: Any,
    key: str,
    *,
    server_url: str | None = None,
    client_name: str = "SDK test client",
    redirect_uri: str = "http://127.0.0.1:9/callback",
) -> tuple[OAuthClientProvider, MemoryTokens]:
    """The SDK's own OAuth client for `site` (anything with `url`), whose "browser" signs in
    with `key` on the sign-in page: discovery, registration, PKCE, code, token and refresh."""
    storage = MemoryTokens()
    result: dict[str, AuthorizationCodeResult] = {}

    async def redirect_handler(url: str) -> None:
        query = await sign_in(browser, site, url, key)
        result["code"] = AuthorizationCodeResult(code=query["code"][0], state=query["state"][0])

    async def callback_handler() -> AuthorizationCodeResult:
        return result["code"]

    oauth = OAuthClientProvider(
        server_url=server_url or f"{site.url}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name=client_name,
            redirect_uris=[AnyUrl(redirect_uri)],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    return oauth, storage


async def test_the_sdk_oauth_client_signs_in_refreshes_and_calls_tools(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as browser:
        oauth, storage = sdk_oauth_provider(browser, served, served.keys["anna"])
        async with (
            httpx2.AsyncClient(auth=oauth) as http,
            Client(streamable_http_client(served.mcp_url, http_client=http)) as client,
        ):
            first = await client.call_tool("whoami", {})
            assert first.content[0].text == "anna via SDK test client"  # type: ignore[union-attr]
            assert storage.tokens is not None and storage.client is not None
            before = storage.tokens
            served.remember(before.access_token, before.refresh_token)
            assert before.expires_in is not None and before.expires_in <= 3600

            oauth.context.token_expiry_time = time.time() - 1  # the client now refreshes first
            second = await client.call_tool("whoami", {})
            assert second.content[0].text == "anna via SDK test client"  # type: ignore[union-attr]
            after = storage.tokens
            served.remember(after.access_token, after.refresh_token)
            assert after.access_token != before.access_token
            assert after.refresh_token != before.refresh_token

        # The old refresh token died when it was used; so did the access token that came with it.
        refused = await token_request(
            browser,
            served,
            storage.client.model_dump(mode="json"),
            grant_type="refresh_token",
            refresh_token=before.refresh_token or "",
        )
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
        assert_401(await call_mcp(browser, served, before.access_token), served)
        assert (await call_mcp(browser, served, after.access_token)).status_code == 200
        assert_no_secrets(served, caplog)


async def test_a_member_key_is_a_bearer_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(tmp_path) as served:
        headers = {"Authorization": f"Bearer {served.keys['ben']}"}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            Client(streamable_http_client(served.mcp_url, http_client=http)) as client,
        ):
            result = await client.call_tool("whoami", {})
            assert result.content[0].text == "ben via key"  # type: ignore[union-attr]
        assert_no_secrets(served, caplog)


# --------------------------------------------------------------------------------------------
# The chain as the web connectors walk it
# --------------------------------------------------------------------------------------------


async def preflight(
    http: httpx2.AsyncClient, url: str, method: str, headers: str = ""
) -> httpx2.Response:
    request_headers = {"Origin": CONNECTOR_ORIGIN, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    response = await http.options(url, headers=request_headers)
    assert response.status_code == 200, f"preflight {url}: {response.status_code} {response.text}"
    assert response.headers["access-control-allow-origin"] in ("*", CONNECTOR_ORIGIN)
    assert method in response.headers["access-control-allow-methods"]
    return response


@pytest.mark.parametrize("auth_method", ["none", "client_secret_post", "client_secret_basic"])
async def test_the_connector_chain(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, auth_method: str
) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        # 1. No credentials: 401 pointing at the protected-resource metadata.
        first = await call_mcp(http, served, None)
        assert_401(first, served)
        prm_url = re.search(r'resource_metadata="([^"]+)"', first.headers["www-authenticate"])
        assert prm_url is not None

        # 2. Protected-resource metadata, cross-origin.
        await preflight(http, prm_url.group(1), "GET")
        prm = await http.get(prm_url.group(1), headers={"Origin": CONNECTOR_ORIGIN})
        assert prm.status_code == 200
        assert prm.headers["access-control-allow-origin"] == "*"
        assert prm.json()["resource"] == served.mcp_url
        assert prm.json()["authorization_servers"] == [served.url]
        root = await http.get(f"{served.url}/.well-known/oauth-protected-resource")
        assert root.status_code == 200 and root.json() == prm.json()

        # 3. Authorization-server metadata.
        as_url = f"{served.url}/.well-known/oauth-authorization-server"
        await preflight(http, as_url, "GET", "mcp-protocol-version")
        meta = (await http.get(as_url, headers={"Origin": CONNECTOR_ORIGIN})).json()
        assert meta["issuer"] == served.url
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert "none" in meta["token_endpoint_auth_methods_supported"]
        assert meta["registration_endpoint"] == f"{served.url}/register"
        assert meta["revocation_endpoint"] == f"{served.url}/revoke"
        oidc = await http.get(f"{served.url}/.well-known/openid-configuration")
        assert oidc.status_code == 200 and oidc.json() == meta

        # 4. Register (public: no secret; confidential: a secret).
        await preflight(http, meta["registration_endpoint"], "POST", "content-type")
        client = await register(http, served, token_endpoint_auth_method=auth_method)
        assert ("client_secret" in client) is (auth_method != "none")

        # 5. Authorize → the sign-in page → back to the connector with code and state.
        verifier, challenge = pkce()
        url = authorize_url(served, client, challenge)
        start = await http.get(url)
        assert start.status_code == 302
        page = await http.get(start.headers["location"])
        assert page.status_code == 200
        assert page.text.count('type="password"') == 1 and 'name="key"' in page.text
        assert "Claude" in page.text and "claude.ai" in page.text
        assert "data: users, groups." in page.text
        assert "Make changes" in page.text and "Destructive" not in page.text
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "form-action 'self' https://claude.ai" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"
        done = await http.post(
            f"{served.url}/signin",
            data={"request": hidden_request_id(page.text), "key": served.keys["anna"]},
            headers={"Origin": served.url},
        )
        assert done.status_code == 302
        location = done.headers["location"]
        assert location.startswith(CONNECTOR_CALLBACK + "?")
        query = parse_qs(urlsplit(location).query)
        assert query["state"] == ["st-123"]

        # 6. Token, cross-origin.
        await preflight(http, meta["token_endpoint"], "POST", "content-type, authorization")
        token = await token_request(
            http,
            served,
            client,
            grant_type="authorization_code",
            code=query["code"][0],
            redirect_uri=CONNECTOR_CALLBACK,
            code_verifier=verifier,
            resource=served.mcp_url,
        )
        assert token.status_code == 200, token.text
        assert token.headers["access-control-allow-origin"] == "*"
        body = token.json()
        assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 3600
        assert body["refresh_token"] and body["access_token"] != body["refresh_token"]

        # The code works once.
        again = await token_request(
            http,
            served,
            client,
            grant_type="authorization_code",
            code=query["code"][0],
            redirect_uri=CONNECTOR_CALLBACK,
            code_verifier=verifier,
        )
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

        # 7. The MCP endpoint with the token.
        ok = await call_mcp(http, served, body["access_token"])
        assert ok.status_code == 200, ok.text

        await preflight(http, meta["revocation_endpoint"], "POST", "content-type")
        assert_no_secrets(served, caplog, page.text, done.text)


async def test_a_wrong_pkce_verifier_is_refused(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        client = await register(http, served)
        _, challenge = pkce()
        query = await sign_in(
            http, served, authorize_url(served, client, challenge), served.keys["anna"]
        )
        wrong, _ = pkce()
        response = await token_request(
            http,
            served,
            client,
            grant_type="authorization_code",
            code=query["code"][0],
            redirect_uri=CONNECTOR_CALLBACK,
            code_verifier=wrong,
        )
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"resource": "https://elsewhere.example/mcp"}, "invalid_target"),
    ],
)
async def test_authorize_refuses_bad_requests_back_to_the_client(
    tmp_path: Path, extra: dict[str, str], error: str
) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        client = await register(http, served)
        _, challenge = pkce()
        response = await http.get(authorize_url(served, client, challenge, **extra))
        assert response.status_code == 302
        location = response.headers["location"]
        assert location.startswith(CONNECTOR_CALLBACK)
        assert parse_qs(urlsplit(location).query)["error"] == [error]


@pytest.mark.parametrize(
    "uris",
    [
        ["http://claude.example/callback"],
        ["javascript:alert(1)"],
        ["https://claude.ai/cb#fragment"],
        ["file:///etc/passwd"],
    ],
)
async def test_registration_refuses_unsafe_redirect_uris(tmp_path: Path, uris: list[str]) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        response = await http.post(
            f"{served.url}/register",
            json={"client_name": "x", "redirect_uris": uris, "token_endpoint_auth_method": "none"},
        )
        assert response.status_code == 400
        assert response.json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata")


async def test_registration_accepts_loopback_and_app_schemes(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        for uri in (
            "http://localhost:33418/callback",
            "http://[::1]:5000/cb",
            "cursor://anysphere.cursor-mcp/oauth/callback",
        ):
            await register(http, served, redirect_uris=[uri])


# --------------------------------------------------------------------------------------------
# Refusals: 401 with the right header
# --------------------------------------------------------------------------------------------


async def test_bad_credentials_get_401_with_the_header(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        assert_401(await call_mcp(http, served, None), served)
        assert_401(await call_mcp(http, served, "lwm_" + secrets.token_urlsafe(32)), served)
        assert_401(await call_mcp(http, served, "lwa_" + secrets.token_urlsafe(32)), served)
        assert_401(await call_mcp(http, served, "not-a-token"), served)
        assert_401(await call_mcp(http, served, served.keys["anna"][:-1]), served)
        basic = await http.post(
            served.mcp_url, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": "Basic eA=="}
        )
        assert_401(basic, served)
        assert (await call_mcp(http, served, served.keys["anna"])).status_code == 200
        assert_no_secrets(served, caplog)


async def test_an_access_token_expires_after_an_hour(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        client, tokens = await tokens_for(http, served)
        assert (await call_mcp(http, served, tokens["access_token"])).status_code == 200
        served.clock.advance(3599)
        assert (await call_mcp(http, served, tokens["access_token"])).status_code == 200
        served.clock.advance(2)
        assert_401(await call_mcp(http, served, tokens["access_token"]), served)
        # The refresh token still works, and gives a working access token.
        refreshed = await token_request(
            http, served, client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert refreshed.status_code == 200
        assert (await call_mcp(http, served, refreshed.json()["access_token"])).status_code == 200


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
async def test_revoking_either_token_ends_both(tmp_path: Path, which: str) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        client, tokens = await tokens_for(
            http, served, token_endpoint_auth_method="client_secret_post"
        )
        fields, headers = client_auth(client)
        revoked = await http.post(
            f"{served.url}/revoke",
            data={**fields, "token": tokens[which], "token_type_hint": which},
            headers=headers,
        )
        assert revoked.status_code == 200
        assert_401(await call_mcp(http, served, tokens["access_token"]), served)
        refresh = await token_request(
            http, served, client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


async def test_another_client_cannot_revoke_or_refresh_a_token(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        _, tokens = await tokens_for(http, served)
        other = await register(http, served, client_name="Other")
        await http.post(
            f"{served.url}/revoke",
            data={"client_id": other["client_id"], "token": tokens["access_token"]},
        )
        assert (await call_mcp(http, served, tokens["access_token"])).status_code == 200
        stolen = await token_request(
            http, served, other, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert stolen.status_code == 400


async def test_removing_a_member_ends_their_key_and_tokens(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        client, tokens = await tokens_for(http, served, member="ben")
        assert (await call_mcp(http, served, tokens["access_token"])).status_code == 200
        served.members.remove("ben")
        assert_401(await call_mcp(http, served, tokens["access_token"]), served)
        assert_401(await call_mcp(http, served, served.keys["ben"]), served)
        refresh = await token_request(
            http, served, client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert refresh.status_code == 400
        # Anna is untouched.
        assert (await call_mcp(http, served, served.keys["anna"])).status_code == 200


async def test_rotating_a_key_ends_the_old_key_and_its_tokens(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        client, tokens = await tokens_for(http, served, member="anna")
        new_key = served.members.rotate("anna")
        served.remember(new_key)
        assert_401(await call_mcp(http, served, tokens["access_token"]), served)
        assert_401(await call_mcp(http, served, served.keys["anna"]), served)
        assert (await call_mcp(http, served, new_key)).status_code == 200
        refresh = await token_request(
            http, served, client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert refresh.status_code == 400
        # Signing in again with the new key works.
        served.keys["anna"] = new_key
        _, fresh = await tokens_for(http, served, member="anna")
        assert (await call_mcp(http, served, fresh["access_token"])).status_code == 200


async def test_a_code_dies_with_its_members_key(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        client = await register(http, served)
        verifier, challenge = pkce()
        query = await sign_in(
            http, served, authorize_url(served, client, challenge), served.keys["ben"]
        )
        served.members.remove("ben")
        response = await token_request(
            http,
            served,
            client,
            grant_type="authorization_code",
            code=query["code"][0],
            redirect_uri=CONNECTOR_CALLBACK,
            code_verifier=verifier,
        )
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


# --------------------------------------------------------------------------------------------
# The sign-in page
# --------------------------------------------------------------------------------------------


async def start_signin(http: httpx2.AsyncClient, served: Served, **register_args: Any) -> str:
    client = await register(http, served, **register_args)
    _, challenge = pkce()
    start = await http.get(authorize_url(served, client, challenge))
    page = await http.get(start.headers["location"])
    return hidden_request_id(page.text)


async def post_key(
    http: httpx2.AsyncClient, served: Served, request_id: str, key: str, **headers: str
) -> httpx2.Response:
    return await http.post(
        f"{served.url}/signin",
        data={"request": request_id, "key": key},
        headers=headers or {"Origin": served.url},
    )


async def test_wrong_keys_show_the_page_again_then_the_source_waits_a_minute(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Five wrong keys a minute per source; the sixth try is refused even with the right key."""
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        request_id = await start_signin(http, served)
        pages = []
        for attempt in range(5):
            wrong = "lwm_" + secrets.token_urlsafe(32)
            served.remember(wrong)
            response = await post_key(http, served, request_id, wrong)
            assert response.status_code == 200
            assert "That key is not right" in response.text
            assert 'value="' + wrong not in response.text
            pages.append(response.text)
            if attempt == 4:
                assert "last try" in response.text
        blocked = await post_key(http, served, request_id, served.keys["anna"])
        assert blocked.status_code == 429
        assert blocked.headers["retry-after"] == "60"
        served.clock.advance(61)
        ok = await post_key(http, served, request_id, served.keys["anna"])
        assert ok.status_code == 302
        assert ok.headers["location"].startswith(CONNECTOR_CALLBACK + "?code=")
        assert any("wrong member key" in r.getMessage() for r in caplog.records)
        assert_no_secrets(served, caplog, *pages, blocked.text)


async def test_a_sign_in_works_once_and_expires(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        request_id = await start_signin(http, served)
        assert (await post_key(http, served, request_id, served.keys["anna"])).status_code == 302
        again = await post_key(http, served, request_id, served.keys["anna"])
        assert again.status_code == 400 and "expired" in again.text
        assert (await http.get(f"{served.url}/signin?request={request_id}")).status_code == 400
        assert (await http.get(f"{served.url}/signin?request=made-up")).status_code == 400
        assert (await http.get(f"{served.url}/signin")).status_code == 400
        late = await start_signin(http, served)
        served.clock.advance(601)
        assert (await post_key(http, served, late, served.keys["anna"])).status_code == 400


async def test_the_form_must_come_from_this_server(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        request_id = await start_signin(http, served)
        for headers in (
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Referer": "https://evil.example/page"},
        ):
            refused = await post_key(http, served, request_id, served.keys["anna"], **headers)
            assert refused.status_code == 403
        ok = await post_key(
            http, served, request_id, served.keys["anna"], Referer=f"{served.url}/signin?x"
        )
        assert ok.status_code == 302


async def test_the_page_escapes_the_client_name(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        client = await register(http, served, client_name='<script>alert("x")</script>')
        _, challenge = pkce()
        start = await http.get(authorize_url(served, client, challenge))
        page = await http.get(start.headers["location"])
        assert "<script>" not in page.text
        assert "&lt;script&gt;" in page.text


async def test_the_store_holds_no_code_token_or_secret_in_clear(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        client, tokens = await tokens_for(
            http, served, token_endpoint_auth_method="client_secret_basic"
        )
        client_two = await register(http, served)
        _, challenge = pkce()
        query = await sign_in(
            http, served, authorize_url(served, client_two, challenge), served.keys["ben"]
        )
        await start_signin(http, served)  # a sign-in in progress too
        store = served.auth.provider.store
        assert isinstance(store, MemoryOAuthStore)
        held = repr(store._records)
        for secret in [*served.secrets, query["code"][0], client["client_secret"]]:
            assert secret not in held
        assert (await call_mcp(http, served, tokens["access_token"])).status_code == 200


async def test_two_exchanges_of_one_code_give_one_token(tmp_path: Path) -> None:
    async with (
        serving(tmp_path, store=NetworkedStore) as served,
        httpx2.AsyncClient() as http,
    ):
        client = await register(http, served)
        verifier, challenge = pkce()
        query = await sign_in(
            http, served, authorize_url(served, client, challenge), served.keys["anna"]
        )
        form = {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": CONNECTOR_CALLBACK,
            "code_verifier": verifier,
        }
        statuses: list[int] = []

        async def exchange() -> None:
            statuses.append((await token_request(http, served, client, **form)).status_code)

        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(exchange)
        assert sorted(statuses) == [200, 400, 400, 400]


async def test_a_form_without_a_key_shows_the_page_again(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        request_id = await start_signin(http, served)
        response = await http.post(
            f"{served.url}/signin", data={"request": request_id}, headers={"Origin": served.url}
        )
        assert response.status_code == 200 and "That key is not right" in response.text
        huge = await http.post(
            f"{served.url}/signin",
            content=b"key=" + b"x" * 100_000,
            headers={"Origin": served.url, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert huge.status_code == 413


# --------------------------------------------------------------------------------------------
# The in-process store
# --------------------------------------------------------------------------------------------


async def test_memory_store_records_live_their_ttl_and_are_taken_once() -> None:
    clock = FakeClock()
    store = MemoryOAuthStore(clock)
    await store.put("code", "k", {"a": 1}, 10)
    assert await store.get("code", "k") == {"a": 1}
    assert await store.get("access", "k") is None  # kinds are separate
    value = await store.get("code", "k")
    assert value is not None
    value["a"] = 2  # a copy, as from Redis
    assert await store.take("code", "k") == {"a": 1}
    assert await store.take("code", "k") is None
    await store.put("refresh", "r", {"b": [1, "x"]}, 10)
    clock.advance(10)
    assert await store.get("refresh", "r") is None
    assert await store.take("refresh", "r") is None
    await store.put("client", "c", {}, 5)
    await store.delete("client", "c")
    assert await store.get("client", "c") is None
    with pytest.raises(TypeError):
        await store.put("client", "c", {"x": object()}, 5)
    with pytest.raises(ValueError):
        await store.put("client", "c", {}, 0)


async def test_memory_store_counters_count_in_a_fixed_window() -> None:
    clock = FakeClock()
    store = MemoryOAuthStore(clock)
    assert await store.count("wrong_key", "1.2.3.4") == 0
    assert [await store.hit("wrong_key", "1.2.3.4", 60) for _ in range(3)] == [1, 2, 3]
    assert await store.count("wrong_key", "1.2.3.4") == 3
    assert await store.count("wrong_key", "5.6.7.8") == 0
    clock.advance(59)
    assert await store.hit("wrong_key", "1.2.3.4", 60) == 4
    clock.advance(1)
    assert await store.count("wrong_key", "1.2.3.4") == 0
    assert await store.hit("wrong_key", "1.2.3.4", 60) == 1
    assert len(store) == 1


@pytest.mark.parametrize("scope", ["", "offline_access", "openid email profile"])
async def test_any_requested_scope_reaches_the_sign_in_page(tmp_path: Path, scope: str) -> None:
    """ChatGPT sends `scope=` empty, Claude Code `offline_access`: neither may end the flow."""
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        client = await register(http, served, client_name="ChatGPT")
        verifier, challenge = pkce()
        url = authorize_url(served, client, challenge, scope=scope)
        query = await sign_in(http, served, url, served.keys["anna"])
        token = await token_request(
            http,
            served,
            client,
            grant_type="authorization_code",
            code=query["code"][0],
            redirect_uri=CONNECTOR_CALLBACK,
            code_verifier=verifier,
        )
        assert token.status_code == 200
        refreshed = await token_request(
            http,
            served,
            client,
            grant_type="refresh_token",
            refresh_token=token.json()["refresh_token"],
            scope=scope,
        )
        assert refreshed.status_code == 200, refreshed.text


async def test_remove_and_rotate_reach_a_running_server_within_two_seconds(tmp_path: Path) -> None:
    """With the directory's real re-check interval: old key and tokens refused within 2 s."""
    async with serving(tmp_path, recheck=0.5) as served, httpx2.AsyncClient() as http:
        _, anna = await tokens_for(http, served, member="anna")
        _, ben = await tokens_for(http, served, member="ben")
        served.members.rotate("anna")
        served.members.remove("ben")
        refused_at: dict[str, float] = {}
        started = time.monotonic()
        while len(refused_at) < 4 and time.monotonic() - started < 2.0:
            for name, bearer in (
                ("anna-key", served.keys["anna"]),
                ("anna-token", anna["access_token"]),
                ("ben-key", served.keys["ben"]),
                ("ben-token", ben["access_token"]),
            ):
                if (
                    name not in refused_at
                    and (await call_mcp(http, served, bearer)).status_code == 401
                ):
                    refused_at[name] = time.monotonic() - started
            await anyio.sleep(0.05)
        assert set(refused_at) == {"anna-key", "anna-token", "ben-key", "ben-token"}


def test_verified_tokens_never_show_the_token_in_a_repr() -> None:
    from learnworlds_mcp.remote.oauth import LearnWorldsAccessToken, LearnWorldsRefreshToken

    key = "lwm_" + secrets.token_urlsafe(32)
    token = LearnWorldsAccessToken(
        token=key,
        client_id="key",
        scopes=[],
        kind="key",
        member="a",
        key_hash="h",
        client_name="key",
    )
    refresh = LearnWorldsRefreshToken(
        token=key,
        client_id="c",
        scopes=[],
        member="a",
        key_hash="h",
        client_name="c",
        access_key="x",
    )
    for shown in (repr(token), str(token), repr(refresh), str(refresh)):
        assert key not in shown


def test_build_remote_auth_from_settings(tmp_path: Path) -> None:
    from learnworlds_mcp.config import Settings

    settings = Settings(
        api_url="https://school.example.com",
        client_id="c",
        client_secret="s",
        allow_writes=True,
        allow_destructive=True,
        toolsets="users,roles",
    )
    auth = build_remote_auth(
        "https://mcp.school.example/",
        MemberDirectory(tmp_path / "none.json"),
        MemoryOAuthStore(),
        server_gates=settings,
    )
    assert str(auth.settings.issuer_url) == "https://mcp.school.example"
    assert str(auth.settings.resource_server_url) == "https://mcp.school.example/mcp"
    assert auth.settings.validate_token_resource is True
    assert auth.settings.client_registration_options is not None
    assert auth.settings.client_registration_options.enabled
    assert auth.settings.revocation_options is not None and auth.settings.revocation_options.enabled
    assert auth.provider.signin_url == "https://mcp.school.example/signin"
    lines = ServerGates.of(settings).lines()
    assert lines[0] == "Read the school's data: users, roles."
    assert any(line.startswith("Destructive") for line in lines)
    assert auth.member_of(None) is None and auth.client_name_of(None) == "unknown"


async def test_a_burst_of_parallel_wrong_keys_gets_five_tries(tmp_path: Path) -> None:
    async with (
        serving(tmp_path, store=NetworkedStore) as served,
        httpx2.AsyncClient() as http,
    ):
        request_id = await start_signin(http, served)
        statuses: list[int] = []

        async def attempt() -> None:
            wrong = "lwm_" + secrets.token_urlsafe(32)
            statuses.append((await post_key(http, served, request_id, wrong)).status_code)

        async with anyio.create_task_group() as group:
            for _ in range(12):
                group.start_soon(attempt)
        assert sorted(statuses) == [200] * 5 + [429] * 7


@pytest.mark.parametrize(
    ("host", "source"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4 on a `--host ::` socket: its own bucket
        ("::ffff:198.51.100.9", "198.51.100.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::1", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("testclient", "testclient"),
    ],
)
def test_the_source_of_a_request(host: str, source: str) -> None:
    """Each IPv4 client is its own source, whether it reaches an IPv4 or an IPv6 socket."""
    request = Request({"type": "http", "client": (host, 50000), "headers": []})
    assert request_source(request) == source


# --------------------------------------------------------------------------------------------
# What anyone may make the server store: capped registrations, per-source limits
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "error", "words"),
    [
        (
            {"redirect_uris": ["https://claude.ai/cb?" + "a" * 1980]},
            "invalid_redirect_uri",
            "longer than 2000 characters",
        ),
        (
            {"redirect_uris": [f"https://claude.ai/cb{i}" for i in range(11)]},
            "invalid_redirect_uri",
            "at most 10",
        ),
        ({"client_name": "n" * 201}, "invalid_client_metadata", "longer than 200"),
        (  # within every field's cap, but 9 URIs of 1,992 characters are over 16 KiB
            {"redirect_uris": [f"https://claude.ai/cb{i}?" + "a" * 1970 for i in range(9)]},
            "invalid_client_metadata",
            "larger than 16 KiB",
        ),
    ],
)
async def test_registration_metadata_is_capped(
    tmp_path: Path, metadata: dict[str, Any], error: str, words: str
) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        body = {
            "client_name": "x",
            "redirect_uris": [CONNECTOR_CALLBACK],
            "token_endpoint_auth_method": "none",
            **metadata,
        }
        response = await http.post(f"{served.url}/register", json=body)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == error
        assert words in response.json()["error_description"]
        assert len(served.auth.provider.store) == 1  # the registration counter, no client


async def test_registration_within_the_caps_is_accepted(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        longest = "https://claude.ai/cb?" + "a" * (2000 - len("https://claude.ai/cb?"))
        client = await register(http, served, redirect_uris=[longest], client_name="n" * 200)
        assert client["redirect_uris"] == [longest]


async def test_registrations_are_limited_per_source(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """30 an hour per source address; then 429 (JSON, with CORS) until the hour is over."""
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        for _ in range(REGISTRATIONS_PER_SOURCE):
            await register(http, served)
        stored = len(served.auth.provider.store)
        for _ in range(3):
            refused = await http.post(
                f"{served.url}/register",
                json={"redirect_uris": [CONNECTOR_CALLBACK], "token_endpoint_auth_method": "none"},
                headers={"Origin": CONNECTOR_ORIGIN},
            )
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == "3600"
            assert refused.headers["access-control-allow-origin"] == "*"
            assert refused.json()["error"] == "temporarily_unavailable"
            assert "at most 30 an hour" in refused.json()["error_description"]
        assert len(served.auth.provider.store) == stored  # nothing more was kept
        assert await served.auth.provider.store.count("register", "127.0.0.1") == 33
        assert sum("registrations refused" in r.getMessage() for r in caplog.records) == 1
        served.clock.advance(REGISTRATION_WINDOW + 1)
        await register(http, served)


async def test_authorizations_are_limited_per_source(tmp_path: Path) -> None:
    """60 sign-ins started per 10 minutes per source; then a 429 page until they are over."""
    async with serving(tmp_path) as served, httpx2.AsyncClient() as http:
        client = await register(http, served)
        _, challenge = pkce()
        for _ in range(AUTHORIZATIONS_PER_SOURCE):
            started = await http.get(authorize_url(served, client, challenge))
            assert started.status_code == 302
        stored = len(served.auth.provider.store)
        refused = await http.get(authorize_url(served, client, challenge))
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "600"
        assert refused.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in refused.headers["content-security-policy"]
        assert "Too many sign-in attempts" in refused.text
        assert len(served.auth.provider.store) == stored  # no sign-in record was kept
        served.clock.advance(AUTHORIZATION_WINDOW + 1)
        key = served.keys["anna"]
        query = await sign_in(http, served, authorize_url(served, client, challenge), key)
        assert "code" in query
