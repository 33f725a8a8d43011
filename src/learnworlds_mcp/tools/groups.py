"""User groups: cohorts with their courses, managers and capacity."""

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult

from learnworlds_mcp.errors import NotFoundError
from learnworlds_mcp.models.groups import Group, GroupList
from learnworlds_mcp.pagination import check_page_exists, next_page_of, read_envelope
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.common import GroupId, Page, client_of, compact_result
from learnworlds_mcp.tools.registry import tool


def group_not_found(group_id: str) -> NotFoundError:
    return NotFoundError(
        f"No group with id {group_id!r}. list_all_learnworlds_groups lists groups with their ids."
    )


@tool(toolset="groups", kind="read", title="List groups")
async def list_all_learnworlds_groups(
    ctx: Context, page: Page = 1
) -> Annotated[CallToolResult, GroupList]:
    """List user groups (cohorts): courses, managers, capacity. Newest first, 20 a page:
    repeat with page = next_page until it is null."""
    payload = await client_of(ctx).get("/v2/user_groups", {"page": page})
    envelope = read_envelope(payload, requested_page=page)
    check_page_exists(envelope, page, "group")
    return compact_result(
        GroupList(
            items=[Group.from_api(g) for g in envelope.data],
            page=page,
            total_pages=envelope.total_pages,
            total_items=envelope.total_items,
            next_page=next_page_of(envelope, page),
        )
    )


@tool(toolset="groups", kind="read", title="Get a group")
async def get_single_learnworlds_group_by_id(
    ctx: Context, group_id: GroupId
) -> Annotated[CallToolResult, Group]:
    """Get one user group by id: courses, capacity, managers, tags."""
    try:
        data = await client_of(ctx).get(api_path("/v2/user_groups/{group_id}", group_id=group_id))
    except NotFoundError:
        raise group_not_found(group_id) from None
    return compact_result(Group.from_api(data))
