"""Rate-limit behaviour against the sandbox school's real 30-requests-per-10-s limit.

The sandbox runs on a loopback port (uvicorn, real clock); the MCP server is built with
`build_server` around a real `LearnWorldsClient` pointed at that URL, and is reached in-process
through one `mcp.Client` session.

(a) Walk: page through every user with `list_all_learnworlds_users` (`items_per_page=200`),
    following `next_page` until it is null.
(b) Burst: N calls of `get_single_learnworlds_user_by_id` from C concurrent callers sharing the
    one session, through a fresh server (so its token request is part of the burst).

The school's limit allows N requests (the token request included) in 10·(ceil(N/30) − 1) s at
best: 30 at once, then 30 more every 10 s. The burst's overhead is its wall time over that.

    uv run python bench/rate_limit.py            # 5,000 users, a 300-call burst (≈ 2 min)
    uv run python bench/rate_limit.py --quick    # 1,000 users, a 60-call burst (≈ 25 s)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import anyio
from mcp import Client
from mcp_types import CallToolResult
from pydantic import SecretStr

from _env import describe
from learnworlds_mcp.config import RateLimit, Settings
from learnworlds_mcp.sandbox import LoggedRequest, SandboxSchool, serve_sandbox
from learnworlds_mcp.server import build_server

LIMIT, WINDOW = 30, 10.0  # the school's published limit, and the client's default budget
GOAL_OVERHEAD = 0.05


@dataclass
class Outcome:
    """What the tool calls of one phase saw."""

    calls: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    largest_text: int = 0  # bytes of the largest text a model read

    def record(self, result: CallToolResult, latency: float) -> None:
        self.calls += 1
        self.latencies.append(latency)
        text = "".join(getattr(b, "text", "") for b in result.content)
        self.largest_text = max(self.largest_text, len(text.encode()))
        if result.is_error:
            self.errors.append(" ".join(getattr(b, "text", "") for b in result.content))

    @property
    def rate_limit_errors(self) -> int:
        return sum("rate limit" in e.lower() or "retry after" in e.lower() for e in self.errors)


def settings_for(url: str, school: SandboxSchool) -> Settings:
    return Settings(
        api_url=url,
        client_id=school.options.client_id,
        client_secret=SecretStr(school.options.client_secret),
        rate_limit=RateLimit(requests=LIMIT, seconds=WINDOW),
        timeout=30.0,
    )


def ideal_seconds(requests: int) -> float:
    """The least time the limit allows for `requests`: 30 at t=0, then 30 more every 10 s."""
    return WINDOW * (math.ceil(requests / LIMIT) - 1)


def max_in_window(log: Sequence[LoggedRequest], *, admitted_only: bool = False) -> int:
    """The most requests that arrived at the school within any 10-second window."""
    times = sorted(r.at for r in log if not admitted_only or r.status != 429)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= WINDOW:
            start += 1
        best = max(best, end - start + 1)
    return best


async def walk(client: Client, page_size: int) -> tuple[Outcome, set[str], int]:
    """Follow `next_page` to the end; return the outcome, the ids seen and `total_items`."""
    outcome, seen, page, total = Outcome(), set[str](), 1, -1
    while page is not None:
        started = time.perf_counter()
        result = await client.call_tool(
            "list_all_learnworlds_users", {"items_per_page": page_size, "page": page}
        )
        outcome.record(result, time.perf_counter() - started)
        if result.is_error:
            break
        data = result.structured_content or {}
        seen.update(item["id"] for item in data["items"])
        total = data["total_items"]
        page = data["next_page"]
    return outcome, seen, total


async def burst(client: Client, user_ids: list[str], concurrency: int) -> Outcome:
    """`len(user_ids)` single-user calls from `concurrency` callers sharing one session."""
    outcome = Outcome()
    queue = iter(user_ids)

    async def caller() -> None:
        for user_id in queue:  # a shared iterator: each id is taken by exactly one caller
            started = time.perf_counter()
            result = await client.call_tool(
                "get_single_learnworlds_user_by_id", {"user_id": user_id}
            )
            outcome.record(result, time.perf_counter() - started)

    async with anyio.create_task_group() as group:
        for _ in range(concurrency):
            group.start_soon(caller)
    return outcome


def school_side(log: Sequence[LoggedRequest]) -> tuple[int, int, int, int, float]:
    """Requests, token requests, 429s, max in any 10 s window, and first-to-last arrival span."""
    tokens = sum(r.path.startswith("/oauth2") for r in log)
    refused = sum(r.status == 429 for r in log)
    span = log[-1].at - log[0].at if log else 0.0
    return len(log), tokens, refused, max_in_window(log), span


def print_rows(rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        print(f"  {label:<46} {value}")


async def main(users: int, page_size: int, calls: int, concurrency: int) -> None:
    print(describe())
    print(f"Building a {users:,}-user sandbox school (limit {LIMIT}/{WINDOW:g} s, real clock)…")
    school = SandboxSchool(users=users)
    visible = [u for u in school.users if not u.is_suspended]
    with serve_sandbox(school) as url:
        # (a) the walk
        start = len(school.requests)
        async with Client(build_server(settings_for(url, school))) as client:
            began = time.perf_counter()
            walked, seen, total = await walk(client, page_size)
            walk_seconds = time.perf_counter() - began
        walk_log = school.requests[start:]

        # (b) the burst: a fresh window at the school and a fresh server (token included)
        await anyio.sleep(WINDOW + 0.5)
        start = len(school.requests)
        ids = [u.id for u in visible[:calls]]
        async with Client(build_server(settings_for(url, school))) as client:
            began = time.perf_counter()
            burst_outcome = await burst(client, ids, concurrency)
            burst_seconds = time.perf_counter() - began
        burst_log = school.requests[start:]

    requests, tokens, refused, peak, _ = school_side(walk_log)
    print(f"\n(a) Walk of every user, list_all_learnworlds_users, items_per_page={page_size}")
    print_rows(
        [
            ("tool calls", f"{walked.calls}"),
            ("requests the school saw (token requests)", f"{requests} ({tokens})"),
            ("wall time", f"{walk_seconds:.2f} s"),
            ("per call, median / max", _latency(walked.latencies)),
            ("largest result (text)", _size(walked.largest_text)),
            ("users seen (distinct ids)", f"{len(seen):,}"),
            ("total_items the tool reported", f"{total:,}"),
            ("the school's users (not suspended / all)", f"{len(visible):,} / {users:,}"),
            ("all users seen", "yes" if len(seen) == len(visible) == total else "NO"),
            ("tool errors (429s that reached a tool)", _errors(walked)),
            ("429s the school sent", f"{refused}"),
            ("max requests in any 10 s window", f"{peak} (limit {LIMIT})"),
        ]
    )

    requests, tokens, refused, peak, span = school_side(burst_log)
    ideal = ideal_seconds(requests)
    overhead = burst_seconds / ideal - 1 if ideal else 0.0
    verdict = "ok" if overhead <= GOAL_OVERHEAD else "MISSED"
    print(
        f"\n(b) Burst: {calls} × get_single_learnworlds_user_by_id, "
        f"{concurrency} concurrent callers, one MCP session"
    )
    print_rows(
        [
            ("tool calls answered", f"{burst_outcome.calls}"),
            ("requests the school saw (token requests)", f"{requests} ({tokens})"),
            ("tool errors (429s that reached a tool)", _errors(burst_outcome)),
            ("429s the school sent", f"{refused}"),
            ("wall time", f"{burst_seconds:.2f} s"),
            ("first → last request at the school", f"{span:.2f} s"),
            (f"time the limit allows for {requests} requests", f"{ideal:.2f} s"),
            ("overhead (wall time over that)", f"{overhead:+.1%}  goal ≤ 5%  {verdict}"),
            ("per call, median / max", _latency(burst_outcome.latencies)),
            ("max requests in any 10 s window", f"{peak} (limit {LIMIT})"),
        ]
    )


def _latency(latencies: list[float]) -> str:
    if not latencies:
        return "—"
    return f"{statistics.median(latencies):.3f} s / {max(latencies):.3f} s"


def _size(size: int) -> str:
    return f"{size:,} bytes ≈ {round(size / 4):,} tokens"


def _errors(outcome: Outcome) -> str:
    if not outcome.errors:
        return "0"
    return (
        f"{len(outcome.errors)} ({outcome.rate_limit_errors} rate-limit), e.g. {outcome.errors[0]}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 users and a 60-call burst")
    parser.add_argument("--users", type=int, help="school size (5,000; quick 1,000)")
    parser.add_argument("--calls", type=int, help="burst size (300; quick 60)")
    parser.add_argument("--concurrency", type=int, default=30, help="concurrent callers (30)")
    parser.add_argument("--page-size", type=int, default=200, help="walk page size (200)")
    args = parser.parse_args()
    users = args.users or (1_000 if args.quick else 5_000)
    calls = args.calls or (60 if args.quick else 300)
    asyncio.run(main(users, args.page_size, calls, args.concurrency))
