"""Changes to users: create, update, tag, untag, suspend, unsuspend."""

from typing import Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Resolve
from mcp_types import CallToolResult
from pydantic import Field

from learnworlds_mcp.errors import InvalidRequestError, NotFoundError
from learnworlds_mcp.models.changes import UserChange
from learnworlds_mcp.models.users import User
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.changes import (
    MAX_TAGS,
    Confirm,
    DryRun,
    Outcome,
    Plan,
    Tags,
    as_tool_errors,
    carry_out,
    check_email,
    check_tags,
    confirmation,
    fetch_user,
    listing,
    read_back,
    who,
)
from learnworlds_mcp.tools.common import UserRef, client_of, compact_result
from learnworlds_mcp.tools.registry import tool

# The sign-up fields every school has; schools add custom ones named cf_<name>.
FIELD_KEYS = frozenset(
    [
        "bio",
        "location",
        "url",
        "fb",
        "twitter",
        "instagram",
        "linkedin",
        "skype",
        "behance",
        "dribbble",
        "github",
        "phone",
        "address",
        "country",
        "birthday",
        "company",
        "company_size",
        "university",
        "graduation_year",
    ]
)

Name = Annotated[str | None, Field(min_length=1, max_length=200)]
NewFields = Annotated[
    dict[str, str] | None,
    Field(description='Sign-up fields, e.g. {"company": "Acme"}.'),
]


def _check_with(user_ref: str) -> str:
    return f"get_single_learnworlds_user_by_id (user_id={user_ref})"


def _check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Known sign-up fields; a null value (clear it) is sent as "", the spec's type."""
    unknown = sorted(k for k in fields if k not in FIELD_KEYS and not k.startswith("cf_"))
    if unknown:
        raise InvalidRequestError(
            f"Unknown sign-up field {unknown[0]!r}: use one of {', '.join(sorted(FIELD_KEYS))}, "
            "or a custom field as cf_<name>. Nothing was sent."
        )
    return {key: "" if value is None else value for key, value in fields.items()}


def _user_result(plan: Plan, outcome: Outcome, after: dict[str, Any] | None) -> CallToolResult:
    record = after if outcome.done else plan.reads.get("user")
    user = User.from_api(record) if isinstance(record, dict) else None
    return compact_result(UserChange(**outcome.fields(plan), user=user))


async def _after(
    ctx: Context, plan: Plan, outcome: Outcome, user_ref: str
) -> dict[str, Any] | None:
    """The user after a change: the API's reply when it is the record, else read again."""
    if not outcome.done:
        return None
    if isinstance(outcome.reply, dict) and "id" in outcome.reply and "email" in outcome.reply:
        return outcome.reply
    return await read_back(plan, fetch_user(client_of(ctx), user_ref))


# -------------------------------------------------------------------------------- writes


@tool(toolset="users", kind="write", title="Create a user", idempotent=True)
async def create_a_learnworlds_user(
    ctx: Context,
    email: Annotated[str, Field()],
    username: Annotated[str, Field(min_length=1, max_length=200, description="Display name.")],
    first_name: Name = None,
    last_name: Name = None,
    tags: Annotated[list[str] | None, Field(max_length=MAX_TAGS)] = None,
    fields: NewFields = None,
    send_registration_email: Annotated[
        bool | None, Field(description="Default: the school's.")
    ] = None,
    dry_run: DryRun = False,
) -> Annotated[CallToolResult, UserChange]:
    """Create a user (User role); fails if the email is taken. Users cannot be deleted: only
    suspend_a_learnworlds_user undoes access."""
    client = client_of(ctx)
    address = check_email(email)
    name = username.strip()
    if not name:
        raise InvalidRequestError("username is blank: give the user's display name.")
    body: dict[str, Any] = {"email": address, "username": name}
    for key, value in (("first_name", first_name), ("last_name", last_name)):
        if value is not None and value.strip():
            body[key] = value.strip()
    if tags:
        body["tags"] = check_tags(tags)
    if fields:
        body["fields"] = _check_fields(fields)
    if send_registration_email is not None:
        body["send_registration_email"] = send_registration_email
    try:
        taken = await fetch_user(client, address)
    except NotFoundError:
        taken = None
    if taken is not None:
        raise InvalidRequestError(
            f"A user with email {address} already exists (id {taken['id']}). "
            "update_a_learnworlds_user_by_id changes an existing user. Nothing was sent."
        )
    plan = Plan("POST", "/v2/users", body, f"Create user {address}?", _check_with(address))
    outcome = await carry_out(client, plan, dry_run=dry_run)
    return _user_result(plan, outcome, await _after(ctx, plan, outcome, address))


