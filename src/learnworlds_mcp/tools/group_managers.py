"""Workflow: every group's managers as one table — email, NPS score, instructor and admin flags.

A group lists its managers' id, username and email; their NPS score and privileges live on each
manager's own record. One call reads the groups list and each distinct manager's record once,
paced by the shared client, bounded, resumable (managers are read in id order, so the cursor is
the next manager's id and stays valid while groups change)."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import NotFoundError
from learnworlds_mcp.models.groups import Group, GroupManager, GroupRef
from learnworlds_mcp.models.workflows import GroupManagerTable, ManagerProfile, ManagerRow
from learnworlds_mcp.pagination import CallBudget, page_reporter, title_filter, walk_pages
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.common import TitleContains, client_of, compact_result, run_concurrently
from learnworlds_mcp.tools.groups import MAX_GROUP_SCAN_PAGES
from learnworlds_mcp.tools.registry import tool

# One call's bound: the groups pages plus one read per manager (about 20 s at 30 per 10 s).
MAX_MANAGER_CALLS = 60
# Manager records read at once (the shared limiter still paces them).
MANAGER_CONCURRENCY = 4


async def manager_profiles(
    client: LearnWorldsClient,
    managers: list[GroupManager],
    budget: CallBudget,
    *,
    keep_calls: int = 0,
) -> dict[str, ManagerProfile]:
    """Each manager with NPS score and flags from their own record, read once per id, in id
    order, while more than `keep_calls` calls of `budget` are left. Managers not read (no
    budget left) are missing from the result; one whose record is gone keeps the group's
    fields only."""
    distinct = {m.id: m for m in managers}
    chosen = [
        distinct[manager_id]
        for manager_id in sorted(distinct)
        if budget.left > keep_calls and budget.take()
    ]
    profiles: dict[str, ManagerProfile] = {}

    def job(manager: GroupManager) -> Any:
        async def read() -> None:
            path = api_path("/v2/users/{user_id}", user_id=manager.id)
            try:
                record = await client.get(path)
            except NotFoundError:
                record = {}  # no longer a user: what the group says is all there is
            record = record if isinstance(record, dict) else {}
            profiles[manager.id] = ManagerProfile.model_validate(
                {
                    **manager.model_dump(exclude_none=True),
                    **{
                        key: record[key]
                        for key in ("nps_score", "is_instructor", "is_admin", "email", "username")
                        if record.get(key) is not None
                    },
                }
            )

        return read

    await run_concurrently([job(m) for m in chosen], MANAGER_CONCURRENCY)
    return profiles


@tool(toolset="groups", kind="read", title="List group managers (NPS, role)")
async def list_all_learnworlds_group_managers(
    ctx: Context,
    enroll_users_on_courses: Annotated[
        bool | None, Field(description="true: auto-enrolling groups only.")
    ] = None,
    title_contains: TitleContains = None,
    resume_from: str | None = None,
) -> Annotated[CallToolResult, GroupManagerTable]:
    """Group managers, a row per group and manager: email, NPS score, is_instructor,
    is_admin. At most 60 API calls; if partial, call again with resume_from."""
    client = client_of(ctx)
    budget = CallBudget(MAX_MANAGER_CALLS)
    name_matches = title_filter(title_contains)

    def wanted(group: dict[str, Any]) -> bool:
        auto = bool(group.get("enroll_users_on_courses"))
        if enroll_users_on_courses is not None and auto is not enroll_users_on_courses:
            return False
        return name_matches is None or name_matches(group)

    async def fetch(page: int) -> Any:
        return await client.get("/v2/user_groups", {"page": page})

    walk = await walk_pages(
        fetch,
        max_pages=MAX_GROUP_SCAN_PAGES,
        keep=wanted,
        budget=budget,
        progress=page_reporter(ctx.report_progress, "groups"),
    )
    groups = [Group.from_api(g) for g in walk.items]
    managers = [
        m for g in groups for m in g.group_managers if resume_from is None or m.id >= resume_from
    ]
    profiles = await manager_profiles(client, managers, budget)
    left = sorted({m.id for m in managers} - set(profiles))
    rows = [
        _row(group, profiles[m.id])
        for group in groups
        for m in group.group_managers
        if m.id in profiles
    ]
    notes = []
    cursor = left[0] if left else None
    if cursor is not None:
        notes.append(
            f"Partial: {len(profiles)} of {len({m.id for m in managers})} managers read "
            f"({budget.used} API calls, the bound). Call again with resume_from={cursor!r} and "
            "the same filters for the rest."
        )
    if not walk.complete:
        notes.append(
            f"Only the first {walk.pages_read * 20} groups were read: narrow with title_contains."
        )
    return compact_result(
        GroupManagerTable(
            items=rows,
            total_items=len(rows),
            groups_matched=len(groups),
            groups_without_managers=[
                GroupRef(id=g.id, title=g.title)
                for g in groups
                if not g.group_managers and resume_from is None
            ],
            managers_read=len(profiles),
            api_calls=budget.used,
            complete=cursor is None and walk.complete,
            resume_from=cursor,
            note=" ".join(notes) or None,
        )
    )


def _row(group: Group, manager: ManagerProfile) -> ManagerRow:
    return ManagerRow(
        group_id=group.id,
        group_title=group.title,
        manager_id=manager.id,
        email=manager.email,
        username=manager.username,
        nps_score=manager.nps_score,
        is_instructor=manager.is_instructor,
        is_admin=manager.is_admin,
    )
