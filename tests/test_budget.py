"""The in-process budget: never more than N requests in any window, in virtual time."""

import anyio
import pytest

from learnworlds_mcp.clock import FakeClock
from learnworlds_mcp.errors import RateLimitedError
from learnworlds_mcp.state.budget import WINDOW_MARGIN_SECONDS, InProcessBudget


def max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_concurrent_callers_never_exceed_the_budget() -> None:
    clock = FakeClock()
    limiter = InProcessBudget(30, 10.0, clock)
    sent: list[float] = []

    async def call() -> None:
        await limiter.acquire(deadline=clock.monotonic() + 1_000)
        sent.append(clock.monotonic())

    async with anyio.create_task_group() as tg:
        for _ in range(200):
            tg.start_soon(call)

    assert len(sent) == 200
    assert max_in_any_window(sent, 10.0) == 30
    # The margin keeps windows apart, but not by much more than the margin itself.
    assert max_in_any_window(sent, 10.0 + WINDOW_MARGIN_SECONDS - 1e-6) == 30
    assert sent[-1] - sent[0] == pytest.approx(6 * (10.0 + WINDOW_MARGIN_SECONDS))


async def test_first_requests_go_at_once() -> None:
    clock = FakeClock()
    limiter = InProcessBudget(5, 10.0, clock)
    for _ in range(5):
        await limiter.acquire(deadline=clock.monotonic())
    assert clock.monotonic() == 1_000.0


async def test_a_wait_past_the_deadline_fails_at_once_and_says_when() -> None:
    clock = FakeClock()
    limiter = InProcessBudget(2, 10.0, clock)
    await limiter.acquire(deadline=clock.monotonic())
    await limiter.acquire(deadline=clock.monotonic())
    with pytest.raises(RateLimitedError) as caught:
        await limiter.acquire(deadline=clock.monotonic() + 5)
    assert caught.value.retry_after == pytest.approx(10.0 + WINDOW_MARGIN_SECONDS)
    assert "retry after 10 s" in str(caught.value)
    assert clock.monotonic() == 1_000.0  # it did not sleep first


async def test_pause_holds_every_request() -> None:
    clock = FakeClock()
    limiter = InProcessBudget(30, 10.0, clock)
    await limiter.pause(4.0)
    await limiter.acquire(deadline=clock.monotonic() + 100)
    assert clock.monotonic() == pytest.approx(1_004.0)
    assert await limiter.seconds_until_free() == 0.0


def test_a_limit_needs_a_positive_budget() -> None:
    with pytest.raises(ValueError):
        InProcessBudget(0, 10.0, FakeClock())
