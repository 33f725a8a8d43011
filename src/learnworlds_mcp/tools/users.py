"""Users: find, list and read the school's users."""

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from learnworlds_mcp.errors import NotFoundError
from learnworlds_mcp.models.users import User, UserList, UserSummary
from learnworlds_mcp.pagination import read_envelope, to_list_page
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.common import (
    IsoDate,
    ItemsPerPage,
    Page,
    UserRef,
    client_of,
    comma_list,
    compact_result,
    drop_none,
    unix_seconds,
)
from learnworlds_mcp.tools.registry import tool

RoleLevel = Literal["user", "admin", "instructor", "reporter", "license_reporter"]
UserStatus = Literal["paying", "non_paying", "suspended", "never_logged_in"]


def user_not_found(user_id: str) -> NotFoundError:
    return NotFoundError(
        f"No user {user_id!r} in this school. user_id takes the user's id or their email; "
        "list_all_learnworlds_users finds users by role, tag or registration date."
    )


@tool(toolset="users", kind="read", title="List users")
async def list_all_learnworlds_users(
    ctx: Context,
    page: Page = 1,
    items_per_page: ItemsPerPage = 20,
    role: RoleLevel | None = None,
    status: UserStatus | None = None,
    tags: Annotated[list[str] | None, Field()] = None,
    registered_after: IsoDate = None,
    registered_before: IsoDate = None,
    include_suspended: bool = False,
    custom_fields: Annotated[
        dict[str, str] | None,
        Field(description='Sign-up fields, e.g. {"company": "Acme"}'),
    ] = None,
) -> Annotated[CallToolResult, UserList]:
    """Users, newest first, paged: repeat with page = next_page until null. By email:
    get_single_learnworlds_user_by_id."""
    params = drop_none(
        {
            "page": page,
            "items_per_page": items_per_page,
            "role": role,
            "status": status,
            "tags": comma_list(tags, "tags"),
            "registration_after": unix_seconds(registered_after, "registered_after"),
            "registration_before": unix_seconds(
                registered_before, "registered_before", end_of_day=True
            ),
            "include_suspended": "true" if include_suspended else None,
        }
    )
    for name, value in (custom_fields or {}).items():
        key = name.removeprefix("cf_")
        params[f"cf_{key}"] = value
    envelope = read_envelope(await client_of(ctx).get("/v2/users", params), requested_page=page)
    return compact_result(to_list_page(UserList, envelope, page, "user", UserSummary.from_api))


@tool(toolset="users", kind="read", title="Get a user")
async def get_single_learnworlds_user_by_id(
    ctx: Context, user_id: UserRef
) -> Annotated[CallToolResult, User]:
    """A user's full record, by id or email (suspended too)."""
    path = api_path("/v2/users/{user_id}", user_id=user_id)
    try:
        data = await client_of(ctx).get(path, {"include_suspended": "true"})
    except NotFoundError:
        raise user_not_found(user_id) from None
    return compact_result(User.from_api(data))
