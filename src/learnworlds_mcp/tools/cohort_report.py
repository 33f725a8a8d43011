"""Workflow: a cohort report for one group — managers, courses, members and their progress.

Paced by the shared client, reporting MCP progress, bounded by `max_calls`, resumable: the
server keeps an unfinished tally for a while so a second call completes the same report."""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import LearnWorldsError, NotFoundError
from learnworlds_mcp.models.groups import Group
from learnworlds_mcp.models.workflows import (
    CohortCourse,
    CohortMember,
    GroupReport,
    ReportGroup,
)
from learnworlds_mcp.pagination import CallBudget, read_envelope, walk_pages
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.state.tallies import TALLY_TTL_SECONDS
from learnworlds_mcp.tools.common import (
    DAY,
    app_context,
    client_of,
    compact_result,
    run_concurrently,
)
from learnworlds_mcp.tools.enrollments import PROGRESS_PAGE_SIZE
from learnworlds_mcp.tools.group_managers import manager_profiles
from learnworlds_mcp.tools.groups import (
    MEMBERS_PAGE_SIZE,
    find_group,
    members_fetcher,
)
from learnworlds_mcp.tools.registry import tool

# One tool call's default bound: about a minute at 30 requests per 10 s.
DEFAULT_REPORT_CALLS = 180
MAX_REPORT_CALLS = 1000
# Member progress reads in flight at once (the shared limiter still paces them).
PROGRESS_CONCURRENCY = 4


@dataclass
class _Tally:
    """A cohort report in the making: kept between a partial call and its continuation."""

    group: ReportGroup
    titles: dict[str, str | None]
    member_count: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    partly_read: int = 0
    count_known: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.group.model_dump(mode="json"),
            "titles": self.titles,
            "member_count": self.member_count,
            "rows": self.rows,
            "partly_read": self.partly_read,
            "count_known": self.count_known,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "_Tally":
        return cls(
            group=ReportGroup.model_validate(data["group"]),
            titles=dict(data["titles"]),
            member_count=int(data["member_count"]),
            rows=list(data["rows"]),
            partly_read=int(data["partly_read"]),
            count_known=bool(data["count_known"]),
        )


async def _take_tally(ctx: Context, group_id: str, page: int) -> _Tally | None:
    """A copy of the tally a partial report left for `page` (so a repeated call counts alike),
    from the shared state: a continuation may reach another replica than the partial call."""
    kept = await app_context(ctx).tallies.find(group_id, page)
    return None if kept is None else _Tally.from_json(kept)


async def _keep_tally(ctx: Context, group_id: str, page: int, tally: _Tally) -> None:
    await app_context(ctx).tallies.keep(group_id, page, tally.as_json())


@tool(toolset="groups", kind="read", title="Cohort report for a group")
async def get_single_learnworlds_group_report_by_id(
    ctx: Context,
    group_id: Annotated[str, Field(description="Group id or title.")],
    member_limit: Annotated[int, Field(ge=0, le=500, description="Members listed.")] = 25,
    max_calls: Annotated[int, Field(ge=30, le=MAX_REPORT_CALLS)] = DEFAULT_REPORT_CALLS,
    resume_from: Annotated[int | None, Field(ge=1)] = None,
) -> Annotated[CallToolResult, GroupReport]:
    """Cohort report (group by id or title): managers with NPS, courses, members' progress
    per course, last logins, the member_limit furthest behind. ~1 API call per member; past
    max_calls, call again with resume_from."""
    client = client_of(ctx)
    budget = CallBudget(max_calls)
    # A continuation by id finds its tally without a call; a title is resolved first.
    tally = await _take_tally(ctx, group_id.strip(), resume_from) if resume_from else None
    found: dict[str, Any] | None = None
    if tally is None:
        found = await find_group(client, group_id, budget)
        group_id = str(found.get("id") or group_id)
        tally = await _take_tally(ctx, group_id, resume_from) if resume_from else None
    else:
        group_id = tally.group.id
    notes: list[str] = []
    if resume_from and tally is None:
        notes.append(
            f"Members before page {resume_from} are not counted here: no partial tally for "
            f"that page is kept (they expire after {TALLY_TTL_SECONDS // 60} min). Call "
            "without resume_from for the whole group."
        )
    if tally is None:
        assert found is not None  # no tally: the group was just read
        tally = await _start_tally(client, Group.from_api(found), budget, 1 + MEMBERS_PAGE_SIZE)
    course_ids = list(tally.group.products)
    page_cost = 1 + (MEMBERS_PAGE_SIZE if course_ids else 0)
    next_page = resume_from or 1
    members_page = members_fetcher(client, group_id, group_known=True)

    async def fetch(page: int) -> Any:
        payload = await members_page(page)
        envelope = read_envelope(payload, requested_page=page)
        if envelope.paged:
            tally.member_count = envelope.total_items
            tally.count_known = True
            if page > envelope.total_pages:  # the API repeats the last page past the end
                return {"data": [], "meta": payload["meta"]}
        return payload

    async def on_page(members: list[dict[str, Any]]) -> None:
        nonlocal next_page
        rows = [_member_row(m) for m in members]
        if course_ids:
            await run_concurrently(
                [_progress_job(client, row, course_ids, budget) for row in rows],
                PROGRESS_CONCURRENCY,
            )
        tally.rows.extend(rows)
        tally.partly_read += sum(1 for r in rows if r.pop("_partly", False))
        tally.member_count = max(tally.member_count, len(tally.rows))
        next_page += 1
        await ctx.report_progress(
            float(len(tally.rows)),
            float(tally.member_count),
            f"Progress read for {len(tally.rows)} of {tally.member_count} members",
        )

    resume: int | None = None
    try:
        walk = await walk_pages(
            fetch,
            start_page=next_page,
            max_pages=MAX_REPORT_CALLS,
            budget=budget,
            calls_per_page=page_cost,
            on_page=on_page,
            page_size=MEMBERS_PAGE_SIZE,
        )
        resume = walk.next_page
    except LearnWorldsError as error:
        if not tally.rows:
            raise
        resume = next_page  # the page that failed has not been counted
        notes.append(f"Stopped early: {error}")
    if resume is not None:
        await _keep_tally(ctx, group_id, resume, tally)
        of = f" of {tally.member_count}" if tally.count_known else ""
        notes.append(
            f"Partial: {len(tally.rows)}{of} members counted after "
            f"{budget.used} API calls (max_calls={max_calls}). Call again with "
            f"resume_from={resume} to finish this tally (kept {TALLY_TTL_SECONDS // 60} min)."
        )
    if tally.partly_read:
        notes.append(
            f"{tally.partly_read} member(s) hold so many courses that not all their progress "
            "was read; their unread courses count as not enrolled."
        )
    return compact_result(
        _report(tally, course_ids, member_limit, budget.used, resume, " ".join(notes) or None),
        rest="Lower member_limit to list fewer members.",
    )


