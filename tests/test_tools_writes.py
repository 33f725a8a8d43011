"""The additive write tools through an MCP client against the sandbox school.

Each test writes to a fresh small school, checks the change through the read tools and against
the school's own data, and checks that dry runs and bad input leave the school unchanged. The
no-resend rule is proven here for every write method (POST, PUT, DELETE) against injected faults.
"""

from __future__ import annotations

from typing import Any

import pytest

from learnworlds_mcp.sandbox import SandboxSchool
from tests.support import (
    connected,
    error_text,
    learner,
    make_school,
    payload,
    settings_for,
    write_requests,
)


def writes_on(school: SandboxSchool, **overrides: Any) -> Any:
    return settings_for(school, allow_writes=True, **overrides)


# ----- create_a_learnworlds_user -------------------------------------------------------------


async def test_create_user_is_visible_to_the_read_tools() -> None:
    school = make_school(users=40)
    async with connected(school, writes_on(school)) as client:
        made = payload(
            await client.call_tool(
                "create_a_learnworlds_user",
                {
                    "email": "New.Person+lw@acme.com",
                    "username": "New Person",
                    "first_name": "New",
                    "last_name": "Person",
                    "tags": ["trial", " sales ", "trial"],
                    "fields": {"company": "Acme", "cf_employee_code": "ACM-1"},
                },
            )
        )
        again = payload(
            await client.call_tool(
                "get_single_learnworlds_user_by_id", {"user_id": "new.person+LW@acme.com"}
            )
        )
        newest = payload(await client.call_tool("list_all_learnworlds_users", {}))
    assert made["status"] == "done"
    assert made["request"]["method"] == "POST" and made["request"]["path"] == "/v2/users"
    assert made["request"]["body"]["tags"] == ["trial", "sales"]
    user = made["user"]
    assert user["email"] == "New.Person+lw@acme.com" and user["tags"] == ["trial", "sales"]
    assert user["fields"] == {"company": "Acme", "cf_employee_code": "ACM-1"}
    assert again == user
    assert newest["items"][0]["id"] == user["id"]
    stored = school.user(user["id"])
    assert stored is not None and stored.first_name == "New" and stored.last_name == "Person"
    assert len(write_requests(school)) == 1


async def test_create_user_dry_run_sends_nothing() -> None:
    school = make_school(users=30)
    before = len(school.users)
    async with connected(school, writes_on(school)) as client:
        dry = payload(
            await client.call_tool(
                "create_a_learnworlds_user",
                {"email": "dry@acme.com", "username": "Dry Run", "dry_run": True},
            )
        )
    assert dry["status"] == "dry_run"
    assert dry["request"] == {
        "method": "POST",
        "path": "/v2/users",
        "body": {"email": "dry@acme.com", "username": "Dry Run"},
    }
    assert "user" not in dry
    assert len(school.users) == before and write_requests(school) == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"email": "not-an-email", "username": "X"}, "not a valid email"),
        ({"email": "two@@acme.com", "username": "X"}, "not a valid email"),
        ({"email": "a b@acme.com", "username": "X"}, "not a valid email"),
        ({"email": "dots..@acme.com", "username": "X"}, "not a valid email"),
        ({"email": "x@acme", "username": "X"}, "not a valid email"),
        ({"email": "nul\x00@acme.com", "username": "X"}, "not a valid email"),
        ({"email": "a/b@acme.com", "username": "X"}, "not a valid email"),
        ({"email": "ok@acme.com", "username": "   "}, "username is blank"),
        ({"email": "ok@acme.com", "username": "X", "tags": ["a,b"]}, "contains a comma"),
        ({"email": "ok@acme.com", "username": "X", "tags": ["  "]}, "empty tag"),
        ({"email": "ok@acme.com", "username": "X", "fields": {"shoe": "42"}}, "shoe"),
        (
            {"email": "ok@acme.com", "username": "X", "tags": [f"t{i}" for i in range(51)]},
            "at most 50",
        ),
    ],
)
async def test_create_user_refuses_bad_input_without_sending(
    arguments: dict[str, Any], expected: str
) -> None:
    school = make_school(users=20)
    async with connected(school, writes_on(school)) as client:
        result = await client.call_tool("create_a_learnworlds_user", arguments)
    assert expected in error_text(result)
    assert write_requests(school) == []


