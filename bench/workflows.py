"""Workflow tools: API calls and wall time next to what the rate limit allows, and result sizes.

A default-size sandbox school (3,000 users; its big cohort has 300 members) is served
in-process (`httpx2.ASGITransport`) with its real 30-requests-per-10-s limit on the real clock,
and a server from `build_server` (real `LearnWorldsClient`, real limiter, real clock) is reached
through one in-process `mcp.Client` session. For each workflow call it prints:

- the API calls the tool reports, and the requests the school logged (token requests included);
- the wall time, next to two ideals: calls / 3 s (the limit's average rate) and the limit's own
  allowance with its burst, 10·(ceil(requests / 30) − 1) s;
- 429s the school sent, the most requests it saw in any 10-s window, progress notifications;
- the result's text size in bytes and ≈ tokens (bytes / 4).

Between workflows it waits 10.5 s (not counted) so that each starts with a fresh window.

    uv run python bench/workflows.py             # ≈ 4 min (the cohort report takes ~100 s twice)
    uv run python bench/workflows.py --quick     # without the single-call cohort report, ≈ 2 min
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp import Client
from pydantic import SecretStr

from _env import describe
from learnworlds_mcp.config import RateLimit, Settings
from learnworlds_mcp.sandbox import LoggedRequest, SandboxOptions, SandboxSchool
from learnworlds_mcp.server import build_server

BASE_URL = "http://127.0.0.1:8000/admin/api"  # in-process: the ASGI transport never connects
WINDOW_PAUSE_SECONDS = 10.5


@dataclass
class Run:
    label: str
    api_calls: int
    requests: int
    seconds: float
    bytes: int
    throttled: int
    busiest: int
    notifications: int
    complete: bool


def busiest_window(requests: list[LoggedRequest], seconds: float = 10.0) -> int:
    times = sorted(r.at for r in requests)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


async def measure(
    client: Client, school: SandboxSchool, label: str, tool: str, arguments: dict[str, Any]
) -> tuple[Run, dict[str, Any]]:
    notes: list[float] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        notes.append(done)

    school.clear_log()
    started = time.perf_counter()
    result = await client.call_tool(tool, arguments, progress_callback=progress)
    seconds = time.perf_counter() - started
    if result.is_error:
        raise SystemExit(f"{label}: {result.content}")
    data: dict[str, Any] = result.structured_content or {}
    text = "".join(getattr(block, "text", "") for block in result.content)
    return (
        Run(
            label=label,
            api_calls=int(data.get("api_calls", 0)),
            requests=len(school.requests),
            seconds=seconds,
            bytes=len(text.encode()),
            throttled=sum(1 for r in school.requests if r.status == 429),
            busiest=busiest_window(school.requests),
            notifications=len(notes),
            complete=bool(data.get("complete")),
        ),
        data,
    )


def print_runs(runs: list[Run]) -> None:
    header = (
        f"{'call':<44} {'calls':>5} {'reqs':>5} {'wall s':>7} {'calls/3':>8} {'burst':>6} "
        f"{'429s':>4} {'max10s':>6} {'prog':>4} {'bytes':>7} {'≈tok':>6} done"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        allowance = 10 * (math.ceil(r.requests / 30) - 1) if r.requests else 0
        print(
            f"{r.label:<44} {r.api_calls:>5} {r.requests:>5} {r.seconds:>7.1f} "
            f"{r.api_calls / 3:>8.1f} {allowance:>6} {r.throttled:>4} {r.busiest:>6} "
            f"{r.notifications:>4} {r.bytes:>7,} {r.bytes // 4:>6,} {'yes' if r.complete else 'no'}"
        )


async def main(quick: bool) -> None:
    print(describe())
    school = SandboxSchool(SandboxOptions())  # 3,000 users, real clock, 30 requests / 10 s
    settings = Settings(
        api_url=BASE_URL,
        client_id=school.options.client_id,
        client_secret=SecretStr(school.options.client_secret),
        rate_limit=RateLimit(requests=30, seconds=10.0),
    )
    server = build_server(settings, transport=httpx2.ASGITransport(app=school.app))
    group = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    vip = max(
        (u for u in school.users if "vip" in u.tags and u.nps_score is not None),
        key=lambda u: len(school.enrollments_of(u, "course")),
    )
    print(
        f"school: {len(school.users):,} users; cohort {group.title!r}: "
        f"{len(school.group_members(group.id))} members, {len(group.course_ids)} courses"
    )
    runs: list[Run] = []
    async with Client(server) as client:
        run, _ = await measure(
            client,
            school,
            "inactive staff (90 days, 4 levels)",
            "list_all_learnworlds_inactive_staff",
            {},
        )
        runs.append(run)

        await asyncio.sleep(WINDOW_PAUSE_SECONDS)
        run, first = await measure(
            client,
            school,
            "cohort report, default bound: call 1",
            "get_single_learnworlds_group_report_by_id",
            {"group_id": group.id},
        )
        runs.append(run)
        if first.get("resume_from"):
            run, _ = await measure(
                client,
                school,
                "cohort report, default bound: call 2 (resume)",
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id, "resume_from": first["resume_from"]},
            )
            runs.append(run)

        if not quick:
            await asyncio.sleep(WINDOW_PAUSE_SECONDS)
            run, _ = await measure(
                client,
                school,
                "cohort report, max_calls=400: one call",
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id, "max_calls": 400},
            )
            runs.append(run)

        await asyncio.sleep(WINDOW_PAUSE_SECONDS)
        run, _ = await measure(
            client,
            school,
            "user overview (VIP, most enrollments)",
            "get_single_learnworlds_user_overview_by_id",
            {"user_id": vip.email},
        )
        runs.append(run)
    print()
    print_runs(runs)
    print(
        "\ncalls = API calls the tool reports; reqs = requests the school logged (a token request "
        "on the first call);\ncalls/3 = the limit's average rate; burst = the limit's allowance "
        "with its 30-request burst, 10·(ceil(reqs/30) − 1) s."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the single-call report")
    asyncio.run(main(parser.parse_args().quick))
