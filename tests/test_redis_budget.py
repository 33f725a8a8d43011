"""The rate budget shared through a real Redis: the script's edges, two replicas, Redis trouble.

Redis's clock is real, so these tests run in real time with a small limit (a few requests per
second or less) and check what happened — grants, waits, the school's request log — not how
fast. The one wall-time figure (the burst's, against what the limit allows) is printed and held
to a generous bound: a shared budget that wasted a window would miss it.
"""

from __future__ import annotations

import math
import time

import anyio
import pytest

from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.clock import SystemClock
from learnworlds_mcp.config import RateLimit
from learnworlds_mcp.errors import RateLimitedError, SharedStateUnavailableError
from learnworlds_mcp.sandbox import SandboxSchool
from learnworlds_mcp.state.budget import WINDOW_MARGIN_SECONDS
from learnworlds_mcp.state.redis import KEY_PREFIX, RedisState, school_namespace
from learnworlds_mcp.state.redis_budget import RedisBudget
from tests.redis_server import RedisServer
from tests.support import make_school, max_in_window, settings_for, transport_for

NS = "school0123456789"


async def settled(budget: RedisBudget) -> RedisBudget:
    """Skip the one-window wait of a new epoch (as if the budget had been in use for a while)."""
    state = budget._state
    await budget.seconds_until_free()  # creates the epoch on this Redis run
    async with state.reached() as redis:
        await redis.hset(state.key("budget", "epoch"), "at", "0")
    assert await budget.seconds_until_free() == 0.0
    return budget


async def window_size(state: RedisState) -> int:
    async with state.reached() as redis:
        return int(await redis.zcard(state.key("budget", "window")))


# ---------------------------------------------------------------------- the script's edges


async def test_grants_the_limit_at_once_then_names_the_wait_margin_included(
    redis_server: RedisServer,
) -> None:
    state = RedisState(redis_server.url, NS)
    budget = await settled(RedisBudget(state, 3, 1.0))
    for _ in range(3):
        assert await budget._ask(take=True) == 0.0
    wait = await budget._ask(take=True)
    assert 1.0 < wait <= 1.0 + WINDOW_MARGIN_SECONDS  # the window and its margin, from Redis
    assert await window_size(state) == 3  # a refused ask books nothing
    assert await budget.seconds_until_free() == pytest.approx(wait, abs=0.05)
    await state.aclose()


async def test_a_slot_after_the_deadline_fails_at_once_and_says_when(
    redis_server: RedisServer,
) -> None:
    state = RedisState(redis_server.url, NS)
    budget = await settled(RedisBudget(state, 2, 30.0))
    await budget.acquire(deadline=time.monotonic())
    await budget.acquire(deadline=time.monotonic())
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        await budget.acquire(deadline=time.monotonic() + 5)
    assert time.monotonic() - started < 1  # it did not sleep first
    assert caught.value.retry_after == pytest.approx(30.0 + WINDOW_MARGIN_SECONDS, abs=0.5)
    assert "retry after 30 s" in str(caught.value)
    assert await window_size(state) == 2
    await state.aclose()


async def test_a_full_window_slides_and_the_waiter_gets_its_slot(
    redis_server: RedisServer,
) -> None:
    state = RedisState(redis_server.url, NS)
    budget = await settled(RedisBudget(state, 2, 0.2))
    await budget.acquire(deadline=time.monotonic())
    await budget.acquire(deadline=time.monotonic())
    started = time.monotonic()
    await budget.acquire(deadline=time.monotonic() + 5)
    assert time.monotonic() - started >= 0.2 + WINDOW_MARGIN_SECONDS - 0.02
    await state.aclose()


