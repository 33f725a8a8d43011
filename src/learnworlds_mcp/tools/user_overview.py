"""Workflow: a user 360 — profile, NPS, role and assignments, groups, enrollments with
progress and latest activity, in one call (a handful of API calls, bounded)."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult

from learnworlds_mcp.errors import NotFoundError
from learnworlds_mcp.models.enrollments import Enrollment
from learnworlds_mcp.models.groups import GroupRef
from learnworlds_mcp.models.users import RoleWithAssignments
from learnworlds_mcp.models.workflows import (
    OverviewEnrollment,
    Profile,
    RecentEvent,
    UserOverview,
)
from learnworlds_mcp.pagination import CallBudget, read_envelope, walk_pages
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.common import UserRef, client_of, compact_result, run_concurrently
from learnworlds_mcp.tools.enrollments import PROGRESS_PAGE_SIZE
from learnworlds_mcp.tools.groups import (
    user_groups_from,
)
from learnworlds_mcp.tools.registry import tool
from learnworlds_mcp.tools.users import user_not_found

# profile, role, groups, events: 1 each; enrollments 50 a page and progress 200 a page get
# the rest (a user with 1,000 enrollments still fits).
MAX_OVERVIEW_CALLS = 30
FIXED_OVERVIEW_CALLS = 4
RECENT_EVENTS = 5


@tool(toolset="users", kind="read", title="User overview (360)")
async def get_single_learnworlds_user_overview_by_id(
    ctx: Context, user_id: UserRef
) -> Annotated[CallToolResult, UserOverview]:
    """A user at a glance: profile, NPS, role and assignments, groups, enrollments with
    progress, last activity. ~6 API calls (at most 30)."""
    client = client_of(ctx)
    budget = CallBudget(MAX_OVERVIEW_CALLS)
    steps = 6.0
    done = 0.0

    async def step(what: str) -> None:
        nonlocal done
        done += 1
        await ctx.report_progress(done, steps, what)

    budget.take(FIXED_OVERVIEW_CALLS)  # profile, role, groups, events: always read
    try:
        user = await client.get(
            api_path("/v2/users/{user_id}", user_id=user_id), {"include_suspended": "true"}
        )
    except NotFoundError:
        raise user_not_found(user_id) from None
    await step("Profile read")
    uid = str(user.get("id") or user_id)
    parts: dict[str, Any] = {}
    notes: list[str] = []

    async def role() -> None:
        parts["role"] = await client.get(api_path("/v2/users/{user_id}/user-role", user_id=uid))
        await step("Role read")

    async def groups() -> None:
        payload = await client.get(api_path("/v2/users/{user_id}/user-groups", user_id=uid))
        parts["groups"] = user_groups_from(payload)
        await step("Groups read")

    async def courses() -> None:
        path = api_path("/v2/users/{user_id}/courses", user_id=uid)
        parts["courses"] = await walk_pages(
            lambda page: client.get(path, {"page": page}), max_pages=20, budget=budget
        )
        await step("Enrollments read")

    async def progress() -> None:
        path = api_path("/v2/users/{user_id}/progress", user_id=uid)
        parts["progress"] = await walk_pages(
            lambda page: client.get(path, {"page": page, "items_per_page": PROGRESS_PAGE_SIZE}),
            max_pages=5,
            budget=budget,
        )
        await step("Progress read")

    async def events() -> None:
        payload = await client.get("/v2/event-logs", {"user_id": uid, "sort": "desc"})
        parts["events"] = read_envelope(payload).data
        await step("Activity read")

    await run_concurrently([role, groups, courses, progress, events], concurrency=5)

    progress_by_course = {p.get("course_id"): p for p in parts["progress"].items}
    enrollments = [
        OverviewEnrollment.model_validate(
            {
                **Enrollment.from_api(e).model_dump(),
                **{
                    k: progress_by_course.get((e.get("course") or {}).get("id"), {}).get(k)
                    for k in ("status", "progress_rate", "completed_at")
                },
            }
        )
        for e in parts["courses"].items
    ]
    complete = parts["courses"].complete and parts["progress"].complete
    if not complete:
        notes.append(
            f"Partial: {len(enrollments)} of {parts['courses'].total_items} enrollments read "
            f"within {MAX_OVERVIEW_CALLS} API calls; list_all_learnworlds_user_enrollments and "
            "get_single_learnworlds_user_progress_by_id page through the rest."
        )
    events_seen = parts["events"]
    fields = user.get("fields") if isinstance(user.get("fields"), dict) else {}
    filled = {k: v for k, v in fields.items() if v not in (None, "")}
    profile = Profile.model_validate(
        {**user, "suspended": bool(user.get("is_suspended")), "fields": filled or None}
    )
    return compact_result(
        UserOverview(
            user=profile,
            role=RoleWithAssignments.from_api(parts["role"]),
            groups=[GroupRef.model_validate(g) for g in parts["groups"]],
            enrollments=enrollments,
            total_enrollments=parts["courses"].total_items,
            last_activity=events_seen[0].get("created") if events_seen else None,
            recent_activity=[RecentEvent.model_validate(e) for e in events_seen[:RECENT_EVENTS]],
            api_calls=budget.used,
            complete=complete,
            note=" ".join(notes) or None,
        ),
        rest="list_all_learnworlds_user_enrollments pages through every enrollment.",
    )
