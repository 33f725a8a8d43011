"""Gating over stdio, the way a host runs the server: for each combination of switches, the
hidden tools are absent from tools/list, calling one fails as an unknown tool, and the sandbox
school's request log shows that no write request reached it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from learnworlds_mcp.config import TOOLSETS
from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox
from learnworlds_mcp.tools import TOOLS
from tests.support import console_script, error_text, payload, stdio_env

# name: (command-line flags, extra environment, kinds on, toolsets on)
GATES: dict[str, tuple[list[str], dict[str, str], set[str], set[str]]] = {
    "none": ([], {}, {"read"}, set(TOOLSETS)),
    "writes": (["--allow-writes"], {}, {"read", "write"}, set(TOOLSETS)),
    "writes+destructive": (
        ["--allow-writes", "--allow-destructive"],
        {},
        {"read", "write", "destructive"},
        set(TOOLSETS),
    ),
    "writes+destructive, users only": (
        ["--allow-writes", "--allow-destructive", "--toolsets", "users"],
        {},
        {"read", "write", "destructive"},
        {"users"},
    ),
    "writes by environment, groups only": (
        [],
        {"LEARNWORLDS_ALLOW_WRITES": "1", "LEARNWORLDS_TOOLSETS": "groups"},
        {"read", "write"},
        {"groups"},
    ),
}


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return SandboxSchool(users=60)


@pytest.fixture(scope="module")
def school_url(school: SandboxSchool) -> Iterator[str]:
    with serve_sandbox(school) as url:
        yield url


def arguments_for(name: str, school: SandboxSchool) -> dict[str, object]:
    """Valid arguments for a hidden tool: it must fail for not existing, not for bad input."""
    user = next(u for u in school.users if not u.is_suspended)
    group = school.groups[0]
    role = school.roles[0]
    course = school.courses[0]
    by_name: dict[str, dict[str, object]] = {
        "create_a_learnworlds_user": {"email": "gate@acme.com", "username": "Gate"},
        "create_a_learnworlds_group": {"title": "Gate", "courses": []},
        "enroll_a_learnworlds_user": {"user_id": user.id, "product_id": course.id},
        "unenroll_a_learnworlds_user": {"user_id": user.id, "product_id": course.id},
        "add_a_learnworlds_user_to_a_group": {"group_id": group.id, "user_id": user.id},
        "remove_a_learnworlds_user_from_a_group": {"group_id": group.id, "user_id": user.id},
        "update_a_learnworlds_group_by_id": {"group_id": group.id, "title": "Gate"},
        "change_a_learnworlds_user_role": {"user_id": user.id, "role_id": role.id},
        "add_tags_to_a_learnworlds_user": {"user_id": user.id, "tags": ["gate"]},
        "remove_tags_from_a_learnworlds_user": {"user_id": user.id, "tags": ["gate"]},
        "update_a_learnworlds_user_by_id": {"user_id": user.id, "username": "Gate"},
    }
    return by_name.get(name, {"user_id": user.id, "group_id": group.id})


@pytest.mark.parametrize("gate", list(GATES))
async def test_hidden_tools_do_not_exist_over_stdio(
    gate: str, school: SandboxSchool, school_url: str
) -> None:
    flags, extra_env, kinds, toolsets = GATES[gate]
    expected = {t.name for t in TOOLS if t.kind in kinds and t.toolset in toolsets}
    hidden = sorted({t.name for t in TOOLS if t.kind != "read"} - expected)
    first = len(school.requests)
    params = StdioServerParameters(
        command=console_script(), args=flags, env=stdio_env(school_url, school, **extra_env)
    )
    with tempfile.TemporaryFile(mode="w+") as stderr:
        async with Client(stdio_client(params, errlog=stderr), mode="legacy") as client:
            listed = {t.name for t in (await client.list_tools()).tools}
            refused = {
                name: await client.call_tool(name, arguments_for(name, school)) for name in hidden
            }
            if "suspend_a_learnworlds_user" in listed:  # a destructive tool that is on: dry run
                user = next(u for u in school.users if not u.is_suspended)
                dry = payload(
                    await client.call_tool(
                        "suspend_a_learnworlds_user", {"user_id": user.id, "dry_run": True}
                    )
                )
                assert dry["status"] == "dry_run"
        stderr.seek(0)
        assert "Traceback" not in stderr.read()
    assert listed == expected
    for name, result in refused.items():
        assert f"Unknown tool: {name}" in error_text(result)
    assert [r for r in school.requests[first:] if r.is_write] == []
