"""The remote server with members (DESIGN §8), end to end: `learnworlds-mcp --transport http`
spawned as a subprocess against the sandbox school, members made with `learnworlds-mcp members`.

A read-only member and a writing member see different `tools/list`s (and prompts); a tool beyond
a member's gates does not exist for them and nothing reaches the school; a removed member and a
rotated key are refused within 2 s; bad credentials get 401 with the header the MCP
authorization spec asks for; every change-tool call is in the audit log once, with its member.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox
from tests.http_server import RunningServer, http_client, running_server, wait_until
from tests.support import console_script, error_text, learner, payload, stdio_env

ALL_TOOLS = 31


@dataclass
class Team:
    school: SandboxSchool
    url: str
    work: Path
    members_file: Path
    audit: Path
    keys: dict[str, str]

    def env(self) -> dict[str, str]:
        env = stdio_env(self.url, self.school)
        env.pop("PATH")
        env["LEARNWORLDS_MEMBERS_FILE"] = str(self.members_file)
        return env

    def members(self, *args: str) -> str:
        done = subprocess.run(
            [console_script(), "members", *args],
            env={**self.env(), "PATH": ""},
            capture_output=True,
            text=True,
            timeout=30,
            cwd=self.work,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def serve(self, *args: str) -> RunningServer:
        return running_server(
            self.env(),
            "--allow-writes",
            "--allow-destructive",
            "--audit-log",
            str(self.audit),
            *args,
            cwd=str(self.work),
        )  # type: ignore[return-value]


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return SandboxSchool(users=60)


@pytest.fixture(scope="module")
def school_url(school: SandboxSchool) -> Iterator[str]:
    with serve_sandbox(school) as url:
        yield url


@pytest.fixture
def team(school: SandboxSchool, school_url: str, tmp_path: Path) -> Team:
    t = Team(school, school_url, tmp_path, tmp_path / "members.json", tmp_path / "audit.jsonl", {})
    t.keys["reader"] = t.members("add", "reader", "--toolsets", "users,roles")
    t.keys["writer"] = t.members("add", "writer", "--allow-writes", "--allow-destructive")
    return t


def audit_lines(team: Team) -> list[dict[str, object]]:
    if not team.audit.exists():
        return []
    return [json.loads(line) for line in team.audit.read_text().splitlines()]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_each_member_sees_and_calls_only_their_tools(team: Team, mode: str) -> None:
    user = learner(team.school, 5 if mode == "legacy" else 6)
    with team.serve() as server:
        assert server.members == 2
        async with http_client(server.url, team.keys["reader"], mode=mode) as reader:
            seen = {t.name for t in (await reader.list_tools()).tools}
            prompts = {p.name for p in (await reader.list_prompts()).prompts}
            before = len(team.school.requests)
            hidden = await reader.call_tool("suspend_a_learnworlds_user", {"user_id": user.id})
            other_set = await reader.call_tool("list_all_learnworlds_groups", {})
            sent_for_hidden = len(team.school.requests) - before
            roles = payload(await reader.call_tool("list_all_learnworlds_roles", {}))
        async with http_client(server.url, team.keys["writer"], mode=mode) as writer:
            everything = {t.name for t in (await writer.list_tools()).tools}
            all_prompts = {p.name for p in (await writer.list_prompts()).prompts}
            tagged = payload(
                await writer.call_tool(
                    "add_tags_to_a_learnworlds_user", {"user_id": user.id, "tags": ["remote"]}
                )
            )
    assert len(everything) == ALL_TOOLS and seen < everything
    assert all(name.startswith(("list_all_", "get_single_")) for name in seen)
    assert {"list_all_learnworlds_users", "list_all_learnworlds_roles"} <= seen
    assert not any("group" in name or "course" in name for name in seen)
    assert error_text(hidden) == "Unknown tool: suspend_a_learnworlds_user"
    assert error_text(other_set) == "Unknown tool: list_all_learnworlds_groups"
    assert sent_for_hidden == 0 and not user.is_suspended
    assert roles["total_items"] > 0
    assert "learnworlds_cohort_report" in all_prompts - prompts
    assert "learnworlds_user_360" in prompts
    assert tagged["status"] == "done" and "remote" in user.tags
    records = audit_lines(team)
    assert [(r["member"], r["client"], r["tool"], r["outcome"]) for r in records] == [
        ("reader", "key", "suspend_a_learnworlds_user", "refused"),
        ("writer", "key", "add_tags_to_a_learnworlds_user", "done"),
    ]
    assert records[1]["request"] == f"PUT /v2/users/{user.id}/tags"
    log = team.audit.read_text() + server.stderr_text()
    assert all(key not in log for key in team.keys.values())


def assert_401(response: httpx2.Response, server: RunningServer) -> None:
    assert response.status_code == 401
    header = response.headers["www-authenticate"]
    assert header.startswith("Bearer ")
    assert f'resource_metadata="{server.base}/.well-known/oauth-protected-resource/mcp"' in header


def post_initialize(server: RunningServer, key: str | None) -> httpx2.Response:
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    return httpx2.post(server.url, headers=headers, json=body, timeout=10)


def test_bad_credentials_get_401_with_the_header(team: Team) -> None:
    with team.serve() as server:
        assert post_initialize(server, team.keys["reader"]).status_code == 200
        for key in (None, "lwm_" + "A" * 43, "not-a-key", team.keys["reader"][:-2]):
            assert_401(post_initialize(server, key), server)
        metadata = httpx2.get(f"{server.base}/.well-known/oauth-protected-resource/mcp").json()
    assert metadata["resource"] == server.url
    assert metadata["authorization_servers"] == [server.base]


def test_removed_members_and_rotated_keys_are_refused_within_2_seconds(team: Team) -> None:
    with team.serve() as server:
        old = team.keys["writer"]
        assert post_initialize(server, old).status_code == 200
        new = team.members("rotate", "writer")
        assert wait_until(lambda: post_initialize(server, old).status_code == 401, timeout=2.0)
        assert post_initialize(server, new).status_code == 200
        team.members("remove", "reader")
        assert wait_until(
            lambda: post_initialize(server, team.keys["reader"]).status_code == 401, timeout=2.0
        )


@dataclass
class Site:
    """What the OAuth test helpers need to know of a server: its base URL."""

    url: str
    secrets: set[str]

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"

    def remember(self, *values: str | None) -> None:
        self.secrets.update(v for v in values if v)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_member_signs_in_with_the_sdk_oauth_client_and_is_audited(
    team: Team, mode: str
) -> None:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from tests.test_oauth import sdk_oauth_provider

    user = learner(team.school, 7 if mode == "legacy" else 8)
    with team.serve() as server:
        site = Site(server.base, set())
        async with httpx2.AsyncClient() as browser:
            oauth, storage = sdk_oauth_provider(
                browser,
                site,
                team.keys["writer"],
                server_url=server.url,
                client_name="Team Assistant",
                redirect_uri="https://assistant.example/callback",
            )
            async with (
                httpx2.AsyncClient(auth=oauth) as http,
                Client(streamable_http_client(server.url, http_client=http), mode=mode) as client,
            ):
                tools = {t.name for t in (await client.list_tools()).tools}
                done = payload(
                    await client.call_tool(
                        "add_tags_to_a_learnworlds_user", {"user_id": user.email, "tags": ["sso"]}
                    )
                )
            assert storage.tokens is not None and storage.client is not None
            token = storage.tokens.access_token
            assert post_initialize(server, token).status_code == 200
            revoked = await browser.post(
                f"{server.base}/revoke",
                data={"token": token, "client_id": storage.client.client_id},
            )
            assert revoked.status_code == 200, revoked.text
            assert_401(post_initialize(server, token), server)
    assert len(tools) == ALL_TOOLS and done["status"] == "done"
    (record,) = audit_lines(team)
    assert (record["member"], record["client"], record["outcome"]) == (
        "writer",
        "Team Assistant",
        "done",
    )
    log = team.audit.read_text() + server.stderr_text()
    assert token not in log and storage.tokens.refresh_token not in log


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_every_change_outcome_is_audited_once_over_http(team: Team, mode: str) -> None:
    from tests.test_confirmation import Person

    user, other = learner(team.school, 12 if mode == "legacy" else 14), learner(team.school, 13)
    yes, no = Person(), Person(action="decline")
    with team.serve() as server:
        key = team.keys["writer"]
        async with http_client(server.url, key, mode=mode, elicitation_callback=yes) as client:
            for arguments in (
                {"user_id": user.id},  # done, after the person said yes
                {"user_id": user.id},  # unchanged: already suspended, nobody asked
                {"user_id": other.id, "dry_run": True},
                {"user_id": "nobody@nowhere.example"},  # refused: no such user
            ):
                await client.call_tool("suspend_a_learnworlds_user", arguments)
        async with http_client(server.url, key, mode=mode, elicitation_callback=no) as client:
            await client.call_tool("suspend_a_learnworlds_user", {"user_id": other.email})
    suspended_once = [r for r in team.school.requests if r.path == f"/v2/users/{user.id}/suspend"]
    user.is_suspended = False
    records = audit_lines(team)
    assert [r["outcome"] for r in records] == [
        "done",
        "unchanged",
        "dry_run",
        "refused",
        "declined",
    ]
    assert all((r["member"], r["client"]) == ("writer", "key") for r in records)
    assert records[0]["request"] == f"PUT /v2/users/{user.id}/suspend"
    assert records[0]["status"] == 200 and len(suspended_once) == 1
    assert len(yes.asked) == 1 and len(no.asked) == 1 and not other.is_suspended
