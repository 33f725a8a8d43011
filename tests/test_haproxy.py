"""The real `deploy/haproxy.cfg` in front of two real replicas: TLS, stickiness, spreading, 404.

Shown: a legacy (2025-11-25) session keeps to its replica over many calls; 2026-07-28 calls go
to both; a session sent straight to the replica that does not hold it gets 404; and when the
replica holding a session goes away, the session gets 404 through the proxy and a new one works.

The config file of the compose deployment runs under the real `haproxy`, with only what Docker
would provide put in: the listening address, the certificate (self-signed, made here with
`openssl`) and the replicas' addresses — two `learnworlds-mcp` processes started with the
compose command and environment (`tests/replicas.py`), one members file and one `redis-server`
between them, the sandbox school behind. HAProxy's own log says which replica served each
request. Where `haproxy` or `openssl` is missing the test is skipped, except under `CI=true`
(`.ci/run` installs haproxy).
"""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from learnworlds_mcp.remote.members import MembersFile
from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox
from tests.haproxy_server import Proxy, require, running_haproxy
from tests.http_server import RunningServer
from tests.redis_server import RedisServer, free_port
from tests.replicas import running_replica
from tests.support import payload, stdio_env

STATE_KEY = "test-state-key-0123456789abcdefghijklmnop"
LEGACY = "2025-11-25"


def mcp_headers(key: str, session: str | None = None) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {key}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": LEGACY,
    }
    if session is not None:
        headers["Mcp-Session-Id"] = session
    return headers


async def test_the_proxy_keeps_legacy_sessions_and_spreads_stateless_calls(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    require("haproxy", "haproxy")
    school = SandboxSchool(users=20)
    (tmp_path / "members").mkdir()
    members = MembersFile(tmp_path / "members" / "learnworlds-members.json")
    key = members.add("anna")
    port = free_port()
    public = f"https://127.0.0.1:{port}"
    with serve_sandbox(school) as school_url:
        common = {
            "redis_url": redis_server.url,
            "state_key": STATE_KEY,
            "members_file": str(members.path),
            "public_url": public,
            "cwd": str(tmp_path),
        }
        school_env = stdio_env(school_url, school)
        with (
            running_replica(school_env, **common) as a,
            running_replica(school_env, **common) as b,
        ):
            backends = {
                "replica-a": a.base.removeprefix("http://"),
                "replica-b": b.base.removeprefix("http://"),
            }
            with running_haproxy(tmp_path, port, backends) as proxy:
                tls = ssl.create_default_context(cafile=str(proxy.cafile))
                await check_through(proxy, key, tls, {"replica-a": a, "replica-b": b})


async def check_through(
    proxy: Proxy, key: str, tls: ssl.SSLContext, replicas: dict[str, RunningServer]
) -> None:
    mcp_url = f"{proxy.url}/mcp"
    direct = {name: replica.url for name, replica in replicas.items()}
    async with httpx2.AsyncClient(
        verify=tls, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        health = await http.get(f"{proxy.url}/healthz")
        assert health.status_code == 200

        # 1. A legacy session through the proxy: many calls, all on the replica that holds it
        #    (one request on the other would be a 404, which ends the client's session).
        before = len(proxy.settled(1))
        async with Client(streamable_http_client(mcp_url, http_client=http), mode="legacy") as c:
            for _ in range(12):
                assert len((await c.list_tools()).tools) > 10
            for _ in range(3):
                roles = payload(await c.call_tool("list_all_learnworlds_roles", {}))
                assert roles["items"]
        legacy = [line for line in proxy.settled(before + 17)[before:] if line[3] == "/mcp"]
        assert len(legacy) >= 17  # initialize, initialized, 15 calls (and the stream, DELETE)
        assert len({replica for replica, *_ in legacy}) == 1, legacy
        assert all(status < 400 for _, status, *_ in legacy), legacy

        # 2. 2026-07-28 calls (stateless) through the proxy: spread over both replicas.
        before = len(proxy.lines())
        async with Client(streamable_http_client(mcp_url, http_client=http), mode="auto") as c:
            for _ in range(12):
                assert len((await c.list_tools()).tools) > 10
        stateless = [line for line in proxy.settled(before + 12)[before:] if line[3] == "/mcp"]
        served = {r: sum(1 for line in stateless if line[0] == r) for r in direct}
        assert all(status < 400 for _, status, *_ in stateless), stateless
        assert min(served.values()) >= len(stateless) // 3, served

    # 3. A legacy session sent straight to the replica that does not hold it: 404.
    async with httpx2.AsyncClient(verify=tls, timeout=30) as http:
        before = len(proxy.lines())
        init = await http.post(mcp_url, json=INITIALIZE, headers=mcp_headers(key))
        assert init.status_code == 200, init.text
        session = init.headers["mcp-session-id"]
        done = await http.post(mcp_url, json=INITIALIZED, headers=mcp_headers(key, session))
        assert done.status_code == 202
        holder = {replica for replica, *_ in proxy.settled(before + 2)[before:]}
        assert len(holder) == 1
        (owner,) = holder
        (other,) = set(direct) - holder
        async with httpx2.AsyncClient(timeout=30) as plain:
            lost = await plain.post(direct[other], json=LIST, headers=mcp_headers(key, session))
            assert lost.status_code == 404, lost.text
            kept = await plain.post(direct[owner], json=LIST, headers=mcp_headers(key, session))
            assert kept.status_code == 200, kept.text
        proxied = await http.post(mcp_url, json=LIST, headers=mcp_headers(key, session))
        assert proxied.status_code == 200, proxied.text
        ended = await http.delete(mcp_url, headers=mcp_headers(key, session))
        assert ended.status_code in (200, 204)
        # Every request of that session through the proxy went to its replica.
        assert {r for r, *_ in proxy.settled(before + 4)[before:]} == {owner}

        # 4. The replica holding a session goes away: the proxy sends the session to the other,
        #    which answers 404, and a new session (on the replica left) works.
        before = len(proxy.lines())
        init = await http.post(mcp_url, json=INITIALIZE, headers=mcp_headers(key))
        session = init.headers["mcp-session-id"]
        ((owner, *_),) = proxy.settled(before + 1)[before:]
        (survivor,) = set(direct) - {owner}
        gone = replicas[owner].process
        gone.terminate()
        gone.wait(10)
        orphan = await http.post(mcp_url, json=LIST, headers=mcp_headers(key, session))
        assert orphan.status_code == 404, orphan.text
    async with httpx2.AsyncClient(
        verify=tls, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        before = len(proxy.lines())
        async with Client(streamable_http_client(mcp_url, http_client=http), mode="legacy") as c:
            assert len((await c.list_tools()).tools) > 10
        again = [line for line in proxy.settled(before + 3)[before:] if line[1] < 500]
        assert {replica for replica, *_ in again} == {survivor}


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": LEGACY,
        "capabilities": {},
        "clientInfo": {"name": "proxy-test", "version": "1"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
