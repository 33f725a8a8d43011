"""Real third-party hosts' ways in: the MCP Inspector CLI, and the Claude Desktop config example.

The Inspector test needs node's `npx` (on the CI machine) and fetches the pinned Inspector from
the npm registry on first use; it is skipped only where `npx` does not exist at all.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox
from tests.support import console_script, payload

ROOT = Path(__file__).parent.parent
INSPECTOR = "@modelcontextprotocol/inspector@0.15.0"
HEROES = {
    "list_all_learnworlds_users",
    "get_single_learnworlds_user_by_id",
    "list_all_learnworlds_roles",
    "list_all_learnworlds_groups",
    "get_single_learnworlds_group_by_id",
}


def inspector(*args: str) -> dict[str, Any]:
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx (node) is not installed")
    proc = subprocess.run(
        [npx, "-y", INSPECTOR, "--cli", console_script(), "--demo", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.fixture(scope="module")
def demo_school() -> SandboxSchool:
    """The demo school's data: generated from the same seed, so the same ids."""
    return SandboxSchool()


def test_inspector_lists_the_hero_tools() -> None:
    listed = inspector("--method", "tools/list")
    assert {t["name"] for t in listed["tools"]} >= HEROES
    assert all(t["annotations"]["readOnlyHint"] for t in listed["tools"])  # --demo: read-only


@pytest.mark.parametrize(
    "tool",
    sorted(HEROES),
)
def test_inspector_calls_each_hero_tool(tool: str, demo_school: SandboxSchool) -> None:
    user = next(u for u in demo_school.users if not u.is_suspended)
    arguments = {
        "get_single_learnworlds_user_by_id": [f"user_id={user.email}"],
        "get_single_learnworlds_group_by_id": [f"group_id={demo_school.groups[0].id}"],
        "list_all_learnworlds_users": ["items_per_page=2"],
    }.get(tool, [])
    args = ["--method", "tools/call", "--tool-name", tool]
    for argument in arguments:
        args += ["--tool-arg", argument]
    result = inspector(*args)
    assert result.get("isError") is False, result
    data = json.loads(result["content"][0]["text"])
    assert data == result["structuredContent"]
    if tool == "get_single_learnworlds_user_by_id":
        assert data["id"] == user.id
    if tool == "get_single_learnworlds_group_by_id":
        assert data["title"] == demo_school.groups[0].title
    if tool == "list_all_learnworlds_users":
        assert len(data["items"]) == 2 and data["next_page"] == 2


def test_inspector_sees_a_tool_error_as_is_error() -> None:
    result = inspector(
        "--method", "tools/call", "--tool-name", "get_single_learnworlds_user_by_id",
        "--tool-arg", "user_id=nobody@nowhere.test",
    )  # fmt: skip
    assert result["isError"] is True
    assert "email" in result["content"][0]["text"]


async def test_claude_desktop_example_config_starts_the_server() -> None:
    config = json.loads((ROOT / "claude_desktop_config.example.json").read_text())
    entry = config["mcpServers"]["learnworlds"]
    assert entry["command"] == "uvx" and entry["args"][0] == "learnworlds-mcp"
    assert set(entry["env"]) == {
        "LEARNWORLDS_API_URL",
        "LEARNWORLDS_CLIENT_ID",
        "LEARNWORLDS_CLIENT_SECRET",
    }
    school = SandboxSchool(users=30)
    with serve_sandbox(school) as url:
        filled = {
            "LEARNWORLDS_API_URL": url,
            "LEARNWORLDS_CLIENT_ID": school.options.client_id,
            "LEARNWORLDS_CLIENT_SECRET": school.options.client_secret,
        }
        # `uvx learnworlds-mcp` runs the published console script; here, this checkout's.
        params = StdioServerParameters(
            command=console_script(), args=entry["args"][1:], env={**entry["env"], **filled}
        )
        async with Client(params, mode="legacy") as client:
            roles = payload(await client.call_tool("list_all_learnworlds_roles", {}))
    assert len(roles["items"]) == len(school.roles)
