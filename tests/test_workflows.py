"""The workflow tools at a realistic size, in virtual time: a 3,000-user school whose big cohort
has 300 members. Results are checked against the sandbox's own data; the school's request log
shows the rate limit was never exceeded; MCP progress notifications arrive; bounds hold."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from learnworlds_mcp.clock import FakeClock
from learnworlds_mcp.sandbox import LoggedRequest, SandboxSchool
from learnworlds_mcp.state.tallies import TALLY_TTL_SECONDS
from learnworlds_mcp.tools import group_managers, inactive_staff, user_overview
from tests.support import connected, error_text, make_school, payload

STAFF_LEVELS = ("admin", "instructor", "reporter", "license_reporter")
DAY = 86_400


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return make_school(users=3000, clock=FakeClock())


@pytest.fixture(autouse=True)
def fresh_window(school: SandboxSchool) -> Iterator[None]:
    """Each test's server has its own limiter: let the school's window pass (virtual time)."""
    school.clock.advance(11)  # type: ignore[attr-defined]
    school.clear_log()
    yield


class Progress:
    """Collects MCP progress notifications for one tool call."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, float | None, str | None]] = []

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.seen.append((progress, total, message))


def busiest_window(requests: list[LoggedRequest], seconds: float = 10.0) -> int:
    """The most requests the school received within any `seconds`-long window."""
    times = sorted(r.at for r in requests)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def assert_paced(school: SandboxSchool) -> None:
    assert busiest_window(school.requests) <= 30
    assert not [r for r in school.requests if r.status == 429]


def api_requests(school: SandboxSchool) -> list[LoggedRequest]:
    return [r for r in school.requests if r.path.startswith("/v2/")]


def cohort(school: SandboxSchool):
    return max(school.groups, key=lambda g: len(school.group_members(g.id)))


# ---------------------------------------------------------------------------- group managers


def manager_rows(school: SandboxSchool, **filters: Any) -> set[tuple[str, str, str | None]]:
    auto = filters.get("enroll_users_on_courses")
    needle = str(filters.get("title_contains", "")).casefold()
    return {
        (g.id, m, school.user(m).email)  # type: ignore[union-attr]
        for g in school.groups
        if (auto is None or g.enroll_users_on_courses is auto) and needle in g.title.casefold()
        for m in g.manager_ids
    }


