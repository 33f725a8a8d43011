"""A real `redis-server` for tests: started on a free loopback port, stoppable and restartable.

`running_redis()`, behind the `redis_server` fixture of `tests/conftest.py` (a plain,
synchronous fixture: it holds a process, never an MCP client), starts one per test with no
persistence (`--save "" --appendonly no`), so a restart comes back empty — as a Redis that lost
its data does. Where the binary is missing the test is skipped with the reason,
except under `CI=true`, where that is a failure (`.ci/run` installs `redis-server`).

    def test_x(redis_server: RedisServer) -> None:
        redis_server.url          # redis://127.0.0.1:PORT/0
        redis_server.stop()       # the port refuses connections
        redis_server.start()      # the same port, empty
        redis_server.freeze()     # it hangs (SIGSTOP); thaw() lets it carry on
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REDIS_BINARIES = ("/usr/bin/redis-server", "redis-server")


def redis_binary() -> str | None:
    """The `redis-server` to run, or None where there is none."""
    for candidate in REDIS_BINARIES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def require_redis_binary() -> str:
    """The binary, or skip the test (fail it under CI=true) with a reason a person can act on."""
    binary = redis_binary()
    if binary is None:
        reason = (
            "redis-server is not installed (`apt-get install -y redis-server`); "
            "the shared-state tests need a real Redis"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " — and CI=true, where it must be present", pytrace=False)
        pytest.skip(reason)
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One `redis-server` process on a fixed loopback port, in its own temporary directory."""

    def __init__(self, binary: str, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="lwmcp-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start it (empty) and return once it accepts connections."""
        if self.running:
            return
        log = (self._dir / "redis.log").open("ab")
        self._process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._dir),
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        stop_at = time.monotonic() + timeout
        while time.monotonic() < stop_at:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start-up: {self.log_tail()}")
            if self._answers_ping():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer within {timeout} s: {self.log_tail()}")

    def stop(self) -> None:
        """Stop it at once (SIGKILL: nothing saved, the port refuses connections on return)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a frozen one too
            process.kill()
            process.wait(timeout=10)

    def freeze(self) -> None:
        """Stop it answering without closing anything (SIGSTOP): a Redis that hangs."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen Redis carry on (SIGCONT), its data intact."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        """Stop and start on the same port: it comes back empty."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def log_tail(self, lines: int = 5) -> str:
        path = self._dir / "redis.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def running_redis() -> Iterator[RedisServer]:
    """A running, empty `redis-server` for one test, removed after it (skipped, or failed under
    CI=true, where the binary is missing). Use as `yield from running_redis()` in a fixture."""
    server = RedisServer(require_redis_binary())
    server.start()
    try:
        yield server
    finally:
        server.close()
