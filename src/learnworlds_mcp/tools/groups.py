"""User groups: cohorts with their courses, managers, capacity and members."""

import math
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult

from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import InvalidRequestError, NotFoundError, UnexpectedResponseError
from learnworlds_mcp.models.groups import Group, GroupList, GroupRef, UserGroupList
from learnworlds_mcp.models.users import UserList, UserSummary
from learnworlds_mcp.pagination import (
    CallBudget,
    Envelope,
    ProgressFn,
    Walk,
    page_or_title_scan,
    page_reporter,
    read_envelope,
    to_list_page,
    walk_pages,
)
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.common import (
    GroupId,
    Page,
    TitleContains,
    UserRef,
    client_of,
    compact_result,
)
from learnworlds_mcp.tools.registry import tool
from learnworlds_mcp.tools.users import user_not_found

# The groups list is 20 a page; a title search reads at most this many pages per call.
MAX_GROUP_SCAN_PAGES = 25
# Group members come 20 a page. The 2025 API answered them as a bare array without `meta`;
# such a list is walked whole (at most this many pages) to page it reliably.
MEMBERS_PAGE_SIZE = 20
MAX_BARE_MEMBER_PAGES = 50


def group_not_found(group_id: str) -> NotFoundError:
    return NotFoundError(
        f"No group with id {group_id!r}. list_all_learnworlds_groups lists groups with their ids "
        "(title_contains finds one by name)."
    )


# Group ids are 24-hex ObjectIds; anything else is looked up by title first.
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
# Candidates named in an "ambiguous title" error.
MAX_CANDIDATES = 10


async def find_group(
    client: LearnWorldsClient, ref: str, budget: CallBudget | None = None
) -> dict[str, Any]:
    """The group record `ref` names: its id, or its title (any case; an exact title wins over
    titles that contain it). An ambiguous title is an error that lists the candidates.

    An id-shaped `ref` is read directly (1 call); a title costs one call per 20 groups.
    """
    ref = ref.strip()
    if not ref:
        raise InvalidRequestError("group_id is empty: give a group's id or title.")
    by_id = _OBJECT_ID.fullmatch(ref) is not None
    if by_id:
        found = await _group_by_id(client, ref, budget)
        if found is not None:
            return found
    matches = await _groups_titled(client, ref, budget)
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = "; ".join(f"{g.get('id')} ({g.get('title')!r})" for g in matches[:MAX_CANDIDATES])
        more = f" and {len(matches) - MAX_CANDIDATES} more" if len(matches) > MAX_CANDIDATES else ""
        raise InvalidRequestError(
            f"{len(matches)} groups match the title {ref!r}: {names}{more}. "
            "Pass one of these ids as group_id."
        )
    if not by_id and " " not in ref:  # an id of another shape, perhaps
        found = await _group_by_id(client, ref, budget)
        if found is not None:
            return found
    raise NotFoundError(
        f"No group with id or title {ref!r}. list_all_learnworlds_groups lists groups "
        "(title_contains finds one by part of its name)."
    )


async def _group_by_id(
    client: LearnWorldsClient, group_id: str, budget: CallBudget | None
) -> dict[str, Any] | None:
    if budget is not None:
        budget.take()
    try:
        data = await client.get(api_path("/v2/user_groups/{group_id}", group_id=group_id))
    except NotFoundError:
        return None
    if not isinstance(data, dict):
        raise UnexpectedResponseError("The school's group reply was not a group record.")
    return data


async def _groups_titled(
    client: LearnWorldsClient, title: str, budget: CallBudget | None
) -> list[dict[str, Any]]:
    """Groups whose title is `title` (any case) or, if none is, contains it."""
    wanted = " ".join(title.split()).casefold()

    def name(group: dict[str, Any]) -> str:
        return " ".join(str(group.get("title") or "").split()).casefold()

    async def fetch(page: int) -> Any:
        return await client.get("/v2/user_groups", {"page": page})

    walk = await walk_pages(
        fetch,
        max_pages=MAX_GROUP_SCAN_PAGES,
        keep=lambda group: wanted in name(group),
        budget=budget,
    )
    exact = [g for g in walk.items if name(g) == wanted]
    return exact or walk.items


