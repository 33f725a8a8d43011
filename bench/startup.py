"""Start-up time: spawn → `tools/list` answered, `learnworlds-mcp` next to a bare `MCPServer`.

Both servers are spawned over stdio with the same interpreter and the same environment (the
sandbox school's credentials, the school served on a loopback port) and reached with
`mcp.Client(StdioServerParameters(...), mode="legacy")`. The clock runs from just before the
spawn until the `tools/list` reply is in; closing the session is not counted. Runs alternate
between the two servers so that drift in machine load hits both alike.

    uv run python bench/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mcp import Client, StdioServerParameters

from _env import describe
from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox

GOAL_RATIO = 1.10
BENCH = Path(__file__).resolve().parent
BASELINE = BENCH / "baseline_server.py"


def console_script() -> str:
    """The installed `learnworlds-mcp` of this environment (its shebang is this interpreter)."""
    script = Path(sys.executable).parent / "learnworlds-mcp"
    if not script.exists():
        sys.exit(f"{script} missing: run `uv sync`")
    return str(script)


def server_env(url: str, school: SandboxSchool) -> dict[str, str]:
    """What a host passes: the school's credentials and PATH, nothing else."""
    return {
        "LEARNWORLDS_API_URL": url,
        "LEARNWORLDS_CLIENT_ID": school.options.client_id,
        "LEARNWORLDS_CLIENT_SECRET": school.options.client_secret,
        "PATH": os.environ.get("PATH", ""),
    }


