"""Serve a sandbox school on a loopback port with uvicorn (end-to-end tests, `--demo`)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator

import uvicorn

from learnworlds_mcp.sandbox.school import SandboxSchool

STARTUP_TIMEOUT = 10.0


def _config(school: SandboxSchool, host: str, port: int) -> uvicorn.Config:
    # h11 explicitly: the dropped-connection fault relies on its request cycle (see gateway).
    return uvicorn.Config(
        school.app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="h11",
        proxy_headers=False,
        server_header=False,
    )


def _url(server: uvicorn.Server, host: str) -> str:
    port = server.servers[0].sockets[0].getsockname()[1]
    return f"http://{host}:{port}/admin/api"


@contextlib.contextmanager
def serve_sandbox(school: SandboxSchool, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run `school` under uvicorn in a background thread; yield its API URL.

    The URL (`http://127.0.0.1:<port>/admin/api`) is yielded once the server accepts
    connections; on exit the server shuts down and the thread is joined.
    """
    server = uvicorn.Server(_config(school, host, port))
    thread = threading.Thread(target=server.run, name="sandbox-school", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(STARTUP_TIMEOUT)
            raise RuntimeError(f"the sandbox school could not start on {host}:{port}")
        time.sleep(0.005)
    try:
        yield _url(server, host)
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)


@contextlib.asynccontextmanager
async def serve_sandbox_async(
    school: SandboxSchool, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Like `serve_sandbox`, but as a task in the running event loop."""
    server = uvicorn.Server(_config(school, host, port))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"the sandbox school could not start on {host}:{port}")
        await asyncio.sleep(0.005)
    try:
        yield _url(server, host)
    finally:
        server.should_exit = True
        await task
