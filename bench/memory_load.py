"""Resident memory and throughput of the `learnworlds-mcp` process under load.

(a) Memory. The installed `learnworlds-mcp` is spawned over stdio (writes allowed, as for the
    soak) against a sandbox school on a loopback port. The school's limit and the server's budget
    are both `--rate` (default 1000/1), so the limit does not pace the calls. Its resident set
    (VmRSS of `/proc/<pid>/status`, the child process this script spawned) is read:

    - at start, after `initialize` + `tools/list`;
    - every 1,000 calls during `--calls` cheap reads (default 10,000) from `--concurrency`
      callers: single users by id or email, the roles, single groups, a page of 10 users;
    - after a chaos soak on the same process (`--soak-calls`, default 1,000): the suite's plan
      and chaos rates from `tests/test_soak.py`, run by `bench/soak.py`.

    The growth per 1,000 calls is given from the start, after the first 1,000 calls (warm-up:
    caches, pools, the first token) and as the least-squares slope of the samples after it.

(b) Speed with a high limit: the calls per second of phase (a)'s reads, with the CPU time the
    server process and this process (the client and the sandbox school's thread) used for them.

(c) Speed against the real limit: a second server with the default budget (30 requests per
    10 s) and a school with that limit answer `--ceiling-calls` single-user reads from 30
    callers. Achieved calls/s next to the limit's 3.0/s, and next to what the limit allows for
    that many requests with its burst: 30 at once, then 30 more every 10 s.

    uv run python bench/memory_load.py                     # ≈ 3 min on 2 CPUs
    uv run python bench/memory_load.py --calls 2000 --ceiling-calls 60
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mcp import Client, StdioServerParameters

from _env import describe
from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox
from soak import (
    ALIVE_TOOL,
    SEED,
    SLOW_SECONDS,
    counts,
    errors_by_kind,
    latency_text,
    parse_rate,
    rate_text,
    run_calls,
    server_env,
    soak_plan,
    stdio_session,
)

# `tests` is a package of this checkout, not an installed one: put the checkout on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support import stdio_env
from tests.test_soak import CHAOS_RATES, UNKNOWN, Call

SAMPLE_EVERY = 1_000
REAL_LIMIT = (30, 10.0)  # the API's published limit, the server's default budget
CEILING_CONCURRENCY = 30
MB = 1024 * 1024
SOAK_SAMPLES = 4  # VmRSS samples during the soak
BASELINE = Path(__file__).resolve().parent / "baseline_server.py"


# ----------------------------------------------------------------------------- the process


def server_pid(marker: bytes = b"learnworlds-mcp") -> int:
    """The pid of this process's child whose command line holds `marker` (the stdio server)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        if parent == me and marker in cmdline:
            found.append(int(entry.name))
    if len(found) != 1:
        raise RuntimeError(f"expected one child with {marker!r}, found {found}")
    return found[0]


