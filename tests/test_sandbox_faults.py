"""The sandbox school's rate limit, fault switches, chaos, request log and loopback serving."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx2
import pytest

from learnworlds_mcp.clock import FakeClock
from learnworlds_mcp.sandbox import (
    SandboxOptions,
    SandboxSchool,
    serve_sandbox,
    serve_sandbox_async,
)

BASE = "http://school.test/admin/api"
NOW = 1_760_000_000.0


def make_school(**overrides: object) -> SandboxSchool:
    options = {"users": 60, "now": NOW, "rate_limit": None, **overrides}
    return SandboxSchool(SandboxOptions(**options))  # type: ignore[arg-type]


def client(school: SandboxSchool, base_url: str = BASE) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=school.app) if base_url == BASE else None
    return httpx2.AsyncClient(transport=transport, base_url=base_url, headers=school.auth_headers())


@pytest.fixture
def school() -> SandboxSchool:
    return make_school()


@pytest.fixture
async def api(school: SandboxSchool) -> AsyncIterator[httpx2.AsyncClient]:
    async with client(school) as c:
        yield c


def a_learner_id(school: SandboxSchool) -> str:
    return next(u.id for u in school.users if not u.is_suspended and u.role_id.endswith("02"))


# ----- rate limit -----------------------------------------------------------------------------


async def test_rate_limit_30_per_10_seconds_in_virtual_time() -> None:
    clock = FakeClock()
    school = make_school(clock=clock, rate_limit=(30, 10.0))
    async with client(school) as c:
        for _ in range(30):
            assert (await c.get("/v2/user-roles")).status_code == 200
            clock.advance(0.1)
        r = await c.get("/v2/user-roles")
        assert r.status_code == 429 and r.json() == {"error": "Too many requests"}
        assert "retry-after" not in r.headers
        assert school.requests[-1].fault == "rate_limited"
        clock.advance(7.0)  # 10.0 s after the first request: one slot frees up
        assert (await c.get("/v2/user-roles")).status_code == 200
        assert (await c.get("/v2/user-roles")).status_code == 429  # the second slot is still taken
        clock.advance(0.1)
        assert (await c.get("/v2/user-roles")).status_code == 200
        clock.advance(10.0)
        for _ in range(30):
            assert (await c.get("/v2/user-roles")).status_code == 200
    admitted = [r.at for r in school.requests if r.status != 429]
    assert all(sum(1 for t in admitted if s <= t < s + 10.0) <= 30 for s in admitted)


async def test_rate_limit_retry_after_header_only_when_enabled() -> None:
    clock = FakeClock()
    school = make_school(clock=clock, rate_limit=(2, 10.0), retry_after_header=True)
    async with client(school) as c:
        await c.get("/v2/user-roles")
        clock.advance(2.5)
        await c.get("/v2/user-roles")
        r = await c.get("/v2/user-roles")
    assert r.status_code == 429 and r.headers["retry-after"] == "8"


async def test_rate_limit_counts_token_requests_optionally() -> None:
    creds = {
        "client_id": SandboxOptions().client_id,
        "client_secret": SandboxOptions().client_secret,
        "grant_type": "client_credentials",
    }
    for counted in (True, False):
        school = make_school(clock=FakeClock(), rate_limit=(2, 10.0), count_token_requests=counted)
        async with client(school) as c:
            for _ in range(2):
                assert (await c.post("/oauth2/access_token", json=creds)).status_code == 200
            r = await c.get("/v2/user-roles")
        assert r.status_code == (429 if counted else 200)


async def test_rate_limited_writes_are_not_applied() -> None:
    clock = FakeClock()
    school = make_school(clock=clock, rate_limit=(1, 10.0))
    uid = a_learner_id(school)
    async with client(school) as c:
        await c.get("/v2/user-roles")
        r = await c.put(f"/v2/users/{uid}/suspend")
    assert r.status_code == 429
    assert school.user(uid).is_suspended is False  # type: ignore[union-attr]


# ----- fault switches ------------------------------------------------------------------------


async def test_fail_next_before_and_after_apply(
    school: SandboxSchool, api: httpx2.AsyncClient
) -> None:
    uid = a_learner_id(school)
    school.faults.fail_next(methods=["PUT"], path_contains="/suspend")
    assert (await api.get("/v2/user-roles")).status_code == 200  # not matched
    r = await api.put(f"/v2/users/{uid}/suspend")
    assert r.status_code == 500 and r.json() == {"error": "Server Error"}
    assert school.user(uid).is_suspended is False  # type: ignore[union-attr]
    school.faults.fail_next(status=503, after_apply=True)
    r = await api.put(f"/v2/users/{uid}/suspend")
    assert r.status_code == 503
    assert school.user(uid).is_suspended is True  # type: ignore[union-attr]  # applied anyway
    assert (await api.get("/v2/user-roles")).status_code == 200  # consumed
    school.faults.fail_next(count=2)
    assert [(await api.get("/v2/user-roles")).status_code for _ in range(3)] == [500, 500, 200]
    assert school.faults.pending == 0


async def test_rate_limit_next(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    school.faults.rate_limit_next()
    school.faults.rate_limit_next(retry_after=2.0)
    school.faults.rate_limit_next(retry_after=0.5)
    r1, r2, r3 = [await api.get("/v2/users") for _ in range(3)]
    assert r1.status_code == 429 and "retry-after" not in r1.headers
    assert r1.json() == {"error": "Too many requests"}
    assert r2.headers["retry-after"] == "2" and r3.headers["retry-after"] == "0.5"
    assert (await api.get("/v2/users")).status_code == 200


async def test_slow_next_over_loopback() -> None:
    school = make_school()
    uid = a_learner_id(school)
    with serve_sandbox(school) as url:
        async with client(school, url) as api:
            school.faults.slow_next(seconds=0.3, methods=["PUT"])
            with pytest.raises(httpx2.ReadTimeout):
                await api.put(f"/v2/users/{uid}/suspend", timeout=0.05)
            assert school.user(uid).is_suspended is False  # type: ignore[union-attr]
            await asyncio.sleep(0.5)  # like a real server, it goes on after the client gave up
            assert school.user(uid).is_suspended is True  # type: ignore[union-attr]
            await api.put(f"/v2/users/{uid}/unsuspend")
            school.faults.slow_next(seconds=0.3, after_apply=True)
            with pytest.raises(httpx2.ReadTimeout):
                await api.put(f"/v2/users/{uid}/suspend", timeout=0.05)
            assert school.user(uid).is_suspended is True  # type: ignore[union-attr]
            school.faults.slow_next(seconds=0.01)
            assert (await api.get("/v2/user-roles")).status_code == 200


async def test_drop_next_in_process(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    uid = a_learner_id(school)
    school.faults.drop_next()
    with pytest.raises(httpx2.RemoteProtocolError):
        await api.put(f"/v2/users/{uid}/suspend")
    assert school.user(uid).is_suspended is False  # type: ignore[union-attr]
    school.faults.drop_next(after_apply=True)
    with pytest.raises(httpx2.RemoteProtocolError):
        await api.put(f"/v2/users/{uid}/suspend")
    assert school.user(uid).is_suspended is True  # type: ignore[union-attr]
    assert school.requests[-1].status is None and school.requests[-1].fault == "drop"


async def test_malformed_next(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    school.faults.malformed_next()
    r = await api.get("/v2/users")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    assert (await api.get("/v2/users")).json()["data"]


async def test_calm_disarms_everything(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    school.faults.fail_next(count=5)
    school.faults.chaos(1, {"fail": 1.0})
    school.faults.calm()
    assert school.faults.pending == 0
    assert [(await api.get("/v2/user-roles")).status_code for _ in range(5)] == [200] * 5


async def test_faults_hit_the_token_endpoint_unless_filtered(
    school: SandboxSchool, api: httpx2.AsyncClient
) -> None:
    creds = {
        "client_id": school.options.client_id,
        "client_secret": school.options.client_secret,
        "grant_type": "client_credentials",
    }
    school.faults.fail_next(path_contains="/v2/")
    assert (await api.post("/oauth2/access_token", json=creds)).status_code == 200
    assert (await api.get("/v2/users")).status_code == 500
    school.faults.fail_next()
    assert (await api.post("/oauth2/access_token", json=creds)).status_code == 500


# ----- chaos -----------------------------------------------------------------------------------


async def run_chaos(seed: int) -> list[tuple[int | None, str | None]]:
    school = make_school()
    school.faults.chaos(
        seed,
        {
            "rate_limit": 0.2,
            "fail": 0.1,
            "fail_after_apply": 0.05,
            "slow": 0.05,
            "drop": 0.05,
            "drop_after_apply": 0.05,
            "malformed": 0.05,
            "expire_tokens": 0.05,
        },
        slow_seconds=0.001,
    )
    outcomes: list[tuple[int | None, str | None]] = []
    token = school.mint_token()
    async with client(school) as c:
        for _ in range(60):
            try:
                r = await c.get("/v2/user-roles", headers=school.auth_headers(token))
                outcomes.append((r.status_code, r.headers.get("retry-after")))
                if r.status_code == 400:
                    token = school.mint_token()
            except httpx2.RemoteProtocolError:
                outcomes.append((None, None))
    assert len(school.faults.chaos_log) == 60
    return outcomes


async def test_chaos_is_reproducible_from_its_seed() -> None:
    a, b, c = await run_chaos(5), await run_chaos(5), await run_chaos(6)
    assert a == b and a != c
    statuses = {s for s, _ in a}
    assert {200, 429, None} <= statuses and statuses & {500, 503}
    assert {ra for s, ra in a if s == 429} == {None, "1"}  # half with Retry-After
    assert 400 in statuses  # token expiry


# ----- request log -----------------------------------------------------------------------------


async def test_request_log(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    school.clear_log()
    u = next(u for u in school.users if "+" in u.email)
    await api.get(
        f"/v2/users/{u.email.replace('+', '%2B').replace('@', '%40')}",
        params={"include_suspended": "true"},
    )
    await api.put(f"/v2/users/{u.id}/tags", json={"tags": ["x"], "action": "attach"})
    await api.post("/oauth2/access_token", data={"data": '{"client_id": "x"}'})
    first, second, third = school.requests
    assert first.method == "GET" and first.path == f"/v2/users/{u.email}"
    assert first.raw_path == f"/v2/users/{u.email.replace('+', '%2B').replace('@', '%40')}"
    assert first.query == {"include_suspended": "true"} and first.json is None
    assert first.status == 200 and not first.is_write
    assert first.headers["lw-client"] == school.options.client_id
    assert (
        second.is_write
        and second.json == {"tags": ["x"], "action": "attach"}
        and second.status == 200
    )
    assert (
        third.path == "/oauth2/access_token"
        and not third.is_write
        and third.json == {"client_id": "x"}
    )
    assert third.status == 400
    assert first.at <= second.at <= third.at
    school.clear_log()
    assert school.requests == []


async def test_time_of_writes_follows_the_clock() -> None:
    clock = FakeClock()
    school = make_school(clock=clock)
    clock.advance(3600)
    async with client(school) as c:
        r = await c.post("/v2/users", json={"email": "late@acme.com", "username": "Late"})
    assert r.json()["created"] == pytest.approx(NOW + 3600)


# ----- loopback serving ----------------------------------------------------------------------


async def test_serve_sandbox_over_loopback() -> None:
    school = make_school()
    uid = a_learner_id(school)
    threads_before = set(threading_names())
    with serve_sandbox(school) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/admin/api")
        async with client(school, url) as c:
            creds = {
                "client_id": school.options.client_id,
                "client_secret": school.options.client_secret,
                "grant_type": "client_credentials",
            }
            r = await c.post("/oauth2/access_token", data={"data": json.dumps(creds)})
            assert r.status_code == 200
            assert (await c.get(f"/v2/users/{uid}")).json()["id"] == uid
            school.faults.drop_next()
            with pytest.raises(httpx2.RemoteProtocolError):
                await c.get(f"/v2/users/{uid}")
            school.faults.drop_next(after_apply=True)
            with pytest.raises(httpx2.RemoteProtocolError):
                await c.put(f"/v2/users/{uid}/suspend")
            assert school.user(uid).is_suspended is True  # type: ignore[union-attr]
            assert (await c.get("/v2/user-roles")).status_code == 200  # the server lives on
    assert set(threading_names()) == threads_before


async def test_serve_sandbox_async() -> None:
    school = make_school()
    async with serve_sandbox_async(school) as url, client(school, url) as c:
        assert (await c.get("/v2/user-roles")).status_code == 200


def threading_names() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate()]


def test_module_entry_point_prints_settings_to_stderr() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "learnworlds_mcp.sandbox", "--port", "0", "--users", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 20
        assert proc.stderr is not None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(lines)
        assert "LEARNWORLDS_API_URL=http://127.0.0.1:" in text
        assert f"LEARNWORLDS_CLIENT_ID={SandboxOptions().client_id}" in text
        assert "LEARNWORLDS_CLIENT_SECRET=" in text and "LEARNWORLDS_ACCESS_TOKEN=" in text
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert out == ""  # nothing on stdout


async def test_concurrent_requests_share_state(
    school: SandboxSchool, api: httpx2.AsyncClient
) -> None:
    uid = a_learner_id(school)
    tags = [f"t{i}" for i in range(10)]
    await asyncio.gather(
        *(api.put(f"/v2/users/{uid}/tags", json={"tags": [t], "action": "attach"}) for t in tags)
    )
    assert set(tags) <= set(school.user(uid).tags)  # type: ignore[union-attr]


async def test_a_malformed_reply_to_a_write_comes_after_the_write_is_applied() -> None:
    """A 2xx means the school processed the write: only its reply is garbage."""
    import httpx2

    from learnworlds_mcp.sandbox import SandboxSchool

    school = SandboxSchool(users=10)
    school.faults.malformed_next(methods=["POST"])
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=school.app), base_url="http://school.test/admin/api"
    ) as http:
        response = await http.post(
            "/v2/user_groups",
            json={"title": "Garbled reply", "products": {"courses": []}},
            headers=school.auth_headers(),
        )
    assert response.status_code == 200
    assert [g.title for g in school.groups].count("Garbled reply") == 1


async def test_a_refused_write_keeps_its_real_answer_under_a_malformed_fault() -> None:
    """Only a processed write gets a garbled 2xx; a refused one answers its refusal."""
    import httpx2

    from learnworlds_mcp.sandbox import SandboxSchool

    school = SandboxSchool(users=10)
    headers = school.auth_headers(school.mint_token())
    school.faults.expire_tokens(include_static=False)
    school.faults.malformed_next(methods=["POST"])
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=school.app), base_url="http://school.test/admin/api"
    ) as http:
        response = await http.post(
            "/v2/user_groups",
            json={"title": "Refused", "products": {"courses": []}},
            headers=headers,
        )
    assert response.status_code == 400
    assert "Refused" not in [g.title for g in school.groups]
