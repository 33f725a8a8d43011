"""The MCP Apps views (DESIGN §10) as clients see them: which tools name which `ui://` page,
the pages served (MIME, CSP, nothing from the network), gating, lazy loading, and that a client
without Apps gets exactly the tool results a server without views gives."""

from __future__ import annotations

import base64
import hashlib
import re
import tempfile
import time
from types import SimpleNamespace
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from learnworlds_mcp import server as server_module
from learnworlds_mcp.sandbox import SandboxSchool
from learnworlds_mcp.server import build_server
from learnworlds_mcp.tools import cohort_report, inactive_staff
from learnworlds_mcp.views import VIEWS
from learnworlds_mcp.views.pages import load_page
from tests.support import console_script, learner, make_school, settings_for, transport_for

VIEW_OF = {view.tool: view.uri for view in VIEWS}
APPS_CLIENT = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return make_school(users=300)


def viewless(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `build_server` build the server as it was before views existed."""
    monkeypatch.setattr(server_module, "views_extension", lambda names: None)
    monkeypatch.setattr(server_module, "tool_meta", lambda name: None)


def sample_calls(school: SandboxSchool) -> list[tuple[str, dict[str, Any]]]:
    group = next(g for g in school.groups if 5 <= len(school.group_members(g.id)) <= 20)
    big = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    return [
        ("get_single_learnworlds_group_report_by_id", {"group_id": group.id}),
        ("get_single_learnworlds_group_report_by_id", {"group_id": big.id, "max_calls": 30}),
        ("list_all_learnworlds_inactive_staff", {"days": 30}),
        ("get_single_learnworlds_user_overview_by_id", {"user_id": learner(school).email}),
        ("get_single_learnworlds_user_overview_by_id", {"user_id": "nobody@nowhere.test"}),
    ]


async def results_of(school: SandboxSchool, **client_options: Any) -> list[Any]:
    server = build_server(
        settings_for(school), transport=transport_for(school), clock=school.options.clock
    )
    out = []
    async with Client(server, **client_options) as client:
        for name, arguments in sample_calls(school):
            school.clock.advance(11)  # type: ignore[attr-defined]
            result = await client.call_tool(name, arguments)
            out.append(result.model_dump(mode="json", by_alias=True, exclude_none=True))
    return out


async def listing(**client_options: Any) -> tuple[list[dict[str, Any]], Any]:
    server = build_server(settings_for(make_school(users=20)))
    async with Client(server, **client_options) as client:
        tools = [
            t.model_dump(mode="json", by_alias=True, exclude_none=True)
            for t in (await client.list_tools()).tools
        ]
        return tools, client.server_capabilities


# ------------------------------------------------------------------------- what clients see


async def test_the_three_workflow_tools_name_their_pages_and_the_pages_are_served() -> None:
    server = build_server(settings_for(make_school(users=20)))
    async with Client(server, extensions=[APPS_CLIENT]) as client:
        tools = (await client.list_tools()).tools
        named = {t.name: (t.meta or {}).get("ui", {}).get("resourceUri") for t in tools}
        resources = {str(r.uri): r for r in (await client.list_resources()).resources}
        pages = {uri: await client.read_resource(uri) for uri in VIEW_OF.values()}
        extensions = client.server_capabilities.extensions or {}
    assert {n: u for n, u in named.items() if u} == VIEW_OF
    assert all(uri.startswith("ui://learnworlds/") for uri in VIEW_OF.values())
    assert EXTENSION_ID in extensions
    assert set(resources) == set(VIEW_OF.values())
    for uri, read in pages.items():
        assert resources[uri].mime_type == APP_MIME_TYPE and resources[uri].title
        (content,) = read.contents
        assert content.mime_type == APP_MIME_TYPE
        # No domain asked for: the host's strictest policy (no network, frames or base URIs).
        assert content.meta == {"ui": {"csp": {}, "prefersBorder": True}}
        assert content.text.startswith("<!DOCTYPE html>")  # type: ignore[union-attr]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.page)
def test_a_page_is_self_contained_under_a_policy_pinned_to_its_own_code(view: Any) -> None:
    html = load_page(view.page)
    assert "/*@include" not in html and "__CSP__" not in html
    assert not re.search(r"https?://|\bsrc=|\bhref=|@import|url\(", html)  # nothing to fetch
    assert "innerHTML" not in html and "insertAdjacentHTML" not in html
    assert "document.write" not in html and "eval(" not in html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp, "no CSP meta element"
    directives = dict(d.strip().split(" ", 1) for d in csp.group(1).split(";"))
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "'none'"
    assert "unsafe" not in csp.group(1)
    for tag, directive in (("style", "style-src"), ("script", "script-src")):
        (body,) = re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S)
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert directives[directive] == f"'sha256-{digest}'"
    assert html.index("Content-Security-Policy") < html.index("<style>")


@pytest.mark.parametrize(
    ("toolsets", "expected"),
    [
        (frozenset({"courses", "activity"}), set()),
        (
            frozenset({"users"}),
            {"list_all_learnworlds_inactive_staff", "get_single_learnworlds_user_overview_by_id"},
        ),
        (frozenset({"groups"}), {"get_single_learnworlds_group_report_by_id"}),
    ],
)
async def test_a_view_exists_only_for_a_registered_tool(
    toolsets: frozenset[str], expected: set[str]
) -> None:
    server = build_server(settings_for(make_school(users=20), toolsets=toolsets))
    async with Client(server, extensions=[APPS_CLIENT]) as client:
        tools = (await client.list_tools()).tools
        caps = client.server_capabilities
        resources = (await client.list_resources()).resources if caps.resources else []
    assert {t.name for t in tools if t.meta} == expected
    assert {str(r.uri) for r in resources} == {VIEW_OF[name] for name in expected}
    assert (EXTENSION_ID in (caps.extensions or {})) is bool(expected)


def test_start_up_does_not_even_import_the_page_loader() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from learnworlds_mcp.config import Settings\n"
        "from learnworlds_mcp.server import build_server\n"
        "build_server(Settings(api_url='https://s.example.com/admin/api', client_id='x',"
        " access_token='t'))\n"
        "print('learnworlds_mcp.views.pages' in sys.modules, 'hashlib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split()[0] == "False", done.stderr


async def test_pages_are_read_when_a_host_asks_not_at_start_up() -> None:
    load_page.cache_clear()
    server = build_server(settings_for(make_school(users=20)))
    async with Client(server) as client:
        await client.list_tools()
        await client.list_resources()
        assert load_page.cache_info().currsize == 0
        await client.read_resource(VIEW_OF["list_all_learnworlds_inactive_staff"])
    assert load_page.cache_info().currsize == 1


# ------------------------------------------------------------- hosts without Apps: unchanged


async def test_a_client_without_apps_gets_byte_for_byte_the_results_it_got_before(
    school: SandboxSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The staff cutoff is written to the second: every run sees the same wall-clock second.
    frozen = SimpleNamespace(time=lambda: school.started_at + 3600, monotonic=time.monotonic)
    monkeypatch.setattr(inactive_staff, "time", frozen)
    monkeypatch.setattr(cohort_report, "time", frozen)
    with_views = await results_of(school)
    with_apps = await results_of(school, extensions=[APPS_CLIENT])
    viewless(monkeypatch)
    before = await results_of(school)
    assert len(before) == 5 and before[-1]["isError"] is True
    assert before[1]["structuredContent"]["complete"] is False  # a partial report among them
    for old, new, apps in zip(before, with_views, with_apps, strict=True):
        assert new["content"] == old["content"]  # the text the model reads, byte for byte
        assert new.get("structuredContent") == old.get("structuredContent")
        assert new == old
        assert apps == old  # an Apps host gets the same result; its page draws it


async def test_tools_list_differs_only_by_the_ui_meta_of_the_three_tools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Decided: `_meta.ui` is listed for every client (hosts render apps without announcing the
    extension, and `_meta` is not what the model reads); nothing else in tools/list changes."""
    with_views, _ = await listing()
    viewless(monkeypatch)
    before, caps = await listing()
    assert not (caps.extensions or {})
    stripped = []
    for entry in with_views:
        meta = entry.pop("_meta", None)
        assert meta == (
            {"ui": {"resourceUri": VIEW_OF[entry["name"]]}} if entry["name"] in VIEW_OF else None
        )
        stripped.append(entry)
    assert stripped == before


# ------------------------------------------------------------------------------ over stdio


async def test_a_view_is_read_over_stdio_from_the_demo_server() -> None:
    with tempfile.TemporaryFile(mode="w+") as stderr:
        params = StdioServerParameters(command=console_script(), args=["--demo"])
        from mcp.client.stdio import stdio_client

        async with Client(stdio_client(params, errlog=stderr), mode="legacy") as client:  # type: ignore[arg-type]
            tools = {t.name: t for t in (await client.list_tools()).tools}
            uri = tools["get_single_learnworlds_group_report_by_id"].meta["ui"]["resourceUri"]  # type: ignore[index]
            read = await client.read_resource(uri)
        stderr.seek(0)
        logged = stderr.read()
    (content,) = read.contents
    assert content.mime_type == APP_MIME_TYPE
    assert content.text == load_page("cohort_report.html")  # type: ignore[union-attr]
    assert "Traceback" not in logged
