"""Where the built-in authorization server keeps its records: the interface and the in-process store.

The authorization server (``remote/oauth.py``) keeps five kinds of record, each a JSON object
with a time to live:

=============  =============================================  ==========================
kind           what                                           keyed by
=============  =============================================  ==========================
``client``     a registered OAuth client (RFC 7591)           its client id
``signin``     a sign-in in progress (a pending /authorize)   SHA-256 of the sign-in id
``code``       an authorization code (single use)             SHA-256 of the code
``access``     an access token                                SHA-256 of the token
``refresh``    a refresh token (single use: rotated)          SHA-256 of the token
=============  =============================================  ==========================

plus three kinds of counter, each per source address in a fixed window: ``wrong_key`` (wrong
sign-in keys), ``register`` (client registrations) and ``authorize`` (authorization requests). The caller hashes secrets before they become keys (:func:`secret_key`), so no store —
in this process or in Redis — ever holds a code or token in clear.

:class:`OAuthStore` is deliberately small, so that a Redis implementation maps each method onto
one command: ``put`` → ``SET key value EX ttl``, ``get`` → ``GET``, ``take`` → ``GETDEL`` (atomic:
of two concurrent takes, one gets the record), ``delete`` → ``DEL``, ``hit`` → ``INCR`` then
``EXPIRE`` when the count is 1, ``count`` → ``GET``.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Literal, Protocol

from learnworlds_mcp.clock import Clock, SystemClock

__all__ = ["CounterKind", "MemoryOAuthStore", "OAuthStore", "RecordKind", "secret_key"]

RecordKind = Literal["client", "signin", "code", "access", "refresh"]
"""The kinds of record the authorization server keeps."""

CounterKind = Literal["wrong_key", "register", "authorize"]
"""The kinds of counter the authorization server keeps."""


def secret_key(secret: str) -> str:
    """The key a secret (token, code, sign-in id) is stored under: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class OAuthStore(Protocol):
    """Records with a time to live, and counters with a window. All values are JSON objects.

    Every method is safe to call concurrently from several tasks (and, for a shared store, from
    several replicas). ``ttl`` and ``window`` are seconds, positive.
    """

    async def put(self, kind: RecordKind, key: str, value: dict[str, Any], ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds, replacing any record there."""
        ...

    async def get(self, kind: RecordKind, key: str) -> dict[str, Any] | None:
        """The live record under ``key``, or ``None``."""
        ...

    async def take(self, kind: RecordKind, key: str) -> dict[str, Any] | None:
        """Remove the record under ``key`` and return it, atomically: only one caller gets it."""
        ...

    async def delete(self, kind: RecordKind, key: str) -> None:
        """Remove the record under ``key``, if any."""
        ...

    async def hit(self, kind: CounterKind, key: str, window: float) -> int:
        """Add one to the counter under ``key`` and return the new count.

        The counter lives ``window`` seconds from its first hit (a fixed window), then starts
        again from zero.
        """
        ...

    async def count(self, kind: CounterKind, key: str) -> int:
        """The counter's current value (0 if none or expired)."""
        ...


class MemoryOAuthStore:
    """:class:`OAuthStore` in this process: dictionaries with expiry times on ``clock``.

    Values are copied in and out through JSON, exactly as a Redis store would, so a value that is
    not JSON-serialisable fails here too. Expired entries are dropped when touched, and swept now
    and then so the dictionaries cannot grow without bound.
    """

    _SWEEP_EVERY = 256

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._records: dict[tuple[str, str], tuple[float, str]] = {}
        self._counters: dict[tuple[str, str], tuple[float, int]] = {}
        self._writes = 0

    async def put(self, kind: RecordKind, key: str, value: dict[str, Any], ttl: float) -> None:
        self._check_ttl(ttl)
        self._records[(kind, key)] = (self._clock.monotonic() + ttl, json.dumps(value))
        self._wrote()

    async def get(self, kind: RecordKind, key: str) -> dict[str, Any] | None:
        entry = self._records.get((kind, key))
        if entry is None:
            return None
        if entry[0] <= self._clock.monotonic():
            del self._records[(kind, key)]
            return None
        value: dict[str, Any] = json.loads(entry[1])
        return value

    async def take(self, kind: RecordKind, key: str) -> dict[str, Any] | None:
        # No await between the read and the removal: atomic within the event loop.
        entry = self._records.pop((kind, key), None)
        if entry is None or entry[0] <= self._clock.monotonic():
            return None
        value: dict[str, Any] = json.loads(entry[1])
        return value

    async def delete(self, kind: RecordKind, key: str) -> None:
        self._records.pop((kind, key), None)

    async def hit(self, kind: CounterKind, key: str, window: float) -> int:
        self._check_ttl(window)
        now = self._clock.monotonic()
        expires, value = self._counters.get((kind, key), (0.0, 0))
        if expires <= now:
            expires, value = now + window, 0
        self._counters[(kind, key)] = (expires, value + 1)
        self._wrote()
        return value + 1

    async def count(self, kind: CounterKind, key: str) -> int:
        entry = self._counters.get((kind, key))
        if entry is None or entry[0] <= self._clock.monotonic():
            return 0
        return entry[1]

    def __len__(self) -> int:
        """Live records and counters (for tests and figures)."""
        self._sweep()
        return len(self._records) + len(self._counters)

    @staticmethod
    def _check_ttl(ttl: float) -> None:
        if not (isinstance(ttl, int | float) and math.isfinite(ttl) and ttl > 0):
            raise ValueError("ttl must be a positive number of seconds")

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % self._SWEEP_EVERY == 0:
            self._sweep()

    def _sweep(self) -> None:
        now = self._clock.monotonic()
        for key in [k for k, (expires, _) in self._records.items() if expires <= now]:
            del self._records[key]
        for key in [k for k, (expires, _) in self._counters.items() if expires <= now]:
            del self._counters[key]