async def test_create_user_with_a_taken_email_is_refused() -> None:
    school = make_school(users=20)
    taken = school.users[3]
    async with connected(school, writes_on(school)) as client:
        result = await client.call_tool(
            "create_a_learnworlds_user", {"email": taken.email.upper(), "username": "Twin"}
        )
    text = error_text(result)
    assert "already exists" in text and taken.id in text
    assert "update_a_learnworlds_user_by_id" in text
    assert write_requests(school) == []


# ----- add_tags_to_a_learnworlds_user ---------------------------------------------------------


async def test_add_tags_by_email_keeps_the_other_tags() -> None:
    school = make_school(users=40)
    user = next(u for u in school.users if "+" in u.email and not u.is_suspended)
    before = list(user.tags)
    async with connected(school, writes_on(school)) as client:
        done = payload(
            await client.call_tool(
                "add_tags_to_a_learnworlds_user",
                {"user_id": user.email, "tags": ["vip", "q3-cohort"]},
            )
        )
        read = payload(
            await client.call_tool("get_single_learnworlds_user_by_id", {"user_id": user.id})
        )
    assert done["status"] == "done"
    assert done["request"] == {
        "method": "PUT",
        "path": f"/v2/users/{user.id}/tags",
        "body": {"tags": ["vip", "q3-cohort"], "action": "attach"},
    }
    assert set(before) | {"vip", "q3-cohort"} == set(user.tags) == set(read["tags"])
    assert done["user"]["tags"] == read["tags"]


async def test_add_tags_the_user_already_has_sends_nothing() -> None:
    school = make_school(users=20)
    user = learner(school)
    user.tags = ["vip"]
    async with connected(school, writes_on(school)) as client:
        same = payload(
            await client.call_tool(
                "add_tags_to_a_learnworlds_user", {"user_id": user.id, "tags": ["vip"]}
            )
        )
        partly = payload(
            await client.call_tool(
                "add_tags_to_a_learnworlds_user",
                {"user_id": user.id, "tags": ["vip", "new"], "dry_run": True},
            )
        )
    assert same["status"] == "unchanged" and "already has" in same["note"]
    assert partly["status"] == "dry_run" and partly["request"]["body"]["tags"] == ["new"]
    assert user.tags == ["vip"] and write_requests(school) == []


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ([], "tags"),
        ([f"t{i}" for i in range(51)], "tags"),
        (["ok", "has,comma"], "contains a comma"),
        (["ok", ""], "empty tag"),
        (["line\nbreak"], "control character"),
    ],
)
async def test_add_tags_refuses_bad_tag_lists(tags: list[str], expected: str) -> None:
    school = make_school(users=20)
    user = learner(school)
    before = list(user.tags)
    async with connected(school, writes_on(school)) as client:
        result = await client.call_tool(
            "add_tags_to_a_learnworlds_user", {"user_id": user.id, "tags": tags}
        )
    assert expected in error_text(result)
    assert user.tags == before and write_requests(school) == []


async def test_add_tags_to_an_unknown_user() -> None:
    school = make_school(users=20)
    async with connected(school, writes_on(school)) as client:
        result = await client.call_tool(
            "add_tags_to_a_learnworlds_user", {"user_id": "nobody@nowhere.test", "tags": ["x"]}
        )
    assert "user_id takes the user's id or their email" in error_text(result)
    assert write_requests(school) == []


# ----- enroll_a_learnworlds_user ----------------------------------------------------------------


