"""End to end over Streamable HTTP: spawn `learnworlds-mcp --transport http --port 0` against the
sandbox school on loopback, as an operator would, and reach it the way remote hosts do — both
protocol generations (`legacy` 2025-11-25 sessions and `auto`, the stateless 2026-07-28 one).

Member keys, OAuth and the audit trail per member are in `test_remote_members.py`; this file
covers what holds for every caller: the same tools and prompts as stdio, confirmation of
destructive changes, `/healthz`, the safety checks and the start-up errors.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox
from tests.http_server import http_client, running_server
from tests.support import console_script, error_text, learner, payload, stdio_env
from tests.test_confirmation import Person


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return SandboxSchool(users=60)


@pytest.fixture(scope="module")
def school_url(school: SandboxSchool) -> Iterator[str]:
    with serve_sandbox(school) as url:
        yield url


def env_for(url: str, school: SandboxSchool, **extra: str) -> dict[str, str]:
    env = stdio_env(url, school, **extra)
    env.pop("PATH")
    return env


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_same_tools_and_prompts_over_http(
    mode: str, school: SandboxSchool, school_url: str, tmp_path: Path
) -> None:
    with running_server(env_for(school_url, school), "--no-auth", cwd=str(tmp_path)) as server:
        async with http_client(server.url, mode=mode) as client:
            tools = sorted(t.name for t in (await client.list_tools()).tools)
            prompts = sorted(p.name for p in (await client.list_prompts()).prompts)
            roles = payload(await client.call_tool("list_all_learnworlds_roles", {}))
            missing = await client.call_tool(
                "get_single_learnworlds_user_by_id", {"user_id": "x@y.zz"}
            )
            hidden = await client.call_tool("suspend_a_learnworlds_user", {"user_id": "a"})
            view = await client.read_resource("ui://learnworlds/cohort-report.html")
    assert server.members == 0
    assert len(tools) == 18 and "list_all_learnworlds_users" in tools
    assert not any(t.startswith(("create_", "suspend_", "update_")) for t in tools)
    assert prompts == [
        "learnworlds_cohort_report",
        "learnworlds_inactive_staff_review",
        "learnworlds_user_360",
    ]
    assert roles["total_items"] == len(roles["items"]) > 0
    assert "x@y.zz" in error_text(missing)
    assert error_text(hidden) == "Unknown tool: suspend_a_learnworlds_user"
    page = view.contents[0]
    assert page.mime_type == "text/html;profile=mcp-app" and "ui/initialize" in page.text  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_person_confirms_destructive_changes_over_http(
    mode: str, school: SandboxSchool, school_url: str, tmp_path: Path
) -> None:
    user = learner(school, 3 if mode == "legacy" else 4)
    args = ("--no-auth", "--allow-writes", "--allow-destructive")
    person, refuser = Person(), Person(action="decline")
    with running_server(env_for(school_url, school), *args, cwd=str(tmp_path)) as server:
        async with http_client(server.url, mode=mode, elicitation_callback=refuser) as client:
            declined = payload(
                await client.call_tool("suspend_a_learnworlds_user", {"user_id": user.id})
            )
        assert not user.is_suspended
        async with http_client(server.url, mode=mode, elicitation_callback=person) as client:
            done = payload(
                await client.call_tool("suspend_a_learnworlds_user", {"user_id": user.email})
            )
    assert declined["status"] == "declined" and len(refuser.asked) == 1
    assert done["status"] == "done" and user.email in person.asked[0]
    assert user.is_suspended
    user.is_suspended = False


def test_healthz_and_the_safety_checks(
    school: SandboxSchool, school_url: str, tmp_path: Path
) -> None:
    with running_server(env_for(school_url, school), "--no-auth", cwd=str(tmp_path)) as server:
        health = httpx2.get(f"{server.base}/healthz")
        rebinding = httpx2.post(
            server.url,
            headers={"Host": "evil.example:80", "Content-Type": "application/json"},
            content=b"{}",
        )
        foreign = httpx2.post(
            server.url,
            headers={"Origin": "https://evil.example", "Content-Type": "application/json"},
            content=b"{}",
        )
        huge = httpx2.post(
            server.url,
            headers={"Content-Type": "application/json"},
            content=b"[" + b"1," * 700_000 + b"1]",
        )
        huge_form = httpx2.post(f"{server.base}/token", content=b"a=" + b"x" * 100_000)

        def chunks(total: int) -> Iterator[bytes]:  # no Content-Length: chunked
            yield b"a="
            for _ in range(total // 10_000):
                yield b"x" * 10_000

        streamed_form = httpx2.post(f"{server.base}/register", content=chunks(200_000))
        streamed_mcp = httpx2.post(
            server.url,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            content=chunks(2_000_000),
        )
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["version"]
    assert rebinding.status_code in (400, 421)
    assert foreign.status_code == 403
    assert huge.status_code == 413 and huge_form.status_code == 413
    assert streamed_form.status_code == 413 and streamed_mcp.status_code == 413
    assert "Traceback" not in server.stderr_text()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--host", "0.0.0.0", "--no-auth", "--public-url", "https://mcp.x.com"], "--no-auth"),
        (["--host", "0.0.0.0"], "LEARNWORLDS_PUBLIC_URL"),
        (["--host", "0.0.0.0", "--public-url", "http://mcp.x.com"], "https"),
        (["--members-file", "CORRUPT"], "members file"),
        (["--members-file", "."], "members file"),
        (["--audit-log", "/nonexistent/dir/audit.jsonl"], "LEARNWORLDS_AUDIT_LOG"),
    ],
)
def test_unsafe_start_up_is_one_line_and_exit_2(
    args: list[str], needle: str, school: SandboxSchool, tmp_path: Path
) -> None:
    (tmp_path / "CORRUPT").write_text("[1,2")
    result = subprocess.run(
        [console_script(), "--transport", "http", "--port", "0", *args],
        env=stdio_env("http://127.0.0.1:9/admin/api", school),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
    assert school.options.client_secret not in result.stderr
