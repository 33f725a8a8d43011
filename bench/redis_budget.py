"""What the rate budget shared through Redis costs, and what it lets through.

Starts its own `redis-server` (`/usr/bin/redis-server`, loopback, no persistence).

(a) Cost per request: sequential `LearnWorldsClient.get` calls against an in-process sandbox
    school (ASGI, the school's limit lifted, the budget's too), once with the in-process budget
    and once with the Redis budget; p50/p99 of the call and of `acquire()` alone. The added
    latency is the Redis figure minus the in-process one.
(b) Calls per second with 1, 2 and 4 replicas, each a separate *process* (set up, then started
    together) with its own
    in-process sandbox school (so the school is never the bottleneck) and its own Redis
    connections, 8 concurrent callers each, for D seconds; all draw on one Redis budget whose
    limit is lifted. Next to it, the same processes with in-process budgets (no Redis). Once
    with whole `client.get()` calls, once with bare `acquire()`s (the budget's own ceiling).
    On a small machine the processes share its cores with Redis: the figures say how far the
    budget is from being the bottleneck, not how fast a big deployment goes.
(c) The shared window at a real limit: two replica processes, one sandbox school on a loopback
    port (uvicorn, counting arrivals, answering 429 over the limit), a burst split between them
    that starts on an empty window. Prints the wall time next to what the limit allows, the most
    requests the school saw in any window, and its 429s.

    uv run python bench/redis_budget.py            # ≈ 5 min (the 30/10 s burst is 31 s by nature)
    uv run python bench/redis_budget.py --quick    # ≈ 1.5 min (one run each; the burst at 10/1 s)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
from pydantic import SecretStr

from _env import describe
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.config import RateLimit, Settings
from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox
from learnworlds_mcp.state.budget import WINDOW_MARGIN_SECONDS, InProcessBudget, RateBudget
from learnworlds_mcp.state.redis import RedisState, school_namespace
from learnworlds_mcp.state.redis_budget import RedisBudget

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.redis_server import RedisServer, redis_binary

LIFTED = RateLimit(requests=1_000_000, seconds=1.0)
API_URL = "http://127.0.0.1:8000/admin/api"  # in-process schools: ASGI, nothing connects


def settings(school: SandboxSchool, url: str, limit: RateLimit) -> Settings:
    return Settings(
        api_url=url,
        client_id=school.options.client_id,
        client_secret=SecretStr(school.options.client_secret),
        rate_limit=limit,
        timeout=30.0,
    )


def budget_for(kind: str, redis_url: str, conf: Settings) -> RateBudget:
    limit = conf.rate_limit
    if kind == "redis":
        state = RedisState(redis_url, school_namespace(conf.api_url, conf.client_id))
        return RedisBudget(state, limit.requests, limit.seconds)
    from learnworlds_mcp.clock import SystemClock

    return InProcessBudget(limit.requests, limit.seconds, SystemClock())


async def settle(budget: RateBudget) -> None:
    """Let a new Redis epoch's one-window wait pass before measuring."""
    await budget.acquire(time.monotonic() + 60)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)]


# ---------------------------------------------------------------------- (a) cost per request


async def cost(kind: str, redis_url: str, calls: int) -> tuple[list[float], list[float]]:
    school = SandboxSchool(users=10, rate_limit=None)
    conf = settings(school, API_URL, LIFTED)
    budget = budget_for(kind, redis_url, conf)
    await settle(budget)
    transport = httpx2.ASGITransport(app=school.app)
    acquire: list[float] = []
    for _ in range(calls):
        started = time.perf_counter()
        await budget.acquire(time.monotonic() + 60)
        acquire.append(time.perf_counter() - started)
    whole: list[float] = []
    async with LearnWorldsClient(conf, transport=transport, budget=budget) as client:
        await client.get("/v2/user-roles")
        for _ in range(calls):
            started = time.perf_counter()
            await client.get("/v2/user-roles")
            whole.append(time.perf_counter() - started)
    return acquire, whole


# ---------------------------------------------------------------------- (b) calls per second


def throughput_worker(
    kind: str,
    mode: str,
    redis_url: str,
    callers: int,
    seconds: float,
    ready: Any,
    go: Any,
    out: Any,
) -> None:
    async def run() -> int:
        school = SandboxSchool(users=10, rate_limit=None)
        conf = settings(school, API_URL, LIFTED)
        budget = budget_for(kind, redis_url, conf)
        await settle(budget)
        done = 0
        async with LearnWorldsClient(
            conf, transport=httpx2.ASGITransport(app=school.app), budget=budget
        ) as client:
            await client.get("/v2/user-roles")
            ready.release()
            await asyncio.get_running_loop().run_in_executor(None, go.wait)
            stop_at = time.monotonic() + seconds

            async def caller() -> None:
                nonlocal done
                while time.monotonic() < stop_at:
                    if mode == "acquire":
                        await budget.acquire(stop_at + 60)
                    else:
                        await client.get("/v2/user-roles")
                    done += 1

            await asyncio.gather(*(caller() for _ in range(callers)))
        return done

    out.put(asyncio.run(run()))


