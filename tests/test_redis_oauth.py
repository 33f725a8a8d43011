"""The OAuth store contract, held by both stores, and the authorization flow over Redis.

The contract (records with a TTL, single-use takes, fixed-window counters) runs against the
in-process store and the Redis store alike, in real time with short TTLs, each time through two
views of one store as two replicas see it. Then the authorization server of `test_oauth.py` runs
on two providers sharing one real `redis-server`: a token issued by one is verified, refreshed
and revoked by the other, and wrong sign-in keys are counted across both.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, get_args

import anyio
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from learnworlds_mcp.errors import SharedStateUnavailableError
from learnworlds_mcp.remote.auth import REGISTRATIONS_PER_SOURCE, build_remote_auth
from learnworlds_mcp.remote.members import MemberDirectory, MembersFile
from learnworlds_mcp.remote.serve import bind
from learnworlds_mcp.remote.signin import WRONG_KEY_LIMIT, ServerGates
from learnworlds_mcp.state.oauth import CounterKind, MemoryOAuthStore, OAuthStore
from learnworlds_mcp.state.redis import KEY_PREFIX, RedisState
from learnworlds_mcp.state.redis_oauth import RedisOAuthStore
from tests.redis_server import RedisServer
from tests.test_oauth import (
    CONNECTOR_CALLBACK,
    Served,
    assert_401,
    assert_no_secrets,
    authorize_url,
    call_mcp,
    pkce,
    post_key,
    register,
    sdk_oauth_provider,
    sign_in,
    start_signin,
    token_request,
    whoami_app,
)

NS = "school0123456789"


@pytest.fixture(params=["memory", "redis"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def maybe_redis(kind: str, request: pytest.FixtureRequest) -> RedisServer | None:
    return request.getfixturevalue("redis_server") if kind == "redis" else None


@asynccontextmanager
async def two_views(
    kind: str, redis_server: RedisServer | None
) -> AsyncIterator[tuple[OAuthStore, OAuthStore]]:
    """One store as two replicas see it (in process: the same object; Redis: two clients)."""
    if kind == "memory":
        store = MemoryOAuthStore()
        yield store, store
        return
    assert redis_server is not None
    one, other = RedisState(redis_server.url, NS), RedisState(redis_server.url, NS)
    try:
        yield RedisOAuthStore(one), RedisOAuthStore(other)
    finally:
        await one.aclose()
        await other.aclose()


# --------------------------------------------------------------------------------------------
# The contract, for both stores
# --------------------------------------------------------------------------------------------


async def test_records_are_copies_by_kind_and_replaced_by_put(
    kind: str, maybe_redis: RedisServer | None
) -> None:
    async with two_views(kind, maybe_redis) as (here, there):
        record = {"a": 1, "b": [1, "x", None], "c": {"ü": 2.5}}
        await here.put("code", "k", record, 10)
        found = await there.get("code", "k")
        assert found == record
        assert found is not None
        found["a"] = 2  # a copy
        assert await there.get("code", "k") == record
        assert await there.get("access", "k") is None  # kinds are separate
        assert await there.get("code", "other") is None
        await there.put("code", "k", {"a": 3}, 10)
        assert await here.get("code", "k") == {"a": 3}
        await there.delete("code", "k")
        assert await here.get("code", "k") is None
        await here.delete("code", "never")  # deleting nothing is fine
        with pytest.raises(TypeError):
            await here.put("client", "c", {"x": object()}, 5)
        for ttl in (0, -1, float("nan"), float("inf")):
            with pytest.raises(ValueError):
                await here.put("client", "c", {}, ttl)
            with pytest.raises(ValueError):
                await here.hit("wrong_key", "c", ttl)
        assert await here.get("client", "c") is None


async def test_records_live_their_ttl(kind: str, maybe_redis: RedisServer | None) -> None:
    async with two_views(kind, maybe_redis) as (here, there):
        await here.put("refresh", "short", {"v": 1}, 0.3)
        await here.put("refresh", "long", {"v": 2}, 30)
        await here.put("signin", "taken-late", {"v": 3}, 0.3)
        assert await there.get("refresh", "short") == {"v": 1}
        await anyio.sleep(0.45)
        assert await there.get("refresh", "short") is None
        assert await there.take("signin", "taken-late") is None
        assert await there.get("refresh", "long") == {"v": 2}


async def test_one_of_twenty_concurrent_takes_gets_the_record(
    kind: str, maybe_redis: RedisServer | None
) -> None:
    async with two_views(kind, maybe_redis) as (here, there):
        for round_ in range(3):
            await here.put("code", f"c{round_}", {"round": round_}, 30)
            got: list[dict[str, Any] | None] = []

            async def take(store: OAuthStore, key: str, got: list[Any] = got) -> None:
                got.append(await store.take("code", key))

            async with anyio.create_task_group() as group:
                for i in range(20):  # half on each replica
                    group.start_soon(take, here if i % 2 else there, f"c{round_}")
            assert [g for g in got if g is not None] == [{"round": round_}]
            assert len(got) == 20
            assert await here.get("code", f"c{round_}") is None


async def test_counters_count_hits_within_a_fixed_window(
    kind: str, maybe_redis: RedisServer | None
) -> None:
    async with two_views(kind, maybe_redis) as (here, there):
        assert await here.count("wrong_key", "1.2.3.4") == 0
        assert await here.hit("wrong_key", "1.2.3.4", 0.6) == 1
        assert await there.hit("wrong_key", "1.2.3.4", 0.6) == 2  # both replicas count
        assert await here.hit("wrong_key", "1.2.3.4", 30) == 3  # the window is not moved
        assert await there.count("wrong_key", "1.2.3.4") == 3
        assert await there.count("wrong_key", "5.6.7.8") == 0
        await anyio.sleep(0.75)
        assert await here.count("wrong_key", "1.2.3.4") == 0
        assert await there.hit("wrong_key", "1.2.3.4", 30) == 1

        seen: list[int] = []

        async def hit(store: OAuthStore) -> None:
            seen.append(await store.hit("wrong_key", "burst", 30))

        async with anyio.create_task_group() as group:
            for i in range(20):
                group.start_soon(hit, here if i % 2 else there)
        assert sorted(seen) == list(range(1, 21))
        assert await here.count("wrong_key", "burst") == 20


async def test_every_counter_kind_counts_on_its_own(
    kind: str, maybe_redis: RedisServer | None
) -> None:
    """Wrong keys, registrations and authorizations: three counters for one source."""
    async with two_views(kind, maybe_redis) as (here, there):
        for counter in get_args(CounterKind):
            assert await here.hit(counter, "198.51.100.9", 30) == 1
            assert await there.hit(counter, "198.51.100.9", 30) == 2
        for counter in get_args(CounterKind):
            assert await here.count(counter, "198.51.100.9") == 2


# --------------------------------------------------------------------------------------------
# What the Redis store does in Redis
# --------------------------------------------------------------------------------------------


async def all_keys(redis_server: RedisServer) -> dict[str, tuple[bytes, int]]:
    """Every key in the Redis: its value (or b'' for non-strings) and its PTTL."""
    state = RedisState(redis_server.url, NS)
    try:
        async with state.reached() as redis:
            found: dict[str, tuple[bytes, int]] = {}
            for key in await redis.keys("*"):
                value = await redis.get(key)
                found[key.decode()] = (value or b"", int(await redis.pttl(key)))
            return found
    finally:
        await state.aclose()


async def test_redis_keys_are_namespaced_hashed_and_all_expire(redis_server: RedisServer) -> None:
    async with two_views("redis", redis_server) as (here, _):
        await here.put("client", "client-id-1", {"x": 1}, 60)
        await here.put("access", "k" * 64, {"x": 2}, 60)
        await here.hit("wrong_key", "203.0.113.7", 60)
        keys = await all_keys(redis_server)
    assert len(keys) == 3
    pattern = re.compile(rf"{KEY_PREFIX}:\{{{NS}\}}:oauth:(client|access|wrong_key):[0-9a-f]{{64}}")
    for key, (_, pttl) in keys.items():
        assert pattern.fullmatch(key), key
        assert 0 < pttl <= 60_000
    joined = " ".join(keys)
    assert "client-id-1" not in joined and "203.0.113.7" not in joined and "k" * 64 not in joined


async def test_a_foreign_value_in_redis_counts_as_absent(redis_server: RedisServer) -> None:
    async with two_views("redis", redis_server) as (here, _):
        await here.put("code", "k", {"x": 1}, 60)
        await here.hit("wrong_key", "s", 60)
        state = RedisState(redis_server.url, NS)
        async with state.reached() as redis:
            for key in await redis.keys("*"):
                await redis.set(key, b"[1, 2")
        await state.aclose()
        assert await here.get("code", "k") is None
        assert await here.take("code", "k") is None
        assert await here.count("wrong_key", "s") == 0


async def test_redis_down_is_a_clear_error(redis_server: RedisServer) -> None:
    async with two_views("redis", redis_server) as (here, _):
        await here.put("client", "c", {}, 60)
        redis_server.stop()
        for attempt in (
            here.put("client", "c", {}, 60),
            here.get("client", "c"),
            here.take("code", "c"),
            here.delete("access", "c"),
            here.hit("wrong_key", "s", 60),
            here.count("wrong_key", "s"),
        ):
            with pytest.raises(SharedStateUnavailableError, match="LEARNWORLDS_REDIS_URL"):
                await attempt
        redis_server.start()  # back (empty): the store recovers by itself
        assert await here.get("client", "c") is None
        await here.put("client", "c", {"back": True}, 60)
        assert await here.get("client", "c") == {"back": True}


# --------------------------------------------------------------------------------------------
# The authorization server on two providers sharing one Redis
# --------------------------------------------------------------------------------------------


@asynccontextmanager
async def replica(
    members: MembersFile, keys: dict[str, str], redis_url: str, group: anyio.abc.TaskGroup
) -> AsyncIterator[Served]:
    """One provider (as in `test_oauth.serving`) on its own port, its records in Redis."""
    sock = bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    state = RedisState(redis_url, NS)
    auth = build_remote_auth(
        url,
        MemberDirectory(members.path, recheck_seconds=0.0),
        RedisOAuthStore(state),
        server_gates=ServerGates(allow_writes=True, toolsets=frozenset({"users", "groups"})),
    )
    server = uvicorn.Server(uvicorn.Config(whoami_app(auth), log_level="warning", lifespan="on"))
    served = Served(url, auth, members, None, keys)  # type: ignore[arg-type]  # real time
    served.remember(*keys.values())
    group.start_soon(server.serve, [sock])
    try:
        yield served
    finally:
        server.should_exit = True
        await state.aclose()


@asynccontextmanager
async def two_replicas(tmp_path: Path, redis_url: str) -> AsyncIterator[tuple[Served, Served]]:
    """Two providers, one members file, one Redis: the multi-replica authorization server."""
    members = MembersFile(tmp_path / "members.json")
    keys = {"anna": members.add("anna", allow_writes=True), "ben": members.add("ben")}
    async with anyio.create_task_group() as group, AsyncExitStack() as stack:
        a = await stack.enter_async_context(replica(members, keys, redis_url, group))
        b = await stack.enter_async_context(replica(members, keys, redis_url, group))
        yield a, b


def share_secrets(a: Served, b: Served) -> set[str]:
    every = a.secrets | b.secrets
    a.secrets.update(every)
    b.secrets.update(every)
    return every


async def test_the_sdk_oauth_client_flow_over_redis_and_its_tokens_on_the_other_replica(
    tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        two_replicas(tmp_path, redis_server.url) as (a, b),
        httpx2.AsyncClient() as browser,
    ):
        oauth, storage = sdk_oauth_provider(browser, a, a.keys["anna"])
        async with (
            httpx2.AsyncClient(auth=oauth) as http,
            Client(streamable_http_client(a.mcp_url, http_client=http)) as client,
        ):
            first = await client.call_tool("whoami", {})
            assert first.content[0].text == "anna via SDK test client"  # type: ignore[union-attr]
            assert storage.tokens is not None and storage.client is not None
            before = storage.tokens
            a.remember(before.access_token, before.refresh_token)
            oauth.context.token_expiry_time = time.time() - 1  # the client now refreshes first
            second = await client.call_tool("whoami", {})
            assert second.content[0].text == "anna via SDK test client"  # type: ignore[union-attr]
            after = storage.tokens
            a.remember(after.access_token, after.refresh_token)
            assert after.access_token != before.access_token

        # On the other replica: the used refresh token is dead, and so is its access token;
        # the new access token works, and B refreshes it (the client registered on A).
        client_info = storage.client.model_dump(mode="json")
        refused = await token_request(
            browser,
            b,
            client_info,
            grant_type="refresh_token",
            refresh_token=before.refresh_token or "",
        )
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
        assert_401(await call_mcp(browser, b, before.access_token), b)
        assert (await call_mcp(browser, b, after.access_token)).status_code == 200
        renewed = await token_request(
            browser,
            b,
            client_info,
            grant_type="refresh_token",
            refresh_token=after.refresh_token or "",
        )
        assert renewed.status_code == 200, renewed.text
        assert_401(await call_mcp(browser, a, after.access_token), a)
        assert (await call_mcp(browser, a, renewed.json()["access_token"])).status_code == 200
        b.remember(renewed.json()["access_token"], renewed.json()["refresh_token"])
        share_secrets(a, b)
        assert_no_secrets(a, caplog)


async def test_a_grant_across_replicas_then_revoked_on_the_other(
    tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with two_replicas(tmp_path, redis_server.url) as (a, b), httpx2.AsyncClient() as http:
        client = await register(http, a, token_endpoint_auth_method="client_secret_post")
        verifier, challenge = pkce()
        # Registered on A, signed in on B, code exchanged on A, token used on B.
        query = await sign_in(http, b, authorize_url(b, client, challenge), b.keys["ben"])
        code = query["code"][0]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CONNECTOR_CALLBACK,
            "code_verifier": verifier,
        }
        token = await token_request(http, a, client, **form)
        assert token.status_code == 200, token.text
        again = await token_request(http, b, client, **form)  # the code worked once, anywhere
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        body = token.json()
        a.remember(body["access_token"], body["refresh_token"])
        assert (await call_mcp(http, b, body["access_token"])).status_code == 200

        # Revoked on B: refused on A and B, and its refresh token with it.
        revoked = await http.post(
            f"{b.url}/revoke",
            data={
                "token": body["access_token"],
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
            },
        )
        assert revoked.status_code == 200, revoked.text
        for replica_ in (a, b):
            assert_401(await call_mcp(http, replica_, body["access_token"]), replica_)
        refresh = await token_request(
            http, a, client, grant_type="refresh_token", refresh_token=body["refresh_token"]
        )
        assert refresh.status_code == 400

        # Redis holds hashes: no code, token or secret in a key or a value, and every key expires.
        share_secrets(a, b)
        keys = await all_keys(redis_server)
        assert keys and all(pttl > 0 for _, pttl in keys.values())
        held = " ".join(keys) + " ".join(v.decode(errors="replace") for v, _ in keys.values())
        for secret in [*a.secrets, code, client["client_secret"], verifier]:
            assert secret not in held, "a code, token, key or secret is in Redis in clear"
        assert_no_secrets(a, caplog)


async def test_wrong_keys_are_counted_across_replicas(
    tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Five wrong keys a minute per source, wherever they land; then both replicas refuse."""
    async with two_replicas(tmp_path, redis_server.url) as (a, b), httpx2.AsyncClient() as http:
        on_a, on_b = await start_signin(http, a), await start_signin(http, b)
        for attempt in range(WRONG_KEY_LIMIT):
            wrong = "lwm_" + secrets.token_urlsafe(32)
            a.remember(wrong)
            served, request_id = (a, on_a) if attempt % 2 else (b, on_b)
            response = await post_key(http, served, request_id, wrong)
            assert response.status_code == 200 and "That key is not right" in response.text
            if attempt == WRONG_KEY_LIMIT - 1:
                assert "last try" in response.text
        for served, request_id in ((a, on_a), (b, on_b)):
            blocked = await post_key(http, served, request_id, served.keys["anna"])
            assert blocked.status_code == 429 and blocked.headers["retry-after"] == "60"
        (counter,) = [
            pttl
            for key, (_, pttl) in (await all_keys(redis_server)).items()
            if ":wrong_key:" in key
        ]
        assert 0 < counter <= 60_000
        share_secrets(a, b)
        assert_no_secrets(a, caplog)


