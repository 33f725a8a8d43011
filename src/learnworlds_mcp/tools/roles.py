"""Roles: the school's built-in and custom user roles."""

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult

from learnworlds_mcp.errors import NotFoundError
from learnworlds_mcp.models.roles import Role, RoleList
from learnworlds_mcp.models.users import UserRoleDetail
from learnworlds_mcp.pagination import read_envelope
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.common import UserRef, client_of, compact_result, drop_none
from learnworlds_mcp.tools.registry import tool
from learnworlds_mcp.tools.users import user_not_found

AccessLevel = Literal["admin", "instructor", "reporter", "seat_manager", "user", "license_reporter"]


@tool(toolset="roles", kind="read", title="List roles")
async def list_all_learnworlds_roles(
    ctx: Context,
    access_level: list[AccessLevel] | None = None,
) -> Annotated[CallToolResult, RoleList]:
    """All roles, built-in and custom, alphabetical. Not paged."""
    params = drop_none({"access_level": ",".join(access_level) if access_level else None})
    envelope = read_envelope(await client_of(ctx).get("/v2/user-roles", params))
    roles = [Role.model_validate(r) for r in envelope.data]
    return compact_result(RoleList(items=roles, total_items=len(roles)))


@tool(toolset="roles", kind="read", title="Get a user's role")
async def get_single_learnworlds_user_role_by_id(
    ctx: Context, user_id: UserRef
) -> Annotated[CallToolResult, UserRoleDetail]:
    """A user's role and assignments: courses taught (revenue share), groups managed, seat
    offerings, segment, licenses."""
    path = api_path("/v2/users/{user_id}/user-role", user_id=user_id)
    try:
        data = await client_of(ctx).get(path)
    except NotFoundError:
        raise user_not_found(user_id) from None
    return compact_result(UserRoleDetail.from_api(data))
