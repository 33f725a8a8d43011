"""Calls per second through 1, 2 and 4 replica processes sharing one Redis, limit lifted.

Each replica is `learnworlds-mcp --transport http --port 0` with `LEARNWORLDS_REDIS_URL` (the
budget, OAuth records and tallies in one real `redis-server`) and `LEARNWORLDS_RATE_LIMIT`
lifted, against one sandbox school on a loopback port whose own limit is lifted too. A client
process (this one) sends `--calls` `get_single_learnworlds_user_by_id` calls over Streamable
HTTP (2026-07-28, a member key), `--concurrency` at a time, spread evenly over the replicas.
The first window of a fresh Redis is waited out before timing (the budget's lost-data guard).
Each figure is the median of `--runs` runs. On a 2-CPU machine the replicas, the school, Redis
and the client share the same two cores: the figures show the overhead of sharing, not scaling.

    uv run python bench/replicas.py                      # ≈ 1 min
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from _env import ROOT, describe
from learnworlds_mcp.sandbox import SandboxOptions, SandboxSchool, serve_sandbox

sys.path.insert(0, str(ROOT))
from tests.http_server import http_client, running_server
from tests.redis_server import RedisServer, require_redis_binary
from tests.support import console_script, stdio_env

LIFTED = "100000/1"
STATE_KEY = "bench-state-key-0123456789abcdefghijklmnop"


async def burst(urls: list[str], key: str, users: list[str], calls: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    async with ExitStackAsync() as stack:
        clients = [await stack.enter(http_client(url, key, mode="auto")) for url in urls]
        for client in clients:  # one call each first: tokens, connections
            await client.call_tool("list_all_learnworlds_roles", {})

        async def one(n: int) -> None:
            async with gate:
                result = await clients[n % len(clients)].call_tool(
                    "get_single_learnworlds_user_by_id", {"user_id": users[n % len(users)]}
                )
                assert not result.is_error, result.content

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(calls)))
        return calls / (time.perf_counter() - started)


class ExitStackAsync:
    def __init__(self) -> None:
        from contextlib import AsyncExitStack

        self.stack = AsyncExitStack()

    async def __aenter__(self) -> ExitStackAsync:
        await self.stack.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stack.__aexit__(*exc)

    async def enter(self, cm):  # type: ignore[no-untyped-def]
        return await self.stack.enter_async_context(cm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(describe())
    redis = RedisServer(require_redis_binary())
    redis.start()
    school = SandboxSchool(SandboxOptions(users=300, rate_limit=None))
    users = [u.id for u in school.users if not u.is_suspended]
    try:
        with serve_sandbox(school) as url, tempfile.TemporaryDirectory() as work:
            members = Path(work) / "members.json"
            key = subprocess.run(
                [console_script(), "members", "add", "bench", "--members-file", str(members)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            env = stdio_env(url, school)
            env.pop("PATH")
            env.update(
                LEARNWORLDS_REDIS_URL=redis.url,
                LEARNWORLDS_STATE_KEY=STATE_KEY,
                LEARNWORLDS_RATE_LIMIT=LIFTED,
                LEARNWORLDS_MEMBERS_FILE=str(members),
            )
            print(f"\n{args.calls} calls, {args.concurrency} at a time, limit lifted, one Redis:")
            for replicas in (1, 2, 4):
                with ExitStack() as stack:
                    servers = [
                        stack.enter_context(running_server(env, cwd=work)) for _ in range(replicas)
                    ]
                    time.sleep(1.5)  # a fresh budget waits one window before its first grant
                    rates = [
                        asyncio.run(
                            burst(
                                [s.url for s in servers], key, users, args.calls, args.concurrency
                            )
                        )
                        for _ in range(args.runs)
                    ]
                print(
                    f"  {replicas} replica{'s' if replicas > 1 else ' '}: "
                    f"{statistics.median(rates):6.0f} calls/s (runs: "
                    + ", ".join(f"{r:.0f}" for r in rates)
                    + ")"
                )
    finally:
        redis.close()


if __name__ == "__main__":
    main()