async def test_a_pause_holds_every_replica_and_is_never_shortened(
    redis_server: RedisServer,
) -> None:
    one, other = RedisState(redis_server.url, NS), RedisState(redis_server.url, NS)
    mine = await settled(RedisBudget(one, 30, 10.0))
    theirs = RedisBudget(other, 30, 10.0)
    await mine.pause(3.0)
    assert 2.5 < await theirs.seconds_until_free() <= 3.0
    await theirs.pause(0.5)  # a shorter pause later does not cut the longer one
    assert 2.5 < await mine.seconds_until_free() <= 3.0
    with pytest.raises(RateLimitedError):
        await theirs.acquire(deadline=time.monotonic() + 1)
    async with one.reached() as redis:
        assert 0 < await redis.pttl(one.key("budget", "pause")) <= 4_000
    await one.aclose()
    await other.aclose()


async def test_a_new_or_lost_record_waits_one_full_window(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    state = RedisState(redis_server.url, NS)
    budget = RedisBudget(state, 5, 2.0)
    full = 2.0 + WINDOW_MARGIN_SECONDS
    assert full - 0.2 < await budget.seconds_until_free() <= full  # a Redis seen for the first time
    assert "was empty (first use, or Redis lost its data)" in caplog.text
    assert await budget.seconds_until_free() <= full  # the same epoch: said once
    assert caplog.text.count("was empty") == 1
    await settled(budget)
    await budget.acquire(deadline=time.monotonic())
    async with state.reached() as redis:
        await redis.flushall()  # Redis lost everything (evicted, or restarted without its data)
    assert full - 0.2 < await budget.seconds_until_free() <= full
    await settled(budget)
    async with state.reached() as redis:
        # A snapshot from another run of Redis (restored, or a failover): its window is stale.
        await budget.acquire(deadline=time.monotonic())
        await redis.hset(state.key("budget", "epoch"), "run", "0" * 40)
    assert full - 0.2 < await budget.seconds_until_free() <= full
    assert await window_size(state) == 0  # the stale window is dropped, not trusted
    await state.aclose()


async def test_keys_share_one_prefix_per_school_and_all_expire(redis_server: RedisServer) -> None:
    ours = RedisState(redis_server.url, school_namespace("https://a.test/admin/api", "id-a"))
    theirs = RedisState(redis_server.url, school_namespace("https://b.test/admin/api", "id-a"))
    budget = await settled(RedisBudget(ours, 2, 10.0))
    await budget.acquire(deadline=time.monotonic())
    await budget.acquire(deadline=time.monotonic())
    await budget.pause(1.0)
    other = await settled(RedisBudget(theirs, 2, 10.0))
    assert await other.seconds_until_free() == 0.0  # another school's window is its own
    async with ours.reached() as redis:
        keys = sorted(k.decode() for k in await redis.keys("*"))
        assert len(keys) == 4  # window, pause and epoch of ours; theirs has only its epoch
        for key in keys:
            assert key.startswith(f"{KEY_PREFIX}:{{")
            assert await redis.pttl(key) > 0, key
        assert {k.split(":")[1] for k in keys} == {
            f"{{{ours.namespace}}}",
            f"{{{theirs.namespace}}}",
        }
    await ours.aclose()
    await theirs.aclose()


def test_the_namespace_is_a_hash_of_the_school_without_anything_in_clear() -> None:
    one = school_namespace("https://acme.learnworlds.com/admin/api", "5f1e9a3c7b2d")
    assert one == school_namespace("https://ACME.learnworlds.com/admin/api/", "5f1e9a3c7b2d")
    assert one != school_namespace("https://acme.learnworlds.com/admin/api", "another")
    assert one != school_namespace("https://other.learnworlds.com/admin/api", "5f1e9a3c7b2d")
    assert "acme" not in one and "5f1e" not in one and len(one) == 16


def test_a_bad_redis_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="LEARNWORLDS_REDIS_URL"):
        RedisState("http://localhost:6379", NS)
    with pytest.raises(ValueError, match="namespace"):
        RedisState("redis://localhost:6379/0", "a b")


async def test_nothing_connects_before_the_first_command(redis_server: RedisServer) -> None:
    redis_server.stop()
    state = RedisState(redis_server.url, NS)  # Redis down: making it is fine
    RedisBudget(state, 30, 10.0)
    assert state._client is None
    await state.aclose()


