"""The cohort report's resumable tallies: the same contract in this process and in Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from learnworlds_mcp.clock import FakeClock
from learnworlds_mcp.errors import SharedStateUnavailableError
from learnworlds_mcp.state.redis import KEY_PREFIX, RedisState
from learnworlds_mcp.state.tallies import InProcessTallies, RedisTallies, TallyStore
from tests.redis_server import RedisServer

NS = "school0123456789"
TALLY = {
    "group": {"id": "g1", "title": "Cohort 7", "products": ["course-a"]},
    "titles": {"course-a": "Course A"},
    "member_count": 40,
    "rows": [{"id": "u1", "email": "zoë+1@acme.test", "progress": {"course-a": 0.5}}],
    "partly_read": 0,
    "count_known": True,
}


@asynccontextmanager
async def stores(
    kind: str, redis_server: RedisServer | None, ttl: float = 900
) -> AsyncIterator[tuple[TallyStore, TallyStore]]:
    """Two views of one store, as two replicas see it (in-process: the same object)."""
    if kind == "local":
        store = InProcessTallies(FakeClock(), ttl=ttl)
        yield store, store
        return
    assert redis_server is not None
    one, other = RedisState(redis_server.url, NS), RedisState(redis_server.url, NS)
    try:
        yield RedisTallies(one, ttl=ttl), RedisTallies(other, ttl=ttl)
    finally:
        await one.aclose()
        await other.aclose()


@pytest.fixture(params=["local", "redis"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def maybe_redis(kind: str, request: pytest.FixtureRequest) -> RedisServer | None:
    return request.getfixturevalue("redis_server") if kind == "redis" else None


async def test_a_kept_tally_is_found_by_group_and_page_as_a_fresh_copy(
    kind: str, maybe_redis: RedisServer | None
) -> None:
    async with stores(kind, maybe_redis) as (here, there):
        await here.keep("g1", 3, TALLY)
        found = await there.find("g1", 3)  # the other replica resumes it
        assert found == TALLY
        assert found is not None
        found["rows"].append({"id": "u2"})  # a call adds to its copy...
        assert await there.find("g1", 3) == TALLY  # ...and a repeat starts from the same counts
        assert await there.find("g1", 2) is None
        assert await there.find("g2", 3) is None
        await here.keep("g1", 3, {**TALLY, "member_count": 41})  # kept again: replaced
        assert (await there.find("g1", 3) or {})["member_count"] == 41


async def test_a_tally_must_be_plain_json(kind: str, maybe_redis: RedisServer | None) -> None:
    async with stores(kind, maybe_redis) as (here, _):
        with pytest.raises(ValueError, match="plain JSON"):
            await here.keep("g1", 2, {"at": object()})
        with pytest.raises(ValueError, match="plain JSON"):
            await here.keep("g1", 2, {"rate": float("nan")})
        assert await here.find("g1", 2) is None


async def test_tallies_expire_in_process() -> None:
    clock = FakeClock()
    store = InProcessTallies(clock, ttl=60)
    await store.keep("g1", 2, TALLY)
    clock.advance(59)
    assert await store.find("g1", 2) == TALLY
    clock.advance(2)
    assert await store.find("g1", 2) is None


async def test_tallies_expire_in_redis_and_keys_are_namespaced(
    redis_server: RedisServer,
) -> None:
    async with stores("redis", redis_server, ttl=0.3) as (here, there):
        await here.keep("a/b:{x} ü", 2, TALLY)  # whatever a caller typed as a group id
        state = RedisState(redis_server.url, NS)
        async with state.reached() as redis:
            (key,) = [k.decode() for k in await redis.keys("*")]
            assert key.startswith(f"{KEY_PREFIX}:{{{NS}}}:tally:") and key.endswith(":2")
            assert "a/b" not in key
            assert 0 < await redis.pttl(key) <= 300
        await state.aclose()
        assert await there.find("a/b:{x} ü", 2) == TALLY
        await anyio.sleep(0.4)
        assert await there.find("a/b:{x} ü", 2) is None


async def test_an_unreadable_tally_in_redis_counts_as_not_kept(redis_server: RedisServer) -> None:
    async with stores("redis", redis_server) as (here, _):
        await here.keep("g1", 2, TALLY)
        state = RedisState(redis_server.url, NS)
        async with state.reached() as redis:
            (key,) = await redis.keys("*")
            await redis.set(key, b"[1, 2")
        await state.aclose()
        assert await here.find("g1", 2) is None


async def test_redis_down_is_a_clear_error(redis_server: RedisServer) -> None:
    async with stores("redis", redis_server) as (here, _):
        redis_server.stop()
        for attempt in (here.keep("g1", 2, TALLY), here.find("g1", 2)):
            with pytest.raises(SharedStateUnavailableError, match="LEARNWORLDS_REDIS_URL"):
                await attempt
