"""The admin's real questions, asked the way a model would through an MCP client, against a
3,000-user school: each is answered in at most 3 tool calls and 5,000 result tokens (≈ 4 bytes
a token of the text the model reads), and the answer is checked against the school's data."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from mcp import Client

from learnworlds_mcp.clock import FakeClock
from learnworlds_mcp.sandbox import SandboxSchool
from learnworlds_mcp.sandbox.records import User
from tests.support import connected, make_school, payload

MAX_CALLS = 3
MAX_TOKENS = 5_000
DAY = 86_400


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return make_school(users=3000, clock=FakeClock())


@pytest.fixture(autouse=True)
def fresh_window(school: SandboxSchool) -> None:
    school.clock.advance(11)  # type: ignore[attr-defined]


class Conversation:
    """Counts what one question costs: tool calls and the tokens of the results' text."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.calls = 0
        self.bytes = 0

    async def ask(self, tool: str, arguments: dict[str, Any]) -> Any:
        result = await self.client.call_tool(tool, arguments)
        self.calls += 1
        self.bytes += sum(len(getattr(b, "text", "").encode()) for b in result.content)
        return payload(result)

    def check_budget(self) -> None:
        assert self.calls <= MAX_CALLS, f"{self.calls} tool calls"
        assert self.bytes / 4 <= MAX_TOKENS, f"≈{self.bytes // 4} tokens"


async def test_which_admins_and_instructors_have_not_logged_in_for_90_days(
    school: SandboxSchool,
) -> None:
    async with connected(school) as client:
        talk = Conversation(client)
        answer = await talk.ask(
            "list_all_learnworlds_inactive_staff",
            {"days": 90, "levels": ["admin", "instructor"]},
        )
    talk.check_budget()
    cutoff = time.time() - 90 * DAY
    expected = {
        u.id
        for u in school.users
        if not u.is_suspended
        and school.role(u.role_id).access_level in ("admin", "instructor")
        and (u.last_login is None or u.last_login < cutoff)
    }
    assert answer["complete"] and {m["id"] for m in answer["items"]} == expected
    assert expected  # the school has such staff: the answer is not vacuous


async def test_how_is_the_enterprise_cohort_doing(school: SandboxSchool) -> None:
    group = next(g for g in school.groups if g.title == "Enterprise Cohort Q3")
    members = [u for u in school.group_members(group.id) if not u.is_suspended]
    assert len(members) == 300
    async with connected(school) as client:
        talk = Conversation(client)
        found = await talk.ask(
            "list_all_learnworlds_groups", {"title_contains": "enterprise cohort"}
        )
        (match,) = found["items"]
        report = await talk.ask(
            "get_single_learnworlds_group_report_by_id", {"group_id": match["id"]}
        )
        while not report["complete"]:
            report = await talk.ask(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": match["id"], "resume_from": report["resume_from"]},
            )
    talk.check_budget()
    # Who manages it, what it teaches, who is in it, how far along they are.
    assert [m["email"] for m in report["group"]["group_managers"]] == [
        school.user(m).email for m in group.manager_ids
    ]
    assert [c["course_id"] for c in report["courses"]] == group.course_ids
    assert report["member_count"] == report["members_read"] == len(members)
    for course in report["courses"]:
        states = [
            school.progress_json(school.progress[(u.id, course["course_id"])])["status"]
            for u in members
            if school.is_enrolled(u, course["course_id"])
        ]
        assert course["enrolled"] == len(states)
        assert course["completed"] == states.count("completed")
        assert course["not_started"] == states.count("not_started")
    assert report["members"] and all(
        len(m["progress"]) == len(group.course_ids) for m in report["members"]
    )


async def test_what_role_and_nps_does_this_vip_have_and_what_are_they_enrolled_in(
    school: SandboxSchool,
) -> None:
    vip = max(
        (u for u in school.users if "vip" in u.tags and u.nps_score is not None),
        key=lambda u: len(school.enrollments_of(u, "course")),
    )
    async with connected(school) as client:
        talk = Conversation(client)
        overview = await talk.ask(
            "get_single_learnworlds_user_overview_by_id", {"user_id": vip.email}
        )
    talk.check_budget()
    assert overview["role"]["name"] == school.role(vip.role_id).title
    assert overview["user"].get("nps_score") == vip.nps_score
    assert [e["course_id"] for e in overview["enrollments"]] == [
        e.product_id for e in school.enrollments_of(vip, "course")
    ]
    assert all("progress_rate" in e for e in overview["enrollments"])


