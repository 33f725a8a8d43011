"""Fault switches: tests flip them on `school.faults` to make the next requests misbehave.

Each armed fault fires on the next matching request(s) and is consumed as it fires. By default a
fault matches *every* request, the token endpoint included; narrow it with `methods` (e.g.
`("GET",)`) and `path_contains` (e.g. `"/v2/"` to leave token requests alone, or
`"/user_groups"`). Faults fire in the order they were armed. Explicit faults take precedence over
`chaos()`. All methods are thread-safe (the school may run under uvicorn in another thread).

What each fault does to the request it hits:

- `fail_next`: answers 5xx `{"error": "Server Error"}`. With `after_apply=True` the request is
  processed first (a write *is* applied) and the answer is then replaced by the 5xx — the
  "outcome unknown" case a client must not blindly retry.
- `rate_limit_next`: answers 429 `{"error": "Too many requests"}` without processing; a
  `Retry-After` header only when `retry_after` is given (formatted with `%g`: 2.0 → "2").
- `slow_next`: waits `seconds` (real `asyncio.sleep`) before processing, or — with
  `after_apply=True` — after processing and before answering. Like a real server, the school
  does not notice a client that gave up: a delayed write is still applied after the wait.
- `drop_next`: closes the connection without an answer (before or after processing). In-process
  (`httpx2.ASGITransport`) the app raises `httpx2.RemoteProtocolError`; under uvicorn the socket is
  closed, so the client sees "Server disconnected without sending a response".
- `malformed_next`: answers 200 with `Content-Type: application/json` and a truncated, non-JSON
  body, without processing.
- `expire_tokens()`: acts at once: every token minted so far (and the static token, unless
  `include_static=False`) stops working. `restore_static_token()` undoes the latter.
- `auth_error_status`: 400 or 401 for rejected bearer tokens (starts from the options).
- `chaos(seed, rates)`: every request draws from `random.Random(seed)`: with the stated
  probabilities it gets one of the faults above (429s, half of them with `Retry-After: 1`; 5xx
  before and after apply; slow replies; dropped connections before and after apply; malformed
  bodies; expiry of every minted token before the request — the static token is spared, or a
  long chaos run would lock out a static-token-only client for good). Same seed + same request
  sequence → same faults.
- `calm()`: disarms everything (pending faults and chaos).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from learnworlds_mcp.sandbox.auth import TokenStore

CHAOS_KINDS = (
    "rate_limit",
    "fail",
    "fail_after_apply",
    "slow",
    "drop",
    "drop_after_apply",
    "malformed",
    "expire_tokens",
)
"""The keys `chaos(rates=...)` understands, each a per-request probability."""

DEFAULT_CHAOS_RATES: Mapping[str, float] = {
    "rate_limit": 0.06,
    "fail": 0.04,
    "fail_after_apply": 0.02,
    "slow": 0.04,
    "drop": 0.02,
    "drop_after_apply": 0.01,
    "malformed": 0.02,
    "expire_tokens": 0.02,
}


@dataclass(frozen=True)
class Fault:
    """One armed fault as it fires: what to do and when (see the module docstring)."""

    kind: str  # "fail" | "rate_limit" | "slow" | "drop" | "malformed" | "expire_tokens"
    status: int = 500
    after_apply: bool = False
    retry_after: float | None = None
    seconds: float = 0.0


@dataclass
class _Armed:
    fault: Fault
    remaining: int
    methods: frozenset[str] | None = None
    path_contains: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.methods is None or method in self.methods) and (
            self.path_contains is None or self.path_contains in path
        )


@dataclass
class _Chaos:
    rng: random.Random
    rates: dict[str, float]
    slow_seconds: float
    path_contains: str | None = None
    fired: list[str] = field(default_factory=list)


class Faults:
    """The switches of one school; token switches act on its token store."""

    def __init__(self, auth_error_status: int, tokens: TokenStore) -> None:
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self._chaos: _Chaos | None = None
        self._tokens = tokens
        self.auth_error_status = auth_error_status

    # ----- arming ---------------------------------------------------------------------------

    def _arm(
        self,
        fault: Fault,
        count: int,
        methods: Iterable[str] | None,
        path_contains: str | None,
    ) -> None:
        if count < 1:
            raise ValueError("count must be >= 1")
        wanted = None if methods is None else frozenset(m.upper() for m in methods)
        with self._lock:
            self._armed.append(_Armed(fault, count, wanted, path_contains))

    def fail_next(
        self,
        count: int = 1,
        status: int = 500,
        methods: Iterable[str] | None = None,
        path_contains: str | None = None,
        after_apply: bool = False,
    ) -> None:
        """The next `count` matching requests answer `status` (5xx) `{"error": "Server Error"}`."""
        if not 500 <= status <= 599:
            raise ValueError("status must be a 5xx")
        self._arm(
            Fault("fail", status=status, after_apply=after_apply), count, methods, path_contains
        )

    def rate_limit_next(
        self,
        count: int = 1,
        retry_after: float | None = None,
        methods: Iterable[str] | None = None,
        path_contains: str | None = None,
    ) -> None:
        """The next `count` matching requests answer 429 (with `Retry-After` only if given)."""
        self._arm(
            Fault("rate_limit", status=429, retry_after=retry_after), count, methods, path_contains
        )

    def slow_next(
        self,
        count: int = 1,
        seconds: float = 1.0,
        after_apply: bool = False,
        methods: Iterable[str] | None = None,
        path_contains: str | None = None,
    ) -> None:
        """The next `count` matching requests are delayed by `seconds` of real time."""
        self._arm(
            Fault("slow", seconds=seconds, after_apply=after_apply), count, methods, path_contains
        )

    def drop_next(
        self,
        count: int = 1,
        after_apply: bool = False,
        methods: Iterable[str] | None = None,
        path_contains: str | None = None,
    ) -> None:
        """The next `count` matching requests get their connection closed without an answer."""
        self._arm(Fault("drop", after_apply=after_apply), count, methods, path_contains)

    def malformed_next(
        self,
        count: int = 1,
        methods: Iterable[str] | None = None,
        path_contains: str | None = None,
    ) -> None:
        """The next `count` matching requests answer 200 with a body that is not JSON."""
        self._arm(Fault("malformed", status=200), count, methods, path_contains)

    def expire_tokens(self, include_static: bool = True) -> None:
        """Invalidate every token minted so far (and the static token unless told not to)."""
        self._tokens.expire_all(include_static)

    def restore_static_token(self) -> None:
        """Make the configured static token valid again after `expire_tokens()`."""
        self._tokens.restore_static()

    def chaos(
        self,
        seed: int,
        rates: Mapping[str, float] | None = None,
        slow_seconds: float = 0.05,
        path_contains: str | None = None,
    ) -> None:
        """Mix faults into every (matching) request at the given per-request rates."""
        chosen = dict(DEFAULT_CHAOS_RATES if rates is None else rates)
        unknown = set(chosen) - set(CHAOS_KINDS)
        if unknown:
            raise ValueError(f"unknown chaos kinds: {sorted(unknown)}; known: {CHAOS_KINDS}")
        if sum(chosen.values()) > 1 or any(v < 0 for v in chosen.values()):
            raise ValueError("chaos rates must be >= 0 and sum to at most 1")
        with self._lock:
            self._chaos = _Chaos(random.Random(seed), chosen, slow_seconds, path_contains)

    def calm(self) -> None:
        """Disarm every pending fault and stop chaos."""
        with self._lock:
            self._armed.clear()
            self._chaos = None

    @property
    def pending(self) -> int:
        """How many armed fault firings are left (not counting chaos)."""
        with self._lock:
            return sum(a.remaining for a in self._armed)

    @property
    def chaos_log(self) -> list[str]:
        """The kinds chaos has fired so far, in order ("none" for a clean request)."""
        with self._lock:
            return list(self._chaos.fired) if self._chaos else []

    # ----- firing ---------------------------------------------------------------------------

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if any, consuming it (called once per request)."""
        with self._lock:
            for armed in self._armed:
                if armed.matches(method, path):
                    armed.remaining -= 1
                    if armed.remaining == 0:
                        self._armed.remove(armed)
                    return armed.fault
            chaos = self._chaos
            if chaos is None or (chaos.path_contains and chaos.path_contains not in path):
                return None
            roll, half = chaos.rng.random(), chaos.rng.random()  # two draws, always
            kind = "none"
            for name in CHAOS_KINDS:
                rate = chaos.rates.get(name, 0.0)
                if roll < rate:
                    kind = name
                    break
                roll -= rate
            chaos.fired.append(kind)
        return _chaos_fault(kind, half, chaos.slow_seconds)


def _chaos_fault(kind: str, half: float, slow_seconds: float) -> Fault | None:
    if kind == "none":
        return None
    if kind == "rate_limit":
        return Fault("rate_limit", status=429, retry_after=1.0 if half < 0.5 else None)
    if kind in ("fail", "fail_after_apply"):
        return Fault("fail", status=500 if half < 0.7 else 503, after_apply=kind != "fail")
    if kind in ("drop", "drop_after_apply"):
        return Fault("drop", after_apply=kind != "drop")
    if kind == "slow":
        return Fault("slow", seconds=slow_seconds)
    if kind == "malformed":
        return Fault("malformed", status=200)
    return Fault("expire_tokens")