async def test_redis_down_is_a_clear_error_and_health_says_so(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = redis_server.url.replace("//", "//:s3cret-redis-pw@")
    state = RedisState(url, NS, connect_timeout=0.5, socket_timeout=0.5)
    budget = RedisBudget(state, 30, 10.0)
    assert await state.healthy()
    redis_server.stop()
    assert not await state.healthy()
    for attempt in (budget.acquire(time.monotonic() + 30), budget.pause(1.0)):
        with pytest.raises(SharedStateUnavailableError) as caught:
            await attempt
        message = str(caught.value)
        assert "LEARNWORLDS_REDIS_URL" in message and "Nothing was sent" in message
        assert f"127.0.0.1:{redis_server.port}" in message
        assert "s3cret-redis-pw" not in message  # the URL's password is never shown
    redis_server.start()
    assert await state.healthy()  # the same state object recovers by itself
    await state.aclose()
    assert "s3cret-redis-pw" not in caplog.text


async def test_a_redis_that_hangs_mid_call_answers_within_the_timeouts(
    redis_server: RedisServer,
) -> None:
    state = RedisState(redis_server.url, NS, connect_timeout=0.3, socket_timeout=0.3)
    budget = await settled(RedisBudget(state, 30, 10.0))
    await budget.acquire(deadline=time.monotonic())
    redis_server.freeze()
    started = time.monotonic()
    with pytest.raises(SharedStateUnavailableError) as caught:
        await budget.acquire(deadline=time.monotonic() + 30)
    assert time.monotonic() - started < 5  # two tries of 0.3 s, not a hang
    assert "did not answer within 0.3 s" in str(caught.value)
    assert "LEARNWORLDS_REDIS_URL" in str(caught.value)
    assert not await state.healthy()
    redis_server.thaw()
    await budget.acquire(deadline=time.monotonic())  # its data intact: no new epoch, no wait
    # Commands Redis read before it froze may still run when it thaws: a grant the caller gave up
    # on is counted and never used, which errs on the safe side.
    assert 2 <= await window_size(state) <= 4
    await state.aclose()


# ---------------------------------------------------------------------- two replicas, one school

LIMIT, SECONDS = 10, 1.0


def replica(school: SandboxSchool, url: str) -> LearnWorldsClient:
    """One replica's client: the school in-process, the budget in the shared Redis."""
    settings = settings_for(school, rate_limit=RateLimit(requests=LIMIT, seconds=SECONDS))
    state = RedisState(url, school_namespace(settings.api_url, settings.client_id))
    return LearnWorldsClient(
        settings,
        transport=transport_for(school),
        clock=SystemClock(),
        budget=RedisBudget(state, LIMIT, SECONDS),
    )


def school_for_replicas() -> SandboxSchool:
    """A school on the real clock that counts arrivals and answers 429 over LIMIT per SECONDS."""
    return make_school(users=20, clock=SystemClock(), rate_limit=(LIMIT, SECONDS))


async def test_two_replicas_share_one_window_and_lose_no_time(redis_server: RedisServer) -> None:
    school = school_for_replicas()
    window = SECONDS + WINDOW_MARGIN_SECONDS
    async with replica(school, redis_server.url) as a, replica(school, redis_server.url) as b:
        await a.authenticate()  # the tokens (and the new epoch's one-window wait) come first
        await b.authenticate()
        await anyio.sleep(window)  # the burst starts on an empty window
        calls = 40
        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            for n in range(calls):
                tg.start_soon((a if n % 2 else b).get, "/v2/user-roles")
        wall = time.monotonic() - started
    assert len(school.requests) == 2 + calls
    assert all(r.status == 200 for r in school.requests)  # no 429: the school never pushed back
    assert max_in_window([r.at for r in school.requests], SECONDS) <= LIMIT
    assert a.requests_sent >= 10 and b.requests_sent >= 10  # both replicas took part
    allowed = (math.ceil(calls / LIMIT) - 1) * window  # LIMIT at once, LIMIT more each window
    print(
        f"\nburst of {calls} over 2 replicas at {LIMIT}/{SECONDS:g}s: {wall:.2f} s; the budget "
        f"allows {allowed:.2f} s ({wall / allowed - 1:+.1%}); the school's bare limit "
        f"{(math.ceil(calls / LIMIT) - 1) * SECONDS:.2f} s"
    )
    assert wall < allowed + window / 2  # generous for a loaded machine; a lost window fails it


async def test_a_429_on_one_replica_holds_the_other(redis_server: RedisServer) -> None:
    school = school_for_replicas()
    async with replica(school, redis_server.url) as a, replica(school, redis_server.url) as b:
        await a.authenticate()
        await b.authenticate()
        school.faults.rate_limit_next(retry_after=1.0, path_contains="/v2/")
        await a.get("/v2/user-roles")  # 429, then a shared pause of 1 s, then its retry
        refused_at = next(r.at for r in school.requests if r.status == 429)
        await b.get("/v2/user-roles")
    assert [r.status for r in school.requests[2:]] == [429, 200, 200]
    assert min(r.at for r in school.requests[3:]) - refused_at >= 1.0  # b waited out a's pause


async def test_redis_lost_mid_burst_sends_nothing_unbudgeted_and_recovers(
    redis_server: RedisServer,
) -> None:
    school = school_for_replicas()
    outcomes: list[str] = []
    second_window = anyio.Event()

    async def call(client: LearnWorldsClient) -> None:
        try:
            await client.get("/v2/user-roles")
            outcomes.append("ok")
            if outcomes.count("ok") == 12:
                second_window.set()
        except SharedStateUnavailableError as error:
            assert "LEARNWORLDS_REDIS_URL" in str(error)
            outcomes.append("redis")

    async with replica(school, redis_server.url) as a, replica(school, redis_server.url) as b:
        await a.authenticate()
        await b.authenticate()
        async with anyio.create_task_group() as tg:
            for n in range(30):
                tg.start_soon(call, a if n % 2 else b)
            await second_window.wait()  # the second window has begun
            redis_server.stop()
        sent_before = len(school.requests)
        assert "redis" in outcomes and outcomes.count("ok") + outcomes.count("redis") == 30
        assert outcomes.count("ok") == sent_before - 2  # nothing went out unbudgeted

        with pytest.raises(SharedStateUnavailableError, match="LEARNWORLDS_REDIS_URL"):
            await a.get("/v2/user-roles")
        assert len(school.requests) == sent_before

        redis_server.start()  # back at once, and empty: the window it held is gone
        outcomes.clear()
        async with anyio.create_task_group() as tg:
            for n in range(20):
                tg.start_soon(call, a if n % 2 else b)
        assert outcomes == ["ok"] * 20

    times = [r.at for r in school.requests]
    assert all(r.status == 200 for r in school.requests)
    assert max_in_window(times, SECONDS) <= LIMIT
    assert min(times[sent_before:]) - max(times[:sent_before]) >= SECONDS  # waited a window


def test_messages_show_the_redis_url_without_its_credentials() -> None:
    from learnworlds_mcp.state.redis import redacted_url

    assert (
        redacted_url("redis://app:pw123@cache.internal:6380/2") == "redis://cache.internal:6380/2"
    )
    assert redacted_url("rediss://:pw123@[::1]") == "rediss://[::1]:6379/0"
    assert redacted_url("unix:///run/redis.sock?password=pw123") == "unix:///run/redis.sock"


def test_a_missing_redis_binary_skips_locally_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests import redis_server as helper

    monkeypatch.setattr(helper, "REDIS_BINARIES", ("/nonexistent/redis-server",))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y redis-server"):
        helper.require_redis_binary()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        helper.require_redis_binary()
