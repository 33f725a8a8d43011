"""The workflow prompts and the completion of group and course titles, through an MCP client."""

from __future__ import annotations

import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference

from learnworlds_mcp import prompts
from learnworlds_mcp.sandbox import SandboxSchool
from tests.support import connected, make_school, settings_for

COHORT = PromptReference(name="learnworlds_cohort_report")


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return make_school(users=200)


@pytest.fixture(autouse=True)
def fresh_window(school: SandboxSchool) -> None:
    school.clock.advance(11)  # type: ignore[attr-defined]
    school.clear_log()


def api_calls(school: SandboxSchool) -> list[str]:
    return [r.path for r in school.requests if r.path.startswith("/v2")]


def text_of(result) -> str:
    (message,) = result.messages
    assert message.role == "user"
    return message.content.text


async def test_the_three_workflow_prompts_are_listed(school: SandboxSchool) -> None:
    async with connected(school) as client:
        listed = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(listed) == {
        "learnworlds_inactive_staff_review",
        "learnworlds_cohort_report",
        "learnworlds_user_360",
    }
    arguments = {n: [(a.name, a.required) for a in p.arguments or []] for n, p in listed.items()}
    assert arguments == {
        "learnworlds_inactive_staff_review": [("days", False)],
        "learnworlds_cohort_report": [("group", True), ("course", False)],
        "learnworlds_user_360": [("user", True)],
    }
    assert all(p.title and p.description for p in listed.values())
    assert api_calls(school) == []  # titles are never fetched at start-up


async def test_prompts_name_the_tool_and_carry_their_arguments(school: SandboxSchool) -> None:
    group = school.groups[1]
    user = school.users[3]
    async with connected(school) as client:
        staff = text_of(
            await client.get_prompt("learnworlds_inactive_staff_review", {"days": "30"})
        )
        default = text_of(await client.get_prompt("learnworlds_inactive_staff_review", {}))
        known = text_of(
            await client.get_prompt(
                "learnworlds_cohort_report", {"group": group.title.upper(), "course": "Sales 101"}
            )
        )
        unknown = text_of(
            await client.get_prompt("learnworlds_cohort_report", {"group": "Q9 night school"})
        )
        vip = text_of(await client.get_prompt("learnworlds_user_360", {"user": user.email}))
    assert "list_all_learnworlds_inactive_staff" in staff and "days=30" in staff
    assert "days=90" in default
    assert f'group_id="{group.id}"' in known and group.title in known and "Sales 101" in known
    assert 'title_contains="Q9 night school"' in unknown
    assert f'user_id="{user.email}"' in vip and "NPS" in vip


async def test_a_bad_prompt_argument_is_an_error(school: SandboxSchool) -> None:
    async with connected(school) as client:
        with pytest.raises(MCPError):
            await client.get_prompt("learnworlds_inactive_staff_review", {"days": "ninety"})
        with pytest.raises(MCPError):
            await client.get_prompt("learnworlds_cohort_report", {})


async def test_group_argument_completes_from_the_schools_titles(school: SandboxSchool) -> None:
    async with connected(school) as client:
        acme = (await client.complete(COHORT, {"name": "group", "value": "acme"})).completion
        every = (await client.complete(COHORT, {"name": "group", "value": ""})).completion
        partner = (
            await client.complete(COHORT, {"name": "group", "value": "resellers"})
        ).completion
    assert acme.values == sorted(g.title for g in school.groups if "acme" in g.title.lower())
    assert acme.total == 2 and acme.has_more is False
    assert sorted(every.values) == sorted(g.title for g in school.groups)
    assert partner.values == ["Partner Resellers APAC", "Partner Resellers EMEA"]
    assert api_calls(school) == ["/v2/user_groups"]  # fetched once, then cached


async def test_course_argument_completes_within_the_chosen_group(school: SandboxSchool) -> None:
    group = next(g for g in school.groups if len(g.course_ids) >= 2)
    async with connected(school) as client:
        mine = (
            await client.complete(
                COHORT, {"name": "course", "value": ""}, context_arguments={"group": group.title}
            )
        ).completion
        anything = (await client.complete(COHORT, {"name": "course", "value": "sal"})).completion
    assert sorted(mine.values) == sorted(school.course(c).title for c in group.course_ids)
    assert anything.values[0] == "Sales 101"  # a title starting with the text comes first
    assert set(anything.values) == {c.title for c in school.courses if "sal" in c.title.lower()}


async def test_titles_are_refetched_after_a_while(school: SandboxSchool) -> None:
    async with connected(school) as client:
        await client.complete(COHORT, {"name": "group", "value": "a"})
        await client.complete(COHORT, {"name": "group", "value": "b"})  # kept: no call
        school.options.clock.advance(prompts.TITLES_TTL_SECONDS + 1)  # type: ignore[attr-defined]
        await client.complete(COHORT, {"name": "group", "value": "c"})
    assert api_calls(school) == ["/v2/user_groups", "/v2/user_groups"]


async def test_completion_stays_quiet_when_it_cannot_help(school: SandboxSchool) -> None:
    async with connected(school) as client:
        other = (
            await client.complete(
                PromptReference(name="learnworlds_user_360"), {"name": "user", "value": "a"}
            )
        ).completion
        school.faults.fail_next(count=3, path_contains="/v2/")
        failing = (await client.complete(COHORT, {"name": "group", "value": "a"})).completion
    assert other.values == [] and failing.values == []


async def test_prompts_follow_the_exposed_tools() -> None:
    school = make_school(users=20)
    settings = settings_for(school, toolsets=frozenset({"users"}))
    async with connected(school, settings) as client:
        names = {p.name for p in (await client.list_prompts()).prompts}
        completion = (await client.complete(COHORT, {"name": "group", "value": ""})).completion
    assert names == {"learnworlds_inactive_staff_review", "learnworlds_user_360"}
    assert completion.values == []
