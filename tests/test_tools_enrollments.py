"""Enrollment and membership tools through an MCP client, checked against the sandbox's data:
a course's users, a user's enrollments and progress, group members, a user's groups and role."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from learnworlds_mcp.sandbox import SandboxSchool
from tests.support import connected, error_text, make_school, payload


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return make_school(users=400)


@pytest.fixture(autouse=True)
def fresh_window(school: SandboxSchool) -> None:
    """Each test's server has its own limiter: let the school's window pass (virtual time)."""
    school.clock.advance(11)  # type: ignore[attr-defined]


def busiest_course(school: SandboxSchool) -> str:
    return max(school.courses, key=lambda c: len(school.course_users(c.id))).id


def learner_with_courses(school: SandboxSchool, at_least: int = 3):
    return next(
        u
        for u in school.users
        if not u.is_suspended and len(school.enrollments_of(u, "course")) >= at_least
    )


# ---------------------------------------------------------------------------- course users


async def test_course_users_pages_through_every_enrolled_user(school: SandboxSchool) -> None:
    course_id = busiest_course(school)
    expected = [u.id for u in school.course_users(course_id) if not u.is_suspended]
    seen: list[str] = []
    page: int | None = 1
    async with connected(school) as client:
        while page is not None:
            data = payload(
                await client.call_tool(
                    "list_all_learnworlds_course_users",
                    {"course_id": course_id, "page": page, "items_per_page": 25},
                )
            )
            seen += [u["id"] for u in data["items"]]
            page = data["next_page"]
    assert seen == expected and data["total_items"] == len(expected)


async def test_course_users_can_include_suspended() -> None:
    school = make_school(users=120, member_lists_include_suspended="ignore")
    course_id = next(
        c.id for c in school.courses if any(u.is_suspended for u in school.course_users(c.id))
    )
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "list_all_learnworlds_course_users",
                {"course_id": course_id, "include_suspended": True, "items_per_page": 200},
            )
        )
    assert data["total_items"] == len(school.course_users(course_id))
    assert any(u["suspended"] for u in data["items"])


# ---------------------------------------------------------------------------- enrollments


async def test_user_enrollments_have_course_and_dates(school: SandboxSchool) -> None:
    user = learner_with_courses(school)
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "list_all_learnworlds_user_enrollments", {"user_id": user.email.upper()}
            )
        )
    expected = school.enrollments_of(user, "course")
    assert [e["course_id"] for e in data["items"]] == [e.product_id for e in expected]
    for item, enrollment in zip(data["items"], expected, strict=True):
        assert item["title"] == school.course(enrollment.product_id).title
        assert item["enrolled"] == iso(enrollment.created)
        assert item.get("expires") == iso(enrollment.expires)
    assert data["next_page"] is None and data["total_items"] == len(expected)


async def test_user_enrollments_page_at_fifty() -> None:
    school = make_school(users=20)
    template = school.courses[0]
    for n in range(60):
        course = dataclasses.replace(template, id=f"extra-{n:02d}", title=f"Extra {n}")
        school.state.courses[course.id] = course
    user = next(u for u in school.users if not u.is_suspended)
    for course in school.courses:
        if not school.is_enrolled(user, course.id):
            school.state.enroll(user, course, "course", 0, "test")
    expected = [e.product_id for e in school.enrollments_of(user, "course")]
    async with connected(school) as client:
        first = payload(
            await client.call_tool("list_all_learnworlds_user_enrollments", {"user_id": user.id})
        )
        second = payload(
            await client.call_tool(
                "list_all_learnworlds_user_enrollments", {"user_id": user.id, "page": 2}
            )
        )
    assert len(first["items"]) == 50 and first["next_page"] == 2
    assert second["next_page"] is None and first["total_items"] == len(expected)
    assert [e["course_id"] for e in first["items"] + second["items"]] == expected


# ---------------------------------------------------------------------------- progress


async def test_progress_across_courses_matches_the_school(school: SandboxSchool) -> None:
    user = learner_with_courses(school)
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "get_single_learnworlds_user_progress_by_id", {"user_id": user.id}
            )
        )
    expected = [
        school.progress_json(school.progress[(user.id, e.product_id)], with_course=True)
        for e in school.enrollments_of(user, "course")
        if (user.id, e.product_id) in school.progress
    ]
    assert [p["course_id"] for p in data["items"]] == [p["course_id"] for p in expected]
    for got, sent in zip(data["items"], expected, strict=True):
        assert got["status"] == sent["status"]
        assert got["progress_rate"] == sent["progress_rate"]
        assert got["completed_units"] == sent["completed_units"]
        assert got["total_units"] == sent["total_units"]
        assert got.get("completed_at") == iso(sent["completed_at"])
        assert "units" not in got  # per-unit detail only for one course
    assert data["next_page"] is None


async def test_progress_in_one_course_has_units(school: SandboxSchool) -> None:
    user = learner_with_courses(school)
    progress = next(
        school.progress[(user.id, e.product_id)]
        for e in school.enrollments_of(user, "course")
        if any(u.completed for u in school.progress[(user.id, e.product_id)].units.values())
    )
    sent = school.progress_json(progress)
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "get_single_learnworlds_user_progress_by_id",
                {"user_id": user.email, "course_id": progress.course_id},
            )
        )
    (item,) = data["items"]
    assert item["course_id"] == progress.course_id and item["status"] == sent["status"]
    units = [u for s in sent["progress_per_section_unit"] for u in s["units"]]
    assert [u["unit_id"] for u in item["units"]] == [u["unit_id"] for u in units]
    assert [u["completed"] for u in item["units"]] == [
        u["unit_status"] == "completed" for u in units
    ]
    assert data["next_page"] is None and data["total_items"] == 1


async def test_progress_for_a_course_the_user_is_not_in(school: SandboxSchool) -> None:
    user = learner_with_courses(school)
    other = next(c for c in school.courses if not school.is_enrolled(user, c.id))
    async with connected(school) as client:
        not_in = await client.call_tool(
            "get_single_learnworlds_user_progress_by_id",
            {"user_id": user.id, "course_id": other.id},
        )
        no_course = await client.call_tool(
            "get_single_learnworlds_user_progress_by_id",
            {"user_id": user.id, "course_id": "no-such-course"},
        )
        no_user = await client.call_tool(
            "get_single_learnworlds_user_progress_by_id",
            {"user_id": "nobody@nowhere.test", "course_id": other.id},
        )
    assert "is not enrolled" in error_text(not_in)
    assert "list_all_learnworlds_user_enrollments" in error_text(not_in)
    assert "No course 'no-such-course'" in error_text(no_course)
    assert "No user" in error_text(no_user)


# ---------------------------------------------------------------------------- memberships


async def test_group_members_page_through_the_group(school: SandboxSchool) -> None:
    group = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    expected = [u.id for u in school.group_members(group.id) if not u.is_suspended]
    seen: list[str] = []
    page: int | None = 1
    async with connected(school) as client:
        while page is not None:
            data = payload(
                await client.call_tool(
                    "list_all_learnworlds_group_members", {"group_id": group.id, "page": page}
                )
            )
            seen += [u["id"] for u in data["items"]]
            page = data["next_page"]
    assert seen == expected and data["total_items"] == len(expected)


async def test_an_empty_group_has_no_members_and_an_unknown_one_is_an_error(
    school: SandboxSchool,
) -> None:
    empty = next(g for g in school.groups if not school.group_members(g.id))
    async with connected(school) as client:
        data = payload(
            await client.call_tool("list_all_learnworlds_group_members", {"group_id": empty.id})
        )
        unknown = await client.call_tool(
            "list_all_learnworlds_group_members", {"group_id": "ffffffffffffffffffffffff"}
        )
    assert data == {"items": [], "page": 1, "total_pages": 1, "total_items": 0, "next_page": None}
    assert "No group with id" in error_text(unknown)


@pytest.mark.parametrize("size", [20, 23])
async def test_group_members_in_the_2025_bare_array_shape(size: int) -> None:
    school = make_school(users=200, s1_shapes=True)
    group = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    members = school.state.members[group.id]
    for uid in list(members)[size:]:  # exactly `size` members: a full last page, or not
        del members[uid]
    expected = [u.id for u in school.group_members(group.id) if not u.is_suspended]
    async with connected(school) as client:
        first = payload(
            await client.call_tool("list_all_learnworlds_group_members", {"group_id": group.id})
        )
        pages = [first]
        while pages[-1]["next_page"]:
            pages.append(
                payload(
                    await client.call_tool(
                        "list_all_learnworlds_group_members",
                        {"group_id": group.id, "page": pages[-1]["next_page"]},
                    )
                )
            )
        empty = next(g for g in school.groups if not school.group_members(g.id))
        none = payload(
            await client.call_tool("list_all_learnworlds_group_members", {"group_id": empty.id})
        )
    assert [u["id"] for p in pages for u in p["items"]] == expected
    assert first["total_items"] == len(expected)
    assert none["items"] == [] and none["next_page"] is None


async def test_walking_a_bare_member_list_reports_progress() -> None:
    school = make_school(users=400, s1_shapes=True)
    group = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    assert len(school.group_members(group.id)) > 40
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    async with connected(school) as client:
        payload(
            await client.call_tool(
                "list_all_learnworlds_group_members",
                {"group_id": group.id, "page": 2},
                progress_callback=progress,
            )
        )
    assert len(seen) >= 3 and [s[0] for s in seen] == sorted(s[0] for s in seen)
    assert all("members" in (s[2] or "") for s in seen)


@pytest.mark.parametrize("s1", [False, True])
async def test_user_groups_in_both_shapes(s1: bool) -> None:
    school = make_school(users=200, s1_shapes=s1)
    user = next(u for u in school.users if len(school.groups_of(u)) >= 2)
    async with connected(school) as client:
        data = payload(
            await client.call_tool("list_all_learnworlds_user_groups", {"user_id": user.email})
        )
        unknown = await client.call_tool(
            "list_all_learnworlds_user_groups", {"user_id": "nobody@nowhere.test"}
        )
    assert data["items"] == [{"id": g.id, "title": g.title} for g in school.groups_of(user)]
    assert data["total_items"] == len(school.groups_of(user)) and data["next_page"] is None
    assert "No user" in error_text(unknown)


async def test_user_role_with_assignments(school: SandboxSchool) -> None:
    instructor = next(u for u in school.users if u.assigned_courses)
    manager = next(u for u in school.users if school.state.managed_group_ids(u))
    async with connected(school) as client:
        taught = payload(
            await client.call_tool(
                "get_single_learnworlds_user_role_by_id", {"user_id": instructor.id}
            )
        )
        managed = payload(
            await client.call_tool(
                "get_single_learnworlds_user_role_by_id", {"user_id": manager.email}
            )
        )
    sent = school.user_role_json(instructor)
    assert taught["role"] == sent["user_role"]
    assert taught["assigned_courses"] == sent["assigned_courses"]
    assert "assigned_seat_offering_ids" not in taught  # empty assignments are left out
    assert managed["assigned_user_group_ids"] == school.state.managed_group_ids(manager)
    assert managed["role"]["name"] == school.role(manager.role_id).title


async def test_groups_title_contains_finds_a_cohort_in_one_call(school: SandboxSchool) -> None:
    school.clear_log()
    async with connected(school) as client:
        data = payload(
            await client.call_tool("list_all_learnworlds_groups", {"title_contains": "ACME"})
        )
        unfiltered = payload(await client.call_tool("list_all_learnworlds_groups", {}))
    assert [g["id"] for g in data["items"]] == [
        g.id for g in school.groups if "acme" in g.title.lower()
    ]
    assert data["total_items"] == 2 and data["next_page"] is None
    assert len(unfiltered["items"]) == len(school.groups)  # unchanged without the filter
    assert len([r for r in school.requests if r.path == "/v2/user_groups"]) == 2