def rows_of(table: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    return {(r["group_id"], r["manager_id"], r.get("email")) for r in table["items"]}


@pytest.mark.parametrize(
    "filters",
    [{}, {"enroll_users_on_courses": False}, {"title_contains": "acme"}],
    ids=["all", "not-auto-enrolling", "title"],
)
async def test_group_managers_follow_the_filters(
    school: SandboxSchool, filters: dict[str, Any]
) -> None:
    async with connected(school) as client:
        table = payload(await client.call_tool("list_all_learnworlds_group_managers", filters))
    expected = manager_rows(school, **filters)
    assert expected and rows_of(table) == expected
    assert table["complete"] and "resume_from" not in table
    distinct = {m for _, m, _ in expected}
    assert table["api_calls"] == 1 + len(distinct) == len(api_requests(school))
    for row in table["items"]:
        user = school.user(row["manager_id"])
        assert row.get("nps_score") == user.nps_score  # type: ignore[union-attr]
        assert row["is_admin"] is (school.role(user.role_id).access_level == "admin")  # type: ignore[union-attr]
    assert_paced(school)


async def test_group_managers_bound_gives_a_cursor_that_finishes_the_table(
    school: SandboxSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_managers, "MAX_MANAGER_CALLS", 4)  # a groups page + 3 managers
    progress = Progress()
    async with connected(school) as client:
        first = payload(
            await client.call_tool(
                "list_all_learnworlds_group_managers", {}, progress_callback=progress
            )
        )
        second = payload(
            await client.call_tool(
                "list_all_learnworlds_group_managers", {"resume_from": first["resume_from"]}
            )
        )
        rest = second
        while not rest["complete"]:
            rest = payload(
                await client.call_tool(
                    "list_all_learnworlds_group_managers", {"resume_from": rest["resume_from"]}
                )
            )
            second["items"] += rest["items"]
    assert first["complete"] is False and first["api_calls"] == 4
    assert first["managers_read"] == 3 and f"resume_from={first['resume_from']!r}" in first["note"]
    assert progress.seen
    # The continuation adds exactly the managers not read yet: nothing twice, nothing missed.
    assert rows_of(first).isdisjoint(rows_of(second))
    assert rows_of(first) | rows_of(second) == manager_rows(school)
    assert not second["groups_without_managers"]  # listed once, by the first call
    assert_paced(school)


async def test_a_cohort_report_names_its_group_by_title(school: SandboxSchool) -> None:
    small = next(g for g in school.groups if 5 <= len(school.group_members(g.id)) <= 20)
    async with connected(school) as client:
        by_title = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": f"  {small.title.upper()} "},
            )
        )
        ambiguous = error_text(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id", {"group_id": "acme"}
            )
        )
        unknown = error_text(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id", {"group_id": "No Such Cohort"}
            )
        )
        unknown_id = error_text(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id", {"group_id": "0" * 24}
            )
        )
    check_report(by_title, expected_report(school, small.id))
    acme = [g for g in school.groups if "acme" in g.title.casefold()]
    assert len(acme) == 2
    assert "2 groups match" in ambiguous
    assert all(g.id in ambiguous and g.title in ambiguous for g in acme)
    assert "No group with id or title 'No Such Cohort'" in unknown
    assert "list_all_learnworlds_groups" in unknown
    assert "No group with id or title" in unknown_id


# ---------------------------------------------------------------------------- inactive staff


def expected_inactive(school: SandboxSchool, cutoff: float, levels=STAFF_LEVELS) -> set[str]:
    return {
        u.id
        for u in school.users
        if not u.is_suspended
        and school.role(u.role_id).access_level in levels
        and (u.last_login is None or u.last_login < cutoff)
    }


async def test_inactive_staff_are_found_with_one_call_per_staff_level(
    school: SandboxSchool,
) -> None:
    progress = Progress()
    async with connected(school) as client:
        result = await client.call_tool(
            "list_all_learnworlds_inactive_staff", {}, progress_callback=progress
        )
    data = payload(result)
    cutoff = time.time() - 90 * DAY
    assert {m["id"] for m in data["items"]} == expected_inactive(school, cutoff)
    assert data["complete"] is True and data["days"] == 90 and "resume_from" not in data
    never = [m for m in data["items"] if "last_login" not in m]
    assert never and data["items"][: len(never)] == never  # never logged in come first
    idle = [m["days_since_login"] for m in data["items"][len(never) :]]
    assert idle == sorted(idle, reverse=True) and min(idle) >= 90
    assert any(m["role"]["name"] == "Teaching assistant" for m in data["items"])  # custom role
    calls = api_requests(school)
    assert [(r.query["role"], r.query["items_per_page"]) for r in calls] == [
        (level, "200") for level in STAFF_LEVELS
    ]  # one page per staff level: no walk through the learners
    assert data["api_calls"] == 4 and data["staff_checked"] == sum(
        1
        for u in school.users
        if not u.is_suspended and school.role(u.role_id).access_level in STAFF_LEVELS
    )
    assert len(progress.seen) == 4
    assert_paced(school)


async def test_inactive_admins_for_a_year(school: SandboxSchool) -> None:
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "list_all_learnworlds_inactive_staff", {"days": 365, "levels": ["admin"]}
            )
        )
    cutoff = time.time() - 365 * DAY
    assert {m["id"] for m in data["items"]} == expected_inactive(school, cutoff, ("admin",))
    assert all(m["role"]["level"] == "admin" for m in data["items"])


