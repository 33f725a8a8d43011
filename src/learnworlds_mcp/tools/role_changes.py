"""Roles: change the role a user has, and what the role is assigned to."""

from typing import Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Resolve
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from learnworlds_mcp.errors import NotFoundError, UnexpectedResponseError
from learnworlds_mcp.models.changes import RoleChange
from learnworlds_mcp.models.users import UserRoleDetail
from learnworlds_mcp.pagination import read_envelope
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.changes import (
    MAX_LISTED,
    Confirm,
    DryRun,
    Plan,
    as_tool_errors,
    carry_out,
    check_courses,
    confirmation,
    fetch_group,
    listing,
    read_back,
    who,
)
from learnworlds_mcp.tools.common import UserRef, client_of, compact_result
from learnworlds_mcp.tools.registry import tool
from learnworlds_mcp.tools.users import user_not_found


class CourseShare(BaseModel):
    """A course assigned to an instructor, with their share of its revenue."""

    course_id: str = Field(min_length=1, description="Course slug.")
    revenue_share_percentage: float = Field(default=0, ge=0, le=100)


async def _user_role(ctx: Context, user_id: str) -> dict[str, Any]:
    path = api_path("/v2/users/{user_id}/user-role", user_id=user_id)
    try:
        data = await client_of(ctx).get(path)
    except NotFoundError:
        raise user_not_found(user_id) from None
    if not isinstance(data, dict) or "id" not in data:
        raise UnexpectedResponseError("The school's reply for a user's role was not one.")
    return data


@as_tool_errors
async def _plan_role(
    ctx: Context,
    user_id: str,
    role_id: str,
    assigned_courses: list[CourseShare] | None,
    assigned_user_group_ids: list[str] | None,
) -> Plan:
    client = client_of(ctx)
    current = await _user_role(ctx, user_id)
    wanted_role = role_id.strip()
    roles = read_envelope(await client.get("/v2/user-roles", {"role_id": wanted_role})).data
    role = next((r for r in roles if r.get("id") == wanted_role), None)
    if role is None:
        raise NotFoundError(
            f"No role with id {wanted_role!r} in this school: list_all_learnworlds_roles lists "
            "the roles with their ids. Nothing was sent."
        )
    before = UserRoleDetail.from_api(current)
    before_courses = before.assigned_courses or []
    before_groups = before.assigned_user_group_ids or []
    # The API may send a course's share as null: none is 0 %.
    kept = [
        CourseShare(course_id=a.course_id, revenue_share_percentage=a.revenue_share_percentage or 0)
        for a in before_courses
    ]
    # Assignments left out are kept: the API would otherwise remove them.
    courses = [c.model_dump() for c in (assigned_courses if assigned_courses is not None else kept)]
    groups = (
        list(dict.fromkeys(g.strip() for g in assigned_user_group_ids))
        if assigned_user_group_ids is not None
        else before_groups
    )
    known_courses = {a.course_id for a in before_courses}
    await check_courses(
        client, [c["course_id"] for c in courses if c["course_id"] not in known_courses]
    )
    for group_id in groups[:MAX_LISTED]:
        if group_id not in before_groups:
            await fetch_group(client, group_id)
    body: dict[str, Any] = {
        "role_id": wanted_role,
        "assigned_courses": courses,
        "assigned_user_group_ids": groups,
        "assigned_seat_offering_ids": before.assigned_seat_offering_ids or [],
    }
    if before.assigned_segment_id:
        body["assigned_segment_id"] = before.assigned_segment_id
    if "assigned_licenses_ids" in current:
        body["assigned_licenses_ids"] = before.assigned_licenses_ids or []
    same = (
        before.role is not None
        and before.role.id == wanted_role
        and courses == [c.model_dump() for c in kept]
        and groups == before_groups
    )
    old_title = (before.role.name or before.role.id) if before.role else "no role"
    new_title = f"{role.get('title') or wanted_role} ({role.get('access_level') or 'role'})"
    extra = ""
    if assigned_courses is not None:
        extra += f", courses [{listing([c['course_id'] for c in courses])}]"
    if assigned_user_group_ids is not None:
        extra += f", groups [{listing(groups)}]"
    return Plan(
        "PUT",
        api_path("/v2/users/{user_id}/user-role", user_id=current["id"]),
        body,
        f"Change {who(current)}'s role from {old_title} to {new_title}{extra}? What they may "
        "see and do changes at once; to undo, change it back (replaced assignments must be "
        "given again).",
        f"get_single_learnworlds_user_role_by_id (user_id={current['id']}), which shows the "
        "role and its assignments",
        unchanged=f"{who(current)} already has this role and these assignments." if same else None,
        reads={"current": current, "title": role.get("title")},
    )


@tool(toolset="roles", kind="destructive", title="Change a user's role", idempotent=True)
async def change_a_learnworlds_user_role(
    ctx: Context,
    plan: Annotated[Plan, Resolve(_plan_role)],
    answer: Annotated[ElicitationResult[Confirm], Resolve(confirmation(_plan_role))],
    user_id: UserRef,
    role_id: Annotated[str, Field(min_length=1, description="From list_all_learnworlds_roles.")],
    assigned_courses: Annotated[
        list[CourseShare] | None,
        Field(max_length=MAX_LISTED, description="Replaces the list."),
    ] = None,
    assigned_user_group_ids: Annotated[
        list[str] | None,
        Field(max_length=MAX_LISTED, description="Replaces the list."),
    ] = None,
    dry_run: DryRun = False,
) -> Annotated[CallToolResult, RoleChange]:
    """Give a user another role; access changes at once. Assignments left out are kept; an
    empty list clears one. Instructors need assigned_courses."""
    client = client_of(ctx)
    outcome = await carry_out(client, plan, dry_run=dry_run, answer=answer)
    record = plan.reads["current"]
    if outcome.done:
        record = outcome.reply
        if not (isinstance(record, dict) and ("role_id" in record or "user_role" in record)):
            record = await read_back(plan, _user_role(ctx, str(plan.reads["current"]["id"])))
    return compact_result(
        RoleChange(
            **outcome.fields(plan),
            user_role=_with_role_name(
                UserRoleDetail.from_api(record), plan.reads["title"] if outcome.done else None
            ),
        )
    )


def _with_role_name(detail: UserRoleDetail, title: str | None) -> UserRoleDetail:
    """Fill the role's name from the role list when the API's reply leaves it out."""
    if detail.role is None or detail.role.name or not title:
        return detail
    return detail.model_copy(update={"role": detail.role.model_copy(update={"name": title})})