async def test_enroll_in_a_course_and_read_it_back() -> None:
    school = make_school(users=30)
    user = learner(school)
    course = next(c for c in school.courses if not school.is_enrolled(user, c.id))
    async with connected(school, writes_on(school)) as client:
        done = payload(
            await client.call_tool(
                "enroll_a_learnworlds_user",
                {
                    "user_id": user.email,
                    "product_id": course.id,
                    "justification": "Added by admin",
                },
            )
        )
    assert done["status"] == "done" and done["enrolled"] is True
    assert done["product"] == {"id": course.id, "title": course.title, "type": "course"}
    assert done["user"]["id"] == user.id
    assert done["request"] == {
        "method": "POST",
        "path": f"/v2/users/{user.id}/enrollment",
        "body": {
            "productId": course.id,
            "productType": "course",
            "price": 0,
            "justification": "Added by admin",
        },
    }
    assert school.is_enrolled(user, course.id)
    assert [r.method for r in write_requests(school)] == ["POST"]


async def test_enroll_in_a_bundle_gives_its_courses_and_a_subscription_takes_a_duration() -> None:
    school = make_school(users=30)
    bundle = school.bundles[0]
    plan = school.subscription_plans[0]
    user = next(
        u
        for u in school.users
        if not u.is_suspended
        and not {bundle.id, plan.id} & {e.product_id for e in school.enrollments_of(u)}
    )
    async with connected(school, writes_on(school)) as client:
        by_bundle = payload(
            await client.call_tool(
                "enroll_a_learnworlds_user",
                {"user_id": user.id, "product_id": bundle.id, "product_type": "bundle"},
            )
        )
        by_plan = payload(
            await client.call_tool(
                "enroll_a_learnworlds_user",
                {
                    "user_id": user.id,
                    "product_id": plan.id,
                    "product_type": "subscription",
                    "price": 29.5,
                    "duration_type": "months",
                    "duration": 3,
                },
            )
        )
    assert by_bundle["enrolled"] and by_plan["enrolled"]
    assert all(school.is_enrolled(user, c) for c in bundle.course_ids)
    held = {(e.product_type, e.product_id): e for e in school.enrollments_of(user)}
    assert held[("subscription", plan.id)].price == 29.5
    assert held[("subscription", plan.id)].expires is not None
    assert by_plan["request"]["body"]["duration"] == 3


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"price": -1}, "greater than or equal to 0"),
        ({"product_id": "no-such-course"}, "No course 'no-such-course'"),
        ({"product_id": "no-such-bundle", "product_type": "bundle"}, "No bundle"),
        ({"product_type": "ebook"}, "product_type"),
        ({"duration_type": "months", "duration": 2}, "subscriptions only"),
        ({"duration": 2}, "together"),
        ({"user_id": "ghost@nowhere.test"}, "No user"),
    ],
)
async def test_enroll_refuses_bad_input_without_sending(
    arguments: dict[str, Any], expected: str
) -> None:
    school = make_school(users=20)
    user = learner(school)
    course = next(c for c in school.courses if not school.is_enrolled(user, c.id))
    count = len(school.enrollments)
    args = {"user_id": user.id, "product_id": course.id, **arguments}
    async with connected(school, writes_on(school)) as client:
        result = await client.call_tool("enroll_a_learnworlds_user", args)
    assert expected in error_text(result)
    assert len(school.enrollments) == count and write_requests(school) == []


async def test_enrolling_twice_is_refused_before_sending() -> None:
    school = make_school(users=20)
    user = learner(school)
    course = next(c for c in school.courses if not school.is_enrolled(user, c.id))
    args = {"user_id": user.id, "product_id": course.id}
    async with connected(school, writes_on(school)) as client:
        payload(await client.call_tool("enroll_a_learnworlds_user", args))
        again = await client.call_tool("enroll_a_learnworlds_user", args)
    assert "already enrolled" in error_text(again)
    assert len(write_requests(school)) == 1


