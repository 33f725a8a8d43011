"""Changes to user groups: create, update, add a member, remove a member."""

from typing import Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Resolve
from mcp_types import CallToolResult
from pydantic import Field

from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import InvalidRequestError, WriteReplyUnreadableError
from learnworlds_mcp.models.changes import GroupBrief, GroupChange, MembershipChange, Person
from learnworlds_mcp.models.groups import Group, course_slugs
from learnworlds_mcp.pagination import page_reporter
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.changes import (
    MAX_LISTED,
    MAX_TAGS,
    Confirm,
    DryRun,
    Outcome,
    Plan,
    as_tool_errors,
    carry_out,
    check_courses,
    check_tags,
    confirmation,
    fetch_group,
    fetch_user,
    listing,
    read_back,
    resolve_user_ids,
    who,
)
from learnworlds_mcp.tools.common import GroupId, UserRef, client_of, compact_result
from learnworlds_mcp.tools.groups import count_members, user_groups_from
from learnworlds_mcp.tools.registry import tool

Title = Annotated[str, Field(min_length=1, max_length=200)]
Courses = Annotated[list[str], Field(max_length=MAX_LISTED, description="Course slugs.")]
Capacity = Annotated[int | None, Field(ge=1)]
Managers = Annotated[list[str] | None, Field(max_length=MAX_LISTED, description="Ids or emails.")]
GroupTags = Annotated[
    list[str] | None, Field(max_length=MAX_TAGS, description="Tags given to members.")
]


def _courses_of(group: dict[str, Any]) -> list[str]:
    return course_slugs(group.get("products"))


def _manager_ids(group: dict[str, Any]) -> list[str]:
    managers = group.get("group_managers") or []
    return [str(m["id"]) for m in managers if isinstance(m, dict) and m.get("id")]


async def user_groups(client: LearnWorldsClient, user_id: str) -> list[dict[str, Any]]:
    """The groups a user is in, as `{id, title}` (both of the API's reply shapes)."""
    reply = await client.get(api_path("/v2/users/{user_id}/user-groups", user_id=user_id))
    return [g for g in user_groups_from(reply) if "id" in g]


async def member_count(ctx: Context, group_id: str) -> int:
    """How many users a group has, suspended ones included, to check its capacity."""
    progress = page_reporter(ctx.report_progress, "members")
    return await count_members(client_of(ctx), group_id, progress, then="Nothing was sent.")


def _group_result(plan: Plan, outcome: Outcome) -> CallToolResult:
    record = outcome.reply if outcome.done else plan.reads.get("group")
    group = Group.from_api(record) if isinstance(record, dict) and "id" in record else None
    return compact_result(GroupChange(**outcome.fields(plan), group=group))


# -------------------------------------------------------------------------------- writes


@tool(toolset="groups", kind="write", title="Create a group", idempotent=False)
async def create_a_learnworlds_group(
    ctx: Context,
    title: Title,
    courses: Courses,
    description: Annotated[str | None, Field(max_length=2000)] = None,
    max_number_of_users: Capacity = None,
    enroll_users_on_courses: Annotated[bool | None, Field()] = None,
    group_managers: Managers = None,
    tags: GroupTags = None,
    dry_run: DryRun = False,
) -> Annotated[CallToolResult, GroupChange]:
    """Create a group (cohort) with courses (slugs; may be empty), managers and capacity. No
    tool deletes groups."""
    client = client_of(ctx)
    name = title.strip()
    if not name:
        raise InvalidRequestError("title is blank: give the group a name.")
    body: dict[str, Any] = {"title": name, "products": {"courses": courses}}
    if description is not None:
        body["description"] = description
    if max_number_of_users is not None:
        body["max_number_of_users"] = max_number_of_users
    if enroll_users_on_courses is not None:
        body["enroll_users_on_courses"] = enroll_users_on_courses
    if tags:
        body["tags"] = check_tags(tags)
    body["products"]["courses"] = await check_courses(client, courses)
    if group_managers:
        body["group_managers"] = await resolve_user_ids(client, group_managers, "group_managers")
    plan = Plan(
        "POST",
        "/v2/user_groups",
        body,
        f"Create group '{name}'?",
        "list_all_learnworlds_groups (newest first)",
    )
    outcome = await carry_out(client, plan, dry_run=dry_run)
    if outcome.done and not (isinstance(outcome.reply, dict) and "id" in outcome.reply):
        raise WriteReplyUnreadableError(
            "the school did not return the new group", check_with=plan.check_with
        )
    return _group_result(plan, outcome)


