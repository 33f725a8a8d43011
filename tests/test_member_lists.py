"""Group members and course users whose spec declares no `include_suspended` (DESIGN §7).

The product never sends the parameter there; it is right whether the school honours it (hides
suspended users unless asked) or ignores it (lists everyone), in both member-list shapes.
"""

from __future__ import annotations

from typing import Any

import pytest

from learnworlds_mcp.sandbox import SandboxSchool
from learnworlds_mcp.sandbox.records import Group
from tests.support import connected, make_school, payload, settings_for

BEHAVIOURS = ["honour", "ignore"]


def school_with_suspended_members(behaviour: str, *, s1_shapes: bool = False) -> SandboxSchool:
    """A school whose biggest group has 45 members (3 pages), 4 of them suspended."""
    school = make_school(users=200, member_lists_include_suspended=behaviour, s1_shapes=s1_shapes)
    group = biggest_group(school)
    for user in school.users:
        if len(school.group_members(group.id)) >= 45:
            break
        if user not in school.group_members(group.id):
            school.state.add_member(group, user)
    for user in school.group_members(group.id)[3:40:10]:
        user.is_suspended = True
    return school


def biggest_group(school: SandboxSchool) -> Group:
    return max(school.groups, key=lambda g: (len(school.group_members(g.id)), g.id))


async def all_pages(client: Any, tool: str, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page: int | None = 1
    while page is not None:
        data = payload(await client.call_tool(tool, {**arguments, "page": page}))
        items += data["items"]
        page = data["next_page"]
    return items


def sent_include_suspended(school: SandboxSchool) -> list[str]:
    """Member-list requests that carried `include_suspended` (there should be none)."""
    return [
        r.raw_path
        for r in school.requests
        if "include_suspended" in r.query and r.path.endswith("/users")
    ]


@pytest.mark.parametrize("s1_shapes", [False, True], ids=["paged", "bare-array"])
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_group_members_leave_suspended_out_either_way(
    behaviour: str, s1_shapes: bool
) -> None:
    school = school_with_suspended_members(behaviour, s1_shapes=s1_shapes)
    group = biggest_group(school)
    members = school.group_members(group.id)
    active = [u.id for u in members if not u.is_suspended]
    async with connected(school) as client:
        listed = await all_pages(
            client, "list_all_learnworlds_group_members", {"group_id": group.id}
        )
        everyone = await all_pages(
            client,
            "list_all_learnworlds_group_members",
            {"group_id": group.id, "include_suspended": True},
        )
    assert [u["id"] for u in listed] == active
    assert not any(u["suspended"] for u in listed)
    # with include_suspended: every member the school lists, suspended ones flagged
    if behaviour == "ignore":
        assert [u["id"] for u in everyone] == [u.id for u in members]
        assert sum(u["suspended"] for u in everyone) == 4
    else:  # the school leaves them out of this list, and nothing can ask it not to
        assert [u["id"] for u in everyone] == active
    assert sent_include_suspended(school) == []


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_course_users_leave_suspended_out_either_way(behaviour: str) -> None:
    school = make_school(users=200, member_lists_include_suspended=behaviour)
    course = max(school.courses, key=lambda c: (len(school.course_users(c.id)), c.id))
    users = school.course_users(course.id)
    for user in users[1::7]:
        user.is_suspended = True
    active = [u.id for u in users if not u.is_suspended]
    async with connected(school) as client:
        listed = await all_pages(
            client, "list_all_learnworlds_course_users", {"course_id": course.id}
        )
        everyone = await all_pages(
            client,
            "list_all_learnworlds_course_users",
            {"course_id": course.id, "include_suspended": True},
        )
    assert [u["id"] for u in listed] == active
    expected = [u.id for u in users] if behaviour == "ignore" else active
    assert [u["id"] for u in everyone] == expected
    assert sent_include_suspended(school) == []


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_the_cohort_report_counts_the_same_members_either_way(behaviour: str) -> None:
    school = school_with_suspended_members(behaviour)
    group = biggest_group(school)
    active = {u.email for u in school.group_members(group.id) if not u.is_suspended}
    async with connected(school) as client:
        report = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id, "member_limit": 100, "max_calls": 500},
            )
        )
    listed = {m["email"] for m in report["members"]}
    assert listed == active
    assert sent_include_suspended(school) == []


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_a_full_group_is_still_refused_either_way(behaviour: str) -> None:
    """The capacity check counts the members the school lists (suspended ones where it lists
    them): a group that is full by that count is refused before anything is sent."""
    school = school_with_suspended_members(behaviour)
    group = biggest_group(school)
    group.max_number_of_users = 41  # 45 members, 4 suspended: full by either count
    outsider = next(u for u in school.users if u not in school.group_members(group.id))
    async with connected(school, settings_for(school, allow_writes=True)) as client:
        result = await client.call_tool(
            "add_a_learnworlds_user_to_a_group",
            {"group_id": group.id, "user_id": outsider.id},
        )
    assert result.is_error
    assert "is full" in result.content[0].text  # type: ignore[union-attr]
    assert not [r for r in school.requests if r.is_write]
    assert sent_include_suspended(school) == []