async def test_registrations_are_counted_across_replicas(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """The per-source registration limit holds wherever the registrations land."""
    async with two_replicas(tmp_path, redis_server.url) as (a, b), httpx2.AsyncClient() as http:
        for i in range(REGISTRATIONS_PER_SOURCE):
            await register(http, a if i % 2 else b)
        for served in (a, b):
            refused = await http.post(
                f"{served.url}/register",
                json={"redirect_uris": [CONNECTOR_CALLBACK], "token_endpoint_auth_method": "none"},
            )
            assert refused.status_code == 429, refused.text
            assert refused.headers["retry-after"] == "3600"
        (counter,) = [
            pttl for key, (_, pttl) in (await all_keys(redis_server)).items() if ":register:" in key
        ]
        assert 0 < counter <= 3_600_000


async def test_a_sign_in_started_on_one_replica_completes_once_on_the_other(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with two_replicas(tmp_path, redis_server.url) as (a, b), httpx2.AsyncClient() as http:
        request_id = await start_signin(http, a)
        page = await http.get(f"{b.url}/signin?request={request_id}")
        assert page.status_code == 200
        statuses: list[int] = []

        async def submit(served: Served) -> None:
            response = await http.post(
                f"{served.url}/signin",
                data={"request": request_id, "key": served.keys["anna"]},
                headers={"Origin": served.url},
            )
            statuses.append(response.status_code)

        async with anyio.create_task_group() as group:
            for i in range(6):
                group.start_soon(submit, a if i % 2 else b)
        assert sorted(statuses) == [302] + [400] * 5
