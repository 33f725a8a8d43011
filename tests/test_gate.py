"""Per-member gates (remote/gate.py), through an in-memory MCP client: what a member may not use
is answered exactly as what does not exist — tools, prompts and completions alike."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference

from learnworlds_mcp.remote.gate import Gates, MemberGate
from learnworlds_mcp.server import build_server, selected_tools
from tests.support import make_school, settings_for, transport_for

COHORT_VIEW = "ui://learnworlds/cohort-report.html"
READER = Gates(kinds=frozenset({"read"}), toolsets=frozenset({"users", "roles"}))


def gated_server(gates: Gates | None, **settings: Any) -> Any:
    school = make_school(users=20)
    config = settings_for(school, **{"allow_writes": True, "allow_destructive": True, **settings})
    gate = MemberGate(selected_tools(config), lambda: gates)
    server = build_server(
        config, transport=transport_for(school), clock=school.options.clock, middleware=[gate]
    )
    return server, school


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_hidden_is_the_same_as_absent(mode: str) -> None:
    server, school = gated_server(READER)
    # The same member's view, built the stdio way: a server that never registered the rest.
    plain, _ = gated_server(
        None, allow_writes=False, allow_destructive=False, toolsets=frozenset({"users", "roles"})
    )
    async with Client(server, mode=mode) as member, Client(plain, mode=mode) as narrow:
        seen = [t.name for t in (await member.list_tools()).tools]
        expected = [t.name for t in (await narrow.list_tools()).tools]
        prompts = [p.name for p in (await member.list_prompts()).prompts]
        narrow_prompts = [p.name for p in (await narrow.list_prompts()).prompts]
        sent = len(school.requests)
        hidden = await member.call_tool("suspend_a_learnworlds_user", {"user_id": "x"})
        absent = await narrow.call_tool("suspend_a_learnworlds_user", {"user_id": "x"})
        nothing_sent = len(school.requests) == sent
        errors = []
        for client in (member, narrow):
            with pytest.raises(MCPError) as info:
                await client.get_prompt("learnworlds_cohort_report", {"group": "x"})
            errors.append(info.value.error.message)
        resources = [str(r.uri) for r in (await member.list_resources()).resources]
        narrow_resources = [str(r.uri) for r in (await narrow.list_resources()).resources]
        unreadable = []
        for client in (member, narrow):
            with pytest.raises(MCPError) as info:
                await client.read_resource(COHORT_VIEW)
            unreadable.append(info.value.error.message)
        completions = []
        for client in (member, narrow):
            ref = PromptReference(type="ref/prompt", name="learnworlds_cohort_report")
            completions.append(
                (await client.complete(ref, {"name": "group", "value": ""})).completion.values
            )
    assert resources == narrow_resources and COHORT_VIEW not in resources
    assert unreadable[0] == unreadable[1] and "hidden" not in unreadable[0]
    assert seen == expected and len(seen) < 31
    assert prompts == narrow_prompts and "learnworlds_cohort_report" not in prompts
    assert hidden.is_error and hidden.content == absent.content
    assert nothing_sent
    assert errors[0] == errors[1] and "hidden" not in errors[0]
    assert completions[0] == completions[1] == []


async def test_no_gates_means_the_servers_own() -> None:
    server, _ = gated_server(None)
    async with Client(server) as client:
        assert len((await client.list_tools()).tools) == 31


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_instructions_follow_the_members_gates(mode: str) -> None:
    from learnworlds_mcp.server import instructions_for

    school = make_school(users=20)
    config = settings_for(school, allow_writes=True, allow_destructive=True)
    texts = {}
    for name, gates in (
        ("reader", READER),
        ("writer", Gates(frozenset({"read", "write"}), READER.toolsets)),
        ("all", Gates(frozenset({"read", "write", "destructive"}), READER.toolsets)),
    ):
        gate = MemberGate(
            selected_tools(config),
            lambda g=gates: g,
            lambda g: instructions_for(config, g.kinds),
        )
        server = build_server(
            config, transport=transport_for(school), clock=school.options.clock, middleware=[gate]
        )
        async with Client(server, mode=mode) as client:
            if mode == "auto":
                await client.list_tools()  # the 2026 discovery happens on first use
            texts[name] = client.instructions or ""
    assert "changes are off for you" in texts["reader"] and "members add" in texts["reader"]
    assert "--allow-writes" not in texts["reader"].replace("members add NAME --allow-writes", "")
    assert "Additive changes are on" in texts["writer"] and "for you" in texts["writer"]
    assert "Additive and destructive changes are on" in texts["all"]


async def test_course_titles_are_completed_only_for_members_who_see_courses() -> None:
    school = make_school(users=40)
    ref = PromptReference(type="ref/prompt", name="learnworlds_cohort_report")
    values = {}
    for name, toolsets in (
        ("groups only", {"groups"}),
        ("groups and courses", {"groups", "courses"}),
    ):
        gates = Gates(frozenset({"read"}), frozenset(toolsets))
        config = settings_for(school)
        gate = MemberGate(selected_tools(config), lambda g=gates: g)
        server = build_server(
            config, transport=transport_for(school), clock=school.options.clock, middleware=[gate]
        )
        async with Client(server) as client:
            values[name] = (
                await client.complete(ref, {"name": "course", "value": ""})
            ).completion.values
    assert values["groups only"] == []
    assert len(values["groups and courses"]) == len(school.courses) > 0


def test_no_input_schema_declares_mcp_param_headers() -> None:
    """The SDK checks `Mcp-Param-*` headers against a called tool's schema before middleware
    runs, hidden tools included; with no such declaration that check can reveal nothing."""
    import json

    from learnworlds_mcp.catalog import catalog

    assert "x-mcp-header" not in json.dumps([entry.input_schema for entry in catalog()])
