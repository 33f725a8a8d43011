"""Chaos soak over stdio at a bigger size than the suite's `tests/test_soak.py`.

The sandbox school is served on a loopback port in chaos mode (the suite's rates: 429s with and
without `Retry-After`, 5xx before and after applying, replies slower than `LEARNWORLDS_TIMEOUT`,
dropped connections before and after applying, malformed bodies, token expiry). The installed
`learnworlds-mcp` is spawned over stdio with writes allowed, and one session sends the calls
from C concurrent callers. The calls are the suite's own plan (`plan_calls` of
`tests/test_soak.py`: reads, user and group creation, the user-overview workflow), drawn with
consecutive seeds until there are N of them.

It prints the calls, the tool errors by kind, the unknown outcomes, the faults that fired by
kind, the requests the school saw, the most of them in any window against the limit and the wall
time, then PASS/FAIL for each of the suite's checks. It exits 0 whatever it finds.

The checks are the suite's own functions (`check_reads`, `check_writes`, `check_rate_limit`,
`check_no_secrets` of `tests/test_soak.py`), so the two cannot drift apart.

    uv run python bench/soak.py                   # 1,000 calls, 20 callers, 30/10 s (≈ 21 min)
    uv run python bench/soak.py --calls 480       # the real limit in ≈ 10 min
    uv run python bench/soak.py --rate 60/2       # 1,000 calls at a faster limit (≈ 2.5 min)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_types import CallToolResult

from _env import describe
from learnworlds_mcp.sandbox import LoggedRequest, SandboxSchool, serve_sandbox

# `tests` is a package of this checkout, not an installed one: put the checkout on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support import console_script, stdio_env
from tests.test_soak import (
    CHAOS_RATES,
    MADE,
    UNKNOWN,
    Call,
    Plan,
    check_no_secrets,
    check_rate_limit,
    check_reads,
    check_writes,
    max_in_window,
    plan_calls,
    text_of,
)

SEED = 20261126  # the suite's seed; plans beyond the first use SEED + 1, SEED + 2, …
SLOW_SECONDS = 1.5  # the suite's slow replies, past its 1 s LEARNWORLDS_TIMEOUT
TIMEOUT = "1"
ALIVE_TOOL = "list_all_learnworlds_roles"

# The tool-error messages of the client layer (src/learnworlds_mcp/client.py), first match wins.
ERROR_KINDS: tuple[tuple[str, str], ...] = (
    (UNKNOWN, "outcome unknown (write)"),
    (MADE, "write made, reply unreadable"),
    ("rate limit", "rate limited"),
    ("rate-limit", "rate limited"),
    ("did not answer within", "timed out"),
    ("dropped the connection", "connection dropped"),
    ("kept failing", "retries ran out of time"),
    ("on every attempt", "server error (5xx)"),
    ("not JSON", "malformed reply"),
    ("just issued", "token revoked twice in a row"),
    ("rejected the credentials", "credentials rejected"),
    ("rejected the access token", "credentials rejected"),
    ("refused to issue", "token refused"),
    ("Could not get an access token", "token request failed"),
    ("Could not connect", "unreachable"),
)


def parse_rate(text: str) -> tuple[int, float]:
    """`"30/10"` → (30, 10.0): requests per seconds."""
    requests, _, seconds = text.partition("/")
    try:
        rate = int(requests), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected <requests>/<seconds>") from None
    if rate[0] < 1 or rate[1] <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: both must be positive")
    return rate


def rate_text(rate: tuple[int, float]) -> str:
    return f"{rate[0]}/{rate[1]:g}"


def soak_plan(school: SandboxSchool, calls: int, seed: int = SEED) -> list[Call]:
    """`calls` calls from the suite's `plan_calls`, one plan per seed from `seed` on."""
    planned: list[Call] = []
    while len(planned) < calls:
        planned.extend(plan_calls(school, seed).calls)
        seed += 1
    return planned[:calls]


def error_kind(text: str) -> str:
    """A short name for a tool error's kind, from its message."""
    for marker, kind in ERROR_KINDS:
        if marker.lower() in text.lower():
            return kind
    message = text.partition(": ")[2] or text
    return f"other: {message[:70]}"


