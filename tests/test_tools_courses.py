"""Course tools through an MCP client, checked against the sandbox school's own data."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from learnworlds_mcp.sandbox import SandboxSchool
from learnworlds_mcp.tools import courses as course_tools
from tests.support import connected, error_text, make_school, payload


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return make_school(users=60)


@pytest.fixture(autouse=True)
def fresh_window(school: SandboxSchool) -> None:
    """Each test's server has its own limiter: let the school's window pass (virtual time)."""
    school.clock.advance(11)  # type: ignore[attr-defined]


def many_courses(count: int) -> SandboxSchool:
    """A school whose catalogue has `count` extra courses, every seventh titled '… Sales …'."""
    school = make_school(users=10)
    template = school.courses[0]
    for n in range(count):
        title = f"Module {n:04d}" + (" – Sales track" if n % 7 == 0 else "")
        course = dataclasses.replace(
            template, id=f"module-{n:04d}", title=title, created=template.created - n - 1
        )
        school.state.courses[course.id] = course
    return school


async def test_course_list_is_the_catalogue_newest_first(school: SandboxSchool) -> None:
    async with connected(school) as client:
        data = payload(await client.call_tool("list_all_learnworlds_courses", {}))
    assert [c["id"] for c in data["items"]] == [c.id for c in school.courses]
    assert data["total_items"] == len(school.courses) and data["next_page"] is None
    first, course = data["items"][0], school.courses[0]
    assert first["title"] == course.title and first["access"] == course.access
    assert first["categories"] == course.categories and first["created"] == iso(course.created)
    assert set(first) <= {"id", "title", "access", "categories", "final_price", "created"}


async def test_categories_and_access_filters_reach_the_api(school: SandboxSchool) -> None:
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "list_all_learnworlds_courses",
                {"categories": ["sales", "data"], "access": ["free", "paid"]},
            )
        )
    expected = [
        c.id
        for c in school.courses
        if {"sales", "data"} & set(c.categories) and c.access in ("free", "paid")
    ]
    assert [c["id"] for c in data["items"]] == expected
    assert school.requests[-1].query_items.count(("access", "free")) == 1


async def test_title_contains_ignores_case_and_uses_one_call(school: SandboxSchool) -> None:
    school.clear_log()
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "list_all_learnworlds_courses", {"title_contains": "NEGOTIATION"}
            )
        )
    assert {c["id"] for c in data["items"]} == {
        c.id for c in school.courses if "negotiation" in c.title.lower()
    }
    assert data["total_items"] == len(data["items"]) == 2 and data["next_page"] is None
    assert [r.path for r in school.requests if r.path.startswith("/v2")] == ["/v2/courses"]


async def test_title_search_walks_every_page_with_progress() -> None:
    school = many_courses(120)  # 146 courses: 3 pages of 50
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    async with connected(school) as client:
        result = await client.call_tool(
            "list_all_learnworlds_courses", {"title_contains": "sales"}, progress_callback=progress
        )
    data = payload(result)
    assert {c["id"] for c in data["items"]} == {
        c.id for c in school.courses if "sales" in c.title.lower()
    }
    assert data["next_page"] is None and data["total_pages"] == 3
    assert [s[0] for s in seen] == [1, 2, 3]


async def test_title_search_stops_at_its_bound_and_says_where_to_go_on(monkeypatch) -> None:
    monkeypatch.setattr(course_tools, "MAX_COURSE_SCAN_PAGES", 2)
    school = many_courses(120)
    async with connected(school) as client:
        first = payload(
            await client.call_tool("list_all_learnworlds_courses", {"title_contains": "sales"})
        )
        rest = payload(
            await client.call_tool(
                "list_all_learnworlds_courses",
                {"title_contains": "sales", "page": first["next_page"]},
            )
        )
    assert first["next_page"] == 3 and rest["next_page"] is None
    found = [c["id"] for c in first["items"] + rest["items"]]
    assert found == [c.id for c in school.courses if "sales" in c.title.lower()]


async def test_get_course_by_slug_is_the_full_record(school: SandboxSchool) -> None:
    course = next(c for c in school.courses if c.author_name and c.description)
    async with connected(school) as client:
        data = payload(
            await client.call_tool("get_single_learnworlds_course_by_id", {"course_id": course.id})
        )
    sent = school.course_json(course)
    assert data["id"] == course.id and data["title"] == course.title
    assert data["author"] == course.author_name and data["description"] == course.description
    assert data["dripFeed"] == sent["dripFeed"] and data["final_price"] == sent["final_price"]
    assert data["modified"] == iso(course.modified)


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        (
            "get_single_learnworlds_course_by_id",
            {"course_id": "no-such-course"},
            "list_all_learnworlds_courses",
        ),
        ("get_single_learnworlds_course_by_id", {"course_id": "a/b"}, "contains '/'"),
        ("list_all_learnworlds_courses", {"page": 9}, "There is no page 9"),
        ("list_all_learnworlds_courses", {"page": 9, "title_contains": "x"}, "There is no page 9"),
        ("list_all_learnworlds_courses", {"access": ["secret"]}, "access"),
        ("list_all_learnworlds_courses", {"categories": ["a,b"]}, "cannot contain commas"),
    ],
)
async def test_bad_input_gets_a_clear_error(
    school: SandboxSchool, tool: str, arguments: dict, expected: str
) -> None:
    async with connected(school) as client:
        assert expected in error_text(await client.call_tool(tool, arguments))