async def time_to_tools_list(params: StdioServerParameters) -> tuple[float, int]:
    """Seconds from spawn to the `tools/list` answer, and how many tools it listed."""
    started = time.perf_counter()
    async with Client(params, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        elapsed = time.perf_counter() - started
    return elapsed, len(tools)


PHASES_OURS = """
import time
t0 = time.perf_counter()
import learnworlds_mcp.cli
from learnworlds_mcp.server import build_server
t1 = time.perf_counter()
from learnworlds_mcp.config import load_settings
env = {
    "LEARNWORLDS_API_URL": "http://127.0.0.1:9/admin/api",
    "LEARNWORLDS_CLIENT_ID": "5f1e9a3c7b2d4e6f80a1b2c3",
    "LEARNWORLDS_CLIENT_SECRET": "unused",
}
settings = load_settings(flags={}, environ=env, env_file=None)
t2 = time.perf_counter()
server = build_server(settings)
t3 = time.perf_counter()
from learnworlds_mcp.client import LearnWorldsClient
client = LearnWorldsClient(settings)
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""
PHASES_BARE = """
import time
t0 = time.perf_counter()
from mcp.server.mcpserver import MCPServer
t1 = time.perf_counter()
server = MCPServer("baseline")


@server.tool()
def echo(text: str) -> str:
    return text


t2 = time.perf_counter()
print(t1 - t0, 0.0, t2 - t1, 0.0)
"""
PHASE_NAMES = ("imports", "settings", "build server", "HTTP client (lifespan)")


def phases(repeats: int) -> tuple[list[float], list[float]]:
    """Median seconds of each in-process start-up phase, ours and bare, each run in a fresh
    interpreter; the two alternate so that changes in machine load hit both alike."""
    samples: dict[str, list[list[float]]] = {PHASES_OURS: [], PHASES_BARE: []}
    for _ in range(repeats):
        for code, runs in samples.items():
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
            runs.append([float(x) for x in out.split()])
    ours, bare = (
        [statistics.median(column) for column in zip(*runs, strict=True)]
        for runs in samples.values()
    )
    return ours, bare


def import_profile(code: str, repeats: int) -> dict[str, float]:
    """Median self import time (ms) per module of `python -X importtime -c code`."""
    runs: list[dict[str, float]] = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True,
            text=True,
            check=True,
        )
        per_module: dict[str, float] = {}
        for line in done.stderr.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
            if match:
                per_module[match.group(2)] = int(match.group(1)) / 1000
        runs.append(per_module)
    names = {name for run in runs for name in run}
    return {name: statistics.median(run.get(name, 0.0) for run in runs) for name in names}


def print_breakdown(repeats: int = 7, top: int = 8) -> None:
    """Where learnworlds-mcp spends its start-up beyond what the bare server spends."""
    ours, bare = phases(repeats)
    print(f"\nIn-process start-up phases (median of {repeats} fresh interpreters, ms):")
    print(f"  {'phase':<24} {'ours':>7} {'bare':>7} {'extra':>7}")
    for name, a, b in zip(PHASE_NAMES, ours, bare, strict=True):
        print(f"  {name:<24} {a * 1000:>7.1f} {b * 1000:>7.1f} {(a - b) * 1000:>+7.1f}")
    print(f"  {'total':<24} {sum(ours) * 1000:>7.1f} {sum(bare) * 1000:>7.1f}", end="")
    print(f" {(sum(ours) - sum(bare)) * 1000:>+7.1f}")
    mine = import_profile("import learnworlds_mcp.cli, learnworlds_mcp.server", repeats)
    base = import_profile("from mcp.server.mcpserver import MCPServer", repeats)
    only = sorted(((n, ms) for n, ms in mine.items() if n not in base), key=lambda x: -x[1])
    print(
        f"Modules only learnworlds-mcp imports: {len(only)}, "
        f"{sum(ms for _, ms in only):.1f} ms self time (-X importtime); top {top}:"
    )
    for name, ms in only[:top]:
        print(f"  {name:<34} {ms:>6.1f}")
    print("  (the rest of the import gap is the SDK's own modules timed in another order)")


def row(label: str, times: list[float], tools: int) -> str:
    return (
        f"{label:<26} {tools:>5} {statistics.median(times) * 1000:>10.0f}"
        f" {min(times) * 1000:>9.0f} {max(times) * 1000:>9.0f}"
    )


async def main(runs: int, warmup: int, breakdown: bool) -> None:
    school = SandboxSchool(users=50)
    with serve_sandbox(school) as url:
        env = server_env(url, school)
        ours = StdioServerParameters(command=console_script(), env=env)
        bare = StdioServerParameters(command=sys.executable, args=[str(BASELINE)], env=env)
        for _ in range(warmup):  # warm the page cache and bytecode, not counted
            await time_to_tools_list(ours)
            await time_to_tools_list(bare)
        times: dict[str, list[float]] = {"ours": [], "bare": []}
        counts: dict[str, int] = {}
        for i in range(runs):
            order = [("ours", ours), ("bare", bare)]
            for name, params in order if i % 2 == 0 else order[::-1]:
                elapsed, counts[name] = await time_to_tools_list(params)
                times[name].append(elapsed)
        school_requests = len(school.requests)

    ratio_median = statistics.median(times["ours"]) / statistics.median(times["bare"])
    ratio_min = min(times["ours"]) / min(times["bare"])
    print(describe())
    print(f"Start-up, spawn → tools/list answered ({runs} runs each, {warmup} warm-up)")
    print(f"{'server':<26} {'tools':>5} {'median ms':>10} {'min ms':>9} {'max ms':>9}")
    print(row("learnworlds-mcp", times["ours"], counts["ours"]))
    print(row("bare MCPServer, one tool", times["bare"], counts["bare"]))
    verdict = "ok" if ratio_median <= GOAL_RATIO else "MISSED"
    print(f"ratio (median)             {ratio_median:.2f}×  goal ≤ {GOAL_RATIO:.2f}×  {verdict}")
    print(f"ratio (min)                {ratio_min:.2f}×")
    print(f"requests the school received during start-up: {school_requests}")
    if ratio_median > GOAL_RATIO or breakdown:
        print_breakdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per server (10)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per server first (1)")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="print where start-up time goes even when the ratio meets its goal",
    )
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.warmup, args.breakdown))
