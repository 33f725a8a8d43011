"""The result-size guard (DESIGN §3: no result above about 20,000 tokens ≈ 80,000 bytes).

One piece of code, `compact_result`, guards every tool: a result that would be larger is cut at
whole list items, says so (`truncated`, `note`) and keeps `next_page` meaning the next page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from learnworlds_mcp.pagination import ListPage
from learnworlds_mcp.sandbox import SandboxSchool
from learnworlds_mcp.tools import common
from learnworlds_mcp.tools.common import MAX_RESULT_BYTES, compact_result
from tests.support import connected, make_school, payload


class Item(BaseModel):
    id: int
    text: str
    tags: list[str] = []


class Page(ListPage[Item]):
    pass


class Report(BaseModel):
    title: str
    members: list[Item]
    note: str | None = None


def read(result) -> dict[str, Any]:
    text = result.content[0].text
    assert json.loads(text) == result.structured_content
    assert len(text.encode()) <= MAX_RESULT_BYTES
    return result.structured_content


def test_a_small_result_is_untouched() -> None:
    page = Page(items=[Item(id=1, text="a")], page=1, total_pages=1, total_items=1, next_page=None)
    data = read(compact_result(page))
    assert "truncated" not in data and "note" not in data
    assert data == {
        "items": [{"id": 1, "text": "a", "tags": []}],
        "page": 1,
        "total_pages": 1,
        "total_items": 1,
        "next_page": None,
    }


def test_a_big_page_is_cut_at_whole_items_and_keeps_its_paging() -> None:
    items = [Item(id=n, text="x" * 900, tags=["t"] * 5) for n in range(200)]
    page = Page(items=items, page=3, total_pages=7, total_items=1400, next_page=4)
    data = read(compact_result(page))
    kept = data["items"]
    assert 60 < len(kept) < 200
    assert kept == [i.model_dump() for i in items[: len(kept)]]  # whole items, in order
    assert data["truncated"] is True and f"items shows {len(kept)} of 200" in data["note"]
    assert "items_per_page" in data["note"]
    assert (data["page"], data["next_page"], data["total_items"]) == (3, 4, 1400)


def test_the_longest_list_is_cut_first_and_a_tools_own_hint_is_used() -> None:
    report = Report(
        title="Cohort",
        members=[Item(id=n, text="y" * 2_000) for n in range(100)],
        note="Partial: call again.",
    )
    data = read(compact_result(report, rest="Lower member_limit."))
    assert data["title"] == "Cohort" and 10 < len(data["members"]) < 100
    assert data["note"].startswith("Partial: call again. Cut to stay under")
    assert data["note"].endswith("Lower member_limit.")


def test_one_giant_text_is_shortened_as_a_last_resort() -> None:
    data = read(compact_result(Item(id=1, text="z" * 300_000)))
    assert data["text"].startswith("zzz") and data["text"].endswith("…")
    assert "shortened" in data["note"]


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    school = make_school(users=300)
    for group in school.groups:
        group.description = "A very long cohort description. " * 600  # ~20 kB each
    for user in school.users:
        user.tags = [f"tag-{n:03d}-with-a-long-enough-name" for n in range(60)]
    return school


@pytest.fixture(autouse=True)
def fresh_window(school: SandboxSchool) -> None:
    school.clock.advance(11)  # type: ignore[attr-defined]


async def test_tools_cut_oversized_results(school: SandboxSchool) -> None:
    async with connected(school) as client:
        groups = read(await client.call_tool("list_all_learnworlds_groups", {}))
        users = read(await client.call_tool("list_all_learnworlds_users", {"items_per_page": 200}))
        found = read(await client.call_tool("list_all_learnworlds_groups", {"title_contains": "a"}))
    assert groups["truncated"] and len(groups["items"]) < len(school.groups)
    assert [g["id"] for g in groups["items"]] == [g.id for g in school.groups][
        : len(groups["items"])
    ]
    assert users["truncated"] and users["next_page"] == 2 and users["page"] == 1
    visible = [u.id for u in school.users if not u.is_suspended]
    assert [u["id"] for u in users["items"]] == visible[: len(users["items"])]
    assert found["truncated"] and found["next_page"] is None


TOOL_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_all_learnworlds_users", {"items_per_page": 50}),
    ("list_all_learnworlds_groups", {}),
    ("list_all_learnworlds_courses", {}),
    ("list_all_learnworlds_event_logs", {}),
    ("list_all_learnworlds_roles", {}),
    ("list_all_learnworlds_inactive_staff", {"days": 1}),
]


@pytest.mark.parametrize(("tool", "arguments"), TOOL_CALLS)
async def test_every_tool_goes_through_the_one_guard(
    school: SandboxSchool, monkeypatch: pytest.MonkeyPatch, tool: str, arguments: dict
) -> None:
    monkeypatch.setattr(common, "MAX_RESULT_BYTES", 1_200)
    async with connected(school) as client:
        result = await client.call_tool(tool, arguments)
    data = payload(result)
    assert len(result.content[0].text.encode()) <= 1_200
    assert data["truncated"] is True and "Cut to stay under" in data["note"]
