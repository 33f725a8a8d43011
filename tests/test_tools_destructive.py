"""The destructive tools through an MCP client against the sandbox school.

Clients here declare no elicitation capability, so nothing is asked (see test_confirmation.py
for the questions). Every test writes to a fresh small school and checks the change through the
read tools and against the school's own data; dry runs and bad input leave the school unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest

from learnworlds_mcp.sandbox import SandboxSchool
from learnworlds_mcp.sandbox.records import AssignedCourse
from tests.support import (
    connected,
    error_text,
    learner,
    make_school,
    payload,
    settings_for,
    write_requests,
)


def destructive_on(school: SandboxSchool) -> Any:
    return settings_for(school, allow_writes=True, allow_destructive=True)


# ----- update_a_learnworlds_user_by_id ----------------------------------------------------------


async def test_update_user_overwrites_only_what_is_given() -> None:
    school = make_school(users=30)
    user = learner(school)
    user.fields["company"] = "Old Co"
    country = user.fields.get("country")
    async with connected(school, destructive_on(school)) as client:
        done = payload(
            await client.call_tool(
                "update_a_learnworlds_user_by_id",
                {
                    "user_id": user.email,
                    "email": "moved+x@globex.io",
                    "username": "Renamed Person",
                    "fields": {"company": "Globex", "bio": None},
                    "tags": ["alpha", "beta"],
                },
            )
        )
        read = payload(
            await client.call_tool(
                "get_single_learnworlds_user_by_id", {"user_id": "moved+x@globex.io"}
            )
        )
    assert done["status"] == "done"
    assert done["request"]["method"] == "PUT"
    assert done["request"]["path"] == f"/v2/users/{user.id}"
    assert done["user"] == read
    assert read["email"] == "moved+x@globex.io" and read["username"] == "Renamed Person"
    assert read["tags"] == ["alpha", "beta"]
    assert user.fields["company"] == "Globex" and user.fields.get("country") == country
    assert school.user("moved+x@globex.io") is user
    assert len(write_requests(school)) == 1


async def test_update_user_dry_run_and_unchanged_send_nothing() -> None:
    school = make_school(users=20)
    user = learner(school)
    async with connected(school, destructive_on(school)) as client:
        dry = payload(
            await client.call_tool(
                "update_a_learnworlds_user_by_id",
                {"user_id": user.id, "username": "Someone Else", "dry_run": True},
            )
        )
        same = payload(
            await client.call_tool(
                "update_a_learnworlds_user_by_id",
                {"user_id": user.id, "username": user.username},
            )
        )
    assert dry["status"] == "dry_run"
    assert dry["request"]["body"] == {"username": "Someone Else"}
    assert dry["user"]["username"] == user.username != "Someone Else"
    assert same["status"] == "unchanged" and "already has" in same["note"]
    assert write_requests(school) == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "Nothing to change"),
        ({"email": "broken@"}, "not a valid email"),
        ({"fields": {"shoe_size": "42"}}, "Unknown sign-up field"),
        ({"tags": ["x,y"]}, "contains a comma"),
        ({"username": "  "}, "username is blank"),
        ({"user_id": "ghost@nowhere.test", "username": "X"}, "No user"),
    ],
)
async def test_update_user_refuses_bad_input(arguments: dict[str, Any], expected: str) -> None:
    school = make_school(users=20)
    user = learner(school)
    async with connected(school, destructive_on(school)) as client:
        result = await client.call_tool(
            "update_a_learnworlds_user_by_id", {"user_id": user.id, **arguments}
        )
    assert expected in error_text(result)
    assert write_requests(school) == []


async def test_update_user_refuses_an_email_of_another_user() -> None:
    school = make_school(users=20)
    user, other = learner(school), learner(school, 1)
    async with connected(school, destructive_on(school)) as client:
        result = await client.call_tool(
            "update_a_learnworlds_user_by_id", {"user_id": user.id, "email": other.email.upper()}
        )
    assert "already belongs to another user" in error_text(result) and other.id in error_text(
        result
    )
    assert write_requests(school) == []


# ----- remove_tags_from_a_learnworlds_user ------------------------------------------------------


async def test_remove_tags_keeps_the_others() -> None:
    school = make_school(users=20)
    user = learner(school)
    user.tags = ["keep", "drop-1", "drop-2"]
    async with connected(school, destructive_on(school)) as client:
        done = payload(
            await client.call_tool(
                "remove_tags_from_a_learnworlds_user",
                {"user_id": user.email, "tags": ["drop-1", "drop-2", "never-had"]},
            )
        )
        none_left = payload(
            await client.call_tool(
                "remove_tags_from_a_learnworlds_user", {"user_id": user.id, "tags": ["drop-1"]}
            )
        )
        read = payload(
            await client.call_tool("get_single_learnworlds_user_by_id", {"user_id": user.id})
        )
    assert done["status"] == "done"
    assert done["request"]["body"] == {"tags": ["drop-1", "drop-2"], "action": "detach"}
    assert done["user"]["tags"] == ["keep"] == read["tags"] == user.tags
    assert none_left["status"] == "unchanged"
    assert len(write_requests(school)) == 1


@pytest.mark.parametrize("tags", [[], ["a,b"], [""], [f"t{i}" for i in range(51)]])
async def test_remove_tags_refuses_bad_tag_lists(tags: list[str]) -> None:
    school = make_school(users=20)
    user = learner(school)
    user.tags = ["a", "b"]
    async with connected(school, destructive_on(school)) as client:
        result = await client.call_tool(
            "remove_tags_from_a_learnworlds_user", {"user_id": user.id, "tags": tags}
        )
    assert "tag" in error_text(result)
    assert user.tags == ["a", "b"] and write_requests(school) == []


# ----- suspend / unsuspend ---------------------------------------------------------------------


async def test_suspend_and_unsuspend_round_trip() -> None:
    school = make_school(users=30)
    user = learner(school)
    async with connected(school, destructive_on(school)) as client:
        dry = payload(
            await client.call_tool(
                "suspend_a_learnworlds_user", {"user_id": user.email, "dry_run": True}
            )
        )
        assert not user.is_suspended and write_requests(school) == []
        suspended = payload(
            await client.call_tool("suspend_a_learnworlds_user", {"user_id": user.email})
        )
        listed = payload(
            await client.call_tool("list_all_learnworlds_users", {"items_per_page": 200})
        )
        read = payload(
            await client.call_tool("get_single_learnworlds_user_by_id", {"user_id": user.id})
        )
        again = payload(await client.call_tool("suspend_a_learnworlds_user", {"user_id": user.id}))
        restored = payload(
            await client.call_tool("unsuspend_a_learnworlds_user", {"user_id": user.id})
        )
    assert dry["status"] == "dry_run" and dry["user"]["suspended"] is False
    assert dry["request"] == {"method": "PUT", "path": f"/v2/users/{user.id}/suspend"}
    assert suspended["status"] == "done" and suspended["user"]["suspended"] is True
    assert user.id not in [u["id"] for u in listed["items"]]
    assert read["suspended"] is True
    assert again["status"] == "unchanged" and "already suspended" in again["note"]
    assert restored["status"] == "done" and restored["user"]["suspended"] is False
    assert not user.is_suspended
    assert [r.path.rsplit("/", 1)[1] for r in write_requests(school)] == ["suspend", "unsuspend"]


# ----- unenroll_a_learnworlds_user --------------------------------------------------------------


async def test_unenroll_from_a_course() -> None:
    school = make_school(users=30)
    enrollment = next(e for e in school.enrollments if e.product_type == "course" and not e.via)
    user = school.user(enrollment.user_id)
    assert user is not None
    course = school.course(enrollment.product_id)
    assert course is not None
    async with connected(school, destructive_on(school)) as client:
        done = payload(
            await client.call_tool(
                "unenroll_a_learnworlds_user", {"user_id": user.email, "product_id": course.id}
            )
        )
    assert done["status"] == "done" and done["enrolled"] is False
    assert done["product"] == {"id": course.id, "title": course.title, "type": "course"}
    assert done["request"] == {
        "method": "DELETE",
        "path": f"/v2/users/{user.id}/enrollment",
        "body": {"productId": course.id, "productType": "course"},
    }
    assert not school.is_enrolled(user, course.id)


async def test_unenroll_from_a_bundle_takes_its_courses() -> None:
    school = make_school(users=30)
    user = learner(school)
    bundle = school.bundles[0]
    school.state.enroll(user, bundle, "bundle", 0, None)
    via = [e.product_id for e in school.enrollments_of(user, "course") if e.via == bundle.id]
    assert via
    async with connected(school, destructive_on(school)) as client:
        done = payload(
            await client.call_tool(
                "unenroll_a_learnworlds_user",
                {"user_id": user.id, "product_id": bundle.id, "product_type": "bundle"},
            )
        )
    assert done["status"] == "done" and done["enrolled"] is False
    assert not any(school.is_enrolled(user, c) for c in via)


async def test_unenroll_refuses_a_product_the_user_does_not_hold_and_dry_runs() -> None:
    school = make_school(users=30)
    user = learner(school)
    course = next(c for c in school.courses if not school.is_enrolled(user, c.id))
    held = next(e for e in school.enrollments_of(user, "course"))
    async with connected(school, destructive_on(school)) as client:
        missing = await client.call_tool(
            "unenroll_a_learnworlds_user", {"user_id": user.id, "product_id": course.id}
        )
        unknown = await client.call_tool(
            "unenroll_a_learnworlds_user", {"user_id": user.id, "product_id": "no-such-course"}
        )
        dry = payload(
            await client.call_tool(
                "unenroll_a_learnworlds_user",
                {"user_id": user.id, "product_id": held.product_id, "dry_run": True},
            )
        )
    assert "is not enrolled in course" in error_text(missing)
    assert "no-such-course" in error_text(unknown)
    assert dry["status"] == "dry_run" and dry["enrolled"] is True
    assert school.is_enrolled(user, held.product_id) and write_requests(school) == []


# ----- remove_a_learnworlds_user_from_a_group ---------------------------------------------------


async def test_remove_a_member_from_a_group() -> None:
    school = make_school(users=40)
    group = next(g for g in school.groups if school.group_members(g.id))
    user = school.group_members(group.id)[0]
    async with connected(school, destructive_on(school)) as client:
        dry = payload(
            await client.call_tool(
                "remove_a_learnworlds_user_from_a_group",
                {"group_id": group.id, "user_id": user.email, "dry_run": True},
            )
        )
        assert user in school.group_members(group.id) and write_requests(school) == []
        done = payload(
            await client.call_tool(
                "remove_a_learnworlds_user_from_a_group",
                {"group_id": group.id, "user_id": user.email},
            )
        )
        again = await client.call_tool(
            "remove_a_learnworlds_user_from_a_group", {"group_id": group.id, "user_id": user.id}
        )
    assert dry["member"] is True and done["member"] is False
    assert done["request"] == {
        "method": "DELETE",
        "path": f"/v2/user_groups/{group.id}/users/{user.id}",
    }
    assert group.id not in [g["id"] for g in done["user_groups"]]
    assert user not in school.group_members(group.id)
    assert "is not a member" in error_text(again)
    assert len(write_requests(school)) == 1


# ----- update_a_learnworlds_group_by_id ---------------------------------------------------------


async def test_update_group_title_courses_tags_and_managers() -> None:
    school = make_school(users=40)
    group = next(g for g in school.groups if g.manager_ids)
    new_manager = learner(school, 3)
    courses = [c.id for c in school.courses[-2:]]
    untouched_capacity = group.max_number_of_users
    async with connected(school, destructive_on(school)) as client:
        done = payload(
            await client.call_tool(
                "update_a_learnworlds_group_by_id",
                {
                    "group_id": group.id,
                    "title": "Renamed Cohort",
                    "courses": courses,
                    "tags": ["renamed"],
                    "group_managers": [new_manager.email],
                },
            )
        )
        read = payload(
            await client.call_tool("get_single_learnworlds_group_by_id", {"group_id": group.id})
        )
    assert done["status"] == "done" and done["group"] == read
    body = done["request"]["body"]
    assert body["title"] == "Renamed Cohort" and body["products"] == {"courses": courses}
    assert body["group_managers"] == [new_manager.id]
    assert read["title"] == "Renamed Cohort" and read["products"] == courses
    assert read["tags"] == ["renamed"]
    assert [m["email"] for m in read["group_managers"]] == [new_manager.email]
    assert group.max_number_of_users == untouched_capacity


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "Nothing to change"),
        ({"courses": ["no-such-course"]}, "No course"),
        ({"group_managers": ["ghost@nowhere.test"]}, "No user"),
        ({"max_number_of_users": 1}, "cannot be below"),
        ({"group_id": "ffffffffffffffffffffffff", "title": "X"}, "No group"),
    ],
)
async def test_update_group_refuses_bad_input(arguments: dict[str, Any], expected: str) -> None:
    school = make_school(users=40)
    group = next(g for g in school.groups if len(school.group_members(g.id)) >= 2)
    title = group.title
    async with connected(school, destructive_on(school)) as client:
        result = await client.call_tool(
            "update_a_learnworlds_group_by_id", {"group_id": group.id, **arguments}
        )
    assert expected in error_text(result)
    assert group.title == title and write_requests(school) == []


async def test_update_group_dry_run_and_unchanged() -> None:
    school = make_school(users=20)
    group = school.groups[0]
    async with connected(school, destructive_on(school)) as client:
        dry = payload(
            await client.call_tool(
                "update_a_learnworlds_group_by_id",
                {"group_id": group.id, "description": "New words", "dry_run": True},
            )
        )
        same = payload(
            await client.call_tool(
                "update_a_learnworlds_group_by_id", {"group_id": group.id, "title": group.title}
            )
        )
    assert dry["status"] == "dry_run" and dry["request"]["body"]["description"] == "New words"
    assert dry["group"]["id"] == group.id and group.description != "New words"
    assert same["status"] == "unchanged"
    assert write_requests(school) == []


async def test_update_group_capacity_counts_every_page_of_a_bare_member_list() -> None:
    school = make_school(users=400, s1_shapes=True)
    group = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    count = len(school.group_members(group.id))
    assert count > 21
    async with connected(school, destructive_on(school)) as client:
        refused = await client.call_tool(
            "update_a_learnworlds_group_by_id",
            {"group_id": group.id, "max_number_of_users": 21, "dry_run": True},
        )
        room = payload(
            await client.call_tool(
                "update_a_learnworlds_group_by_id",
                {"group_id": group.id, "max_number_of_users": count, "dry_run": True},
            )
        )
    assert f"has {count} members" in error_text(refused)
    assert room["status"] == "dry_run"
    assert write_requests(school) == []


# ----- change_a_learnworlds_user_role -----------------------------------------------------------


async def test_make_a_user_an_instructor_with_courses() -> None:
    school = make_school(users=30)
    user = learner(school)
    role = school.role_by_title("Course creator")
    assert role is not None
    course = school.courses[0]
    async with connected(school, destructive_on(school)) as client:
        done = payload(
            await client.call_tool(
                "change_a_learnworlds_user_role",
                {
                    "user_id": user.email,
                    "role_id": role.id,
                    "assigned_courses": [{"course_id": course.id, "revenue_share_percentage": 20}],
                },
            )
        )
        read = payload(
            await client.call_tool("get_single_learnworlds_user_by_id", {"user_id": user.id})
        )
    assert done["status"] == "done"
    assert done["request"]["path"] == f"/v2/users/{user.id}/user-role"
    assigned = done["user_role"]
    assert assigned["role"] == {"id": role.id, "name": role.title, "access_level": "instructor"}
    assert assigned["assigned_courses"] == [
        {"course_id": course.id, "revenue_share_percentage": 20}
    ]
    assert read["role"] == {"level": "instructor", "name": "Course creator"}
    assert read["is_instructor"] is True
    assert user.role_id == role.id


async def test_make_a_user_a_group_manager_and_keep_what_is_left_out() -> None:
    school = make_school(users=30)
    user = learner(school)
    user.assigned_courses = [AssignedCourse(school.courses[1].id, 10)]
    manager_role = school.role_by_title("Group manager")
    assert manager_role is not None
    group = school.groups[2]
    async with connected(school, destructive_on(school)) as client:
        done = payload(
            await client.call_tool(
                "change_a_learnworlds_user_role",
                {
                    "user_id": user.id,
                    "role_id": manager_role.id,
                    "assigned_user_group_ids": [group.id],
                },
            )
        )
        read = payload(
            await client.call_tool("get_single_learnworlds_group_by_id", {"group_id": group.id})
        )
    body = done["request"]["body"]
    assert body["assigned_user_group_ids"] == [group.id]
    assert body["assigned_courses"] == [
        {"course_id": school.courses[1].id, "revenue_share_percentage": 10}
    ]
    assert user.id in [m["id"] for m in read["group_managers"]]
    assert done["user_role"]["assigned_user_group_ids"] == [group.id]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"role_id": "ffffffffffffffffffffffff"}, "list_all_learnworlds_roles"),
        ({"assigned_courses": [{"course_id": "no-such-course"}]}, "No course"),
        ({"assigned_courses": [{"course_id": "x", "revenue_share_percentage": 101}]}, "100"),
        ({"assigned_user_group_ids": ["ffffffffffffffffffffffff"]}, "No group"),
        ({"user_id": "ghost@nowhere.test"}, "No user"),
    ],
)
async def test_change_role_refuses_bad_input(arguments: dict[str, Any], expected: str) -> None:
    school = make_school(users=20)
    user = learner(school)
    role = school.role_by_title("Course creator")
    assert role is not None
    before = user.role_id
    args = {"user_id": user.id, "role_id": role.id, **arguments}
    async with connected(school, destructive_on(school)) as client:
        result = await client.call_tool("change_a_learnworlds_user_role", args)
    assert expected in error_text(result)
    assert user.role_id == before and write_requests(school) == []


async def test_change_role_dry_run_and_unchanged() -> None:
    school = make_school(users=20)
    user = learner(school)
    admin = school.role_by_title("Admin")
    assert admin is not None
    async with connected(school, destructive_on(school)) as client:
        dry = payload(
            await client.call_tool(
                "change_a_learnworlds_user_role",
                {"user_id": user.id, "role_id": admin.id, "dry_run": True},
            )
        )
        same = payload(
            await client.call_tool(
                "change_a_learnworlds_user_role", {"user_id": user.id, "role_id": user.role_id}
            )
        )
    assert dry["status"] == "dry_run" and dry["request"]["body"]["role_id"] == admin.id
    assert dry["user_role"]["role"]["id"] == user.role_id != admin.id
    assert same["status"] == "unchanged"
    assert write_requests(school) == []


async def test_a_role_change_of_unknown_outcome_names_the_role_tool() -> None:
    school = make_school(users=20)
    user = learner(school)
    admin = school.role_by_title("Admin")
    assert admin is not None
    school.faults.fail_next(methods=["PUT"], after_apply=True, path_contains="/user-role")
    async with connected(school, destructive_on(school)) as client:
        text = error_text(
            await client.call_tool(
                "change_a_learnworlds_user_role", {"user_id": user.id, "role_id": admin.id}
            )
        )
    assert "Outcome unknown" in text
    assert f"get_single_learnworlds_user_role_by_id (user_id={user.id})" in text
    assert [r.method for r in write_requests(school)] == ["PUT"]