@tool(toolset="users", kind="write", title="Tag a user", idempotent=True)
async def add_tags_to_a_learnworlds_user(
    ctx: Context, user_id: UserRef, tags: Tags, dry_run: DryRun = False
) -> Annotated[CallToolResult, UserChange]:
    """Add tags to a user, keeping the others."""
    client = client_of(ctx)
    wanted = check_tags(tags)
    user = await fetch_user(client, user_id)
    missing = [t for t in wanted if t not in (user.get("tags") or [])]
    plan = Plan(
        "PUT",
        api_path("/v2/users/{user_id}/tags", user_id=user["id"]),
        {"tags": missing or wanted, "action": "attach"},
        f"Add tags {listing(missing)} to {who(user)}?",
        _check_with(user["id"]),
        unchanged=None if missing else f"{who(user)} already has all these tags.",
        reads={"user": user},
    )
    outcome = await carry_out(client, plan, dry_run=dry_run)
    return _user_result(plan, outcome, await _after(ctx, plan, outcome, user["id"]))


# -------------------------------------------------------------------------- destructive


@as_tool_errors
async def _plan_update(
    ctx: Context,
    user_id: str,
    email: str | None,
    username: str | None,
    first_name: str | None,
    last_name: str | None,
    fields: dict[str, str | None] | None,
    tags: list[str] | None,
) -> Plan:
    client = client_of(ctx)
    wanted: dict[str, Any] = {}
    if email is not None:
        wanted["email"] = check_email(email)
    for key, value in (("username", username), ("first_name", first_name)):
        if value is not None:
            wanted[key] = value.strip()
    if last_name is not None:
        wanted["last_name"] = last_name.strip()
    if wanted.get("username") == "":
        raise InvalidRequestError("username is blank: give the new display name.")
    if fields:
        wanted["fields"] = _check_fields(fields)
    if tags is not None:
        wanted["tags"] = check_tags(tags) if tags else []
    if not wanted:
        raise InvalidRequestError(
            "Nothing to change: give at least one of email, username, first_name, last_name, "
            "fields or tags."
        )
    user = await fetch_user(client, user_id)
    changes = _differences(user, wanted)
    new_email = wanted.get("email")
    if new_email and new_email.lower() != str(user.get("email", "")).lower():
        try:
            other = await fetch_user(client, new_email)
        except NotFoundError:
            other = None
        if other is not None and other["id"] != user["id"]:
            raise InvalidRequestError(
                f"Email {new_email} already belongs to another user (id {other['id']}). "
                "Nothing was sent."
            )
    tags_note = "; tags are replaced as a whole" if "tags" in wanted else ""
    return Plan(
        "PUT",
        api_path("/v2/users/{user_id}", user_id=user["id"]),
        wanted,
        f"Update {who(user)}: {'; '.join(changes)}? The old values are overwritten"
        f"{tags_note} and only another update brings them back.",
        _check_with(user["id"]),
        unchanged=None if changes else f"{who(user)} already has these values.",
        reads={"user": user},
    )