async def test_inactive_staff_bound_gives_a_cursor_that_finishes_the_job(
    school: SandboxSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inactive_staff, "STAFF_PAGE_SIZE", 5)
    monkeypatch.setattr(inactive_staff, "MAX_STAFF_CALLS", 3)
    found: list[str] = []
    calls = 0
    cursor: str | None = None
    async with connected(school) as client:
        while True:
            arguments: dict[str, Any] = {"days": 30}
            if cursor:
                arguments["resume_from"] = cursor
            data = payload(await client.call_tool("list_all_learnworlds_inactive_staff", arguments))
            calls += 1
            assert data["api_calls"] <= 3
            found += [m["id"] for m in data["items"]]
            if data["complete"]:
                break
            cursor = data["resume_from"]
            assert "resume_from" in data["note"]
    assert calls > 5
    assert sorted(found) == sorted(expected_inactive(school, time.time() - 30 * DAY))
    assert_paced(school)


async def test_inactive_staff_rejects_a_made_up_cursor(school: SandboxSchool) -> None:
    async with connected(school) as client:
        result = await client.call_tool(
            "list_all_learnworlds_inactive_staff", {"resume_from": "learner:7"}
        )
        days = await client.call_tool("list_all_learnworlds_inactive_staff", {"days": 0})
    assert "resume_from" in error_text(result)
    assert "days" in error_text(days)


# ---------------------------------------------------------------------------- cohort report


def expected_report(school: SandboxSchool, group_id: str) -> dict[str, Any]:
    group = school.group(group_id)
    members = [u for u in school.group_members(group_id) if not u.is_suspended]
    courses = []
    rates: dict[str, dict[str, float | None]] = {u.id: {} for u in members}
    for cid in group.course_ids:
        sent = [
            school.progress_json(school.progress[(u.id, cid)])
            for u in members
            if school.is_enrolled(u, cid) and (u.id, cid) in school.progress
        ]
        for u in members:
            p = school.progress.get((u.id, cid))
            enrolled = p is not None and school.is_enrolled(u, cid)
            rates[u.id][cid] = float(school.progress_json(p)["progress_rate"]) if enrolled else None
        done = sum(s["status"] == "completed" for s in sent)
        fresh = sum(s["status"] == "not_started" for s in sent)
        average = sum(s["progress_rate"] for s in sent) / len(sent) if sent else None
        courses.append(
            {
                "course_id": cid,
                "title": school.course(cid).title,
                "enrolled": len(sent),
                "completed": done,
                "in_progress": len(sent) - done - fresh,
                "not_started": fresh,
                "not_enrolled": len(members) - len(sent),
                **({"average_progress": round(average, 1)} if average is not None else {}),
            }
        )

    def behind(u) -> tuple[float, float, str]:
        values = [rates[u.id][c] or 0.0 for c in group.course_ids]
        return (sum(values) / len(values) if values else 0.0, u.last_login or 0.0, u.email)

    now = time.time()
    return {
        "courses": courses,
        "member_count": len(members),
        "never_logged_in": sum(u.last_login is None for u in members),
        "idle_30_days": sum(
            u.last_login is not None and u.last_login < now - 30 * DAY for u in members
        ),
        "behind": [
            (u.id, [rates[u.id][c] for c in group.course_ids]) for u in sorted(members, key=behind)
        ],
    }


def check_report(data: dict[str, Any], expected: dict[str, Any], member_limit: int = 25) -> None:
    assert data["complete"] is True and "resume_from" not in data
    assert data["courses"] == expected["courses"]
    assert data["member_count"] == data["members_read"] == expected["member_count"]
    assert data["never_logged_in"] == expected["never_logged_in"]
    assert data["idle_30_days"] == expected["idle_30_days"]
    assert [(m["id"], m["progress"]) for m in data["members"]] == expected["behind"][:member_limit]