@tool(toolset="groups", kind="read", title="List groups")
async def list_all_learnworlds_groups(
    ctx: Context,
    page: Page = 1,
    title_contains: TitleContains = None,
) -> Annotated[CallToolResult, GroupList]:
    """Groups (cohorts) with courses, managers, capacity; newest first, 20 a page: repeat
    with page = next_page until null."""
    client = client_of(ctx)

    async def fetch(n: int) -> Any:
        return await client.get("/v2/user_groups", {"page": n})

    return compact_result(
        await page_or_title_scan(
            GroupList,
            fetch,
            page=page,
            what="group",
            convert=Group.from_api,
            title_contains=title_contains,
            max_pages=MAX_GROUP_SCAN_PAGES,
            report=ctx.report_progress,
        )
    )


@tool(toolset="groups", kind="read", title="Get a group")
async def get_single_learnworlds_group_by_id(
    ctx: Context, group_id: GroupId
) -> Annotated[CallToolResult, Group]:
    """One user group (cohort) by id."""
    try:
        data = await client_of(ctx).get(api_path("/v2/user_groups/{group_id}", group_id=group_id))
    except NotFoundError:
        raise group_not_found(group_id) from None
    return compact_result(Group.from_api(data))


def members_fetcher(
    client: LearnWorldsClient,
    group_id: str,
    *,
    include_suspended: bool = False,
    group_known: bool = False,
) -> Callable[[int], Awaitable[Any]]:
    """Fetch one page of a group's members, in whichever shape the school answers.

    `include_suspended` is not a parameter of this endpoint in the official spec, so it is never
    sent: a school may list suspended members here or leave them out. Without
    `include_suspended`, suspended members (`is_suspended`) are dropped from each paged reply,
    so the result is the same either way (its `meta` stays the school's). A reply without `meta`
    is passed on whole: dropping items would make a walk take a full page for the last one
    (callers that walk such a list filter with `without_suspended` afterwards).

    The API answers an empty group with 404 "Users not found", and an unknown group with 404
    too: on the first 404 the group itself is looked up (unless `group_known`), so an unknown
    group is "No group…" and an empty one an empty page. Pages are remembered for the call.
    """
    path = api_path("/v2/user_groups/{group_id}/users", group_id=group_id)
    fetched: dict[int, Any] = {}
    exists = group_known

    async def fetch(page: int) -> Any:
        nonlocal exists
        if page in fetched:
            return fetched[page]
        try:
            payload = await client.get(path, {"page": page})
        except NotFoundError:
            if not exists:
                try:
                    await client.get(api_path("/v2/user_groups/{group_id}", group_id=group_id))
                except NotFoundError:
                    raise group_not_found(group_id) from None
                exists = True
            payload = {
                "data": [],
                "meta": {
                    "page": 1,
                    "totalItems": 0,
                    "totalPages": 1,
                    "itemsPerPage": MEMBERS_PAGE_SIZE,
                },
            }
        if not include_suspended and isinstance(payload, dict) and "meta" in payload:
            payload = {**payload, "data": without_suspended(payload.get("data"))}
        fetched[page] = payload
        return payload

    return fetch


def without_suspended(users: Any) -> Any:
    """`users` (a list of user records) less the suspended ones; anything else as it is."""
    if not isinstance(users, list):
        return users
    return [u for u in users if not (isinstance(u, dict) and u.get("is_suspended") is True)]