def server_env(url: str, school: SandboxSchool, rate: tuple[int, float]) -> dict[str, str]:
    """What the suite's soak passes the server: writes on, the school's rate, a 1 s timeout."""
    return stdio_env(
        url,
        school,
        LEARNWORLDS_ALLOW_WRITES="1",
        LEARNWORLDS_RATE_LIMIT=rate_text(rate),
        LEARNWORLDS_TIMEOUT=TIMEOUT,
        LEARNWORLDS_CONFIRM_DESTRUCTIVE="off",
    )


def stdio_session(env: dict[str, str], errlog: object) -> Client:
    """An MCP session to a freshly spawned `learnworlds-mcp` (stderr into `errlog`)."""
    params = StdioServerParameters(command=console_script(), args=[], env=env)
    return Client(stdio_client(params, errlog=errlog), mode="legacy")  # type: ignore[arg-type]


HOST_TIMEOUT = 60.0  # what most MCP hosts allow one tool call


@dataclass
class Ran:
    """How a batch of calls went from the caller's side."""

    seconds: float = 0.0
    timings: list[tuple[str, float]] = field(default_factory=list)  # (tool, seconds) per call

    @property
    def latencies(self) -> list[float]:
        return [seconds for _, seconds in self.timings]

    def over(self, limit: float) -> Counter[str]:
        """Calls that took longer than `limit` seconds, by tool."""
        return Counter(tool for tool, seconds in self.timings if seconds > limit)


async def run_calls(
    client: Client,
    calls: Sequence[Call],
    concurrency: int,
    on_done: Callable[[int], None] | None = None,
) -> Ran:
    """Send every call, `concurrency` at a time; fill in each call's result and text."""
    ran, limiter, done = Ran(), anyio.Semaphore(concurrency), 0

    async def one(call: Call) -> None:
        nonlocal done
        async with limiter:
            started = time.perf_counter()
            call.result = await client.call_tool(call.tool, call.arguments)
            ran.timings.append((call.tool, time.perf_counter() - started))
            call.text = text_of(call.result)
        done += 1
        if on_done is not None:
            on_done(done)

    began = time.perf_counter()
    async with anyio.create_task_group() as group:
        for call in calls:
            group.start_soon(one, call)
    ran.seconds = time.perf_counter() - began
    return ran


def errors_by_kind(calls: Sequence[Call]) -> Counter[str]:
    return Counter(error_kind(c.text) for c in calls if c.result is not None and c.result.is_error)


def counts(counter: Counter[str]) -> str:
    return " · ".join(f"{kind} {n:,}" for kind, n in counter.most_common()) or "none"


def latency_text(latencies: list[float]) -> str:
    if len(latencies) < 2:
        return "—"
    p95 = statistics.quantiles(latencies, n=20)[-1]
    return f"{statistics.median(latencies):.3f} / {p95:.3f} / {max(latencies):.3f} s"


def request_figures(log: Sequence[LoggedRequest]) -> str:
    tokens = sum(r.path.startswith("/oauth2") for r in log)
    writes = sum(r.is_write for r in log)
    refused = sum(r.fault == "rate_limited" for r in log)
    dropped = sum(r.status is None for r in log)
    return (
        f"{len(log):,} (token {tokens:,}, writes {writes:,}, "
        f"429s from the school's own limit {refused:,}, no answer {dropped:,})"
    )


@dataclass
class Soak:
    calls: list[Call]
    ran: Ran
    fired: list[str]
    alive: CallToolResult
    stderr: str
    requests: list[LoggedRequest]
    school: SandboxSchool
    roles_before: list[str]
    users_before: dict[str, tuple[str, str]]
    groups_before: dict[str, str]


async def soak(
    users: int, calls: int, concurrency: int, rate: tuple[int, float], seed: int
) -> tuple[SandboxSchool, Soak]:
    school = SandboxSchool(users=users, rate_limit=rate, retry_after_header=False)
    planned = soak_plan(school, calls, seed)
    roles_before = [r.title for r in school.roles]
    users_before = {u.id: (u.email, u.role_id) for u in school.users}
    groups_before = {g.id: g.title for g in school.groups}
    with serve_sandbox(school) as url, tempfile.TemporaryFile(mode="w+") as errlog:
        school.faults.chaos(seed, CHAOS_RATES, slow_seconds=SLOW_SECONDS, path_contains="/v2/")
        async with stdio_session(server_env(url, school, rate), errlog) as client:
            ran = await run_calls(client, planned, concurrency)
            fired = [kind for kind in school.faults.chaos_log if kind != "none"]
            school.faults.calm()
            alive = await client.call_tool(ALIVE_TOOL, {})
        errlog.seek(0)
        stderr = errlog.read()
    return school, Soak(
        planned, ran, fired, alive, stderr, list(school.requests),
        school, roles_before, users_before, groups_before,
    )  # fmt: skip


