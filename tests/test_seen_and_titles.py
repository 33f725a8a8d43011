"""When members were last seen, and the completion titles cache: in this process and in Redis.

Each contract runs against both stores, as two replicas see them (in process: one object; Redis:
two clients of one real `redis-server`). Time moves on a `FakeClock` where the store reads a
clock, and in real time (short TTLs) where Redis expires keys.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import anyio
import pytest

from learnworlds_mcp.clock import FakeClock
from learnworlds_mcp.errors import SharedStateUnavailableError
from learnworlds_mcp.state.redis import KEY_PREFIX, RedisState
from learnworlds_mcp.state.seen import InProcessLastSeen, LastSeen, RedisLastSeen
from learnworlds_mcp.state.titles import InProcessTitles, RedisTitles, TitleStore
from tests.redis_server import RedisServer

NS = "school0123456789"
GROUPS = [
    {"id": "g1", "title": "Cohort 7", "courses": ["course-a"]},
    {"id": "g2", "title": "Zoë's group", "courses": []},
]


@pytest.fixture(params=["local", "redis"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def maybe_redis(kind: str, request: pytest.FixtureRequest) -> RedisServer | None:
    return request.getfixturevalue("redis_server") if kind == "redis" else None


@asynccontextmanager
async def states(redis_server: RedisServer) -> AsyncIterator[tuple[RedisState, RedisState]]:
    one, other = RedisState(redis_server.url, NS), RedisState(redis_server.url, NS)
    try:
        yield one, other
    finally:
        await one.aclose()
        await other.aclose()


async def redis_keys(redis_server: RedisServer) -> dict[str, int]:
    """Every key in the Redis and its PTTL."""
    async with states(redis_server) as (state, _), state.reached() as redis:
        return {k.decode(): int(await redis.pttl(k)) for k in await redis.keys("*")}


# --------------------------------------------------------------------------------------------
# Last seen
# --------------------------------------------------------------------------------------------


@asynccontextmanager
async def seen_stores(
    kind: str, redis_server: RedisServer | None, clock: FakeClock, ttl: float = 3600
) -> AsyncIterator[tuple[LastSeen, LastSeen]]:
    if kind == "local":
        store = InProcessLastSeen(clock, ttl=ttl)
        yield store, store
        return
    assert redis_server is not None
    async with states(redis_server) as (one, other):
        yield RedisLastSeen(one, clock, ttl=ttl), RedisLastSeen(other, clock, ttl=ttl)


def minute(when: datetime | None) -> float:
    assert when is not None and when.tzinfo is UTC
    return when.timestamp()


async def test_last_seen_is_written_at_most_once_a_minute(
    kind: str, maybe_redis: RedisServer | None
) -> None:
    clock = FakeClock(wall_start=1_800_000_000.0)
    async with seen_stores(kind, maybe_redis, clock) as (here, there):
        assert await there.last_seen("anna") is None
        await here.touch("anna")
        assert minute(await there.last_seen("anna")) == 1_800_000_000.0
        clock.advance(59)
        await here.touch("anna")  # within the minute: nothing written
        assert minute(await there.last_seen("anna")) == 1_800_000_000.0
        clock.advance(1)
        await here.touch("anna")
        assert minute(await there.last_seen("anna")) == 1_800_000_060.0
        assert await there.last_seen("ben") is None
        await here.touch("ben")  # members are throttled one by one
        assert minute(await there.last_seen("ben")) == 1_800_000_060.0


async def test_each_replica_writes_on_its_own_minute(redis_server: RedisServer) -> None:
    """The throttle is per process: another replica's touch is written, and read everywhere."""
    clock = FakeClock(wall_start=1_800_000_000.0)
    async with seen_stores("redis", redis_server, clock) as (here, there):
        await here.touch("anna")
        clock.advance(10)
        await there.touch("anna")
        assert minute(await here.last_seen("anna")) == 1_800_000_010.0


async def test_last_seen_is_forgotten_after_its_ttl_in_process() -> None:
    clock = FakeClock()
    store = InProcessLastSeen(clock, ttl=90)
    await store.touch("anna")
    clock.advance(89)
    assert await store.last_seen("anna") is not None
    clock.advance(1)
    assert await store.last_seen("anna") is None


async def test_last_seen_in_redis_expires_and_keys_hold_no_names(
    redis_server: RedisServer,
) -> None:
    async with seen_stores("redis", redis_server, FakeClock(), ttl=0.3) as (here, there):
        await here.touch("anna.o'hara@school.example")
        ((key, pttl),) = (await redis_keys(redis_server)).items()
        assert key.startswith(f"{KEY_PREFIX}:{{{NS}}}:seen:") and "anna" not in key
        assert 0 < pttl <= 300
        assert await there.last_seen("anna.o'hara@school.example") is not None
        await anyio.sleep(0.4)
        assert await there.last_seen("anna.o'hara@school.example") is None
    async with states(redis_server) as (state, _):
        await RedisLastSeen(state).touch("ben")  # by default, kept 90 days
        assert next(iter((await redis_keys(redis_server)).values())) > 89 * 86400 * 1000