@tool(toolset="groups", kind="write", title="Add a user to a group", idempotent=True)
async def add_a_learnworlds_user_to_a_group(
    ctx: Context, group_id: GroupId, user_id: UserRef, dry_run: DryRun = False
) -> Annotated[CallToolResult, MembershipChange]:
    """Add a user to a group: they get its tags and, if it enrolls members, its courses.
    Fails if already a member or full."""
    client = client_of(ctx)
    group = await fetch_group(client, group_id)
    user = await fetch_user(client, user_id)
    groups = await user_groups(client, user["id"])
    title = group.get("title")
    if any(g["id"] == group["id"] for g in groups):
        raise InvalidRequestError(
            f"{who(user)} is already a member of group {title!r}. Nothing was sent."
        )
    capacity = group.get("max_number_of_users")
    if isinstance(capacity, int | float) and not isinstance(capacity, bool):
        count = await member_count(ctx, group["id"])
        if count >= capacity:
            raise InvalidRequestError(
                f"Group {title!r} is full: {count} of {int(capacity)} places taken. Raise "
                "max_number_of_users with update_a_learnworlds_group_by_id or remove a member "
                "first. Nothing was sent."
            )
    gives = []
    if group.get("tags"):
        gives.append(f"tags {listing(group['tags'])}")
    if group.get("enroll_users_on_courses") and _courses_of(group):
        gives.append(f"courses {listing(_courses_of(group))}")
    plan = Plan(
        "POST",
        api_path(
            "/v2/user_groups/{group_id}/users/{user_id}", group_id=group["id"], user_id=user["id"]
        ),
        None,
        f"Add {who(user)} to group {title!r}?",
        "add_a_learnworlds_user_to_a_group with dry_run=true (it fails if they are a member)",
    )
    outcome = await carry_out(client, plan, dry_run=dry_run)
    if outcome.done:
        groups = await read_back(plan, user_groups(client, user["id"]))
    if gives:
        outcome.note = " ".join(filter(None, [outcome.note, f"Members get {' and '.join(gives)}."]))
    return compact_result(_membership(plan, outcome, user, group, groups))


def _membership(
    plan: Plan,
    outcome: Outcome,
    user: dict[str, Any],
    group: dict[str, Any],
    groups: list[dict[str, Any]],
) -> MembershipChange:
    return MembershipChange(
        **outcome.fields(plan),
        user=Person.model_validate(user),
        group=GroupBrief.model_validate(group),
        member=any(g["id"] == group["id"] for g in groups),
        user_groups=[GroupBrief.model_validate(g) for g in groups],
    )


# -------------------------------------------------------------------------- destructive


@as_tool_errors
async def _plan_leave(ctx: Context, group_id: str, user_id: str) -> Plan:
    client = client_of(ctx)
    group = await fetch_group(client, group_id)
    user = await fetch_user(client, user_id)
    groups = await user_groups(client, user["id"])
    title = group.get("title")
    if not any(g["id"] == group["id"] for g in groups):
        raise InvalidRequestError(
            f"{who(user)} is not a member of group {title!r}; their groups: "
            f"{listing([str(g.get('title')) for g in groups])}. Nothing was sent."
        )
    return Plan(
        "DELETE",
        api_path(
            "/v2/user_groups/{group_id}/users/{user_id}", group_id=group["id"], user_id=user["id"]
        ),
        None,
        f"Remove {who(user)} from group {title!r}? They leave it at once and its managers no "
        "longer see them; add_a_learnworlds_user_to_a_group puts them back.",
        "remove_a_learnworlds_user_from_a_group with dry_run=true (it fails if they are not a "
        "member)",
        reads={"user": user, "group": group, "groups": groups},
    )


@tool(toolset="groups", kind="destructive", title="Remove a user from a group", idempotent=True)
async def remove_a_learnworlds_user_from_a_group(
    ctx: Context,
    plan: Annotated[Plan, Resolve(_plan_leave)],
    answer: Annotated[ElicitationResult[Confirm], Resolve(confirmation(_plan_leave))],
    group_id: GroupId,
    user_id: UserRef,
    dry_run: DryRun = False,
) -> Annotated[CallToolResult, MembershipChange]:
    """Remove a user from a group; membership ends at once. Fails if not a member."""
    client = client_of(ctx)
    user, group, groups = plan.reads["user"], plan.reads["group"], plan.reads["groups"]
    outcome = await carry_out(client, plan, dry_run=dry_run, answer=answer)
    if outcome.done:
        groups = await read_back(plan, user_groups(client, user["id"]))
    return compact_result(_membership(plan, outcome, user, group, groups))


