"""Shutdown: a host that closes stdin mid-call ends the server promptly and quietly."""

from __future__ import annotations

import json
import subprocess
import time

from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox
from tests.support import console_script, stdio_env


def test_closing_stdin_mid_call_ends_the_process_without_a_traceback() -> None:
    school = SandboxSchool(users=30)
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "host", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "list_all_learnworlds_users", "arguments": {}}},
    ]  # fmt: skip
    with serve_sandbox(school) as url:
        school.faults.slow_next(seconds=6.0, path_contains="/v2/users")
        proc = subprocess.Popen(
            [console_script()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=stdio_env(url, school),
        )
        assert proc.stdin is not None and proc.stderr is not None
        for message in messages:
            proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while not any(r.path == "/v2/users" for r in school.requests):
            assert time.monotonic() < deadline, "the call never reached the school"
            time.sleep(0.05)
        proc.stdin.close()  # the host goes away while the call waits on the school
        returncode = proc.wait(timeout=10)  # measured: about 0.2 s
        stderr = proc.stderr.read()
    assert returncode == 0
    assert "Traceback" not in stderr, stderr


async def test_cancelling_a_long_workflow_stops_its_api_traffic() -> None:
    import anyio
    from mcp import Client, StdioServerParameters

    school = SandboxSchool(users=1500, rate_limit=(1000, 1.0))
    cohort = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    assert len(school.group_members(cohort.id)) >= 100
    with serve_sandbox(school) as url:
        # Each member's progress takes 0.2 s to answer: a steady stream of ~20 requests a second.
        school.faults.slow_next(count=10_000, seconds=0.2, path_contains="/progress")
        env = stdio_env(url, school, LEARNWORLDS_RATE_LIMIT="1000/1")
        params = StdioServerParameters(command=console_script(), args=[], env=env)
        async with Client(params, mode="legacy") as client:
            scope = anyio.CancelScope()

            async def report() -> None:
                with scope:
                    await client.call_tool(
                        "get_single_learnworlds_group_report_by_id",
                        {"group_id": cohort.id, "max_calls": 1000},
                    )

            async with anyio.create_task_group() as tg:
                tg.start_soon(report)
                with anyio.fail_after(60):
                    while len(school.requests) < 40:  # noqa: ASYNC110 - the log fills in another thread
                        await anyio.sleep(0.05)
                scope.cancel()
                at_cancel = len(school.requests)
                await anyio.sleep(2.0)  # uncancelled, the report would send ~40 more by now
                after = len(school.requests)
            roles = await client.call_tool("list_all_learnworlds_roles", {})
    assert after - at_cancel <= 2, f"{after - at_cancel} requests after the cancel"
    assert not roles.is_error
