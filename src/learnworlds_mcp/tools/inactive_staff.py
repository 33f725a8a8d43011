"""Workflow: staff (admins, instructors, reporters) who have not logged in for N days.

One users-list walk per staff level, paced by the shared client, bounded, resumable."""

import time
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from learnworlds_mcp.errors import InvalidRequestError
from learnworlds_mcp.models.common import to_iso
from learnworlds_mcp.models.workflows import (
    InactiveStaff,
    StaffMember,
)
from learnworlds_mcp.pagination import CallBudget, walk_pages
from learnworlds_mcp.tools.common import DAY, client_of, compact_result
from learnworlds_mcp.tools.registry import tool

StaffLevel = Literal["admin", "instructor", "reporter", "license_reporter"]
STAFF_LEVELS: tuple[StaffLevel, ...] = ("admin", "instructor", "reporter", "license_reporter")
# 200 staff a call: 30 calls cover 6,000 staff accounts (about 7 s of the rate limit).
MAX_STAFF_CALLS = 30
STAFF_PAGE_SIZE = 200


def _parse_staff_cursor(cursor: str | None, levels: list[StaffLevel]) -> tuple[int, int]:
    """`resume_from` ("level:page") → (index into `levels`, page)."""
    if cursor is None:
        return 0, 1
    level, _, page = cursor.partition(":")
    if level not in levels or not page.isdigit() or int(page) < 1:
        raise InvalidRequestError(
            f"resume_from {cursor!r} is not one this tool gave out for these levels: pass the "
            "resume_from of the previous result unchanged, with the same levels."
        )
    return next(i for i, name in enumerate(levels) if name == level), int(page)


@tool(toolset="users", kind="read", title="Find inactive staff")
async def list_all_learnworlds_inactive_staff(
    ctx: Context,
    days: Annotated[int, Field(ge=1, le=3650)] = 90,
    levels: Annotated[list[StaffLevel] | None, Field()] = None,
    include_suspended: bool = False,
    resume_from: str | None = None,
) -> Annotated[CallToolResult, InactiveStaff]:
    """Staff (admin, instructor, reporter, license_reporter levels; not seat managers) with
    no login for `days` days or ever. At most 30 API calls; if partial, call again with
    resume_from."""
    client = client_of(ctx)
    chosen = list(dict.fromkeys(levels or STAFF_LEVELS))
    first_level, first_page = _parse_staff_cursor(resume_from, chosen)
    now = time.time()
    cutoff = now - days * DAY
    budget = CallBudget(MAX_STAFF_CALLS)
    found: list[dict[str, Any]] = []
    checked = 0
    cursor: str | None = None

    def inactive(user: dict[str, Any]) -> bool:
        nonlocal checked
        checked += 1
        last = user.get("last_login")
        return not isinstance(last, int | float) or last < cutoff

    for index in range(first_level, len(chosen)):
        level = chosen[index]

        # `license_reporter` is a role filter of the 2026 spec only: a school that ignores it
        # lists everyone, so each account is also held to the level its record states.
        def keep(user: dict[str, Any], level: str = level) -> bool:
            return _level_of(user) in (level, None) and inactive(user)

        params: dict[str, Any] = {"role": level, "items_per_page": STAFF_PAGE_SIZE}
        if include_suspended:
            params["include_suspended"] = "true"

        async def fetch(page: int, params: dict[str, Any] = params) -> Any:
            return await client.get("/v2/users", {**params, "page": page})

        async def progress(pages: int, total: int | None, level: str = level) -> None:
            await ctx.report_progress(
                float(budget.used), None, f"Read {pages} page(s) of {level} accounts"
            )

        walk = await walk_pages(
            fetch,
            start_page=first_page if index == first_level else 1,
            max_pages=MAX_STAFF_CALLS,
            keep=keep,
            budget=budget,
            progress=progress,
        )
        found.extend(walk.items)
        if not walk.complete:
            cursor = f"{level}:{walk.next_page}"
            break

    members = sorted(
        (_staff_member(u, now) for u in found),
        key=lambda m: (m.days_since_login is not None, -(m.days_since_login or 0), m.email),
    )
    note = None
    if cursor is not None:
        note = (
            f"Stopped after {budget.used} API calls (the bound): call again with "
            f"resume_from={cursor!r} and the same levels for the rest."
        )
    return compact_result(
        InactiveStaff(
            items=members,
            total_items=len(members),
            days=days,
            cutoff=to_iso(cutoff) or "",
            levels=list(chosen),
            staff_checked=checked,
            api_calls=budget.used,
            complete=cursor is None,
            resume_from=cursor,
            note=note,
        )
    )


def _level_of(user: dict[str, Any]) -> str | None:
    """The access level a user record states (`role.level`), if it states one."""
    role = user.get("role")
    level = role.get("level") if isinstance(role, dict) else None
    return level if isinstance(level, str) else None


def _staff_member(user: dict[str, Any], now: float) -> StaffMember:
    last = user.get("last_login")
    idle = int((now - last) // DAY) if isinstance(last, int | float) else None
    return StaffMember.model_validate(
        {
            **user,
            "days_since_login": idle,
            "suspended": True if user.get("is_suspended") else None,
        }
    )
