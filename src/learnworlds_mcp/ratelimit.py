"""The client-side request budget: at most N requests in any window of W seconds.

Every request to the school — token requests included — reserves a slot here first. Slots are
handed out in order of arrival; a slot is the earliest moment at which sending keeps every
rolling window within budget, counted with a safety margin because the school counts requests
when they *arrive*, and network jitter can bunch them up.
"""

from __future__ import annotations

from collections import deque

from learnworlds_mcp.clock import Clock
from learnworlds_mcp.errors import RateLimitedError

# Added to the window: tens of milliseconds of jitter must not push a window over the limit.
WINDOW_MARGIN_SECONDS = 0.2


class RateLimiter:
    """A sliding-window limiter shared by all concurrent calls of one client."""

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
                wait = slot - self._clock.monotonic()
                raise RateLimitedError(
                    "The LearnWorlds rate limit is used up by earlier requests; "
                    f"retry after {wait:.0f} s.",
                    retry_after=wait,
                    status=None,
                )
            self._slots.append(slot)  # reserved synchronously: no other task can take it
            delay = slot - self._clock.monotonic()
            if delay > 0:
                await self._clock.sleep(delay)
            if self._paused_until <= slot:
                return
            # The school pushed back (429) while we waited: the reserved slot is void.

    def pause(self, seconds: float) -> None:
        """Hold every request for `seconds` from now (the school answered 429)."""
        self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)

    def seconds_until_free(self) -> float:
        """How long until a slot frees up if no new request is sent."""
        return max(0.0, self.next_slot() - self._clock.monotonic())
