"""Roles: the school's built-in and custom user roles."""

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from learnworlds_mcp.models.roles import Role, RoleList
from learnworlds_mcp.pagination import read_envelope
from learnworlds_mcp.tools.common import client_of, compact_result, drop_none
from learnworlds_mcp.tools.registry import tool

AccessLevel = Literal["admin", "instructor", "reporter", "seat_manager", "user", "license_reporter"]


@tool(toolset="roles", kind="read", title="List roles")
async def list_all_learnworlds_roles(
    ctx: Context,
    access_level: Annotated[
        list[AccessLevel] | None, Field(description="Only these levels.")
    ] = None,
) -> Annotated[CallToolResult, RoleList]:
    """List all user roles, built-in and custom, alphabetical. Not paged."""
    params = drop_none({"access_level": ",".join(access_level) if access_level else None})
    envelope = read_envelope(await client_of(ctx).get("/v2/user-roles", params))
    roles = [Role.model_validate(r) for r in envelope.data]
    return compact_result(RoleList(items=roles, total_items=len(roles)))