async def test_redis_down_never_fails_a_touch_but_a_read_says_so(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    async with seen_stores("redis", redis_server, clock) as (here, _):
        redis_server.stop()
        await here.touch("anna")  # logged, not raised: the request goes on
        assert "last seen" in caplog.text and "LEARNWORLDS_REDIS_URL" in caplog.text
        with pytest.raises(SharedStateUnavailableError, match="LEARNWORLDS_REDIS_URL"):
            await here.last_seen("anna")
        redis_server.start()
        await here.touch("anna")  # within the minute of the failed try: not retried yet
        assert await here.last_seen("anna") is None
        clock.advance(60)
        await here.touch("anna")
        assert await here.last_seen("anna") is not None


async def test_an_unreadable_last_seen_in_redis_is_none(redis_server: RedisServer) -> None:
    async with seen_stores("redis", redis_server, FakeClock()) as (here, _):
        await here.touch("anna")
        async with states(redis_server) as (state, _), state.reached() as redis:
            (key,) = await redis.keys("*")
            await redis.set(key, b"yesterday")
        assert await here.last_seen("anna") is None


# --------------------------------------------------------------------------------------------
# Titles
# --------------------------------------------------------------------------------------------


@asynccontextmanager
async def title_stores(
    kind: str, redis_server: RedisServer | None, clock: FakeClock
) -> AsyncIterator[tuple[TitleStore, TitleStore]]:
    if kind == "local":
        store = InProcessTitles(clock)
        yield store, store
        return
    assert redis_server is not None
    async with states(redis_server) as (one, other):
        yield RedisTitles(one), RedisTitles(other)


async def test_titles_are_kept_per_kind_as_fresh_copies(
    kind: str, maybe_redis: RedisServer | None
) -> None:
    async with title_stores(kind, maybe_redis, FakeClock()) as (here, there):
        assert await there.get("groups") is None
        await here.put("groups", GROUPS, 60)
        found = await there.get("groups")
        assert found == GROUPS
        assert found is not None
        found[0]["title"] = "changed"  # a caller's copy
        assert await there.get("groups") == GROUPS
        assert await there.get("courses") is None
        await here.put("courses", [], 60)  # a school with no courses is an answer too
        assert await there.get("courses") == []
        await there.put("groups", GROUPS[:1], 60)  # replaced
        assert await here.get("groups") == GROUPS[:1]


async def test_titles_refuse_bad_input(kind: str, maybe_redis: RedisServer | None) -> None:
    async with title_stores(kind, maybe_redis, FakeClock()) as (here, _):
        for bad_kind in ("", "Groups", "a:b", "x" * 40, "groups*"):
            with pytest.raises(ValueError, match="kind"):
                await here.put(bad_kind, GROUPS, 60)
            with pytest.raises(ValueError, match="kind"):
                await here.get(bad_kind)
        for ttl in (0, -5, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="ttl"):
                await here.put("groups", GROUPS, ttl)
        for items in ([{"at": object()}], [{"n": float("nan")}], ["not an object"], {"a": 1}):
            with pytest.raises(ValueError, match="titles must"):
                await here.put("groups", items, 60)  # type: ignore[arg-type]
        assert await here.get("groups") is None


async def test_titles_expire_in_process() -> None:
    clock = FakeClock()
    store = InProcessTitles(clock)
    await store.put("groups", GROUPS, 60)
    clock.advance(59.9)
    assert await store.get("groups") == GROUPS
    clock.advance(0.1)
    assert await store.get("groups") is None


async def test_titles_expire_in_redis_under_one_key_per_kind(redis_server: RedisServer) -> None:
    async with title_stores("redis", redis_server, FakeClock()) as (here, there):
        await here.put("groups", GROUPS, 0.3)
        await here.put("courses", GROUPS, 60)
        keys = await redis_keys(redis_server)
        assert set(keys) == {f"{KEY_PREFIX}:{{{NS}}}:titles:{k}" for k in ("groups", "courses")}
        assert all(0 < pttl <= 60_000 for pttl in keys.values())
        await anyio.sleep(0.4)
        assert await there.get("groups") is None
        assert await there.get("courses") == GROUPS


async def test_titles_in_redis_foreign_values_and_outages(redis_server: RedisServer) -> None:
    async with title_stores("redis", redis_server, FakeClock()) as (here, _):
        await here.put("groups", GROUPS, 60)
        async with states(redis_server) as (state, _), state.reached() as redis:
            await redis.set(state.key("titles", "groups"), b'{"not": "a list"}')
        assert await here.get("groups") is None
        redis_server.stop()
        for attempt in (here.get("groups"), here.put("groups", GROUPS, 60)):
            with pytest.raises(SharedStateUnavailableError, match="LEARNWORLDS_REDIS_URL"):
                await attempt
