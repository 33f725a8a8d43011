"""End to end: spawn `learnworlds-mcp` over stdio, the way hosts do, against the sandbox school
served on a loopback port. Runs in both protocol generations: `legacy` (the 2025-11-25 handshake
today's hosts use) and `auto` (the stateless 2026-07-28 protocol)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox
from tests.support import console_script, error_text, payload, stdio_env

HEROES = [
    "get_single_learnworlds_group_by_id",
    "get_single_learnworlds_user_by_id",
    "list_all_learnworlds_groups",
    "list_all_learnworlds_roles",
    "list_all_learnworlds_users",
]


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return SandboxSchool(users=200)


@pytest.fixture(scope="module")
def school_url(school: SandboxSchool) -> Iterator[str]:
    with serve_sandbox(school) as url:
        yield url


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_hero_tools_over_stdio(mode: str, school: SandboxSchool, school_url: str) -> None:
    user = next(u for u in school.users if not u.is_suspended and "+" in u.email)
    group = school.groups[0]
    with tempfile.TemporaryFile(mode="w+") as stderr:
        params = StdioServerParameters(
            command=console_script(), args=[], env=stdio_env(school_url, school)
        )
        async with Client(stdio_client(params, errlog=stderr), mode=mode) as client:  # type: ignore[arg-type]
            listed = (await client.list_tools()).tools
            names = sorted(t.name for t in listed)
            assert all(t.annotations and t.annotations.read_only_hint for t in listed)
            users = payload(
                await client.call_tool("list_all_learnworlds_users", {"items_per_page": 3})
            )
            by_email = payload(
                await client.call_tool("get_single_learnworlds_user_by_id", {"user_id": user.email})
            )
            roles = payload(await client.call_tool("list_all_learnworlds_roles", {}))
            groups = payload(await client.call_tool("list_all_learnworlds_groups", {}))
            one = payload(
                await client.call_tool("get_single_learnworlds_group_by_id", {"group_id": group.id})
            )
            missing = await client.call_tool(
                "get_single_learnworlds_user_by_id", {"user_id": "nobody@nowhere.test"}
            )
            unknown = await client.call_tool("suspend_a_learnworlds_user", {"user_id": user.id})
            still = payload(await client.call_tool("list_all_learnworlds_roles", {}))
        stderr.seek(0)
        logged = stderr.read()
    assert set(HEROES) <= set(names)
    assert len(users["items"]) == 3 and users["next_page"] == 2
    assert by_email["id"] == user.id
    assert len(roles["items"]) == len(school.roles)
    assert groups["total_items"] == len(school.groups)
    assert one["title"] == group.title
    assert "email" in error_text(missing)
    assert unknown.is_error  # not registered: the SDK's unknown-tool error
    assert still == roles
    assert school.options.client_secret not in logged
    assert "Traceback" not in logged


def test_stdout_carries_nothing_but_the_protocol(school: SandboxSchool, school_url: str) -> None:
    """Spawn the server by hand, speak JSON-RPC, and check every stdout line is a message."""
    import subprocess

    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    messages = [
        init,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "list_all_learnworlds_roles", "arguments": {}},
        },
    ]
    proc = subprocess.Popen(
        [console_script()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=stdio_env(school_url, school),
    )
    assert proc.stdin and proc.stdout and proc.stderr
    for message in messages:
        proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()
    parsed = []
    while not any(m.get("id") == 2 for m in parsed):
        line = proc.stdout.readline()
        assert line, "the server closed stdout before answering"
        parsed.append(json.loads(line))  # every stdout line is one JSON-RPC message
    proc.stdin.close()  # closing stdin ends the server
    proc.wait(timeout=10)
    rest, stderr = proc.stdout.read(), proc.stderr.read()
    parsed += [json.loads(line) for line in rest.splitlines() if line.strip()]
    assert proc.returncode == 0
    assert all(m.get("jsonrpc") == "2.0" for m in parsed)
    answer = next(m for m in parsed if m.get("id") == 2)
    assert answer["result"]["isError"] is False
    assert "Traceback" not in stderr
    assert school.options.client_secret not in rest + stderr


def test_bad_configuration_is_one_line_and_a_nonzero_exit(tmp_path: Path) -> None:
    import subprocess

    proc = subprocess.run(
        [console_script()],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "LEARNWORLDS_CLIENT_SECRET": "s3cr3t-value-XYZ"},
    )
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "LEARNWORLDS_API_URL" in proc.stderr
    assert "s3cr3t-value-XYZ" not in proc.stderr
