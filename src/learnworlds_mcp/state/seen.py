"""When each member was last seen: one interface, kept in this process or in Redis.

The remote server calls :meth:`LastSeen.touch` on every request a member makes. It costs nothing
per request: each store writes at most once a minute per member (per process), and otherwise
returns at once without awaiting anything. The time kept is therefore exact to the minute,
which is all "last seen" means to an admin reviewing members.

``InProcessLastSeen`` keeps the times in this process (the default); ``RedisLastSeen`` keeps one
key per member, ``lwmcp:{namespace}:seen:<hash of the name>``, holding the Unix time, expiring
``SEEN_TTL_SECONDS`` after the last write, so every replica answers the same. A member not seen
for that long (or never) is ``None``.

A failed write to Redis is logged and skipped (the request it rides on is not failed for it;
the next try is a minute later, so a Redis that is down does not slow every request). Reading,
:meth:`LastSeen.last_seen`, raises :class:`~learnworlds_mcp.state.redis.SharedStateUnavailableError`.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Protocol

from learnworlds_mcp.clock import Clock, SystemClock
from learnworlds_mcp.errors import SharedStateUnavailableError
from learnworlds_mcp.state.redis import RedisState

__all__ = [
    "SEEN_TTL_SECONDS",
    "TOUCH_EVERY_SECONDS",
    "InProcessLastSeen",
    "LastSeen",
    "RedisLastSeen",
]

logger = logging.getLogger(__name__)

TOUCH_EVERY_SECONDS = 60.0
"""A member's time is written at most this often per process."""
SEEN_TTL_SECONDS = 90 * 24 * 3600
"""A member not seen for this long is forgotten (reads as never seen)."""


class LastSeen(Protocol):
    """When each member was last seen (to the minute)."""

    async def touch(self, member: str) -> None:
        """Note that ``member`` is here now; writes at most once a minute per member."""
        ...

    async def last_seen(self, member: str) -> datetime | None:
        """When ``member`` was last seen (UTC), or ``None`` if never or too long ago."""
        ...


class _Throttle:
    """Which members were written within the last minute, on ``clock``."""

    def __init__(self, clock: Clock, every: float) -> None:
        self._clock = clock
        self._every = every
        self._written: dict[str, float] = {}  # member → monotonic time of the last write

    def due(self, member: str) -> bool:
        """Whether ``member`` is due a write now; if so, it counts as written from now on."""
        now = self._clock.monotonic()
        last = self._written.get(member)
        if last is not None and now - last < self._every:
            return False
        if len(self._written) > 10_000:  # members come and go: forget the long-written
            self._written = {m: t for m, t in self._written.items() if now - t < self._every}
        self._written[member] = now
        return True


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


class InProcessLastSeen:
    """Last-seen times in this process, on ``clock`` (wall time)."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        every: float = TOUCH_EVERY_SECONDS,
        ttl: float = SEEN_TTL_SECONDS,
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        self._throttle = _Throttle(self._clock, every)
        self._ttl = ttl
        self._seen: dict[str, float] = {}  # member → wall time

    async def touch(self, member: str) -> None:
        if self._throttle.due(member):
            self._seen[member] = self._clock.time()

    async def last_seen(self, member: str) -> datetime | None:
        seen = self._seen.get(member)
        if seen is None:
            return None
        if self._clock.time() - seen >= self._ttl:
            del self._seen[member]
            return None
        return _when(seen)


class RedisLastSeen:
    """Last-seen times in Redis, shared by every replica (one key per member, with a TTL)."""

    def __init__(
        self,
        state: RedisState,
        clock: Clock | None = None,
        *,
        every: float = TOUCH_EVERY_SECONDS,
        ttl: float = SEEN_TTL_SECONDS,
    ) -> None:
        self._state = state
        self._clock: Clock = clock or SystemClock()
        self._throttle = _Throttle(self._clock, every)
        self._ttl_ms = max(1, round(ttl * 1000))

    def _key(self, member: str) -> str:
        return self._state.key("seen", hashlib.sha256(member.encode("utf-8")).hexdigest()[:32])

    async def touch(self, member: str) -> None:
        if not self._throttle.due(member):
            return
        try:
            async with self._state.reached() as redis:
                await redis.set(self._key(member), f"{self._clock.time():.3f}", px=self._ttl_ms)
        except SharedStateUnavailableError as error:
            logger.warning("could not note when a member was last seen: %s", error)

    async def last_seen(self, member: str) -> datetime | None:
        async with self._state.reached() as redis:
            raw = await redis.get(self._key(member))
        if raw is None:
            return None
        try:
            return _when(float(raw))
        except (ValueError, OverflowError, OSError):
            logger.warning("an unreadable last-seen time in Redis was ignored")
            return None
