"""A real third-party client over HTTP: Claude Code's CLI adds the remote server with a member
key as a header, and `claude mcp list` shows it connected; without the header it is not.

Needs node's `npx` and fetches the pinned Claude Code from the npm registry on first use; it is
skipped only where `npx` does not exist at all. `HOME` is a temporary directory, so the CLI's
configuration and credentials of the person running the suite are never read or touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox
from tests.http_server import running_server
from tests.support import console_script, stdio_env

CLAUDE_CODE = "@anthropic-ai/claude-code@2.1.328"


def claude(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx (node) is not installed")
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    return subprocess.run(
        [npx, "-y", CLAUDE_CODE, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=home,
    )


def test_claude_code_connects_with_a_member_key_and_not_without(tmp_path: Path) -> None:
    school = SandboxSchool(users=30)
    home = tmp_path / "home"
    home.mkdir()
    members = tmp_path / "members.json"
    with serve_sandbox(school) as url:
        env = stdio_env(url, school)
        key = subprocess.run(
            [console_script(), "members", "add", "claude-code", "--members-file", str(members)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        env.pop("PATH")
        with running_server({**env, "LEARNWORLDS_MEMBERS_FILE": str(members)}) as server:
            added = claude(
                home,
                "mcp",
                "add",
                "--transport",
                "http",
                "learnworlds",
                server.url,
                "--header",
                f"Authorization: Bearer {key}",
            )
            assert added.returncode == 0, added.stderr[-2000:]
            bare = claude(home, "mcp", "add", "--transport", "http", "no-key", server.url)
            assert bare.returncode == 0, bare.stderr[-2000:]
            listed = claude(home, "mcp", "list")
    assert listed.returncode == 0, listed.stderr[-2000:]
    lines = {line.split(":", 1)[0]: line for line in listed.stdout.splitlines() if ": " in line}
    assert "✔ Connected" in lines["learnworlds"], listed.stdout
    assert "✔ Connected" not in lines["no-key"], listed.stdout
    assert key not in listed.stdout + added.stdout + server.stderr_text()