def checks(run: Soak, rate: tuple[int, float]) -> list[tuple[str, str]]:
    """(verdict, what) for each of the suite's checks, run by the suite's own functions."""
    plan = Plan(calls=run.calls)
    suite: list[tuple[str, Callable[[], None]]] = [
        (
            "every read matched the school or was a clear tool error",
            lambda: check_reads(plan, run.roles_before, run.users_before, run.groups_before),
        ),
        (
            "the school's state is what the writes' answers imply; none sent twice",
            lambda: check_writes(plan, run.school),
        ),
        (
            f"the request log never exceeds the limit ({rate[0]} in {rate[1]:g} s)",
            lambda: check_rate_limit(run.school, rate),
        ),
        (
            "no secret or token in any result or stderr line; no traceback",
            lambda: check_no_secrets(run.school, plan, run.stderr),
        ),
    ]
    found = []
    for what, check in suite:
        try:
            check()
            found.append(("PASS", what))
        except AssertionError as failure:
            first = str(failure).splitlines()[0][:120] if str(failure) else "(no message)"
            found.append(("FAIL", f"{what}: {first}"))
        except (KeyError, TypeError, ValueError) as failure:  # a result not shaped as expected
            found.append(("FAIL", f"{what}: {type(failure).__name__} {failure}"))
    found.append(
        (
            "PASS" if not run.alive.is_error else "FAIL",
            f"the server still answers ({ALIVE_TOOL} after the soak)",
        )
    )
    return found


def report(run: Soak, users: int, concurrency: int, rate: tuple[int, float]) -> None:
    calls = run.calls
    writes = [c for c in calls if c.kind == "write"]
    errors = errors_by_kind(calls)
    unknown = sum(UNKNOWN in c.text for c in calls)
    peak = max_in_window([r.at for r in run.requests], rate[1])
    rows = [
        ("calls (reads / writes)", f"{len(calls):,} ({len(calls) - len(writes):,} / {len(writes):,})"),
        ("tool errors", f"{sum(errors.values()):,}"),
        ("  by kind", counts(errors)),
        ("unknown outcomes (writes)", f"{unknown:,} of {len(writes):,}"),
        ("faults fired", f"{len(run.fired):,}"),
        ("  by kind", counts(Counter(run.fired))),
        ("requests the school saw", request_figures(run.requests)),
        ("max requests in any window", f"{peak} (limit {rate[0]} per {rate[1]:g} s)"),
        ("wall time", f"{run.ran.seconds:.1f} s ({len(calls) / run.ran.seconds:.2f} calls/s)"),
        ("per call: median / p95 / max", latency_text(run.ran.latencies)),
        (f"calls over {HOST_TIMEOUT:g} s (a host's usual limit)", counts(run.ran.over(HOST_TIMEOUT))),
        ("stderr lines (warnings of retries)", f"{len(run.stderr.splitlines()):,}"),
    ]  # fmt: skip
    print(
        f"\nSoak: {len(calls):,} calls from {concurrency} concurrent callers, one stdio session; "
        f"{users:,}-user school, limit {rate_text(rate)} s (the client's budget too), "
        f"LEARNWORLDS_TIMEOUT={TIMEOUT}, slow replies {SLOW_SECONDS:g} s"
    )
    for label, value in rows:
        print(f"  {label:<40} {value}")
    print("\nChecks")
    for verdict, what in checks(run, rate):
        print(f"  {verdict:<8} {what}")


async def main(
    calls: int, concurrency: int, rate: tuple[int, float], users: int, seed: int
) -> None:
    print(describe())
    print(
        f"Chaos rates (tests/test_soak.py): {', '.join(f'{k} {v:g}' for k, v in CHAOS_RATES.items())}"
    )
    _, run = await soak(users, calls, concurrency, rate, seed)
    report(run, users, concurrency, rate)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000, help="tool calls (1,000)")
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent callers (20)")
    parser.add_argument(
        "--rate",
        type=parse_rate,
        default=(30, 10.0),
        help="requests/seconds for the school and the client alike (30/10, the real limit)",
    )
    parser.add_argument("--users", type=int, default=300, help="school size (300, as the suite)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"first plan's seed ({SEED})")
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.concurrency, args.rate, args.users, args.seed))
