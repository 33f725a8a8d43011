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
