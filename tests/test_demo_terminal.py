"""`--demo` started by a person in a terminal says it waits for an MCP client and how to try it.

A host pipes stdin and reads stdout; a person's terminal is a TTY. Only then does the banner
add the waiting line and the MCP Inspector commands (run from a pty here, as a person would).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time

from learnworlds_mcp.cli import INSPECTOR, demo_banner
from tests.support import console_script

URL = "http://127.0.0.1:4321/admin/api"


def test_the_banner_names_the_inspector_only_in_a_terminal() -> None:
    piped = demo_banner(URL, interactive=False)
    assert piped.splitlines() == [
        f"learnworlds-mcp: demo school running at {URL} (generated sandbox data; nothing leaves "
        "this machine)"
    ]
    told = demo_banner(URL, interactive=True)
    assert told.startswith(piped + "\n")
    assert "waiting for an MCP client on stdin" in told
    assert f"{INSPECTOR} uv run learnworlds-mcp --demo" in told
    assert f"{INSPECTOR} --cli uv run learnworlds-mcp --demo --method tools/list" in told
    assert "@modelcontextprotocol/inspector@0.15.0" in INSPECTOR


def read_until(fd: int, marker: bytes, deadline: float) -> bytes:
    seen = b""
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
    return seen


def test_demo_in_a_terminal_says_it_waits_for_a_client() -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [console_script(), "--demo"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")},
    )
    try:
        assert process.stderr is not None
        said = read_until(process.stderr.fileno(), b"--method tools/list", time.monotonic() + 60)
        text = said.decode()
        assert "demo school running at http://127.0.0.1:" in text, text
        assert "waiting for an MCP client on stdin" in text
        assert f"{INSPECTOR} uv run learnworlds-mcp --demo" in text
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
            os.close(controller)
            os.close(terminal)
    assert process.returncode is not None
    assert process.stdout is not None and process.stdout.read() == b""  # stdout is MCP's alone
    process.stdout.close()
    process.stderr.close()


def test_demo_from_a_host_says_nothing_more() -> None:
    result = subprocess.run(
        [console_script(), "--demo"],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "demo school running" in result.stderr
    assert "waiting for an MCP client" not in result.stderr
