"""The school's request budget: at most N requests in any window of W seconds.

Every request to the school — token requests included — takes a slot in the budget first. The
school counts requests when they *arrive*, and network jitter can bunch them up, so every window
is counted with a safety margin (`WINDOW_MARGIN_SECONDS`).

`RateBudget` is what the client needs of a budget. `InProcessBudget` keeps it in this process
(one server, the default); `state.redis_budget.RedisBudget` shares one window between replicas.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from learnworlds_mcp.clock import Clock
from learnworlds_mcp.errors import RateLimitedError

# Added to the window: tens of milliseconds of jitter must not push a window over the limit.
WINDOW_MARGIN_SECONDS = 0.2


class RateBudget(Protocol):
    """The school's request budget as the client uses it. Times are on the client's clock."""

    async def acquire(self, deadline: float) -> None:
        """Return when a request may be sent now; raise `RateLimitedError` at once if that
        moment would come after `deadline` (a `Clock.monotonic()` time)."""
        ...

    async def pause(self, seconds: float) -> None:
        """Hold every request for `seconds` from now (the school answered 429)."""
        ...

    async def seconds_until_free(self) -> float:
        """How long until a slot frees up if no new request is sent."""
        ...


def rate_limited(wait: float) -> RateLimitedError:
    """The error for a slot that would come `wait` seconds from now, after the call's deadline."""
    return RateLimitedError(
        f"The LearnWorlds rate limit is used up by earlier requests; retry after {wait:.0f} s.",
        retry_after=wait,
        status=None,
    )


class InProcessBudget:
    """A sliding-window budget shared by all concurrent calls of one client, in this process.

    Slots are handed out in order of arrival; a slot is the earliest moment at which sending
    keeps every rolling window within budget. A caller reserves its slot at once and sleeps
    until it comes.
    """

    def __init__(self, requests: int, seconds: float, clock: Clock) -> None:
        if requests < 1 or seconds <= 0:
            raise ValueError("a rate limit needs at least one request per positive window")
        self.requests = requests
        self.window = seconds + WINDOW_MARGIN_SECONDS
        self._clock = clock
        self._slots: deque[float] = deque(maxlen=requests)  # the last N granted send times
        self._paused_until = 0.0

    def next_slot(self) -> float:
        """The earliest time a new request may be sent without exceeding the budget."""
        earliest = max(self._clock.monotonic(), self._paused_until)
        if self._slots:  # keep slots in order, so the oldest of the last N is always first
            earliest = max(earliest, self._slots[-1])
        if len(self._slots) == self.requests:
            earliest = max(earliest, self._slots[0] + self.window)
        return earliest

    async def acquire(self, deadline: float) -> None:
        """Wait for a slot; raise `RateLimitedError` at once if it would come after `deadline`."""
        while True:
            slot = self.next_slot()
            if slot > deadline:
                raise rate_limited(slot - self._clock.monotonic())
            self._slots.append(slot)  # reserved synchronously: no other task can take it
            delay = slot - self._clock.monotonic()
            if delay > 0:
                await self._clock.sleep(delay)
            if self._paused_until <= slot:
                return
            # The school pushed back (429) while we waited: the reserved slot is void.

    async def pause(self, seconds: float) -> None:
        """Hold every request for `seconds` from now (the school answered 429)."""
        self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)

    async def seconds_until_free(self) -> float:
        """How long until a slot frees up if no new request is sent."""
        return max(0.0, self.next_slot() - self._clock.monotonic())