async def test_enroll_dry_run_shows_the_request_and_sends_nothing() -> None:
    school = make_school(users=20)
    user = learner(school)
    course = next(c for c in school.courses if not school.is_enrolled(user, c.id))
    async with connected(school, writes_on(school)) as client:
        dry = payload(
            await client.call_tool(
                "enroll_a_learnworlds_user",
                {"user_id": user.email, "product_id": course.id, "price": 10, "dry_run": True},
            )
        )
    assert dry["status"] == "dry_run" and dry["enrolled"] is False
    assert dry["request"]["path"] == f"/v2/users/{user.id}/enrollment"
    assert dry["request"]["body"]["price"] == 10
    assert not school.is_enrolled(user, course.id) and write_requests(school) == []


# ----- groups ----------------------------------------------------------------------------------


async def test_add_user_to_a_group_gives_tags_and_courses() -> None:
    school = make_school(users=40)
    group = next(g for g in school.groups if g.enroll_users_on_courses and g.tags)
    group.max_number_of_users = None
    user = next(u for u in school.users if u not in school.group_members(group.id))
    async with connected(school, writes_on(school)) as client:
        done = payload(
            await client.call_tool(
                "add_a_learnworlds_user_to_a_group", {"group_id": group.id, "user_id": user.email}
            )
        )
    assert done["status"] == "done" and done["member"] is True
    assert done["request"] == {
        "method": "POST",
        "path": f"/v2/user_groups/{group.id}/users/{user.id}",
    }
    assert group.id in [g["id"] for g in done["user_groups"]]
    assert user in school.group_members(group.id)
    assert set(group.tags) <= set(user.tags)
    assert all(school.is_enrolled(user, c) for c in group.course_ids)
    assert "Members get tags" in done["note"]


async def test_adding_to_a_full_group_or_twice_is_refused() -> None:
    school = make_school(users=40)
    group = next(g for g in school.groups if school.group_members(g.id))
    members = school.group_members(group.id)
    group.max_number_of_users = len(members)
    outsider = next(u for u in school.users if u not in members)
    async with connected(school, writes_on(school)) as client:
        full = await client.call_tool(
            "add_a_learnworlds_user_to_a_group", {"group_id": group.id, "user_id": outsider.id}
        )
        twice = await client.call_tool(
            "add_a_learnworlds_user_to_a_group", {"group_id": group.id, "user_id": members[0].id}
        )
        unknown = await client.call_tool(
            "add_a_learnworlds_user_to_a_group",
            {"group_id": "ffffffffffffffffffffffff", "user_id": outsider.id},
        )
    assert "is full" in error_text(full) and f"{len(members)} of {len(members)}" in error_text(full)
    assert "already a member" in error_text(twice)
    assert "No group" in error_text(unknown)
    assert school.group_members(group.id) == members and write_requests(school) == []


async def test_a_full_group_is_refused_when_members_come_as_a_bare_array() -> None:
    # The 2025 shape has no member count: all pages are counted, not only the first 20.
    school = make_school(users=400, s1_shapes=True)
    group = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    members = school.group_members(group.id)
    assert len(members) > 20
    group.max_number_of_users = len(members)
    outsider = next(u for u in school.users if u not in members and not u.is_suspended)
    async with connected(school, writes_on(school)) as client:
        full = await client.call_tool(
            "add_a_learnworlds_user_to_a_group", {"group_id": group.id, "user_id": outsider.id}
        )
    assert f"{len(members)} of {len(members)}" in error_text(full)
    assert school.group_members(group.id) == members and write_requests(school) == []


async def test_a_bare_member_list_too_long_to_count_is_refused_not_guessed() -> None:
    from learnworlds_mcp.tools.groups import MAX_BARE_MEMBER_PAGES, MEMBERS_PAGE_SIZE

    school = make_school(users=MAX_BARE_MEMBER_PAGES * MEMBERS_PAGE_SIZE + 60, s1_shapes=True)
    group = school.groups[0]
    outsider = next(u for u in school.users if not u.is_suspended)
    school.state.members[group.id] = dict.fromkeys(u.id for u in school.users if u != outsider)
    group.max_number_of_users = 10_000
    async with connected(school, writes_on(school)) as client:
        refused = await client.call_tool(
            "add_a_learnworlds_user_to_a_group", {"group_id": group.id, "user_id": outsider.id}
        )
    text = error_text(refused)
    assert "cannot be paged or counted" in text and "Nothing was sent" in text
    assert write_requests(school) == []