def _differences(user: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """What `wanted` changes, in words for the confirmation question."""
    changes = []
    for key in ("email", "username", "first_name", "last_name"):
        if key in wanted and wanted[key] != user.get(key):
            changes.append(f"{key} {user.get(key) or '(empty)'!s} → {wanted[key] or '(empty)'}")
    current_fields = user.get("fields") or {}
    for key, value in (wanted.get("fields") or {}).items():
        if (value or None) != (current_fields.get(key) or None):
            changes.append(f"{key} {current_fields.get(key) or '(empty)'} → {value or '(empty)'}")
    if "tags" in wanted and wanted["tags"] != (user.get("tags") or []):
        changes.append(f"tags [{listing(user.get('tags') or [])}] → [{listing(wanted['tags'])}]")
    return changes


@tool(toolset="users", kind="destructive", title="Update a user", idempotent=True)
async def update_a_learnworlds_user_by_id(
    ctx: Context,
    plan: Annotated[Plan, Resolve(_plan_update)],
    answer: Annotated[ElicitationResult[Confirm], Resolve(confirmation(_plan_update))],
    user_id: UserRef,
    email: Annotated[str | None, Field(description="New email.")] = None,
    username: Name = None,
    first_name: Annotated[str | None, Field(max_length=200)] = None,
    last_name: Annotated[str | None, Field(max_length=200)] = None,
    fields: Annotated[
        dict[str, str | None] | None,
        Field(description="Sign-up fields; null clears one."),
    ] = None,
    tags: Annotated[
        list[str] | None, Field(max_length=MAX_TAGS, description="Replaces ALL the user's tags.")
    ] = None,
    dry_run: DryRun = False,
) -> Annotated[CallToolResult, UserChange]:
    """Overwrite a user's email, names, sign-up fields or whole tag set (old values are
    lost); only given arguments change. Single tags: add_tags_to_a_learnworlds_user,
    remove_tags_from_a_learnworlds_user."""
    outcome = await carry_out(client_of(ctx), plan, dry_run=dry_run, answer=answer)
    return _user_result(plan, outcome, await _after(ctx, plan, outcome, plan.reads["user"]["id"]))


@as_tool_errors
async def _plan_untag(ctx: Context, user_id: str, tags: list[str]) -> Plan:
    wanted = check_tags(tags)
    user = await fetch_user(client_of(ctx), user_id)
    present = [t for t in wanted if t in (user.get("tags") or [])]
    return Plan(
        "PUT",
        api_path("/v2/users/{user_id}/tags", user_id=user["id"]),
        {"tags": present or wanted, "action": "detach"},
        f"Remove tags {listing(present)} from {who(user)}? Segments and automations that "
        "use them stop matching; only adding them again undoes it.",
        _check_with(user["id"]),
        unchanged=None if present else f"{who(user)} has none of these tags.",
        reads={"user": user},
    )


@tool(toolset="users", kind="destructive", title="Untag a user", idempotent=True)
async def remove_tags_from_a_learnworlds_user(
    ctx: Context,
    plan: Annotated[Plan, Resolve(_plan_untag)],
    answer: Annotated[ElicitationResult[Confirm], Resolve(confirmation(_plan_untag))],
    user_id: UserRef,
    tags: Tags,
    dry_run: DryRun = False,
) -> Annotated[CallToolResult, UserChange]:
    """Remove tags from a user, keeping the others."""
    outcome = await carry_out(client_of(ctx), plan, dry_run=dry_run, answer=answer)
    return _user_result(plan, outcome, await _after(ctx, plan, outcome, plan.reads["user"]["id"]))


def _suspension_plan(user: dict[str, Any], suspend: bool) -> Plan:
    verb = "suspend" if suspend else "unsuspend"
    if suspend:
        question = (
            f"Suspend {who(user)}? They lose access to the school at once; "
            "unsuspend_a_learnworlds_user restores it."
        )
    else:
        question = (
            f"Unsuspend {who(user)}? They can sign in and reach their courses again at once; "
            "suspend_a_learnworlds_user reverses it."
        )
    already = bool(user.get("is_suspended")) == suspend
    template = "/v2/users/{user_id}/suspend" if suspend else "/v2/users/{user_id}/unsuspend"
    return Plan(
        "PUT",
        api_path(template, user_id=user["id"]),
        None,
        question,
        _check_with(user["id"]),
        unchanged=f"{who(user)} is already {verb}ed." if already else None,
        reads={"user": user},
    )


@as_tool_errors
async def _plan_suspend(ctx: Context, user_id: str) -> Plan:
    return _suspension_plan(await fetch_user(client_of(ctx), user_id), suspend=True)


@as_tool_errors
async def _plan_unsuspend(ctx: Context, user_id: str) -> Plan:
    return _suspension_plan(await fetch_user(client_of(ctx), user_id), suspend=False)


@tool(toolset="users", kind="destructive", title="Suspend a user", idempotent=True)
async def suspend_a_learnworlds_user(
    ctx: Context,
    plan: Annotated[Plan, Resolve(_plan_suspend)],
    answer: Annotated[ElicitationResult[Confirm], Resolve(confirmation(_plan_suspend))],
    user_id: UserRef,
    dry_run: DryRun = False,
) -> Annotated[CallToolResult, UserChange]:
    """Suspend a user: access ends at once; they leave user lists (include_suspended shows
    them). unsuspend_a_learnworlds_user restores access."""
    outcome = await carry_out(client_of(ctx), plan, dry_run=dry_run, answer=answer)
    return _user_result(plan, outcome, await _after(ctx, plan, outcome, plan.reads["user"]["id"]))


@tool(toolset="users", kind="destructive", title="Unsuspend a user", idempotent=True)
async def unsuspend_a_learnworlds_user(
    ctx: Context,
    plan: Annotated[Plan, Resolve(_plan_unsuspend)],
    answer: Annotated[ElicitationResult[Confirm], Resolve(confirmation(_plan_unsuspend))],
    user_id: UserRef,
    dry_run: DryRun = False,
) -> Annotated[CallToolResult, UserChange]:
    """Unsuspend a user: they can sign in and use their courses again at once."""
    outcome = await carry_out(client_of(ctx), plan, dry_run=dry_run, answer=answer)
    return _user_result(plan, outcome, await _after(ctx, plan, outcome, plan.reads["user"]["id"]))
