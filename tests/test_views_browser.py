"""The views in headless Chromium (Debian's `/usr/bin/chromium`, driven by playwright), each
loaded as `resources/read` serves it into a minimal test host (`tests/view_host.py`) that plays
the host's side of the MCP Apps bridge and feeds it a real tool result from the sandbox school.

Each test asserts the drawn figures against the result, that the view asked for nothing on the
network, that the console stayed free of errors (a CSP violation would be one), and that the
view told the host its size. Screenshots land in pytest's temporary directory (under
`views/`); with UPDATE_SCREENSHOTS=1 the README's copies in `docs/views/` are rewritten too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from learnworlds_mcp.sandbox import SandboxSchool
from learnworlds_mcp.tools import common, inactive_staff
from learnworlds_mcp.views import VIEWS
from tests.support import connected, learner, make_school
from tests.view_host import HOST_URL, Host, chromium, chromium_or_skip, host_page

DOCS = Path(__file__).parent.parent / "docs" / "views"
URI = {view.tool: view.uri for view in VIEWS}
REPORT = "get_single_learnworlds_group_report_by_id"
STAFF = "list_all_learnworlds_inactive_staff"
OVERVIEW = "get_single_learnworlds_user_overview_by_id"
TOOLS_CAPABLE = {"serverTools": {}}


@pytest.fixture(autouse=True)
def needs_chromium() -> None:
    chromium_or_skip()


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return make_school(users=600)


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "views"


async def save(host: Host, shots: Path, name: str, readme: bool = False) -> None:
    await host.screenshot(shots / f"{name}.png")
    if readme and os.environ.get("UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shots / f"{name}.png", DOCS / f"{name}.png")


async def call(client: Client, school: SandboxSchool, name: str, args: dict[str, Any]) -> Any:
    """The tool's result as the host receives it on the wire (a CallToolResult object)."""
    school.clock.advance(11)  # type: ignore[attr-defined]
    result = await client.call_tool(name, args)
    assert not result.is_error, result.content
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)


async def page_of(client: Client, tool: str) -> str:
    (content,) = (await client.read_resource(URI[tool])).contents
    return content.text  # type: ignore[union-attr]


async def assert_clean(host: Host) -> None:
    assert host.errors == [], host.errors
    assert host.requests == [HOST_URL], host.requests  # the view itself fetched nothing
    sent = await host.page.evaluate("() => window.fromView.map(m => m.method)")
    assert sent[:2] == ["ui/initialize", "ui/notifications/initialized"]
    assert "ui/notifications/size-changed" in sent


def n(value: int) -> str:
    return f"{value:,}"


async def course_figures(host: Host, course_id: str) -> dict[str, str]:
    block = f'[data-course-id="{course_id}"]'
    keys = ("completed", "in_progress", "not_started", "not_enrolled")
    return {k: await host.text(f'{block} [data-figure="{k}"] b') for k in keys}


async def bar_labels(host: Host, scope: str) -> dict[str, str]:
    parts = host.view.locator(f"{scope} .bar [data-part]")
    return {
        await parts.nth(i).get_attribute("data-part"): (await parts.nth(i).inner_text()).strip()
        for i in range(await parts.count())
    }


def cohort_group(school: SandboxSchool) -> Any:
    return next(
        g
        for g in school.groups
        if 15 <= len(school.group_members(g.id)) <= 30 and len(g.course_ids) >= 2 and g.manager_ids
    )


# ------------------------------------------------------------------------------- cohort