@contextmanager
def managers_with_nps(school: SandboxSchool) -> Iterator[list[User]]:
    """The auto-enrolling groups' managers, some given an NPS score and one made an
    instructor for the test (the seed gives managers neither); restored afterwards."""
    managers = [
        school.user(m)
        for m in dict.fromkeys(
            m for g in school.groups if g.enroll_users_on_courses for m in g.manager_ids
        )
    ]
    saved = [(u, u.nps_score, u.role_id) for u in managers if u is not None]
    instructor = next(r for r in school.roles if r.access_level == "instructor")
    for n, (u, _, _) in enumerate(saved):
        u.nps_score = (n * 3) % 11 if n % 3 else None
    saved[0][0].role_id = instructor.id
    try:
        yield [u for u, _, _ in saved]
    finally:
        for u, score, role_id in saved:
            u.nps_score, u.role_id = score, role_id


async def test_cohort_manager_reporting_for_every_auto_enrolling_group(
    school: SandboxSchool,
) -> None:
    groups = [g for g in school.groups if g.enroll_users_on_courses]
    with managers_with_nps(school) as managers:
        assert len(managers) == 7 and sum(len(g.manager_ids) for g in groups) == 13
        async with connected(school) as client:
            talk = Conversation(client)
            table = await talk.ask(
                "list_all_learnworlds_group_managers", {"enroll_users_on_courses": True}
            )
        talk.check_budget()
        expected = [
            (
                g.id,
                g.title,
                m.id,
                m.email,
                m.nps_score,
                school.role(m.role_id).access_level == "instructor",  # type: ignore[union-attr]
            )
            for g in school.groups  # newest first, as the API lists them
            if g.enroll_users_on_courses
            for m in (school.user(i) for i in sorted(g.manager_ids))
            if m is not None
        ]
    got = [
        (
            r["group_id"],
            r["group_title"],
            r["manager_id"],
            r["email"],
            r.get("nps_score"),
            r["is_instructor"],
        )
        for r in table["items"]
    ]
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert table["complete"] and table["groups_matched"] == len(groups)
    assert table["managers_read"] == 7 and table["api_calls"] == 1 + 7
    assert any(r[4] is not None for r in got) and any(r[5] for r in got)  # not vacuous
    assert {g["id"] for g in table["groups_without_managers"]} == {
        g.id for g in groups if not g.manager_ids
    }
    print(f"cohort manager reporting: {talk.calls} call(s), ≈{talk.bytes // 4} tokens")


async def test_report_on_a_cohort_named_by_title_with_its_managers_nps(
    school: SandboxSchool,
) -> None:
    group = next(g for g in school.groups if g.title == "Enterprise Cohort Q3")
    with managers_with_nps(school):
        async with connected(school) as client:
            talk = Conversation(client)
            report = await talk.ask(
                "get_single_learnworlds_group_report_by_id", {"group_id": "Enterprise Cohort Q3"}
            )
            while not report["complete"]:
                report = await talk.ask(
                    "get_single_learnworlds_group_report_by_id",
                    {"group_id": "enterprise cohort q3", "resume_from": report["resume_from"]},
                )
        managers = [school.user(m) for m in group.manager_ids]
        expected = [
            {
                "id": m.id,
                "email": m.email,
                "nps_score": m.nps_score,
                "is_instructor": school.role(m.role_id).access_level == "instructor",  # type: ignore[union-attr]
            }
            for m in managers
            if m is not None
        ]
    assert talk.calls <= 2
    talk.check_budget()
    assert report["group"]["id"] == group.id
    assert report["member_count"] == report["members_read"] == 300
    got = [
        {k: m.get(k) for k in ("id", "email", "nps_score", "is_instructor")}
        for m in report["group"]["group_managers"]
    ]
    assert got == expected
    print(f"cohort report by title: {talk.calls} call(s), ≈{talk.bytes // 4} tokens")
