"""What serving over HTTP adds: latency of one call, and calls per second with the limit lifted.

The installed `learnworlds-mcp` is spawned twice against one sandbox school on a loopback port
whose rate limit is lifted (and the server's budget with it, `LEARNWORLDS_RATE_LIMIT`):

- over stdio, as a host spawns it (`mcp.Client(StdioServerParameters)`);
- with `--transport http --port 0`, reached through `mcp.Client` over Streamable HTTP with a
  member key in `Authorization: Bearer` (a members file made for the run), in both protocol
  generations: `legacy` (2025-11-25 session) and `auto` (stateless 2026-07-28).

(a) Latency: `--calls` sequential `list_all_learnworlds_roles` calls per transport after 20
    warm-up calls; p50 / p99 and the HTTP − stdio difference.
(b) Throughput: `--burst` roles calls from `--concurrency` callers at once over HTTP, calls/s.

    uv run python bench/remote_latency.py                 # ≈ 30 s
    uv run python bench/remote_latency.py --calls 1000 --burst 2000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from _env import ROOT, describe
from learnworlds_mcp.sandbox import SandboxOptions, SandboxSchool, serve_sandbox

sys.path.insert(0, str(ROOT))
from tests.http_server import http_client, running_server
from tests.support import console_script, stdio_env

LIFTED = "100000/1"
TOOL = "list_all_learnworlds_roles"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(call: Callable[[], Awaitable[object]], calls: int) -> list[float]:
    for _ in range(20):
        await call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def row(name: str, samples: list[float]) -> str:
    return (
        f"  {name:<22} p50 {statistics.median(samples):6.2f} ms   "
        f"p99 {percentile(samples, 0.99):6.2f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--burst", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    print(describe())
    school = SandboxSchool(SandboxOptions(users=200, rate_limit=None))
    with serve_sandbox(school) as url, tempfile.TemporaryDirectory() as work:
        env = stdio_env(url, school, LEARNWORLDS_RATE_LIMIT=LIFTED)
        params = StdioServerParameters(command=console_script(), args=[], env=env)
        results: dict[str, list[float]] = {}
        with tempfile.TemporaryFile(mode="w+") as devnull:
            async with Client(stdio_client(params, errlog=devnull), mode="legacy") as client:
                results["stdio"] = await timed(lambda: client.call_tool(TOOL, {}), args.calls)
        members = Path(work) / "members.json"
        key = _add_member(members, env)
        http_env = {k: v for k, v in env.items() if k != "PATH"}
        http_env["LEARNWORLDS_MEMBERS_FILE"] = str(members)
        with running_server(http_env, cwd=work) as server:
            for mode in ("legacy", "auto"):
                async with http_client(server.url, key, mode=mode) as client:
                    results[f"http ({mode})"] = await timed(
                        lambda c=client: c.call_tool(TOOL, {}), args.calls
                    )
            async with http_client(server.url, key, mode="auto") as client:
                gate = asyncio.Semaphore(args.concurrency)

                async def one() -> None:
                    async with gate:
                        await client.call_tool(TOOL, {})

                start = time.perf_counter()
                await asyncio.gather(*(one() for _ in range(args.burst)))
                elapsed = time.perf_counter() - start
    print(f"\n(a) latency of one {TOOL} call, {args.calls} sequential calls each:")
    for name, samples in results.items():
        print(row(name, samples))
    base = statistics.median(results["stdio"])
    for name in ("http (legacy)", "http (auto)"):
        added = statistics.median(results[name]) - base
        added99 = percentile(results[name], 0.99) - percentile(results["stdio"], 0.99)
        print(f"  added by {name:<13} p50 {added:+6.2f} ms   p99 {added99:+6.2f} ms")
    print(
        f"\n(b) throughput over HTTP (auto), {args.burst} calls from {args.concurrency} callers, "
        f"limit lifted: {args.burst / elapsed:.0f} calls/s ({elapsed:.2f} s)"
    )


def _add_member(path: Path, env: dict[str, str]) -> str:
    import subprocess

    done = subprocess.run(
        [console_script(), "members", "add", "bench", "--members-file", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    asyncio.run(main())