def status_bytes(pid: int, field: str) -> int:
    """A `kB` field of `/proc/<pid>/status` (VmRSS, VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} missing from /proc/{pid}/status")


def rss(pid: int) -> int:
    return status_bytes(pid, "VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- the calls


def cheap_reads(school: SandboxSchool, calls: int, seed: int) -> list[Call]:
    """Single-request reads: a user by id or email, the roles, a group, a page of 10 users."""
    rng = random.Random(seed)
    readers = [u for u in school.users if not u.is_suspended][:200]
    planned: list[Call] = []
    for _ in range(calls):
        roll = rng.random()
        if roll < 0.4:
            user = rng.choice(readers)
            ref = user.email if rng.random() < 0.5 else user.id
            planned.append(Call("get_single_learnworlds_user_by_id", {"user_id": ref}))
        elif roll < 0.55:
            planned.append(Call("list_all_learnworlds_roles", {}))
        elif roll < 0.75:
            group = rng.choice(school.groups)
            planned.append(Call("get_single_learnworlds_group_by_id", {"group_id": group.id}))
        else:
            page = {"page": rng.randint(1, 5), "items_per_page": 10}
            planned.append(Call("list_all_learnworlds_users", page))
    return planned


def failures(calls: Sequence[Call]) -> int:
    return sum(1 for c in calls if c.result is not None and c.result.is_error)


def mb(size: float) -> str:
    return f"{size / MB:.1f} MB"


def kb(size: float) -> str:
    return f"{size / 1024:,.0f} KB"


def slope(points: Sequence[tuple[int, int]]) -> float:
    """Least-squares bytes per call through (calls, bytes) points."""
    xs, ys = [float(x) for x, _ in points], [float(y) for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


async def baseline_rss() -> int:
    """VmRSS of `bench/baseline_server.py` (a bare `MCPServer`, one tool) after `tools/list`."""
    params = StdioServerParameters(
        command=sys.executable, args=[str(BASELINE)], env={"PATH": os.environ.get("PATH", "")}
    )
    async with Client(params, mode="legacy") as client:
        await client.list_tools()
        return rss(server_pid(BASELINE.name.encode()))


# ----------------------------------------------------------------------------- (a) and (b)


@dataclass
class Memory:
    pid: int
    start: int
    samples: list[tuple[int, int]]  # (reads answered, VmRSS)
    soak_samples: list[tuple[int, int]]  # (soak calls answered, VmRSS)
    after_reads: int
    after_soak: int
    peak: int  # VmHWM at the end
    reads: list[Call]
    read_seconds: float
    read_latencies: list[float]
    read_requests: int
    server_cpu: float  # seconds, during the reads
    own_cpu: float  # this process (client + the school's thread), during the reads
    soak: list[Call]
    soak_seconds: float
    fired: int
    alive: bool


async def memory_run(
    users: int, calls: int, soak_calls: int, concurrency: int, rate: tuple[int, float]
) -> Memory:
    school = SandboxSchool(users=users, rate_limit=rate, retry_after_header=False)
    reads = cheap_reads(school, calls, SEED)
    with serve_sandbox(school) as url, tempfile.TemporaryFile(mode="w+") as errlog:
        async with stdio_session(server_env(url, school, rate), errlog) as client:
            await client.list_tools()
            pid = server_pid()
            start = rss(pid)
            samples: list[tuple[int, int]] = [(0, start)]

            def sample(done: int) -> None:
                if done % SAMPLE_EVERY == 0 or done == calls:
                    samples.append((done, rss(pid)))

            requests_before, cpu_before, own_before = (
                len(school.requests),
                cpu_seconds(pid),
                time.process_time(),
            )
            ran = await run_calls(client, reads, concurrency, on_done=sample)
            server_cpu = cpu_seconds(pid) - cpu_before
            own_cpu = time.process_time() - own_before
            read_requests = len(school.requests) - requests_before
            after_reads = rss(pid)

            planned = soak_plan(school, soak_calls)
            soak_samples: list[tuple[int, int]] = [(0, after_reads)]
            every = max(1, soak_calls // SOAK_SAMPLES)

            def sample_soak(done: int) -> None:
                if done % every == 0 or done == soak_calls:
                    soak_samples.append((done, rss(pid)))

            school.faults.chaos(SEED, CHAOS_RATES, slow_seconds=SLOW_SECONDS, path_contains="/v2/")
            soaked = await run_calls(client, planned, concurrency, on_done=sample_soak)
            fired = sum(kind != "none" for kind in school.faults.chaos_log)
            school.faults.calm()
            alive = not (await client.call_tool(ALIVE_TOOL, {})).is_error
            after_soak = rss(pid)
            peak = status_bytes(pid, "VmHWM")
    return Memory(
        pid,
        start,
        samples,
        soak_samples,
        after_reads,
        after_soak,
        peak,
        reads,
        ran.seconds,
        ran.latencies,
        read_requests,
        server_cpu,
        own_cpu,
        planned,
        soaked.seconds,
        fired,
        alive,
    )


# ----------------------------------------------------------------------------- (c)


@dataclass
class Ceiling:
    calls: list[Call]
    seconds: float
    requests: int
    tokens: int
    refused: int


async def ceiling_run(users: int, calls: int) -> Ceiling:
    """`calls` single-user reads through a server with the default budget, a school at 30/10 s."""
    school = SandboxSchool(users=users, rate_limit=REAL_LIMIT)
    visible = [u for u in school.users if not u.is_suspended]
    planned = [
        Call("get_single_learnworlds_user_by_id", {"user_id": visible[i % len(visible)].id})
        for i in range(calls)
    ]
    with serve_sandbox(school) as url, tempfile.TemporaryFile(mode="w+") as errlog:
        # No LEARNWORLDS_RATE_LIMIT: the server's default budget, the API's published limit.
        async with stdio_session(stdio_env(url, school), errlog) as client:
            await client.list_tools()
            ran = await run_calls(client, planned, CEILING_CONCURRENCY)
    log = school.requests
    return Ceiling(
        planned,
        ran.seconds,
        len(log),
        sum(r.path.startswith("/oauth2") for r in log),
        sum(r.status == 429 for r in log),
    )


def allowed_seconds(requests: int, rate: tuple[int, float]) -> float:
    """The least time the limit allows for `requests`: N at once, then N more every window."""
    return rate[1] * (math.ceil(requests / rate[0]) - 1)


# ----------------------------------------------------------------------------- report


def print_rows(rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        print(f"  {label:<44} {value}")


def per_thousand(first: tuple[int, int], last: tuple[int, int]) -> float:
    """Bytes of growth per 1,000 calls between two (calls, VmRSS) samples."""
    calls = last[0] - first[0]
    return (last[1] - first[1]) / calls * 1_000 if calls > 0 else math.nan


def report_memory(m: Memory, baseline: int, rate: tuple[int, float], concurrency: int) -> None:
    calls = len(m.reads)
    warm = [(n, size) for n, size in m.samples if n >= SAMPLE_EVERY]
    fitted = slope(warm) * 1_000 if len(warm) >= 3 else math.nan
    half = m.soak_samples[len(m.soak_samples) // 2]
    print(
        f"\n(a) Memory of the learnworlds-mcp process (pid {m.pid}), VmRSS; school and budget "
        f"{rate_text(rate)} s, {concurrency} concurrent callers, one stdio session"
    )
    print(f"  {'reads answered':>16}  VmRSS       {'soak calls answered':>20}  VmRSS")
    for i in range(max(len(m.samples), len(m.soak_samples))):
        left = f"{m.samples[i][0]:>16,}  {mb(m.samples[i][1]):<10}" if i < len(m.samples) else ""
        right = (
            f"{m.soak_samples[i][0]:>20,}  {mb(m.soak_samples[i][1])}"
            if i < len(m.soak_samples)
            else ""
        )
        print(f"  {left:<28}  {right}")
    unknown = sum(UNKNOWN in c.text for c in m.soak)
    print_rows(
        [
            ("reference: bare MCPServer, one tool", mb(baseline)),
            ("at start (after initialize + tools/list)", mb(m.start)),
            (f"after {calls:,} reads", f"{mb(m.after_reads)} ({mb(m.after_reads - m.start)} more)"),
            (
                f"after a chaos soak of {len(m.soak):,} calls",
                f"{mb(m.after_soak)} ({mb(m.after_soak - m.after_reads)} more than after the reads)",
            ),
            ("peak (VmHWM)", mb(m.peak)),
            ("growth per 1,000 reads: from start", kb(per_thousand(m.samples[0], m.samples[-1]))),
            ("  after the first 1,000", kb(per_thousand(warm[0], warm[-1]) if warm else math.nan)),
            ("  least-squares slope after the first 1,000", kb(fitted)),
            (
                "growth per 1,000 soak calls: whole soak",
                kb(per_thousand(m.soak_samples[0], m.soak_samples[-1])),
            ),
            ("  second half of the soak", kb(per_thousand(half, m.soak_samples[-1]))),
            ("read errors", f"{failures(m.reads):,} of {calls:,}"),
            (
                "soak: tool errors / unknown outcomes",
                f"{failures(m.soak):,} / {unknown:,} ({counts(errors_by_kind(m.soak))})",
            ),
            ("soak: faults fired, wall time", f"{m.fired:,}, {m.soak_seconds:.1f} s"),
            ("still answering after the soak", "yes" if m.alive else "NO"),
        ]
    )
    per_call_ms = m.server_cpu / calls * 1_000
    print(f"\n(b) Speed with a high limit ({rate_text(rate)} s): the server's own throughput")
    print_rows(
        [
            (
                "reads answered, wall time",
                f"{calls:,} in {m.read_seconds:.1f} s = {calls / m.read_seconds:.1f} calls/s",
            ),
            ("requests the school saw", f"{m.read_requests:,}"),
            ("per call: median / p95 / max", latency_text(m.read_latencies)),
            (
                "server CPU (user + system)",
                f"{m.server_cpu:.1f} s = {per_call_ms:.2f} ms a call, "
                f"{m.server_cpu / m.read_seconds:.0%} of one CPU",
            ),
            (
                "this process's CPU (client + school)",
                f"{m.own_cpu:.1f} s, {m.own_cpu / m.read_seconds:.0%} of one CPU",
            ),
            ("calls/s if the server had a CPU to itself", f"{calls / m.server_cpu:.0f}"),
        ]
    )


def report_ceiling(c: Ceiling) -> None:
    calls = len(c.calls)
    ceiling = REAL_LIMIT[0] / REAL_LIMIT[1]
    achieved = calls / c.seconds
    allowed = allowed_seconds(c.requests, REAL_LIMIT)
    print(
        f"\n(c) Speed against the real limit ({rate_text(REAL_LIMIT)} s, the server's default "
        f"budget): {calls} × get_single_learnworlds_user_by_id, {CEILING_CONCURRENCY} callers"
    )
    print_rows(
        [
            ("requests the school saw (token requests)", f"{c.requests:,} ({c.tokens})"),
            ("tool errors / 429s the school sent", f"{failures(c.calls)} / {c.refused}"),
            ("wall time", f"{c.seconds:.2f} s"),
            (
                "achieved vs the limit's 3.0/s",
                f"{achieved:.2f} calls/s = {achieved / ceiling:.1%} of {ceiling:.1f}/s",
            ),
            (
                f"time the limit allows for {c.requests} requests",
                f"{allowed:.2f} s (30 at once, then 30 every 10 s)",
            ),
            ("wall time over that", f"{c.seconds / allowed - 1:+.1%}" if allowed else "—"),
        ]
    )


async def main(
    users: int,
    calls: int,
    soak_calls: int,
    concurrency: int,
    rate: tuple[int, float],
    ceiling_calls: int,
) -> None:
    print(describe())
    baseline = await baseline_rss()
    memory = await memory_run(users, calls, soak_calls, concurrency, rate)
    report_memory(memory, baseline, rate, concurrency)
    if ceiling_calls:
        report_ceiling(await ceiling_run(users, ceiling_calls))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10_000, help="cheap reads (10,000)")
    parser.add_argument("--soak-calls", type=int, default=1_000, help="chaos soak calls (1,000)")
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent callers (20)")
    parser.add_argument(
        "--rate",
        type=parse_rate,
        default=(1000, 1.0),
        help="requests/seconds for the school and the server in (a) and (b) (1000/1)",
    )
    parser.add_argument(
        "--ceiling-calls",
        type=int,
        default=150,
        help="calls at the real 30/10 s limit (150; 0: skip)",
    )
    parser.add_argument("--users", type=int, default=300, help="school size (300, as the suite)")
    args = parser.parse_args()
    asyncio.run(
        main(
            args.users, args.calls, args.soak_calls, args.concurrency, args.rate, args.ceiling_calls
        )
    )
