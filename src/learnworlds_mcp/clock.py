"""Time sources, injectable so tests run rate-limit windows in virtual time."""

from __future__ import annotations

import time
from typing import Protocol

import anyio
import anyio.lowlevel


class Clock(Protocol):
    """What the client layer and the sandbox need to know about time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for windows and deadlines)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` on this clock."""
        ...

    def time(self) -> float:
        """Wall-clock seconds since the epoch (for expiry times that leave the process)."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))

    def time(self) -> float:
        return time.time()


class FakeClock:
    """A virtual clock for tests: `sleep` advances time at once instead of waiting.

    Share one instance between the client and the sandbox school and the whole system runs in
    virtual time: a 10-second rate-limit window passes in microseconds.
    """

    def __init__(self, start: float = 1_000.0, wall_start: float | None = None) -> None:
        self.now = start
        self._start = start
        self._wall_start = time.time() if wall_start is None else wall_start

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.now += seconds
        await (
            anyio.lowlevel.checkpoint()
        )  # a checkpoint, so other tasks run as they would in real time

    def time(self) -> float:
        """Wall time: the real time at construction (or `wall_start`), moved on with `now`."""
        return self._wall_start + (self.now - self._start)

    def advance(self, seconds: float) -> None:
        self.now += seconds