@tool(toolset="groups", kind="read", title="List a group's members")
async def list_all_learnworlds_group_members(
    ctx: Context, group_id: GroupId, page: Page = 1, include_suspended: bool = False
) -> Annotated[CallToolResult, UserList]:
    """A group's members, newest first, 20 a page: repeat with page = next_page until null.
    Suspended members only with include_suspended."""
    fetch = members_fetcher(client_of(ctx), group_id, include_suspended=include_suspended)
    envelope = read_envelope(await fetch(page), requested_page=page)
    if not envelope.paged:
        progress = page_reporter(ctx.report_progress, "members")
        envelope = await _page_of_bare_list(fetch, page, progress, include_suspended)
    return compact_result(to_list_page(UserList, envelope, page, "member", UserSummary.from_api))


async def walk_bare_members(
    fetch: Callable[[int], Awaitable[Any]], progress: ProgressFn | None, *, then: str = ""
) -> Walk:
    """All members of a list the school sent without `meta` (at most `MAX_BARE_MEMBER_PAGES`
    pages); a longer list is refused, since it could be neither paged nor counted reliably.
    `then` ends the refusal (e.g. "Nothing was sent.")."""
    walk = await walk_pages(
        fetch, max_pages=MAX_BARE_MEMBER_PAGES, page_size=MEMBERS_PAGE_SIZE, progress=progress
    )
    if not walk.complete:
        raise UnexpectedResponseError(
            f"This group has more than {MAX_BARE_MEMBER_PAGES * MEMBERS_PAGE_SIZE} members and "
            "the school's reply carries no member count, so they cannot be paged or counted "
            f"reliably.{' ' + then if then else ''}"
        )
    return walk


async def _page_of_bare_list(
    fetch: Callable[[int], Awaitable[Any]],
    page: int,
    progress: ProgressFn | None,
    include_suspended: bool,
) -> Envelope:
    """Page `page` of a members list the school sent without `meta`: walk it, then slice."""
    walk = await walk_bare_members(fetch, progress)
    members = walk.items if include_suspended else without_suspended(walk.items)
    start = (page - 1) * MEMBERS_PAGE_SIZE
    return Envelope(
        data=members[start : start + MEMBERS_PAGE_SIZE],
        page=page,
        total_pages=max(1, math.ceil(len(members) / MEMBERS_PAGE_SIZE)),
        total_items=len(members),
    )


async def count_members(
    client: LearnWorldsClient, group_id: str, progress: ProgressFn | None = None, *, then: str = ""
) -> int:
    """How many users a known group has, suspended ones included where the school lists them
    (so at least this many): one read when the school sends a member count, else the whole
    (bounded) walk of its pages."""
    fetch = members_fetcher(client, group_id, include_suspended=True, group_known=True)
    envelope = read_envelope(await fetch(1))
    if envelope.paged:
        return envelope.total_items
    return (await walk_bare_members(fetch, progress, then=then)).total_items


def user_groups_from(payload: Any) -> list[dict[str, Any]]:
    """The groups of `GET /v2/users/{id}/user-groups`, in the 2026 or the 2025 shape."""
    data = payload.get("data") if isinstance(payload, dict) else payload
    if isinstance(data, dict):
        data = data.get("user_groups")
    if not isinstance(data, list) or not all(isinstance(g, dict) for g in data):
        raise UnexpectedResponseError("The school's list of a user's groups was unreadable.")
    return data


@tool(toolset="groups", kind="read", title="List a user's groups")
async def list_all_learnworlds_user_groups(
    ctx: Context, user_id: UserRef
) -> Annotated[CallToolResult, UserGroupList]:
    """The groups a user is in (id, title). Not paged."""
    path = api_path("/v2/users/{user_id}/user-groups", user_id=user_id)
    try:
        payload = await client_of(ctx).get(path)
    except NotFoundError:
        raise user_not_found(user_id) from None
    groups = [GroupRef.model_validate(g) for g in user_groups_from(payload)]
    return compact_result(UserGroupList(items=groups, total_items=len(groups)))