async def test_cohort_report_of_300_members_in_two_bounded_calls(school: SandboxSchool) -> None:
    group = cohort(school)
    assert len(school.group_members(group.id)) == 300
    progress = Progress()
    async with connected(school) as client:
        first = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id},
                progress_callback=progress,
            )
        )
        first_calls = len(api_requests(school))
        second = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id, "resume_from": first["resume_from"]},
            )
        )
    # The first call stops at its bound with a partial tally and says how to go on.
    assert first["complete"] is False and first["api_calls"] <= 180
    assert first["api_calls"] == first_calls
    assert first["members_read"] < 300 and first["member_count"] == 300
    assert f"resume_from={first['resume_from']}" in first["note"]
    # Progress notifications arrived as members were read.
    assert len(progress.seen) >= 5
    assert [p for p, _, _ in progress.seen] == sorted(p for p, _, _ in progress.seen)
    assert progress.seen[-1][:2] == (first["members_read"], 300.0)
    # The continuation finishes the same tally: the whole cohort, right.
    check_report(second, expected_report(school, group.id))
    assert second["group"]["title"] == group.title
    assert [m["id"] for m in second["group"]["group_managers"]] == group.manager_ids
    assert second["group"]["products"] == group.course_ids
    # One progress read per member, one members page per 20, the group, its managers and its
    # courses (the continuation finds its tally by id without a call).
    expected_calls = 1 + len(group.manager_ids) + len(group.course_ids) + 15 + 300
    assert first["api_calls"] + second["api_calls"] == expected_calls
    assert_paced(school)


async def test_cohort_report_in_one_call_with_a_higher_bound(school: SandboxSchool) -> None:
    group = cohort(school)
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id, "max_calls": 400, "member_limit": 300},
            )
        )
    check_report(data, expected_report(school, group.id), member_limit=300)
    assert len(data["members"]) == 300
    assert_paced(school)


async def test_report_of_a_small_group_reads_only_its_members(school: SandboxSchool) -> None:
    group = next(g for g in school.groups if 5 <= len(school.group_members(g.id)) <= 20)
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id", {"group_id": group.id}
            )
        )
    check_report(data, expected_report(school, group.id))
    members = [u for u in school.group_members(group.id) if not u.is_suspended]
    assert data["api_calls"] == 1 + len(group.course_ids) + 1 + len(members)


async def test_an_empty_group_gets_an_empty_report(school: SandboxSchool) -> None:
    empty = next(g for g in school.groups if not school.group_members(g.id))
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id", {"group_id": empty.id}
            )
        )
        unknown = await client.call_tool(
            "get_single_learnworlds_group_report_by_id", {"group_id": "ffffffffffffffffffffffff"}
        )
    assert data["complete"] is True and data["member_count"] == 0 and data["members"] == []
    assert all(c["enrolled"] == 0 and c["not_enrolled"] == 0 for c in data["courses"])
    assert "No group with id" in error_text(unknown)


async def test_a_failure_midway_is_a_partial_report_that_resumes(school: SandboxSchool) -> None:
    group = cohort(school)
    armed = False

    async def break_school(progress: float, total: float | None, message: str | None) -> None:
        nonlocal armed
        if not armed:  # after the first page of members: every progress read fails
            armed = True
            school.faults.fail_next(count=200, path_contains="/progress")

    async with connected(school) as client:
        broken = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id, "max_calls": 400},
                progress_callback=break_school,
            )
        )
        school.faults.calm()
        rest = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id, "max_calls": 400, "resume_from": broken["resume_from"]},
            )
        )
    assert broken["complete"] is False and "Stopped early" in broken["note"]
    assert broken["members_read"] == 20 and broken["resume_from"] == 2
    check_report(rest, expected_report(school, group.id))


async def test_an_expired_tally_is_said_plainly(
    school: SandboxSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = cohort(school)
    async with connected(school) as client:
        partial = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id, "max_calls": 30},
            )
        )
        assert partial["resume_from"] == 2
        school.options.clock.advance(TALLY_TTL_SECONDS + 1)  # type: ignore[attr-defined]
        data = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id, "resume_from": 2, "max_calls": 400},
            )
        )
    assert "not counted here" in data["note"]
    assert (
        data["members_read"]
        == len([u for u in school.group_members(group.id) if not u.is_suspended]) - 20
    )


