"""The authorization server's records in Redis: one :class:`OAuthStore` for every replica.

Each method is one atomic Redis operation, so replicas sharing a Redis see one set of clients,
sign-ins, codes, tokens and per-source counters (wrong keys, registrations, authorizations):

========== ==================================================================
``put``    ``SET key json PX ttl`` (replaces, with a fresh TTL)
``get``    ``GET``
``take``   ``GETDEL`` (Redis ≥ 6.2): of any number of concurrent takes, on any
           replicas, exactly one gets the record — a code or refresh token works once
``delete`` ``DEL``
``hit``    ``INCR``, plus ``PEXPIRE`` on the first hit, in one Lua script (a fixed
           window that can never be left without a TTL)
``count``  ``GET``
========== ==================================================================

Key names are ``lwmcp:{<namespace>}:oauth:<kind>:<sha256 of the caller's key>``. The caller
already hashes every secret (:func:`~learnworlds_mcp.state.oauth.secret_key`); hashing once more
here keeps whatever else a caller passes (client ids, the source addresses that the
counters are kept for) out of key names too. Every key carries a TTL. Values are the JSON
records the provider builds, which hold hashes, never a code, token or client secret in clear.
Redis trouble is :class:`~learnworlds_mcp.state.redis.SharedStateUnavailableError`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from typing import Any

from learnworlds_mcp.state.oauth import CounterKind, RecordKind
from learnworlds_mcp.state.redis import RedisState

__all__ = ["RedisOAuthStore"]

logger = logging.getLogger(__name__)

_RECORD_KINDS = frozenset({"client", "signin", "code", "access", "refresh"})
_COUNTER_KINDS = frozenset({"wrong_key", "register", "authorize"})

# INCR, and on the first hit (or on a key that somehow has no TTL) start the window.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
"""


def _milliseconds(seconds: float) -> int:
    if not (
        isinstance(seconds, int | float)
        and not isinstance(seconds, bool)
        and math.isfinite(seconds)
        and seconds > 0
    ):
        raise ValueError("ttl must be a positive number of seconds")
    return max(1, math.ceil(seconds * 1000))


class RedisOAuthStore:
    """:class:`~learnworlds_mcp.state.oauth.OAuthStore` in Redis, shared by every replica."""

    def __init__(self, state: RedisState) -> None:
        self._state = state

    def _key(self, kind: str, key: str, kinds: frozenset[str]) -> str:
        if kind not in kinds:
            raise ValueError(f"unknown OAuth store kind {kind!r}")
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self._state.key("oauth", kind, digest)

    async def put(self, kind: RecordKind, key: str, value: dict[str, Any], ttl: float) -> None:
        """``SET key value PX ttl``: store ``value`` for ``ttl`` seconds, replacing any record."""
        name = self._key(kind, key, _RECORD_KINDS)
        ttl_ms = _milliseconds(ttl)
        encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        async with self._state.reached() as redis:
            await redis.set(name, encoded.encode("utf-8"), px=ttl_ms)

    async def get(self, kind: RecordKind, key: str) -> dict[str, Any] | None:
        """``GET``: the live record under ``key``, or ``None``."""
        name = self._key(kind, key, _RECORD_KINDS)
        async with self._state.reached() as redis:
            raw = await redis.get(name)
        return _decoded(raw, kind)

    async def take(self, kind: RecordKind, key: str) -> dict[str, Any] | None:
        """``GETDEL``: remove and return the record; of concurrent takes, one gets it."""
        name = self._key(kind, key, _RECORD_KINDS)
        async with self._state.reached() as redis:
            raw = await redis.getdel(name)
        return _decoded(raw, kind)

    async def delete(self, kind: RecordKind, key: str) -> None:
        """``DEL``: remove the record, if any."""
        name = self._key(kind, key, _RECORD_KINDS)
        async with self._state.reached() as redis:
            await redis.delete(name)

    async def hit(self, kind: CounterKind, key: str, window: float) -> int:
        """Add one and return the count; the window starts at the first hit (atomic script)."""
        name = self._key(kind, key, _COUNTER_KINDS)
        window_ms = _milliseconds(window)
        count = await self._state.run(_HIT, [name], [window_ms])
        return int(count)

    async def count(self, kind: CounterKind, key: str) -> int:
        """``GET``: the counter's value (0 if none or its window is over)."""
        name = self._key(kind, key, _COUNTER_KINDS)
        async with self._state.reached() as redis:
            raw = await redis.get(name)
        try:
            return int(raw) if raw is not None else 0
        except ValueError:
            logger.warning("an unreadable %s counter in Redis was ignored", kind)
            return 0


def _decoded(raw: bytes | str | None, kind: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):  # not written by this code: as good as absent
        logger.warning("an unreadable %s record in Redis was ignored", kind)
        return None
    return value