@as_tool_errors
async def _plan_group_update(
    ctx: Context,
    group_id: str,
    title: str | None,
    description: str | None,
    courses: list[str] | None,
    max_number_of_users: int | None,
    enroll_users_on_courses: bool | None,
    group_managers: list[str] | None,
    tags: list[str] | None,
) -> Plan:
    client = client_of(ctx)
    if title is not None and not title.strip():
        raise InvalidRequestError("title is blank: give the group's new name.")
    wanted: dict[str, Any] = {}
    for key, value in (
        ("title", title.strip() if title is not None else None),
        ("description", description),
        ("max_number_of_users", max_number_of_users),
        ("enroll_users_on_courses", enroll_users_on_courses),
    ):
        if value is not None:
            wanted[key] = value
    if tags is not None:
        wanted["tags"] = check_tags(tags) if tags else []
    if not wanted and courses is None and group_managers is None:
        raise InvalidRequestError(
            "Nothing to change: give at least one of title, description, courses, "
            "max_number_of_users, enroll_users_on_courses, group_managers or tags."
        )
    group = await fetch_group(client, group_id)
    current_courses = _courses_of(group)
    if courses is not None:
        fresh = [c for c in dict.fromkeys(c.strip() for c in courses) if c not in current_courses]
        await check_courses(client, fresh)
        wanted["products"] = {"courses": list(dict.fromkeys(c.strip() for c in courses))}
    if group_managers is not None:
        wanted["group_managers"] = await resolve_user_ids(client, group_managers, "group_managers")
    changes = _group_differences(group, wanted)
    capacity = wanted.get("max_number_of_users")
    if capacity is not None and "max_number_of_users" in changes:
        count = await member_count(ctx, group["id"])
        if capacity < count:
            raise InvalidRequestError(
                f"Group {group.get('title')!r} has {count} members: max_number_of_users cannot be "
                f"below that. Nothing was sent."
            )
    # The API's schema requires title and products on every PUT, and does not say whether what
    # is left out is kept: send the whole group as it is, with the changes applied.
    body: dict[str, Any] = {
        "title": group.get("title"),
        "description": group.get("description") or "",
        "products": {"courses": current_courses},
        "enroll_users_on_courses": bool(group.get("enroll_users_on_courses")),
        "group_managers": _manager_ids(group),
        "tags": group.get("tags") or [],
    }
    limit = group.get("max_number_of_users")
    if isinstance(limit, int | float) and limit >= 1:
        body["max_number_of_users"] = int(limit)
    body.update({k: v for k, v in wanted.items() if k in changes})
    return Plan(
        "PUT",
        api_path("/v2/user_groups/{group_id}", group_id=group["id"]),
        body,
        f"Update group {group.get('title')!r}: {'; '.join(changes.values())}? The old values "
        "are overwritten and only another update brings them back.",
        f"get_single_learnworlds_group_by_id (group_id={group['id']})",
        unchanged=None if changes else "The group already has these values.",
        reads={"group": group},
    )


def _group_differences(group: dict[str, Any], wanted: dict[str, Any]) -> dict[str, str]:
    """What `wanted` changes, keyed by body field, in words for the confirmation question."""
    current: dict[str, Any] = {
        "title": group.get("title"),
        "description": group.get("description") or "",
        "max_number_of_users": group.get("max_number_of_users"),
        "enroll_users_on_courses": bool(group.get("enroll_users_on_courses")),
        "tags": group.get("tags") or [],
        "products": {"courses": _courses_of(group)},
        "group_managers": _manager_ids(group),
    }
    changes = {}
    for key, value in wanted.items():
        if value == current[key]:
            continue
        if key == "products":
            before, after = current[key]["courses"], value["courses"]
            changes[key] = f"courses [{listing(before)}] → [{listing(after)}]"
        elif key == "group_managers":
            emails = {
                str(m.get("id")): str(m.get("email") or m.get("id"))
                for m in group.get("group_managers") or []
                if isinstance(m, dict)
            }
            before_names = [emails.get(i, i) for i in current[key]]
            changes[key] = f"managers [{listing(before_names)}] → {len(value)} manager(s)"
        elif isinstance(value, list):
            changes[key] = f"{key} [{listing(current[key])}] → [{listing(value)}]"
        else:
            changes[key] = f"{key} {current[key]!r} → {value!r}"
    return changes


@tool(toolset="groups", kind="destructive", title="Update a group", idempotent=True)
async def update_a_learnworlds_group_by_id(
    ctx: Context,
    plan: Annotated[Plan, Resolve(_plan_group_update)],
    answer: Annotated[ElicitationResult[Confirm], Resolve(confirmation(_plan_group_update))],
    group_id: GroupId,
    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None,
    description: Annotated[str | None, Field(max_length=2000)] = None,
    courses: Annotated[
        list[str] | None, Field(max_length=MAX_LISTED, description="Replaces all.")
    ] = None,
    max_number_of_users: Capacity = None,
    enroll_users_on_courses: bool | None = None,
    group_managers: Annotated[
        list[str] | None,
        Field(max_length=MAX_LISTED, description="Replaces all managers (ids or emails)."),
    ] = None,
    tags: Annotated[
        list[str] | None, Field(max_length=MAX_TAGS, description="Replaces all.")
    ] = None,
    dry_run: DryRun = False,
) -> Annotated[CallToolResult, GroupChange]:
    """Overwrite a group's title, description, courses, capacity, managers or tags (old
    values are lost); only given arguments change."""
    outcome = await carry_out(client_of(ctx), plan, dry_run=dry_run, answer=answer)
    if outcome.done and not (isinstance(outcome.reply, dict) and "id" in outcome.reply):
        outcome.reply = await read_back(
            plan, fetch_group(client_of(ctx), plan.reads["group"]["id"])
        )
    return _group_result(plan, outcome)