async def test_add_to_group_dry_run() -> None:
    school = make_school(users=30)
    group = school.groups[1]
    group.max_number_of_users = None
    user = next(u for u in school.users if u not in school.group_members(group.id))
    async with connected(school, writes_on(school)) as client:
        dry = payload(
            await client.call_tool(
                "add_a_learnworlds_user_to_a_group",
                {"group_id": group.id, "user_id": user.id, "dry_run": True},
            )
        )
    assert dry["status"] == "dry_run" and dry["member"] is False
    assert dry["group"] == {"id": group.id, "title": group.title}
    assert user not in school.group_members(group.id) and write_requests(school) == []


async def test_create_a_group_with_managers_by_email() -> None:
    school = make_school(users=40)
    manager = learner(school, 2)
    courses = [c.id for c in school.courses[:2]]
    async with connected(school, writes_on(school)) as client:
        done = payload(
            await client.call_tool(
                "create_a_learnworlds_group",
                {
                    "title": "Initech Q4 Cohort",
                    "courses": courses,
                    "description": "Fourth quarter",
                    "max_number_of_users": 25,
                    "enroll_users_on_courses": True,
                    "group_managers": [manager.email],
                    "tags": ["initech", "q4"],
                },
            )
        )
        listed = payload(await client.call_tool("list_all_learnworlds_groups", {}))
    group = done["group"]
    assert done["status"] == "done"
    assert done["request"]["body"]["group_managers"] == [manager.id]
    assert group["title"] == "Initech Q4 Cohort" and group["products"] == courses
    assert group["max_number_of_users"] == 25 and group["tags"] == ["initech", "q4"]
    assert [m["email"] for m in group["group_managers"]] == [manager.email]
    assert listed["items"][0]["id"] == group["id"]
    stored = school.group(group["id"])
    assert stored is not None and stored.enroll_users_on_courses is True


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"courses": ["no-such-course"]}, "No course 'no-such-course'"),
        ({"group_managers": ["ghost@nowhere.test"]}, "No user"),
        ({"max_number_of_users": 0}, "greater than or equal to 1"),
        ({"title": "  "}, "title is blank"),
        ({"tags": ["a,b"]}, "contains a comma"),
    ],
)
async def test_create_group_refuses_bad_input(arguments: dict[str, Any], expected: str) -> None:
    school = make_school(users=20)
    count = len(school.groups)
    args = {"title": "New", "courses": [], **arguments}
    async with connected(school, writes_on(school)) as client:
        result = await client.call_tool("create_a_learnworlds_group", args)
    assert expected in error_text(result)
    assert len(school.groups) == count and write_requests(school) == []


async def test_create_group_dry_run() -> None:
    school = make_school(users=20)
    count = len(school.groups)
    async with connected(school, writes_on(school)) as client:
        dry = payload(
            await client.call_tool(
                "create_a_learnworlds_group", {"title": "Later", "courses": [], "dry_run": True}
            )
        )
    assert dry["status"] == "dry_run"
    assert dry["request"] == {
        "method": "POST",
        "path": "/v2/user_groups",
        "body": {"title": "Later", "products": {"courses": []}},
    }
    assert len(school.groups) == count and write_requests(school) == []


# ----- gating -------------------------------------------------------------------------------


