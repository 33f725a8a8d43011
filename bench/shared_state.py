"""What each shared store costs per operation: in this process against Redis.

Starts its own `redis-server` (`/usr/bin/redis-server`, loopback, no persistence), then times
N sequential operations of each kind, after a warm-up, on one connection pool:
- the OAuth store: `get` (what verifying an access token costs, once per request with OAuth),
  `put`, `take` (a code or refresh token used), `hit` (a wrong key counted; a Lua script);
- `LastSeen.touch` (once per request: a write at most once a minute) and `last_seen`;
- `TitleStore.get` of 300 groups (a completion).
Prints p50 and p99 in microseconds for each, in process and in Redis.

    uv run python bench/shared_state.py            # ≈ 20 s
    uv run python bench/shared_state.py --ops 500  # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._env import describe
from tests.redis_server import RedisServer, require_redis_binary

from learnworlds_mcp.state.oauth import MemoryOAuthStore, OAuthStore, secret_key
from learnworlds_mcp.state.redis import RedisState
from learnworlds_mcp.state.redis_oauth import RedisOAuthStore
from learnworlds_mcp.state.seen import InProcessLastSeen, LastSeen, RedisLastSeen
from learnworlds_mcp.state.titles import InProcessTitles, RedisTitles, TitleStore

RECORD = {
    "client_id": "0d1a396f-ca82-44a8-a6b0-2f142c66edea",
    "client_name": "ChatGPT",
    "scopes": [],
    "member": "alice",
    "key_hash": "sha256:" + "0" * 64,
    "expires_at": 1_900_000_000.0,
    "refresh_key": "f" * 64,
}
GROUPS = [{"id": f"g{i}", "title": f"Cohort {i}", "courses": ["course-a"]} for i in range(300)]


async def timed(ops: int, one: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    """(p50, p99) of `ops` sequential calls of `one(i)`, in microseconds, after a warm-up."""
    for i in range(min(50, ops)):
        await one(-1 - i)
    took = []
    for i in range(ops):
        start = time.perf_counter()
        await one(i)
        took.append((time.perf_counter() - start) * 1e6)
    cuts = statistics.quantiles(took, n=100)
    return statistics.median(took), cuts[98]


async def measure(
    oauth: OAuthStore, seen: LastSeen, titles: TitleStore, ops: int
) -> dict[str, tuple[float, float]]:
    keys = [secret_key(secrets.token_urlsafe(32)) for _ in range(ops + 60)]
    for key in keys:
        await oauth.put("access", key, RECORD, 3600)
    await titles.put("groups", GROUPS, 60)
    members = [f"member-{i}" for i in range(ops + 60)]
    return {
        "oauth get (verify a token)": await timed(ops, lambda i: oauth.get("access", keys[i])),
        "oauth put": await timed(ops, lambda i: oauth.put("code", keys[i], RECORD, 300)),
        "oauth take (use a code)": await timed(ops, lambda i: oauth.take("code", keys[i])),
        "oauth hit (a wrong key)": await timed(ops, lambda i: oauth.hit("wrong_key", "ip", 60)),
        "seen touch, written": await timed(ops, lambda i: seen.touch(members[i])),
        "seen touch, within the minute": await timed(ops, lambda i: seen.touch(members[0])),
        "seen last_seen": await timed(ops, lambda i: seen.last_seen(members[i])),
        "titles get (300 groups)": await timed(ops, lambda i: titles.get("groups")),
    }


async def main(ops: int) -> None:
    print(describe())
    local = await measure(MemoryOAuthStore(), InProcessLastSeen(), InProcessTitles(), ops)
    server = RedisServer(require_redis_binary())
    server.start()
    state = RedisState(server.url, "bench")
    try:
        shared = await measure(
            RedisOAuthStore(state), RedisLastSeen(state), RedisTitles(state), ops
        )
    finally:
        await state.aclose()
        server.close()
    print(f"{ops} sequential operations each; µs p50 / p99")
    print(f"{'operation':32} {'in process':>18} {'Redis':>18}")
    for name, (p50, p99) in local.items():
        r50, r99 = shared[name]
        print(f"{name:32} {p50:8.1f} / {p99:7.1f} {r50:8.1f} / {r99:7.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000)
    asyncio.run(main(parser.parse_args().ops))