async def test_cohort_report_draws_the_results_figures(school: SandboxSchool, shots: Path) -> None:
    group = cohort_group(school)
    async with connected(school) as client:
        html = await page_of(client, REPORT)
        args = {"group_id": group.id, "member_limit": 12}
        result = await call(client, school, REPORT, args)
        async with chromium() as browser, host_page(browser) as host:
            await host.show(html, result, tool_input=args)
            data = result["structuredContent"]
            assert data["complete"] and data["courses"] and len(data["members"]) == 12
            assert await host.text("h1") == data["group"]["title"]
            for course in data["courses"]:
                figures = await course_figures(host, course["course_id"])
                assert figures == {k: n(course[k]) for k in figures}
                labels = await bar_labels(host, f'[data-course-id="{course["course_id"]}"]')
                assert labels == {k: n(course[k]) for k in figures if course[k]}
            assert await host.text('[data-tile="never"] b') == n(data["never_logged_in"])
            assert await host.text('[data-tile="idle"] b') == n(data["idle_30_days"])
            logins = await host.text('[data-section="logins"] [data-figure="never"] b')
            assert logins == n(data["never_logged_in"])
            emails = await host.texts('[data-section="members"] td[data-col="email"]')
            assert emails == [m["email"] for m in data["members"]]  # furthest behind first
            managers = data["group"]["group_managers"]
            assert await host.view.locator("[data-manager]").count() == len(managers)
            await save(host, shots, "cohort-report", readme=True)
            # Sorting: by email, then by email descending; aria-sort says which.
            await host.view.click('[data-section="members"] button[data-sort="email"]')
            assert await host.texts('td[data-col="email"]') == sorted(emails, key=str.lower)
            await host.view.click('[data-section="members"] button[data-sort="email"]')
            assert await host.texts('td[data-col="email"]') == sorted(
                emails, key=str.lower, reverse=True
            )
            th = host.view.locator("th", has=host.view.locator('button[data-sort="email"]'))
            assert await th.get_attribute("aria-sort") == "descending"
            await assert_clean(host)


async def test_an_empty_cohort_says_so(school: SandboxSchool, shots: Path) -> None:
    empty = next(g for g in school.groups if not school.group_members(g.id))
    async with connected(school) as client:
        html = await page_of(client, REPORT)
        result = await call(client, school, REPORT, {"group_id": empty.id})
        async with chromium() as browser, host_page(browser) as host:
            await host.show(html, result)
            data = result["structuredContent"]
            assert data["member_count"] == 0 and data["members"] == []
            assert await host.text("[data-empty]") == "This group has no members yet."
            for course in data["courses"]:
                figures = await course_figures(host, course["course_id"])
                assert set(figures.values()) == {"0"}
            assert await host.view.locator("table").count() == 0
            assert "No members to list." in await host.text('[data-section="members"]')
            await save(host, shots, "cohort-empty")
            await assert_clean(host)