async def test_destructive_tools_do_not_exist_while_only_writes_are_on() -> None:
    school = make_school(users=20)
    user = learner(school)
    async with connected(school, writes_on(school)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("suspend_a_learnworlds_user", {"user_id": user.id})
    assert "create_a_learnworlds_user" in names and "suspend_a_learnworlds_user" not in names
    assert "Unknown tool" in error_text(result)
    assert not user.is_suspended and school.requests == []


# ----- no resend -------------------------------------------------------------------------------


def _arm(school: SandboxSchool, fault: str, method: str) -> None:
    if fault == "5xx":
        school.faults.fail_next(methods=[method], after_apply=True, path_contains="/v2/")
    elif fault == "timeout":
        school.faults.slow_next(
            seconds=0.5, after_apply=True, methods=[method], path_contains="/v2/"
        )
    else:
        school.faults.drop_next(after_apply=True, methods=[method], path_contains="/v2/")


def _call_for(school: SandboxSchool, method: str) -> tuple[str, dict[str, Any], str]:
    """A write tool call using `method`, and the read tool its unknown outcome should name."""
    user = learner(school)
    if method == "POST":
        course = next(c for c in school.courses if not school.is_enrolled(user, c.id))
        return (
            "enroll_a_learnworlds_user",
            {"user_id": user.id, "product_id": course.id},
            "enroll_a_learnworlds_user with dry_run=true",
        )
    if method == "PUT":
        return (
            "suspend_a_learnworlds_user",
            {"user_id": user.id},
            "get_single_learnworlds_user_by_id",
        )
    group = next(g for g in school.groups if user in school.group_members(g.id))
    return (
        "remove_a_learnworlds_user_from_a_group",
        {"group_id": group.id, "user_id": user.id},
        "remove_a_learnworlds_user_from_a_group with dry_run=true",
    )


@pytest.mark.parametrize("fault", ["5xx", "timeout", "drop"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_a_write_whose_outcome_is_unknown_is_never_sent_twice(
    method: str, fault: str
) -> None:
    school = make_school(users=40)
    if method == "DELETE":
        # Give the first learner a group to leave.
        user = learner(school)
        group = school.groups[0]
        if user not in school.group_members(group.id):
            school.state.members[group.id][user.id] = None
    tool, arguments, check_with = _call_for(school, method)
    _arm(school, fault, method)
    settings = settings_for(
        school,
        allow_writes=True,
        allow_destructive=True,
        timeout=0.2 if fault == "timeout" else 5.0,
    )
    async with connected(school, settings) as client:
        result = await client.call_tool(tool, arguments)
        text = error_text(result)
        after = await client.call_tool("list_all_learnworlds_roles", {})
    writes = write_requests(school)
    assert [r.method for r in writes] == [method], writes
    assert text.count("Outcome unknown") == 1 and "not sent again" in text
    assert check_with in text
    assert not after.is_error  # the server still works


async def test_a_write_answered_429_is_resent_because_it_was_not_processed() -> None:
    school = make_school(users=20)
    user = learner(school)
    school.faults.rate_limit_next(methods=["PUT"], retry_after=1, path_contains="/v2/")
    async with connected(school, writes_on(school)) as client:
        done = payload(
            await client.call_tool(
                "add_tags_to_a_learnworlds_user", {"user_id": user.id, "tags": ["again"]}
            )
        )
    assert done["status"] == "done" and "again" in user.tags
    assert [r.status for r in write_requests(school)] == [429, 200]


async def test_argument_errors_name_the_argument_and_what_is_wrong() -> None:
    school = make_school(users=10)
    async with connected(school, settings_for(school, allow_writes=True)) as client:
        missing = await client.call_tool("create_a_learnworlds_user", {"email": "a@b.co"})
        wrong = await client.call_tool(
            "add_tags_to_a_learnworlds_user", {"user_id": "x", "tags": "vip"}
        )
    assert error_text(missing) == (
        "Error executing tool create_a_learnworlds_user: invalid arguments: username: field "
        "required. Check the tool's input schema and call again; nothing was sent to the school."
    )
    assert "tags: input should be a valid list" in error_text(wrong)
    assert "pydantic" not in error_text(wrong) and "vip" not in error_text(wrong)
    assert write_requests(school) == []
