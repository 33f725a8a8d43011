"""The cohort report's resumable tallies: kept between a partial call and its continuation.

A partial cohort report keeps its tally under (group id, the page to resume from) for a while
(`TALLY_TTL_SECONDS`), so a later call with `resume_from` finishes the same report — on any
replica when the store is Redis. A tally is plain JSON (a dict the report makes and reads back);
both stores hand back a fresh copy each time, so a repeated call starts from the same counts.

`InProcessTallies` keeps them in this process (the default); `RedisTallies` in Redis, one key
per tally under `lwmcp:{namespace}:tally:…`, expiring with the tally. Group ids are hashed into
key names, so what a caller typed never shapes a key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Protocol

from learnworlds_mcp.clock import Clock, SystemClock
from learnworlds_mcp.state.redis import RedisState

logger = logging.getLogger(__name__)

# How long a partial report's tally is kept for `resume_from`.
TALLY_TTL_SECONDS = 15 * 60

Tally = dict[str, Any]


class TallyStore(Protocol):
    """Where partial cohort reports keep their tallies."""

    async def keep(self, group_id: str, page: int, tally: Tally) -> None:
        """Keep `tally` (JSON-able) to be resumed from `page`, for `TALLY_TTL_SECONDS`."""
        ...

    async def find(self, group_id: str, page: int) -> Tally | None:
        """A fresh copy of the tally kept for (`group_id`, `page`), or None (never or expired)."""
        ...


def _encoded(tally: Tally) -> str:
    try:
        return json.dumps(tally, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"a tally must be plain JSON: {error}") from None


class InProcessTallies:
    """Tallies in this process, expiring on `clock`."""

    def __init__(self, clock: Clock | None = None, ttl: float = TALLY_TTL_SECONDS) -> None:
        self._clock: Clock = clock or SystemClock()
        self._ttl = ttl
        self._kept: dict[tuple[str, int], tuple[float, str]] = {}  # → (expires at, JSON)

    async def keep(self, group_id: str, page: int, tally: Tally) -> None:
        self._drop_expired()
        self._kept[(group_id, page)] = (self._clock.monotonic() + self._ttl, _encoded(tally))

    async def find(self, group_id: str, page: int) -> Tally | None:
        self._drop_expired()
        kept = self._kept.get((group_id, page))
        return None if kept is None else dict(json.loads(kept[1]))

    def _drop_expired(self) -> None:
        now = self._clock.monotonic()
        for key, (expires_at, _) in list(self._kept.items()):
            if expires_at <= now:
                del self._kept[key]


class RedisTallies:
    """Tallies in Redis, shared by every replica of the school (one key each, with its TTL)."""

    def __init__(self, state: RedisState, ttl: float = TALLY_TTL_SECONDS) -> None:
        self._state = state
        self._ttl_ms = max(1, round(ttl * 1000))

    def _key(self, group_id: str, page: int) -> str:
        group = hashlib.sha256(group_id.encode()).hexdigest()[:24]
        return self._state.key("tally", group, str(page))

    async def keep(self, group_id: str, page: int, tally: Tally) -> None:
        encoded = _encoded(tally)
        async with self._state.reached() as redis:
            await redis.set(self._key(group_id, page), encoded.encode(), px=self._ttl_ms)

    async def find(self, group_id: str, page: int) -> Tally | None:
        async with self._state.reached() as redis:
            raw = await redis.get(self._key(group_id, page))
        if raw is None:
            return None
        try:
            found = json.loads(raw)
        except ValueError:
            found = None
        if not isinstance(found, dict):  # not written by this code: as good as not kept
            logger.warning("an unreadable report tally in Redis was ignored")
            return None
        return found