async def test_a_partial_report_is_said_and_finished_through_the_host(
    school: SandboxSchool, shots: Path
) -> None:
    big = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    args = {"group_id": big.id, "max_calls": 30}
    async with connected(school) as client:
        html = await page_of(client, REPORT)
        first = await call(client, school, REPORT, args)
        calls: list[tuple[str, dict[str, Any]]] = []

        async def through_host(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            calls.append((name, arguments))
            return await call(client, school, name, arguments)

        async with chromium() as browser:
            # A host that cannot call tools: the banner and the note, no button.
            async with host_page(browser) as host:
                await host.show(html, first, tool_input=args)
                assert await host.view.locator("[data-action=continue]").count() == 0
                await assert_clean(host)
            async with host_page(browser, through_host) as host:
                await host.show(html, first, tool_input=args, host_capabilities=TOOLS_CAPABLE)
                data = first["structuredContent"]
                assert data["complete"] is False and data["resume_from"]
                banner = await host.text('[data-status="partial"]')
                assert data["note"] in banner
                await save(host, shots, "cohort-partial")
                # Each click continues the same tally within the same bound, until it is done.
                resumed = []
                while await host.view.locator("[data-action=continue]").count():
                    assert len(resumed) < 10
                    shown = await host.text('[data-figure="summary"]')
                    resumed.append(int(shown.split(" · ")[1].split()[0].replace(",", "")))
                    await host.view.click("[data-action=continue]")
                    await host.view.wait_for_selector(
                        '[data-view]:not(:has([data-action="continue"][disabled]))'
                    )
                await host.settled()
                assert calls[0][1] == {**args, "resume_from": data["resume_from"]}
                assert all(name == REPORT and a["max_calls"] == 30 for name, a in calls)
                assert resumed == sorted(resumed) and resumed[0] == data["members_read"]
                assert not await host.view.locator('[data-status="partial"]').count()
                done = (
                    await call(client, school, REPORT, {"group_id": big.id, "max_calls": 1000})
                )["structuredContent"]
                assert done["complete"]
                for course in done["courses"]:
                    figures = await course_figures(host, course["course_id"])
                    assert figures == {k: n(course[k]) for k in figures}
                await assert_clean(host)


async def test_a_report_cut_to_size_and_a_long_member_list(
    school: SandboxSchool, shots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    monkeypatch.setattr(common, "MAX_RESULT_BYTES", 12_000)
    args = {"group_id": big.id, "member_limit": 500, "max_calls": 1000}
    async with connected(school) as client:
        html = await page_of(client, REPORT)
        result = await call(client, school, REPORT, args)
        data = result["structuredContent"]
        assert data["truncated"] is True and len(data["members"]) > 50
        async with chromium() as browser, host_page(browser) as host:
            await host.show(html, result, tool_input=args)
            assert data["note"] in await host.text('[data-status="truncated"]')
            rows = host.view.locator('[data-section="members"] tbody tr')
            assert await rows.count() == 50
            more = host.view.locator('[data-action="show-all"]')
            assert await more.inner_text() == f"Show all {len(data['members'])}"
            await more.click()
            assert await rows.count() == len(data["members"])
            await host.settled()
            await assert_clean(host)


async def test_names_are_drawn_as_text_never_as_markup(school: SandboxSchool) -> None:
    group = cohort_group(school)
    async with connected(school) as client:
        html = await page_of(client, REPORT)
        result = await call(client, school, REPORT, {"group_id": group.id})
    evil = '<img src="https://evil.test/x.png" onerror="window.parent.postMessage(1,\'*\')">'
    data = result["structuredContent"]
    data["group"]["title"] = evil
    data["members"][0]["username"] = evil
    data["courses"][0]["title"] = "<b>bold</b>"
    async with chromium() as browser, host_page(browser) as host:
        await host.show(html, result)
        assert await host.text("h1") == evil
        assert await host.view.locator("img, b:text('bold')").count() == 0
        assert evil in await host.texts('td[data-col="name"]')
        await assert_clean(host)


# -------------------------------------------------------------------------- inactive staff


async def test_inactive_staff_by_role(school: SandboxSchool, shots: Path) -> None:
    async with connected(school) as client:
        html = await page_of(client, STAFF)
        result = await call(client, school, STAFF, {"days": 30})
        async with chromium() as browser, host_page(browser) as host:
            await host.show(html, result, tool_input={"days": 30})
            data = result["structuredContent"]
            items = data["items"]
            assert items
            never = [m for m in items if "days_since_login" not in m]
            assert await host.text('[data-tile="found"] b') == n(len(items))
            assert await host.text('[data-tile="never"] b') == n(len(never))
            assert await host.text('[data-tile="checked"] b') == n(data["staff_checked"])
            roles: dict[str, list[dict[str, Any]]] = {}
            for m in items:
                roles.setdefault(m["role"]["name"], []).append(m)
            assert await host.view.locator("[data-role]").count() == len(roles)
            for name, people in roles.items():
                scope = f'[data-role="{name}"]'
                never_here = sum("days_since_login" not in m for m in people)
                assert await host.text(f'{scope} [data-figure="never"] b') == n(never_here)
                assert await host.text(f'{scope} [data-figure="idle"] b') == n(
                    len(people) - never_here
                )
            idle = await host.texts('td[data-col="idle"]')
            assert idle == [
                "never logged in"
                if "days_since_login" not in m
                else f"{m['days_since_login']:,} day" + ("" if m["days_since_login"] == 1 else "s")
                for m in items[:50]
            ]
            await save(host, shots, "inactive-staff", readme=True)
            await assert_clean(host)


async def test_a_partial_staff_audit_is_read_to_the_end_through_the_host(
    school: SandboxSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inactive_staff, "STAFF_PAGE_SIZE", 5)
    monkeypatch.setattr(inactive_staff, "MAX_STAFF_CALLS", 3)
    async with connected(school) as client:
        html = await page_of(client, STAFF)
        first = await call(client, school, STAFF, {"days": 30})
        monkeypatch.setattr(inactive_staff, "MAX_STAFF_CALLS", 100)
        whole = (await call(client, school, STAFF, {"days": 30}))["structuredContent"]
        monkeypatch.setattr(inactive_staff, "MAX_STAFF_CALLS", 3)
        calls: list[dict[str, Any]] = []

        async def through_host(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            assert name == STAFF
            calls.append(arguments)
            return await call(client, school, name, arguments)

        assert first["structuredContent"]["complete"] is False and whole["complete"]
        async with chromium() as browser, host_page(browser, through_host) as host:
            await host.show(html, first, tool_input={"days": 30}, host_capabilities=TOOLS_CAPABLE)
            assert await host.text('[data-status="partial"]')
            while await host.view.locator("[data-action=continue]").count():
                assert len(calls) < 20
                await host.view.click("[data-action=continue]")
                await host.view.wait_for_selector(
                    '[data-view]:not(:has([data-action="continue"][disabled]))'
                )
            await host.settled()
            assert calls and all(c["days"] == 30 and "resume_from" in c for c in calls)
            assert not await host.view.locator('[data-status="partial"]').count()
            # The merged audit is the whole audit, in the tool's own order.
            assert await host.text('[data-tile="found"] b') == n(whole["total_items"])
            assert await host.text('[data-tile="checked"] b') == n(whole["staff_checked"])
            if whole["total_items"] > 50:
                await host.view.click('[data-action="show-all"]')
            emails = await host.texts('td[data-col="email"]')
            assert emails == [m["email"] for m in whole["items"]]
            await assert_clean(host)


# ---------------------------------------------------------------------------- user overview


async def test_user_overview_courses_groups_role(school: SandboxSchool, shots: Path) -> None:
    user = next(
        u
        for u in (learner(school, i) for i in range(200))
        if len(school.enrollments_of(u, "course")) >= 3 and school.groups_of(u)
    )
    async with connected(school) as client:
        html = await page_of(client, OVERVIEW)
        result = await call(client, school, OVERVIEW, {"user_id": user.email})
        async with chromium() as browser, host_page(browser) as host:
            await host.show(html, result, tool_input={"user_id": user.email})
            data = result["structuredContent"]
            assert await host.text('[data-figure="email"]') == user.email
            assert data["role"]["name"] in await host.text('[data-figure="role"]')
            groups = await host.texts("[data-group]")
            assert groups == [g.get("title", g["id"]) for g in data["groups"]]
            progress = await host.texts('td[data-col="progress"]')
            assert progress == [
                f"{round(e['progress_rate'], 1):g}%" if "progress_rate" in e else "—"
                for e in data["enrollments"]
            ]
            completed = sum(e.get("status") == "completed" for e in data["enrollments"])
            figure = '[data-section="courses"] [data-figure="completed"] b'
            assert await host.text(figure) == n(completed)
            await save(host, shots, "user-overview", readme=True)
            await assert_clean(host)


async def test_the_bridge_follows_the_host_theme_teardown_and_errors(
    school: SandboxSchool,
) -> None:
    async with connected(school) as client:
        html = await page_of(client, OVERVIEW)
        school.clock.advance(11)  # type: ignore[attr-defined]
        missing = await client.call_tool(OVERVIEW, {"user_id": "nobody@nowhere.test"})
        failed = missing.model_dump(mode="json", by_alias=True, exclude_none=True)
        result = await call(client, school, OVERVIEW, {"user_id": learner(school).email})
    background = "() => getComputedStyle(document.body).backgroundColor"
    async with chromium() as browser:
        async with host_page(browser) as host:
            context = {"theme": "dark", "styles": {"variables": {"--font-sans": "serif"}}}
            await host.show(html, result, host_context=context)
            assert await host.view.evaluate(background) == "rgb(27, 27, 31)"
            assert "serif" in await host.view.evaluate(
                "() => getComputedStyle(document.body).fontFamily"
            )
            await host.page.evaluate(
                "() => sendToView({ method: 'ui/notifications/host-context-changed',"
                " params: { theme: 'light' } })"
            )
            await host.view.wait_for_function(
                "() => getComputedStyle(document.body).backgroundColor === 'rgb(255, 255, 255)'"
            )
            await host.page.evaluate(
                "() => sendToView({ id: 'bye', method: 'ui/resource-teardown',"
                " params: { reason: 'test' } })"
            )
            await host.page.wait_for_function(
                "() => window.fromView.some(m => m.id === 'bye' && m.result)"
            )
            await assert_clean(host)
        async with host_page(browser) as host:
            await host.show(html, failed)
            said = await host.text("[role=alert]")
            assert said == failed["content"][0]["text"] and "No user" in said
            await assert_clean(host)
