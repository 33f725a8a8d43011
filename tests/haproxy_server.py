"""The compose deployment's real HAProxy config, run here: `running_haproxy(dir, port, backends)`.

`deploy/haproxy.cfg` runs under the real `haproxy` with only what Docker would provide put in:
the listening address (`bind :443` → `127.0.0.1:port`), the certificate (self-signed, made with
`openssl`, for 127.0.0.1) and the replicas' addresses (`replica-a:8000` → a loopback replica).
HAProxy's own log (`Proxy.lines()`) says which replica served each request. Where `haproxy` or
`openssl` is missing the test is skipped, except under `CI=true` (`.ci/run` installs both).

    with running_haproxy(tmp_path, free_port(), {"replica-a": "127.0.0.1:PORT", ...}) as proxy:
        tls = ssl.create_default_context(cafile=str(proxy.cafile))   # trust its certificate
        httpx2.AsyncClient(verify=tls).get(f"{proxy.url}/healthz")
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "haproxy.cfg"
# An httplog line: `... https~ replicas/replica-a 0/0/0/3/3 200 ... "POST /mcp HTTP/1.1"`.
LOG_LINE = re.compile(r" replicas/(replica-[a-z]) .*? (\d{3}) .*\"(GET|POST|DELETE) (\S+) HTTP")


def require(binary: str, install: str) -> str:
    found = shutil.which(binary) or shutil.which(f"/usr/sbin/{binary}")
    if found is None:
        reason = f"{binary} is not installed (`apt-get install -y {install}`)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " — and CI=true, where it must be present", pytrace=False)
        pytest.skip(reason)
    return found


@dataclass
class Proxy:
    url: str
    cafile: Path
    log: Path

    def lines(self) -> list[tuple[str, int, str, str]]:
        """(replica, status, method, path) of each request HAProxy has logged so far."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [
            (m.group(1), int(m.group(2)), m.group(3), m.group(4))
            for m in map(LOG_LINE.search, text.splitlines())
            if m
        ]

    def settled(self, count: int, timeout: float = 10.0) -> list[tuple[str, int, str, str]]:
        """The log once it holds at least `count` requests (a stream is logged when it ends)."""
        end = time.monotonic() + timeout
        while len(lines := self.lines()) < count and time.monotonic() < end:
            time.sleep(0.05)
        return lines


def self_signed(directory: Path) -> tuple[Path, Path]:
    """(the PEM HAProxy loads: certificate + key, the certificate clients trust)."""
    openssl = require("openssl", "openssl")
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            openssl,
            *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    site = directory / "site.pem"
    site.write_text(cert.read_text() + key.read_text())
    return site, cert


def substituted(config: str, replacements: dict[str, str]) -> str:
    """`config` with what Docker would provide put in; each placeholder must be there."""
    for old, new in replacements.items():
        assert old in config, f"deploy/haproxy.cfg no longer has {old!r}: update this test"
        config = config.replace(old, new)
    return config


@contextmanager
def running_haproxy(directory: Path, port: int, backends: dict[str, str]) -> Iterator[Proxy]:
    binary = require("haproxy", "haproxy")
    site, cert = self_signed(directory)
    config = substituted(
        CONFIG.read_text(),
        {
            "bind :443 ": f"bind 127.0.0.1:{port} ",
            "/usr/local/etc/haproxy/certs/site.pem": str(site),
            **{f"{name}:8000": address for name, address in backends.items()},
        },
    )
    path = directory / "haproxy.cfg"
    path.write_text(config)
    check = subprocess.run([binary, "-c", "-f", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    log = directory / "haproxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "-db", "-f", str(path)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        end = time.monotonic() + 10
        while True:
            assert process.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < end, "haproxy did not listen"
                time.sleep(0.05)
        yield Proxy(f"https://127.0.0.1:{port}", cert, log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