def throughput(
    kind: str, mode: str, redis_url: str, replicas: int, callers: int, seconds: float
) -> float:
    """Calls (or bare `acquire()`s, `mode="acquire"`) per second of `replicas` processes."""
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(
            target=throughput_worker,
            args=(kind, mode, redis_url, callers, seconds, ready, go, out),
        )
        for _ in range(replicas)
    ]
    for p in procs:
        p.start()
    for _ in procs:  # every replica is set up (imports, token, connections) before the clock runs
        ready.acquire(timeout=120)
    go.set()
    total = sum(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


# ---------------------------------------------------------------------- (c) the shared window


def burst_worker(
    school_url: str, redis_url: str, limit: RateLimit, calls: int, ready: Any, go: Any, out: Any
) -> None:
    from learnworlds_mcp.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    async def run() -> tuple[float, int]:
        conf = Settings(
            api_url=school_url,
            client_id=DEFAULT_CLIENT_ID,
            client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
            rate_limit=limit,
            timeout=30.0,
        )
        budget = budget_for("redis", redis_url, conf)
        async with LearnWorldsClient(conf, budget=budget, max_wait=600) as client:
            await client.authenticate()
            ready.release()
            await asyncio.get_running_loop().run_in_executor(None, go.wait)
            results = await asyncio.gather(
                *(client.get("/v2/user-roles") for _ in range(calls)), return_exceptions=True
            )
            return time.monotonic(), sum(isinstance(r, BaseException) for r in results)

    out.put(asyncio.run(run()))


def shared_window(redis_url: str, limit: RateLimit, calls: int) -> dict[str, float]:
    school = SandboxSchool(users=20, rate_limit=(limit.requests, limit.seconds))
    window = limit.seconds + WINDOW_MARGIN_SECONDS
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    with serve_sandbox(school) as url:
        procs = [
            ctx.Process(
                target=burst_worker, args=(url, redis_url, limit, calls // 2, ready, go, out)
            )
            for _ in range(2)
        ]
        for p in procs:
            p.start()
        for _ in procs:
            ready.acquire(timeout=120)
        time.sleep(window)  # the burst starts on an empty window
        school.clear_log()
        started = time.monotonic()
        go.set()
        finished = [out.get(timeout=600) for _ in procs]
        for p in procs:
            p.join()
    times = sorted(r.at for r in school.requests)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= limit.seconds:
            start += 1
        most = max(most, end - start + 1)
    wall = max(f[0] for f in finished) - started
    return {
        "wall": wall,
        "budget_allows": (math.ceil(calls / limit.requests) - 1) * window,
        "limit_allows": (math.ceil(calls / limit.requests) - 1) * limit.seconds,
        "requests": len(times),
        "most_in_window": most,
        "refused": sum(r.status == 429 for r in school.requests),
        "errors": sum(f[1] for f in finished),
    }


# ---------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls; the burst at 10/1 s")
    args = parser.parse_args()
    binary = redis_binary()
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install -y redis-server)")
    calls = 500 if args.quick else 2000
    seconds = 3.0
    reps = 1 if args.quick else 3
    limit = RateLimit(requests=10, seconds=1.0) if args.quick else RateLimit(30, 10.0)
    burst_calls = 40 if args.quick else 120

    print(describe())
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    server = RedisServer(binary)
    server.start()
    try:
        print(f"\n(a) cost per request, {calls} sequential calls (in-process school, no limit)")
        figures: dict[str, tuple[list[float], list[float]]] = {"local": ([], []), "redis": ([], [])}
        for _ in range(2):  # interleaved, so a busy moment of the machine hits both
            for kind, (acquire, whole) in figures.items():
                more = asyncio.run(cost(kind, server.url, calls // 2))
                acquire.extend(more[0])
                whole.extend(more[1])
        for label, index in (("acquire()", 0), ("client.get()", 1)):
            local, shared = figures["local"][index], figures["redis"][index]
            for q, name in ((0.5, "p50"), (0.99, "p99")):
                a, b = pct(local, q) * 1e3, pct(shared, q) * 1e3
                print(
                    f"  {label:<13} {name}: in-process {a:7.3f} ms · Redis {b:7.3f} ms"
                    f" · added {b - a:+7.3f} ms"
                )

        print(f"\n(b) calls per second, replicas = processes, 8 callers each, {seconds:g} s")
        for mode, what in (("call", "client.get() calls/s"), ("acquire", "bare acquire()s/s")):
            print(f"  {what}, median of {reps}:")
            for replicas in (1, 2, 4):
                local = statistics.median(
                    throughput("local", mode, server.url, replicas, 8, seconds) for _ in range(reps)
                )
                shared = statistics.median(
                    throughput("redis", mode, server.url, replicas, 8, seconds) for _ in range(reps)
                )
                ratio = f" ({shared / local:.0%})" if mode == "call" else ""
                print(
                    f"    {replicas} replica(s): one Redis budget {shared:8.0f}"
                    f" · in-process budgets {local:8.0f}{ratio}"
                )

        print(
            f"\n(c) {burst_calls} calls split over 2 replica processes, one school at "
            f"{limit.requests}/{limit.seconds:g} s (loopback, real limit)"
        )
        result = shared_window(server.url, limit, burst_calls)
        print(
            f"  wall {result['wall']:.2f} s · the budget allows {result['budget_allows']:.2f} s "
            f"({result['wall'] / result['budget_allows'] - 1:+.1%}) · the school's bare limit "
            f"{result['limit_allows']:.2f} s ({result['wall'] / result['limit_allows'] - 1:+.1%})"
        )
        print(
            f"  requests {result['requests']:.0f} · most in any {limit.seconds:g} s "
            f"{result['most_in_window']:.0f} (limit {limit.requests}) · 429s "
            f"{result['refused']:.0f} · failed calls {result['errors']:.0f}"
        )
    finally:
        server.close()


if __name__ == "__main__":
    main()