async def test_cohort_report_with_the_2025_bare_array_members() -> None:
    school = make_school(users=3000, clock=FakeClock(), s1_shapes=True)
    group = cohort(school)
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id, "max_calls": 400},
            )
        )
    check_report(data, expected_report(school, group.id))
    assert_paced(school)


# ---------------------------------------------------------------------------- user overview


async def test_user_overview_matches_every_source(school: SandboxSchool) -> None:
    user = next(
        u
        for u in school.users
        if not u.is_suspended
        and u.nps_score is not None
        and school.groups_of(u)
        and len(school.enrollments_of(u, "course")) >= 2
    )
    progress = Progress()
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "get_single_learnworlds_user_overview_by_id",
                {"user_id": user.email},
                progress_callback=progress,
            )
        )
    assert data["user"]["id"] == user.id and data["user"]["nps_score"] == user.nps_score
    role = school.role(user.role_id)
    assert data["role"]["name"] == role.title and data["role"]["access_level"] == role.access_level
    assert data["groups"] == [{"id": g.id, "title": g.title} for g in school.groups_of(user)]
    enrollments = school.enrollments_of(user, "course")
    assert [e["course_id"] for e in data["enrollments"]] == [e.product_id for e in enrollments]
    for item, enrollment in zip(data["enrollments"], enrollments, strict=True):
        sent = school.progress_json(school.progress[(user.id, enrollment.product_id)])
        assert item["status"] == sent["status"] and item["progress_rate"] == sent["progress_rate"]
    latest = max((e for e in school.events if e.user_id == user.id), key=lambda e: e.created)
    assert data["recent_activity"][0]["activity"] == latest.activity
    assert data["last_activity"] == data["recent_activity"][0]["created"]
    assert data["complete"] is True and data["api_calls"] == 6 == len(api_requests(school))
    assert len(progress.seen) == 6 and progress.seen[-1][1] == 6


async def test_user_overview_of_an_unknown_user(school: SandboxSchool) -> None:
    async with connected(school) as client:
        result = await client.call_tool(
            "get_single_learnworlds_user_overview_by_id", {"user_id": "nobody@nowhere.test"}
        )
    assert "No user" in error_text(result)
    assert len(api_requests(school)) == 1


async def test_user_overview_bound_gives_a_partial_answer(
    school: SandboxSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(user_overview, "MAX_OVERVIEW_CALLS", 5)
    user = next(u for u in school.users if len(school.enrollments_of(u, "course")) >= 2)
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "get_single_learnworlds_user_overview_by_id", {"user_id": user.id}
            )
        )
    assert data["complete"] is False and data["api_calls"] <= 5
    assert "list_all_learnworlds_user_enrollments" in data["note"]


async def test_a_repeated_or_made_up_resume_counts_nothing_twice(school: SandboxSchool) -> None:
    group = cohort(school)
    async with connected(school) as client:
        first = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id", {"group_id": group.id}
            )
        )
        again = {"group_id": group.id, "resume_from": first["resume_from"]}
        once = payload(await client.call_tool("get_single_learnworlds_group_report_by_id", again))
        twice = payload(await client.call_tool("get_single_learnworlds_group_report_by_id", again))
        beyond = payload(
            await client.call_tool(
                "get_single_learnworlds_group_report_by_id",
                {"group_id": group.id, "resume_from": 99},
            )
        )
    strip = ("api_calls", "group")
    assert {k: v for k, v in once.items() if k not in strip} == {
        k: v for k, v in twice.items() if k not in strip
    }
    assert once["members_read"] == 300
    assert beyond["members_read"] == 0 and beyond["member_count"] == 300
    assert "not counted here" in beyond["note"]
