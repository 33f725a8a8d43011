"""Run `learnworlds-mcp --transport http --port 0` as a subprocess, the way an operator does.

`running_server(env, *args)` starts it, waits for the one stderr line that names the URL and
yields a `RunningServer`; on exit it stops the process and keeps its stderr for assertions.
Clients connect with `http_client(url, key)` — an `mcp.Client` over Streamable HTTP with a
bearer key — opened inside the test.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support import console_script

SERVING = re.compile(r"learnworlds-mcp: serving MCP at (http://\S+/mcp) \((\d+) members\)")
START_TIMEOUT = 30.0


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    url: str
    members: int
    stderr: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.url.removesuffix("/mcp")

    def stderr_text(self) -> str:
        return "".join(self.stderr)


@contextmanager
def running_server(
    env: dict[str, str], *args: str, cwd: str | None = None
) -> Iterator[RunningServer]:
    """Start the HTTP server; yield once it serves; stop it (SIGTERM) at the end."""
    process = subprocess.Popen(
        [console_script(), "--transport", "http", "--port", "0", *args],
        env={"PATH": os.environ.get("PATH", ""), **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    lines: list[str] = []
    found = threading.Event()
    match: list[re.Match[str]] = []

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            hit = SERVING.search(line)
            if hit and not match:
                match.append(hit)
                found.set()
        found.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        found.wait(START_TIMEOUT)
        if not match:
            process.kill()
            process.wait(5)
            reader.join(5)
            raise AssertionError(f"server did not start: {''.join(lines)}")
        yield RunningServer(process, match[0].group(1), int(match[0].group(2)), lines)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        reader.join(5)
        if process.stdout is not None:
            process.stdout.close()


@asynccontextmanager
async def http_client(url: str, key: str | None = None, **options: Any) -> AsyncIterator[Client]:
    """An MCP client over Streamable HTTP, with `Authorization: Bearer key` when given."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http,
        Client(streamable_http_client(url, http_client=http), **options) as client,
    ):
        yield client


def wait_until(condition: Any, timeout: float = 5.0, step: float = 0.05) -> bool:
    """Poll `condition()` until true or `timeout` seconds pass; return its last value."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > end:
            return bool(value)
        time.sleep(step)