async def _start_tally(
    client: LearnWorldsClient, group: Group, budget: CallBudget, page_cost: int
) -> _Tally:
    """The group with its managers' records (NPS, flags) and its courses' titles, each read
    only while a members page still fits in the budget."""
    profiles = await manager_profiles(client, group.group_managers, budget, keep_calls=page_cost)
    managers = [profiles.get(m.id) or m for m in group.group_managers]
    report_group = ReportGroup.model_validate(
        {**group.model_dump(), "group_managers": [m.model_dump() for m in managers]}
    )
    titles: dict[str, str | None] = {}
    for course_id in group.products:
        titles[course_id] = None
        if budget.left > page_cost and budget.take():
            try:
                course = await client.get(api_path("/v2/courses/{course_id}", course_id=course_id))
                titles[course_id] = course.get("title") if isinstance(course, dict) else None
            except NotFoundError:
                pass  # a course deleted since the group was made: keep its slug
    return _Tally(group=report_group, titles=titles, member_count=0)


def _member_row(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": user.get("id"),
        "email": user.get("email"),
        "username": user.get("username"),
        "last_login": user.get("last_login"),
        "progress": {},
    }


def _progress_job(
    client: LearnWorldsClient, row: dict[str, Any], course_ids: list[str], budget: CallBudget
) -> Callable[[], Awaitable[None]]:
    """A job that fills `row["progress"]` with {course id: progress item} for `course_ids`.

    One `GET /v2/users/{id}/progress` (200 courses a page) covers every course of a member.
    """
    wanted = set(course_ids)
    path = api_path("/v2/users/{user_id}/progress", user_id=str(row["id"]))

    async def job() -> None:
        async def fetch(page: int) -> Any:
            return await client.get(path, {"page": page, "items_per_page": PROGRESS_PAGE_SIZE})

        try:
            walk = await walk_pages(
                fetch,
                max_pages=5,
                keep=lambda item: item.get("course_id") in wanted,
                budget=budget,
            )
        except NotFoundError:
            return  # the user left the school since the members page was read
        row["progress"] = {
            item["course_id"]: {"status": item.get("status"), "rate": item.get("progress_rate")}
            for item in walk.items
        }
        if not walk.complete and len(row["progress"]) < len(wanted):
            row["_partly"] = True

    return job


def _report(
    tally: _Tally,
    course_ids: list[str],
    member_limit: int,
    calls: int,
    resume: int | None,
    note: str | None,
) -> GroupReport:
    now = time.time()
    rows = tally.rows
    courses = []
    for course_id in course_ids:
        items = [r["progress"][course_id] for r in rows if course_id in r["progress"]]
        rates = [float(i.get("rate") or 0) for i in items]
        completed = sum(1 for i in items if i.get("status") == "completed")
        not_started = sum(1 for i in items if i.get("status") == "not_started")
        courses.append(
            CohortCourse(
                course_id=course_id,
                title=tally.titles.get(course_id),
                enrolled=len(items),
                completed=completed,
                in_progress=len(items) - completed - not_started,
                not_started=not_started,
                not_enrolled=len(rows) - len(items),
                average_progress=round(sum(rates) / len(rates), 1) if rates else None,
            )
        )

    def rate(row: dict[str, Any], course_id: str) -> float | None:
        item = row["progress"].get(course_id)
        return None if item is None else float(item.get("rate") or 0)

    def behind(row: dict[str, Any]) -> tuple[float, float, str]:
        rates = [rate(row, c) or 0.0 for c in course_ids]
        last = row["last_login"] if isinstance(row["last_login"], int | float) else 0.0
        return (sum(rates) / len(rates) if rates else 0.0, last, str(row["email"]))

    listed = sorted(rows, key=behind)[:member_limit]
    logins = [r["last_login"] for r in rows]
    return GroupReport(
        group=tally.group,
        member_count=max(tally.member_count, len(rows)),
        members_read=len(rows),
        courses=courses,
        never_logged_in=sum(1 for t in logins if not isinstance(t, int | float)),
        idle_30_days=sum(1 for t in logins if isinstance(t, int | float) and t < now - 30 * DAY),
        members=[
            CohortMember.model_validate({**r, "progress": [rate(r, c) for c in course_ids]})
            for r in listed
        ],
        api_calls=calls,
        complete=resume is None,
        resume_from=resume,
        note=note,
    )
