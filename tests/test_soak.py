"""Chaos soak: a stdio session with many concurrent, mixed tool calls against a school in chaos.

The sandbox mixes 429s (with and without Retry-After), 5xx before and after applying a write,
replies slower than the client's timeout, dropped connections (before and after applying),
malformed bodies and token expiry, reproducibly from a seed. Afterwards:

- every read matched the sandbox's data or was a clear tool error;
- the school's state is what the successful writes imply: no write applied twice, none applied
  behind an error that did not say its outcome is unknown;
- no window of the school's request log exceeds the rate limit;
- no secret or token appears in any result or stderr line;
- the server still answers.

The suite runs it at a size that takes well under a minute (a faster rate limit than the real
30/10 s, the same logic); `bench/soak.py` runs a bigger one.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_types import CallToolResult

from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox
from tests.support import console_script, max_in_window, stdio_env

RATE = (60, 2.0)  # requests per seconds, for the school and the client alike
CHAOS_RATES = {
    "rate_limit": 0.05,
    "fail": 0.04,
    "fail_after_apply": 0.03,
    "slow": 0.03,
    "drop": 0.02,
    "drop_after_apply": 0.02,
    "malformed": 0.02,
    "expire_tokens": 0.02,
}
CALLS = 120
CONCURRENCY = 12
UNKNOWN = "Outcome unknown"
MADE = "The change was made"


@dataclass
class Call:
    tool: str
    arguments: dict[str, Any]
    result: CallToolResult | None = None
    text: str = ""
    kind: str = "read"
    key: str = ""  # what a write creates (an email, a group title)


@dataclass
class Plan:
    calls: list[Call] = field(default_factory=list)


def plan_calls(school: SandboxSchool, seed: int) -> Plan:
    rng = random.Random(seed)
    readers = [u for u in school.users if not u.is_suspended][:40]
    plan = Plan()
    course = school.courses[0].id
    for i in range(CALLS):
        roll = rng.random()
        if roll < 0.25:
            user = rng.choice(readers)
            ref = user.email if rng.random() < 0.5 else user.id
            plan.calls.append(
                Call("get_single_learnworlds_user_by_id", {"user_id": ref}, key=user.id)
            )
        elif roll < 0.35:
            plan.calls.append(Call("list_all_learnworlds_roles", {}))
        elif roll < 0.45:
            group = rng.choice(school.groups)
            plan.calls.append(
                Call("get_single_learnworlds_group_by_id", {"group_id": group.id}, key=group.id)
            )
        elif roll < 0.55:
            page = rng.randint(1, 3)
            plan.calls.append(
                Call(
                    "list_all_learnworlds_users",
                    {"page": page, "items_per_page": 10},
                    key=str(page),
                )
            )
        elif roll < 0.62:
            user = rng.choice(readers)
            plan.calls.append(
                Call(
                    "get_single_learnworlds_user_overview_by_id", {"user_id": user.id}, key=user.id
                )
            )
        elif roll < 0.82:
            email = f"soak.{seed}.{i}@example.com"
            plan.calls.append(
                Call(
                    "create_a_learnworlds_user",
                    {"email": email, "username": f"Soak {i}"},
                    kind="write",
                    key=email,
                )
            )
        else:
            title = f"Soak cohort {seed}-{i}"
            plan.calls.append(
                Call(
                    "create_a_learnworlds_group",
                    {"title": title, "courses": [course]},
                    kind="write",
                    key=title,
                )
            )
    return plan


def text_of(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def test_chaos_soak_over_stdio() -> None:
    seed = 20261126
    school = SandboxSchool(users=300, rate_limit=RATE, retry_after_header=False)
    plan = plan_calls(school, seed)
    roles_before = [r.title for r in school.roles]
    snapshot_users = {u.id: (u.email, u.role_id) for u in school.users}
    snapshot_groups = {g.id: g.title for g in school.groups}
    with serve_sandbox(school) as url, tempfile.TemporaryFile(mode="w+") as stderr:
        school.faults.chaos(seed, CHAOS_RATES, slow_seconds=1.5, path_contains="/v2/")
        env = stdio_env(
            url,
            school,
            LEARNWORLDS_ALLOW_WRITES="1",
            LEARNWORLDS_RATE_LIMIT=f"{RATE[0]}/{RATE[1]:g}",
            LEARNWORLDS_TIMEOUT="1",
            LEARNWORLDS_CONFIRM_DESTRUCTIVE="off",
        )
        params = StdioServerParameters(command=console_script(), args=[], env=env)
        async with Client(stdio_client(params, errlog=stderr), mode="legacy") as client:
            limiter = anyio.Semaphore(CONCURRENCY)

            async def run(call: Call) -> None:
                async with limiter:
                    call.result = await client.call_tool(call.tool, call.arguments)
                    call.text = text_of(call.result)

            async with anyio.create_task_group() as tg:
                for call in plan.calls:
                    tg.start_soon(run, call)
            fired = [kind for kind in school.faults.chaos_log if kind != "none"]
            school.faults.calm()
            alive = await client.call_tool("list_all_learnworlds_roles", {})
        stderr.seek(0)
        logged = stderr.read()

    assert not alive.is_error
    assert len(set(fired)) >= 6, f"chaos fired too little to prove anything: {fired}"
    check_reads(plan, roles_before, snapshot_users, snapshot_groups)
    check_writes(plan, school)
    check_rate_limit(school, RATE)
    check_no_secrets(school, plan, logged)
    print("soak:", summary(plan, school, fired))  # shown with -s


# ----------------------------------------------------------------- checks (bench/soak.py too)


def check_reads(
    plan: Plan,
    roles_before: list[str],
    snapshot_users: dict[str, tuple[str, str]],
    snapshot_groups: dict[str, str],
) -> None:
    """Every read matched the sandbox's data (reads touch nothing the writes change), or was a
    clear tool error."""
    for call in plan.calls:
        assert call.result is not None
        if call.result.is_error:
            assert call.text.startswith(f"Error executing tool {call.tool}: "), call.text
            assert len(call.text) > 60, call.text
            continue
        if call.kind != "read":
            continue
        data = call.result.structured_content or {}
        if call.tool == "get_single_learnworlds_user_by_id":
            assert (data["id"], data["email"]) == (call.key, snapshot_users[call.key][0])
        elif call.tool == "list_all_learnworlds_roles":
            assert [r["title"] for r in data["items"]] == roles_before
        elif call.tool == "get_single_learnworlds_group_by_id":
            assert data["title"] == snapshot_groups[call.key]
        elif call.tool == "list_all_learnworlds_users":
            assert data["page"] == int(call.key) and len(data["items"]) == 10
        elif call.tool == "get_single_learnworlds_user_overview_by_id":
            assert call.key in call.text


def check_writes(plan: Plan, school: SandboxSchool) -> None:
    """The school's state is what the writes' answers imply: none applied twice, none applied
    behind an error that did not say so, every reported success present."""
    for call in (c for c in plan.calls if c.kind == "write"):
        assert call.result is not None
        if call.tool == "create_a_learnworlds_user":
            made = [u.id for u in school.users if u.email == call.key]
            path, field = "/v2/users", "email"
        else:
            made = [g.id for g in school.groups if g.title == call.key]
            path, field = "/v2/user_groups", "title"
        posts = [
            r for r in school.requests
            if r.method == "POST" and r.path == path
            and isinstance(r.json, dict) and r.json.get(field) == call.key
        ]  # fmt: skip
        assert len(made) <= 1, f"{call.key} was applied twice"
        if not call.result.is_error or MADE in call.text:
            assert len(made) == 1, f"{call.key}: reported made but not in the school"
        elif UNKNOWN not in call.text:
            assert made == [], f"{call.key}: applied behind an error: {call.text}"
        # resent only after answers that prove it was not processed (429, auth rejection)
        processed = [
            r for r in posts if r.status is None or r.status in (200, 201) or r.status >= 500
        ]
        assert len(processed) <= 1, f"{call.key} was sent {len(processed)} times"


def check_rate_limit(school: SandboxSchool, rate: tuple[int, float]) -> None:
    """No window of the school's request log holds more requests than the limit."""
    assert max_in_window([r.at for r in school.requests], rate[1]) <= rate[0]


def check_no_secrets(school: SandboxSchool, plan: Plan, logged: str) -> None:
    """No client secret or bearer token in any result or stderr line; no traceback either."""
    tokens = {school.options.client_secret}
    tokens |= {
        r.headers["authorization"].removeprefix("Bearer ")
        for r in school.requests
        if r.headers.get("authorization", "").startswith("Bearer ")
    }
    everything = logged + "".join(c.result.model_dump_json() for c in plan.calls if c.result)
    for token in tokens:
        assert token not in everything
    assert "Traceback" not in logged


def summary(plan: Plan, school: SandboxSchool, fired: list[str]) -> dict[str, int]:
    return {
        "calls": len(plan.calls),
        "errors": sum(1 for c in plan.calls if c.result and c.result.is_error),
        "unknown_outcomes": sum(1 for c in plan.calls if UNKNOWN in c.text),
        "made_unreadable": sum(1 for c in plan.calls if MADE in c.text),
        "requests": len(school.requests),
        "faults_fired": len(fired),
    }
