"""The completion titles cache: the school's group and course titles, for a short while.

Completing a prompt's group or course argument needs the school's titles; fetching them on
every keystroke would spend the school's rate budget, so they are kept for a minute or so.
:class:`TitleStore` keeps one list per ``kind`` (``"groups"``, ``"courses"``) with a TTL:

- ``InProcessTitles``: in this process (the default; one store per client);
- ``RedisTitles``: in Redis, one JSON value per kind under ``lwmcp:{namespace}:titles:<kind>``,
  expiring with its TTL, so every replica completes from one fetch.

Items are plain JSON objects (what the caller makes of each group or course); each ``get`` hands
back a fresh copy. Titles are the school's own data, not secrets. Redis trouble is
:class:`~learnworlds_mcp.state.redis.SharedStateUnavailableError`.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any, Protocol

from learnworlds_mcp.clock import Clock, SystemClock
from learnworlds_mcp.state.redis import RedisState

__all__ = ["InProcessTitles", "RedisTitles", "TitleStore"]

logger = logging.getLogger(__name__)

_KIND = re.compile(r"[a-z][a-z_]{0,31}")

Items = list[dict[str, Any]]


class TitleStore(Protocol):
    """The school's titles per kind, each list kept for its TTL."""

    async def get(self, kind: str) -> Items | None:
        """A fresh copy of the items kept for ``kind``, or ``None`` (never kept, or expired)."""
        ...

    async def put(self, kind: str, items: Items, ttl: float) -> None:
        """Keep ``items`` (JSON objects) for ``kind`` for ``ttl`` seconds, replacing any."""
        ...


def _checked(kind: str, ttl: float | None = None) -> None:
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise ValueError("a title kind is a short lowercase word, such as 'groups' or 'courses'")
    if ttl is not None and not (
        isinstance(ttl, int | float)
        and not isinstance(ttl, bool)
        and math.isfinite(ttl)
        and ttl > 0
    ):
        raise ValueError("ttl must be a positive number of seconds")


def _encoded(items: Items) -> str:
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValueError("titles must be a list of JSON objects")
    try:
        return json.dumps(items, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"titles must be plain JSON: {error}") from None


def _decoded(raw: str | bytes) -> Items | None:
    try:
        items = json.loads(raw)
    except ValueError:
        items = None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        logger.warning("an unreadable titles entry was ignored")
        return None
    return items


class InProcessTitles:
    """Titles in this process, expiring on ``clock``."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._kept: dict[str, tuple[float, str]] = {}  # kind → (expires at, JSON)

    async def get(self, kind: str) -> Items | None:
        _checked(kind)
        kept = self._kept.get(kind)
        if kept is None:
            return None
        if kept[0] <= self._clock.monotonic():
            del self._kept[kind]
            return None
        return _decoded(kept[1])

    async def put(self, kind: str, items: Items, ttl: float) -> None:
        _checked(kind, ttl)
        self._kept[kind] = (self._clock.monotonic() + ttl, _encoded(items))


class RedisTitles:
    """Titles in Redis, shared by every replica of the school (one key per kind, with its TTL)."""

    def __init__(self, state: RedisState) -> None:
        self._state = state

    async def get(self, kind: str) -> Items | None:
        _checked(kind)
        async with self._state.reached() as redis:
            raw = await redis.get(self._state.key("titles", kind))
        return None if raw is None else _decoded(raw)

    async def put(self, kind: str, items: Items, ttl: float) -> None:
        _checked(kind, ttl)
        encoded = _encoded(items)
        async with self._state.reached() as redis:
            await redis.set(
                self._state.key("titles", kind),
                encoded.encode("utf-8"),
                px=max(1, math.ceil(ttl * 1000)),
            )
