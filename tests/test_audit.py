"""The audit log (DESIGN §8): one JSON line per change-tool call, every outcome, nothing secret.

Over stdio the member is `local` and the client `stdio`; the remote server's own checks (member
names, OAuth clients) live in the HTTP end-to-end suite. Both protocol generations: a 2026-07-28
call that pauses for the person's answer reaches the server twice and is recorded once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client

from learnworlds_mcp.audit import AuditLog
from learnworlds_mcp.sandbox import SandboxSchool
from learnworlds_mcp.server import build_server
from tests.support import connected, learner, make_school, settings_for, transport_for
from tests.test_confirmation import Person


def records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def audited(school: SandboxSchool, path: Path, **overrides: Any) -> Any:
    return settings_for(
        school, allow_writes=True, allow_destructive=True, audit_log=str(path), **overrides
    )


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_every_outcome_is_recorded_once(tmp_path: Path, mode: str) -> None:
    school = make_school(users=20)
    user, other = learner(school, 0), learner(school, 1)
    log = tmp_path / "audit.jsonl"
    yes, no = Person(), Person(action="decline")
    async with connected(school, audited(school, log), elicitation_callback=yes, mode=mode) as c:
        await c.call_tool("list_all_learnworlds_users", {})  # reads are not audited
        await c.call_tool("suspend_a_learnworlds_user", {"user_id": user.id})  # done
        await c.call_tool("suspend_a_learnworlds_user", {"user_id": user.id})  # unchanged
        await c.call_tool("suspend_a_learnworlds_user", {"user_id": other.id, "dry_run": True})
        await c.call_tool("suspend_a_learnworlds_user", {"user_id": "nobody@nowhere.example"})
        await c.call_tool("add_tags_to_a_learnworlds_user", {"user_id": user.id, "tags": []})
    async with connected(school, audited(school, log), elicitation_callback=no, mode=mode) as c:
        await c.call_tool("suspend_a_learnworlds_user", {"user_id": other.email})  # declined
    lines = records(log)
    assert [r["outcome"] for r in lines] == [
        "done",
        "unchanged",
        "dry_run",
        "refused",
        "refused",
        "declined",
    ]
    for r in lines:
        assert r["member"] == "local" and r["client"] == "stdio"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"])
    done = lines[0]
    assert done["tool"] == "suspend_a_learnworlds_user"
    assert done["arguments"] == {"user_id": user.id}
    assert done["request"] == f"PUT /v2/users/{user.id}/suspend" and done["status"] == 200
    assert all("request" not in r for r in lines[1:])  # nothing else was sent
    secret = school.options.client_secret
    assert secret not in log.read_text()


async def test_a_write_whose_outcome_is_unknown_is_recorded_as_unknown(tmp_path: Path) -> None:
    school = make_school(users=20)
    user = learner(school)
    log = tmp_path / "audit.jsonl"
    school.faults.drop_next(methods=["PUT"], after_apply=True)
    async with connected(school, audited(school, log)) as c:
        await c.call_tool("add_tags_to_a_learnworlds_user", {"user_id": user.id, "tags": ["vip"]})
    (line,) = records(log)
    assert line["outcome"] == "unknown"
    assert line["request"] == f"PUT /v2/users/{user.id}/tags" and "status" not in line


async def test_a_school_failure_is_an_error(tmp_path: Path) -> None:
    school = make_school(users=20)
    user = learner(school)
    log = tmp_path / "audit.jsonl"

    def broken(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("unreachable", request=request)

    server = build_server(audited(school, log), transport=httpx2.MockTransport(broken))
    async with Client(server) as c:
        result = await c.call_tool(
            "add_a_learnworlds_user_to_a_group", {"user_id": user.id, "group_id": "g1"}
        )
    assert result.is_error
    (line,) = records(log)
    assert line["outcome"] == "error" and "request" not in line


def test_the_log_file_is_private_and_appended(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    for n in range(2):
        log = AuditLog(str(path))
        log.write({"n": n})
        log.close()
    assert path.stat().st_mode & 0o777 == 0o600
    assert records(path) == [{"n": 0}, {"n": 1}]


async def test_a_call_cancelled_while_its_write_is_on_the_way_is_recorded_as_unknown(
    tmp_path: Path,
) -> None:
    import anyio

    school = make_school(users=20)
    log = tmp_path / "audit.jsonl"
    school_app = transport_for(school)

    class SlowAnswer(httpx2.AsyncBaseTransport):
        """The school gets the request at once; its answer takes longer than the caller waits."""

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            response = await school_app.handle_async_request(request)
            if request.method == "POST" and request.url.path.endswith("/v2/users"):
                await anyio.sleep(3)
            return response

    server = build_server(audited(school, log), transport=SlowAnswer(), clock=school.options.clock)
    async with Client(server) as c:
        with anyio.move_on_after(1):
            await c.call_tool(
                "create_a_learnworlds_user",
                {"email": "late.arrival@example.com", "username": "Late Arrival"},
            )
    assert any(u.email == "late.arrival@example.com" for u in school.users)  # it got there
    (line,) = records(log)
    assert line["outcome"] == "unknown" and line["request"] == "POST /v2/users"
    assert "status" not in line
