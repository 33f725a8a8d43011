"""The school's request budget shared by every replica: one sliding window in Redis.

Each grant is decided atomically by a Lua script on Redis's own clock (`TIME`), so replicas
whose clocks differ still share one window. A grant is only ever for *now*: when the window is
full the script answers how long until a slot frees up, and the caller sleeps that long and asks
again (or fails at once with `RateLimitedError` if that would pass the call's deadline, exactly
as the in-process budget does). Nothing books future slots, so a replica that dies while waiting
holds nothing. Slots are not handed out fairly between replicas, but nobody spins: a refused
caller always sleeps until the moment the script named.

Keys (all under `RedisState.key`, all with TTLs):

- `budget:window` — a sorted set of the grants of the last window (score: µs on Redis's clock);
- `budget:pause` — until when every replica holds its requests after the school answered 429;
- `budget:epoch` — when this window's record began, and on which Redis run (`run_id`).

**Redis trouble.** While Redis cannot be reached, `acquire` raises `SharedStateUnavailableError`
(naming `LEARNWORLDS_REDIS_URL`) and nothing is sent: there is no fallback to a local budget.
When Redis comes back it may have lost the window (restarted empty, restored an older snapshot,
failed over to a replica, evicted the keys): the epoch is then missing, or carries another
`run_id`, and the script starts a new one — and grants nothing until a full window (margin
included) has passed since, because nobody knows what was sent in the last one. Every replica
sees the same epoch, so all wait, then carry on by themselves. The first call after Redis
starts for the first time waits one window too: an empty Redis looks the same either way.
"""

from __future__ import annotations

import logging
import os
from itertools import count

from learnworlds_mcp.clock import Clock, SystemClock
from learnworlds_mcp.state.budget import WINDOW_MARGIN_SECONDS, rate_limited
from learnworlds_mcp.state.redis import RedisState

logger = logging.getLogger(__name__)

# How long an idle school's epoch is kept (each call renews it). After that long without a
# single request, the next one waits one window, as after a Redis restart.
EPOCH_TTL_SECONDS = 24 * 3600
# A refused caller sleeps at least this long before asking again (no tight loop on rounding).
MIN_RETRY_SECONDS = 0.001

# KEYS: 1 window, 2 pause, 3 epoch.
# ARGV: 1 limit, 2 window in µs (margin included), 3 grant id, 4 epoch TTL in ms,
#       5 "1" to take a slot when free, "0" only to look.
# Returns {wait, new}: wait is 0 (granted, or free when only looking) or the µs until a slot
# frees up; new is 1 when this call found the record lost and began a new epoch.
ACQUIRE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
local epoch = redis.call('HMGET', KEYS[3], 'at', 'run')
local began = tonumber(epoch[1])
local new = 0
if began == nil or epoch[2] ~= run then
  new = 1
  -- This budget's record was lost or is stale: nobody knows what was sent in the last window.
  redis.call('DEL', KEYS[1])
  began = now
  redis.call('HSET', KEYS[3], 'at', string.format('%.0f', began), 'run', run)
end
redis.call('PEXPIRE', KEYS[3], ARGV[4])
local free = began + window
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > free then free = paused end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
local used = redis.call('ZCARD', KEYS[1])
if used >= limit then
  local nth = redis.call('ZRANGE', KEYS[1], used - limit, used - limit, 'WITHSCORES')
  local at = tonumber(nth[2]) + window
  if at > free then free = at end
end
if free > now then return {free - now, new} end
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
end
return {0, new}
"""

# KEYS: 1 pause. ARGV: 1 the pause in µs. Extends the pause to now + ARGV[1], never shortens it.
PAUSE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = tonumber(ARGV[1])
local until_ = now + pause
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then
  redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', math.ceil(pause / 1000) + 1000)
end
return 0
"""


class RedisBudget:
    """`RateBudget` shared by every replica of one school through Redis."""

    def __init__(
        self, state: RedisState, requests: int, seconds: float, clock: Clock | None = None
    ) -> None:
        """`requests` per `seconds` is `LEARNWORLDS_RATE_LIMIT`; `clock` is the client's (it
        sleeps and keeps deadlines; the window itself runs on Redis's clock)."""
        if requests < 1 or seconds <= 0:
            raise ValueError("a rate limit needs at least one request per positive window")
        self.requests = requests
        self.window = seconds + WINDOW_MARGIN_SECONDS
        self._state = state
        self._clock: Clock = clock or SystemClock()
        self._keys = [state.key("budget", k) for k in ("window", "pause", "epoch")]
        self._replica = os.urandom(6).hex()  # grant ids are unique across replicas
        self._grants = count()

    async def _ask(self, take: bool) -> float:
        """One atomic look at the shared window; with `take`, a slot is granted if free now.
        Returns 0 when granted (or free), else the seconds until a slot frees up."""
        micros, new = await self._state.run(
            ACQUIRE_SCRIPT,
            self._keys,
            [
                self.requests,
                round(self.window * 1_000_000),
                f"{self._replica}:{next(self._grants)}",
                EPOCH_TTL_SECONDS * 1000,
                "1" if take else "0",
            ],
        )
        if new:
            logger.warning(
                "The shared rate budget in Redis at %s was empty (first use, or Redis lost its "
                "data): no request goes to the school for one window (%.1f s).",
                self._state.where,
                self.window,
            )
        return int(micros) / 1_000_000

    async def acquire(self, deadline: float) -> None:
        """Return once the shared budget granted a slot for now; raise `RateLimitedError` at
        once if the next free slot comes after `deadline`, `SharedStateUnavailableError` if
        Redis cannot be asked."""
        while True:
            wait = await self._ask(take=True)
            if wait <= 0:
                return
            if self._clock.monotonic() + wait > deadline:
                raise rate_limited(wait)
            await self._clock.sleep(max(wait, MIN_RETRY_SECONDS))

    async def pause(self, seconds: float) -> None:
        """Hold every replica's requests for `seconds` from now (the school answered 429)."""
        if seconds > 0:
            await self._state.run(PAUSE_SCRIPT, self._keys[1:2], [round(seconds * 1_000_000)])

    async def seconds_until_free(self) -> float:
        """How long until a slot frees up if nobody sends a new request."""
        return await self._ask(take=False)
