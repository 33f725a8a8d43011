"""The client layer against the sandbox school: auth, pacing, retries, typed errors.

Every test shares one FakeClock between client and school, so rate-limit windows, token
lifetimes and back-offs pass in virtual time; only the timeout tests wait (a fraction of a
second of real time), because a timeout is real by nature.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
import pytest

from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.clock import FakeClock
from learnworlds_mcp.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SchoolUnreachableError,
    UnexpectedResponseError,
    WriteOutcomeUnknownError,
)
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.sandbox import SandboxSchool
from tests.support import make_school, max_in_window, settings_for, transport_for

TOKEN = "/oauth2/access_token"


def client_for(school: SandboxSchool, **settings: Any) -> LearnWorldsClient:
    return LearnWorldsClient(
        settings_for(school, **settings),
        transport=transport_for(school),
        clock=school.options.clock,
    )


def log(school: SandboxSchool) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in school.requests]


@pytest.fixture
def school() -> SandboxSchool:
    return make_school(users=60)


async def test_nothing_is_sent_until_the_first_call_then_one_mint(school: SandboxSchool) -> None:
    async with client_for(school) as client:
        assert school.requests == []
        data = await client.get("/v2/users", {"items_per_page": 5})
        assert len(data["data"]) == 5
        await client.get("/v2/user-roles")
    assert log(school) == [
        ("POST", TOKEN, 200),
        ("GET", "/v2/users", 200),
        ("GET", "/v2/user-roles", 200),
    ]


async def test_concurrent_calls_share_one_mint(school: SandboxSchool) -> None:
    async with client_for(school) as client, anyio.create_task_group() as tg:
        for _ in range(12):
            tg.start_soon(client.get, "/v2/user-roles")
    assert [r.path for r in school.requests].count(TOKEN) == 1
    assert all(r.status == 200 for r in school.requests)


async def test_token_is_reminted_before_it_expires() -> None:
    clock = FakeClock()
    school = make_school(users=20, clock=clock, token_ttl=400)
    async with client_for(school) as client:
        await client.get("/v2/user-roles")
        clock.advance(310)  # still valid, but inside the re-mint margin (a quarter of its life)
        await client.get("/v2/user-roles")
    assert log(school) == [
        ("POST", TOKEN, 200),
        ("GET", "/v2/user-roles", 200),
        ("POST", TOKEN, 200),
        ("GET", "/v2/user-roles", 200),
    ]


@pytest.mark.parametrize("status", [400, 401])
async def test_a_rejected_token_is_reminted_once_and_the_call_retried(status: int) -> None:
    school = make_school(users=20, auth_error_status=status)
    async with client_for(school) as client:
        await client.get("/v2/user-roles")
        school.faults.expire_tokens()
        roles = await client.get("/v2/user-roles")
    assert roles["data"]
    assert log(school)[1:] == [
        ("GET", "/v2/user-roles", 200),
        ("GET", "/v2/user-roles", status),
        ("POST", TOKEN, 200),
        ("GET", "/v2/user-roles", 200),
    ]


async def test_static_token_is_used_as_is(school: SandboxSchool) -> None:
    async with client_for(school, secret=False, token=True) as client:
        await client.get("/v2/user-roles")
    assert log(school) == [("GET", "/v2/user-roles", 200)]


async def test_rejected_static_token_says_which_variable(school: SandboxSchool) -> None:
    school.faults.expire_tokens()
    async with client_for(school, secret=False, token=True) as client:
        with pytest.raises(AuthenticationError, match="LEARNWORLDS_ACCESS_TOKEN"):
            await client.get("/v2/user-roles")
    assert log(school) == [("GET", "/v2/user-roles", 400)]


async def test_rejected_static_token_falls_back_to_minting(school: SandboxSchool) -> None:
    school.faults.expire_tokens()
    async with client_for(school, secret=True, token=True) as client:
        await client.get("/v2/user-roles")
        await client.get("/v2/user-roles")
    assert log(school) == [
        ("GET", "/v2/user-roles", 400),
        ("POST", TOKEN, 200),
        ("GET", "/v2/user-roles", 200),
        ("GET", "/v2/user-roles", 200),
    ]


async def test_wrong_secret_is_a_clear_error_without_the_secret(school: SandboxSchool) -> None:
    from pydantic import SecretStr

    async with client_for(school, client_secret=SecretStr("wrong-secret-XYZZY")) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.get("/v2/users")
    assert "LEARNWORLDS_CLIENT_SECRET" in str(caught.value)
    assert "XYZZY" not in str(caught.value)
    assert [r.path for r in school.requests] == [TOKEN]  # no API call with no token


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_429_with_retry_after_is_honoured_for_any_method(method: str) -> None:
    clock = FakeClock()
    school = make_school(users=20, clock=clock)
    async with client_for(school) as client:
        await client.authenticate()
        school.faults.rate_limit_next(retry_after=3, methods=[method])
        start = clock.monotonic()
        if method == "GET":
            await client.get("/v2/user-roles")
        else:
            await client.post(
                "/v2/user_groups", {"title": "Retry cohort", "products": {"courses": []}}
            )
        assert clock.monotonic() - start >= 3
    statuses = [
        r.status for r in school.requests if r.method == method and r.path.startswith("/v2")
    ]
    assert statuses[0] == 429 and statuses[1] in (200, 201) and len(statuses) == 2


async def test_429_without_retry_after_backs_off_and_succeeds() -> None:
    clock = FakeClock()
    school = make_school(users=20, clock=clock)
    async with client_for(school) as client:
        await client.authenticate()
        school.faults.rate_limit_next(count=2)
        start = clock.monotonic()
        await client.get("/v2/user-roles")
        waited = clock.monotonic() - start
    assert [r.status for r in school.requests[1:]] == [429, 429, 200]
    assert waited >= 1 + 2  # 1 s, then doubled


async def test_a_retry_after_past_the_cap_is_an_error_that_says_when(school: SandboxSchool) -> None:
    async with client_for(school) as client:
        await client.authenticate()
        school.faults.rate_limit_next(retry_after=120)
        with pytest.raises(RateLimitedError, match="retry after 120 s"):
            await client.get("/v2/user-roles")


async def test_5xx_on_get_is_retried(school: SandboxSchool) -> None:
    async with client_for(school) as client:
        await client.authenticate()
        school.faults.fail_next(count=2, status=503, methods=["GET"])
        roles = await client.get("/v2/user-roles")
    assert roles["data"]
    assert [r.status for r in school.requests[1:]] == [503, 503, 200]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_5xx_on_a_write_is_never_resent(school: SandboxSchool, method: str) -> None:
    user = school.users[5]
    group = school.groups[0]
    path = api_path("/v2/user_groups/{g}/users/{u}", g=group.id, u=user.id)
    async with client_for(school) as client:
        await client.authenticate()
        school.faults.fail_next(status=500, methods=[method], after_apply=True)
        with pytest.raises(WriteOutcomeUnknownError) as caught:
            if method == "PUT":
                await client.put(api_path("/v2/users/{u}/suspend", u=user.id))
            else:
                await client.request(method, path)  # type: ignore[arg-type]
    assert "may or may not" in str(caught.value)
    assert len([r for r in school.requests if r.method == method and r.is_write]) == 1


async def test_timeout_on_a_write_is_unknown_outcome_and_not_resent(school: SandboxSchool) -> None:
    user = school.users[3]
    async with client_for(school, timeout=0.2) as client:
        await client.authenticate()
        school.faults.slow_next(seconds=1.0, methods=["PUT"])
        with pytest.raises(WriteOutcomeUnknownError, match=r"did not answer within 0\.2 s"):
            await client.put(api_path("/v2/users/{u}/suspend", u=user.id))
    assert len([r for r in school.requests if r.method == "PUT"]) == 1


async def test_timeout_on_get_is_retried(school: SandboxSchool) -> None:
    async with client_for(school, timeout=0.2) as client:
        await client.authenticate()
        school.faults.slow_next(seconds=1.0, methods=["GET"])
        roles = await client.get("/v2/user-roles")
    assert roles["data"]


async def test_dropped_connection_on_get_is_retried_on_delete_not(school: SandboxSchool) -> None:
    user = school.users[2]
    async with client_for(school) as client:
        await client.authenticate()
        school.faults.drop_next(methods=["GET"])
        assert (await client.get("/v2/user-roles"))["data"]
        school.faults.drop_next(methods=["DELETE"], after_apply=True)
        with pytest.raises(WriteOutcomeUnknownError, match="dropped the connection"):
            await client.delete(
                api_path("/v2/users/{u}/enrollment", u=user.id),
                {"productId": "x", "productType": "course"},
            )


async def test_malformed_reply_is_a_clear_error(school: SandboxSchool) -> None:
    async with client_for(school) as client:
        await client.authenticate()
        school.faults.malformed_next(methods=["GET"])
        with pytest.raises(UnexpectedResponseError, match="not JSON"):
            await client.get("/v2/user-roles")
        assert (await client.get("/v2/user-roles"))["data"]  # and the next call is fine


async def test_404_and_403_are_typed(school: SandboxSchool) -> None:
    async with client_for(school) as client:
        with pytest.raises(NotFoundError):
            await client.get(api_path("/v2/users/{u}", u="nobody@nowhere.test"))
    closed = make_school(users=10, api_access=False)
    async with client_for(closed) as client:
        with pytest.raises(PermissionDeniedError, match="plan"):
            await client.get("/v2/users")


async def test_unreachable_school_is_a_clear_error() -> None:
    school = make_school(users=5)
    settings = settings_for(school, api_url="http://127.0.0.1:9/admin/api", timeout=2.0)
    async with LearnWorldsClient(settings, clock=FakeClock()) as client:
        with pytest.raises(SchoolUnreachableError, match="LEARNWORLDS_API_URL"):
            await client.get("/v2/users")


async def test_limiter_keeps_a_burst_under_the_schools_limit() -> None:
    clock = FakeClock()
    school = make_school(users=40, clock=clock)
    active = [u for u in school.users if not u.is_suspended]
    async with client_for(school) as client, anyio.create_task_group() as tg:
        for user in active:
            for _ in range(3):
                tg.start_soon(client.get, api_path("/v2/users/{u}", u=user.id))
    assert all(r.status == 200 for r in school.requests)
    assert len(school.requests) == 1 + 3 * len(active) > 90
    assert max_in_window([r.at for r in school.requests], 10.0) <= 30


async def test_one_http_client_made_on_first_use_and_closed_on_exit(
    school: SandboxSchool,
) -> None:
    client = client_for(school)
    async with client:
        assert client._http is None  # nothing is built before the first request
        await client.get("/v2/user-roles")
        http = client._http
        await client.get("/v2/user-roles")
        assert client._http is http and isinstance(http, httpx2.AsyncClient)
    assert http.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        await client.get("/v2/user-roles")


async def test_an_attempt_never_outlasts_the_calls_time(school: SandboxSchool) -> None:
    """LEARNWORLDS_TIMEOUT is 30 s here, but a call has 1.5 s in all: its attempts are cut."""
    async with LearnWorldsClient(
        settings_for(school, timeout=30.0),
        transport=transport_for(school),
        clock=school.options.clock,
        max_wait=1.5,
    ) as client:
        await client.authenticate()
        school.faults.slow_next(count=5, seconds=3.0, path_contains="/v2/")
        with anyio.fail_after(15):  # a hang guard: uncapped, this would take 90 s
            with pytest.raises(SchoolUnreachableError) as caught:
                await client.get("/v2/user-roles")
    assert "30 s" not in str(caught.value)


async def test_a_write_without_time_for_its_answer_is_not_sent() -> None:
    from learnworlds_mcp.config import RateLimit

    clock = FakeClock()
    school = make_school(users=20, clock=clock)
    settings = settings_for(school, timeout=30.0, rate_limit=RateLimit(requests=3, seconds=30.0))
    async with LearnWorldsClient(settings, transport=transport_for(school), clock=clock) as client:
        await client.get("/v2/user-roles")  # + the token request: 2 of 3 slots
        await client.get("/v2/user-roles")  # the budget is used up for 30 s
        with pytest.raises(RateLimitedError, match="nothing was sent"):
            await client.post("/v2/user_groups", {"title": "Late", "products": {"courses": []}})
    assert not any(r.is_write for r in school.requests)


async def test_connect_timeout_on_a_write_says_nothing_was_changed() -> None:
    school = make_school(users=5)

    def refuse(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/oauth2/access_token"):
            return httpx2.Response(
                200,
                json={"tokenData": {"access_token": "t" * 40, "expires_in": 8000}},
            )
        raise httpx2.ConnectTimeout("connect timed out", request=request)

    settings = settings_for(school)
    transport = httpx2.MockTransport(refuse)
    async with LearnWorldsClient(settings, transport=transport, clock=FakeClock()) as client:
        with pytest.raises(SchoolUnreachableError, match="Nothing was changed"):
            await client.post("/v2/users", {"email": "a@b.co", "username": "A"})


async def test_a_write_accepted_with_an_unreadable_reply_says_it_was_made(
    school: SandboxSchool,
) -> None:
    from learnworlds_mcp.errors import WriteReplyUnreadableError

    async with client_for(school) as client:
        await client.authenticate()
        school.faults.malformed_next(methods=["POST"])
        with pytest.raises(WriteReplyUnreadableError, match="The change was made"):
            await client.post("/v2/user_groups", {"title": "Made", "products": {"courses": []}})
    assert [r.method for r in school.requests if r.is_write] == ["POST"]


async def test_a_fresh_token_refused_again_says_so_not_check_your_secret() -> None:
    school = make_school(users=10)
    async with client_for(school) as client:
        await client.authenticate()
        # Every token is revoked on arrival of the next two API requests: the first rejection
        # re-mints, the retry with the fresh token is rejected too.
        original = school.faults.take

        fired = 0

        def expire_twice(method: str, path: str):  # type: ignore[no-untyped-def]
            nonlocal fired
            if path.startswith("/v2/") and fired < 2:
                fired += 1
                school.faults.expire_tokens(include_static=False)
            return original(method, path)

        school.faults.take = expire_twice  # type: ignore[method-assign]
        with pytest.raises(AuthenticationError, match="just issued") as caught:
            await client.get("/v2/user-roles")
        assert "LEARNWORLDS_CLIENT_SECRET" not in str(caught.value)
        assert (await client.get("/v2/user-roles"))["data"]  # and then it works again
