"""The sandbox school: token endpoint, auth, envelopes, reads and filters, determinism."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx2
import pytest

from learnworlds_mcp.sandbox import SandboxOptions, SandboxSchool

BASE = "http://school.test/admin/api"
NOW = 1_760_000_000.0


def make_school(**overrides: object) -> SandboxSchool:
    options = {"users": 150, "now": NOW, "rate_limit": None, **overrides}
    return SandboxSchool(SandboxOptions(**options))  # type: ignore[arg-type]


def client(school: SandboxSchool, *, auth: bool = True) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=school.app),
        base_url=BASE,
        headers=school.auth_headers() if auth else None,
    )


@pytest.fixture
def school() -> SandboxSchool:
    return make_school()


@pytest.fixture
async def api(school: SandboxSchool) -> AsyncIterator[httpx2.AsyncClient]:
    async with client(school) as c:
        yield c


def enc(email: str) -> str:
    return quote(email, safe="")


# ----- token endpoint ------------------------------------------------------------------------

CREDS = {
    "client_id": SandboxOptions().client_id,
    "client_secret": SandboxOptions().client_secret,
    "grant_type": "client_credentials",
}


@pytest.mark.parametrize("style", ["data-field", "json", "plain-form"])
async def test_token_endpoint_accepts_three_body_styles(school: SandboxSchool, style: str) -> None:
    async with client(school, auth=False) as c:
        if style == "data-field":
            r = await c.post("/oauth2/access_token", data={"data": json.dumps(CREDS)})
        elif style == "json":
            r = await c.post("/oauth2/access_token", json=CREDS)
        else:
            r = await c.post("/oauth2/access_token", data=CREDS)
        assert r.status_code == 200
        body = r.json()
        assert body["success"] is True and body["errors"] == []
        token = body["tokenData"]["access_token"]
        assert len(token) == 40 and token.isalnum()
        assert body["tokenData"]["token_type"] == "Bearer"
        assert body["tokenData"]["expires_in"] == 8000
        r = await c.get(
            "/v2/users",
            headers={"Authorization": f"Bearer {token}", "Lw-Client": CREDS["client_id"]},
        )
        assert r.status_code == 200


@pytest.mark.parametrize(
    ("change", "context"),
    [
        ({"client_secret": "wrong"}, "access_denied"),
        ({"client_id": "aaaaaaaaaaaaaaaaaaaaaaaa"}, "access_denied"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": None}, "invalid_request"),
    ],
)
async def test_token_endpoint_rejects_bad_credentials(
    school: SandboxSchool, change: dict[str, object], context: str
) -> None:
    creds = {k: v for k, v in {**CREDS, **change}.items() if v is not None}
    async with client(school, auth=False) as c:
        r = await c.post("/oauth2/access_token", data={"data": json.dumps(creds)})
    assert r.status_code == 400
    body = r.json()
    assert body["success"] is False
    assert body["errors"][0]["code"] == "400"
    assert body["errors"][0]["context"] == context


async def test_token_endpoint_checks_lw_client_when_sent(school: SandboxSchool) -> None:
    async with client(school, auth=False) as c:
        ok = await c.post(
            "/oauth2/access_token", json=CREDS, headers={"Lw-Client": CREDS["client_id"]}
        )
        bad = await c.post("/oauth2/access_token", json=CREDS, headers={"Lw-Client": "b" * 24})
        garbage = await c.post(
            "/oauth2/access_token",
            content=b"not json",
            headers={"Content-Type": "application/json"},
        )
    assert ok.status_code == 200
    assert bad.status_code == 400 and bad.json()["errors"][0]["context"] == "access_denied"
    assert (
        garbage.status_code == 400 and garbage.json()["errors"][0]["context"] == "invalid_request"
    )


async def test_token_expires_after_ttl() -> None:
    from learnworlds_mcp.clock import FakeClock

    clock = FakeClock()
    school = make_school(clock=clock, token_ttl=100)
    token = school.mint_token()
    async with client(school, auth=False) as c:
        headers = school.auth_headers(token)
        assert (await c.get("/v2/user-roles", headers=headers)).status_code == 200
        clock.advance(101)
        r = await c.get("/v2/user-roles", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["context"] == "access_denied"


# ----- auth on /v2 ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401])
async def test_bad_bearer_answers_configured_status(status: int) -> None:
    school = make_school(auth_error_status=status)
    cid = school.options.client_id
    async with client(school, auth=False) as c:
        for headers in (
            {"Lw-Client": cid},
            {"Lw-Client": cid, "Authorization": "Bearer nope"},
            {"Lw-Client": cid, "Authorization": f"Basic {school.options.static_token}"},
        ):
            r = await c.get("/v2/users", headers=headers)
            assert r.status_code == status
            assert r.json() == {
                "errors": [
                    {
                        "code": str(status),
                        "context": "access_denied",
                        "message": "The resource owner or authorization server denied the request.",
                    }
                ],
                "success": False,
            }
    assert not any(e.is_write for e in school.requests)


async def test_auth_error_status_can_flip_at_run_time(school: SandboxSchool) -> None:
    school.faults.auth_error_status = 401
    async with client(school, auth=False) as c:
        r = await c.get("/v2/users", headers={"Lw-Client": school.options.client_id})
    assert r.status_code == 401


@pytest.mark.parametrize("lw_client", [None, "not-an-id", "c" * 24])
async def test_lw_client_must_be_the_client_id(
    school: SandboxSchool, lw_client: str | None
) -> None:
    headers = {"Authorization": f"Bearer {school.options.static_token}"}
    if lw_client is not None:
        headers["Lw-Client"] = lw_client
    async with client(school, auth=False) as c:
        r = await c.get("/v2/users", headers=headers)
    assert r.status_code == 401
    assert r.json() == {
        "errors": [{"code": "401", "context": None, "message": "Invalid object ID"}],
        "success": False,
    }


async def test_expire_tokens_invalidates_minted_and_static(school: SandboxSchool) -> None:
    minted = school.mint_token()
    async with client(school, auth=False) as c:
        school.faults.expire_tokens()
        for token in (minted, school.options.static_token):
            r = await c.get("/v2/users", headers=school.auth_headers(token))
            assert r.status_code == 400
        fresh = school.mint_token()
        assert (await c.get("/v2/users", headers=school.auth_headers(fresh))).status_code == 200
        school.faults.restore_static_token()
        assert (await c.get("/v2/users", headers=school.auth_headers())).status_code == 200


async def test_plan_without_api_access_answers_403() -> None:
    school = make_school(api_access=False)
    async with client(school) as c:
        r = await c.get("/v2/users")
    assert r.status_code == 403 and "error" in r.json()


async def test_unknown_route_and_method_answer_404(api: httpx2.AsyncClient) -> None:
    for method, path in (("GET", "/v2/nothing"), ("PATCH", "/v2/users"), ("GET", "/v3/users")):
        r = await api.request(method, path)
        assert r.status_code == 404
        assert r.json() == {"error": "Sorry the resource your trying to access does not exist."}


# ----- envelopes and pagination --------------------------------------------------------------


async def test_users_pagination_meta_and_last_page(
    school: SandboxSchool, api: httpx2.AsyncClient
) -> None:
    visible = [u for u in school.users if not u.is_suspended]
    r = await api.get("/v2/users")
    body = r.json()
    assert set(body) == {"data", "meta"}
    pages = math.ceil(len(visible) / 20)
    assert body["meta"] == {
        "page": 1,
        "totalItems": len(visible),
        "totalPages": pages,
        "itemsPerPage": 20,
    }
    assert [u["id"] for u in body["data"]] == [u.id for u in visible[:20]]
    assert body["data"][0] == school.user_json(visible[0])
    created = [u["created"] for u in body["data"]]
    assert created == sorted(created, reverse=True)

    r = await api.get("/v2/users", params={"page": 999, "items_per_page": 50})
    meta = r.json()["meta"]
    last = math.ceil(len(visible) / 50)
    assert meta["page"] == last and meta["itemsPerPage"] == 50
    assert len(r.json()["data"]) == len(visible) - 50 * (last - 1)


async def test_walking_every_page_gives_every_user_once(
    school: SandboxSchool, api: httpx2.AsyncClient
) -> None:
    seen: list[str] = []
    page = 1
    while True:
        body = (await api.get("/v2/users", params={"page": page, "items_per_page": 33})).json()
        seen += [u["id"] for u in body["data"]]
        if page >= body["meta"]["totalPages"]:
            break
        page += 1
    assert seen == [u.id for u in school.users if not u.is_suspended]


async def test_page_and_page_size_validation(api: httpx2.AsyncClient) -> None:
    for bad in ("0", "-1", "abc"):
        r = await api.get("/v2/users", params={"page": bad})
        assert r.status_code == 422 and "error" in r.json()
    r = await api.get("/v2/users", params={"items_per_page": 1000})
    assert r.json()["meta"]["itemsPerPage"] == 200
    r = await api.get("/v2/users", params={"items_per_page": 0})
    assert r.json()["meta"]["itemsPerPage"] == 1
    assert (await api.get("/v2/users", params={"items_per_page": "x"})).status_code == 422


async def test_out_of_range_page_size_rejected_behind_option() -> None:
    school = make_school(reject_out_of_range_page_size=True)
    async with client(school) as c:
        assert (await c.get("/v2/users", params={"items_per_page": 201})).status_code == 422
        assert (await c.get("/v2/users", params={"items_per_page": 200})).status_code == 200


async def test_empty_list_meta() -> None:
    school = make_school()
    async with client(school) as c:
        r = await c.get("/v2/users", params={"tags": "no-such-tag"})
    assert r.json() == {
        "data": [],
        "meta": {"page": 1, "totalItems": 0, "totalPages": 1, "itemsPerPage": 20},
    }


# ----- users: filters --------------------------------------------------------------------------


async def fetch_all(
    api: httpx2.AsyncClient, path: str, **params: object
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    page = 1
    while True:
        body = (await api.get(path, params={**params, "page": page, "items_per_page": 200})).json()
        out += body["data"]
        if page >= body["meta"]["totalPages"]:
            return out
        page += 1


async def test_filter_status(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    users = school.users
    expected = {
        "suspended": [u.id for u in users if u.is_suspended],
        "never_logged_in": [u.id for u in users if u.last_login is None and not u.is_suspended],
        "paying": [u.id for u in users if school.is_paying(u) and not u.is_suspended],
        "non_paying": [u.id for u in users if not school.is_paying(u) and not u.is_suspended],
    }
    for status, ids in expected.items():
        got = [u["id"] for u in await fetch_all(api, "/v2/users", status=status)]
        assert got == ids, status
        assert ids, f"the generated school has no {status} users"
    assert (await api.get("/v2/users", params={"status": "gone"})).status_code == 422


async def test_filter_role(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    for level in ("admin", "instructor", "reporter", "license_reporter", "user"):
        got = await fetch_all(api, "/v2/users", role=level)
        assert got, level
        assert all(u["role"]["level"] == level for u in got)  # type: ignore[index]
    admins = await fetch_all(api, "/v2/users", role="admin")
    assert all(u["is_admin"] for u in admins)
    assert (await api.get("/v2/users", params={"role": "superuser"})).status_code == 422


async def test_filter_tags_is_and(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    visible = [u for u in school.users if not u.is_suspended]
    tag_a, tag_b = "enterprise", "cohort-q3"
    both = [u.id for u in visible if tag_a in u.tags and tag_b in u.tags]
    either = [u.id for u in visible if tag_a in u.tags or tag_b in u.tags]
    got = [u["id"] for u in await fetch_all(api, "/v2/users", tags=f"{tag_a},{tag_b}")]
    assert got == both and both
    assert len(either) >= len(both)


async def test_filter_registration_window_and_custom_field(
    school: SandboxSchool, api: httpx2.AsyncClient
) -> None:
    visible = [u for u in school.users if not u.is_suspended]
    after, before = NOW - 400 * 86400, NOW - 100 * 86400
    got = [
        u["id"]
        for u in await fetch_all(
            api, "/v2/users", registration_after=int(after), registration_before=int(before)
        )
    ]
    assert got == [u.id for u in visible if int(after) <= u.created <= int(before)]
    coded = next(u for u in visible if u.fields.get("cf_employee_code"))
    got = await fetch_all(api, "/v2/users", cf_employee_code=coded.fields["cf_employee_code"])
    assert coded.id in [u["id"] for u in got]
    assert all(u["fields"]["cf_employee_code"] == coded.fields["cf_employee_code"] for u in got)  # type: ignore[index]
    assert (
        await api.get("/v2/users", params={"registration_after": "yesterday"})
    ).status_code == 422


async def test_include_suspended(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    everyone = await fetch_all(api, "/v2/users", include_suspended="true")
    assert [u["id"] for u in everyone] == [u.id for u in school.users]
    suspended = next(u for u in school.users if u.is_suspended)
    assert (await api.get(f"/v2/users/{suspended.id}")).status_code == 404
    r = await api.get(f"/v2/users/{suspended.id}", params={"include_suspended": "true"})
    assert r.status_code == 200 and r.json()["is_suspended"] is True


# ----- users: single -------------------------------------------------------------------------


async def test_get_user_by_id_and_by_encoded_email(
    school: SandboxSchool, api: httpx2.AsyncClient
) -> None:
    plus = next(u for u in school.users if "+" in u.email and not u.is_suspended)
    by_id = (await api.get(f"/v2/users/{plus.id}")).json()
    assert by_id == school.user_json(plus)
    encoded = enc(plus.email)
    assert "%2B" in encoded and "%40" in encoded
    assert (await api.get(f"/v2/users/{encoded}")).json() == by_id
    assert (await api.get(f"/v2/users/{enc(plus.email.upper())}")).json() == by_id
    r = await api.get(f"/v2/users/{enc('nobody@example.com')}")
    assert r.status_code == 404
    assert r.json() == {"error": "Sorry the resource your trying to access does not exist."}
    assert (await api.get("/v2/users/ffffffffffffffffffffffff")).status_code == 404


async def test_user_shape(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    body = (await api.get(f"/v2/users/{school.users[0].id}")).json()
    assert list(body)[:4] == ["id", "email", "username", "first_name"]
    assert len([k for k in body["fields"] if not k.startswith("cf_")]) == 19
    assert "cf_employee_code" in body["fields"]
    assert len(body["utms"]) == 16
    assert isinstance(body["created"], float)
    assert "school_id" not in body and "created_at" not in body


async def test_user_sub_resources(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    u = max(school.users, key=lambda x: len(school.enrollments_of(x, "course")))
    courses = (await api.get(f"/v2/users/{enc(u.email)}/courses")).json()
    enrolled = school.enrollments_of(u, "course")
    assert courses["meta"]["totalItems"] == len(enrolled) and courses["meta"]["itemsPerPage"] == 50
    assert courses["data"][0] == school.enrollment_json(enrolled[0])
    products = (await api.get(f"/v2/users/{u.id}/products")).json()
    assert set(products) == {"data"}
    assert {p["id"] for p in products["data"]} == {e.product_id for e in school.enrollments_of(u)}

    progress = (await api.get(f"/v2/users/{u.id}/progress", params={"items_per_page": 2})).json()
    assert progress["meta"]["itemsPerPage"] == 2
    first = progress["data"][0]
    assert next(iter(first)) == "course_id"
    p = school.progress[(u.id, first["course_id"])]
    assert first == school.progress_json(p, with_course=True)
    assert first["total_units"] == len(school.course(first["course_id"]).units)  # type: ignore[union-attr]
    past = (await api.get(f"/v2/users/{u.id}/progress", params={"page": 99})).json()
    assert past["data"] == [] and past["meta"]["page"] == 99

    one = (await api.get(f"/v2/users/{u.id}/courses/{first['course_id']}/progress")).json()
    assert "course_id" not in one and one["status"] in ("not_started", "completed", "not_completed")
    units = [x for section in one["progress_per_section_unit"] for x in section["units"]]
    assert one["completed_units"] == sum(1 for x in units if x["unit_status"] == "completed")
    assert one["total_units"] == len(units)
    not_enrolled = next(c for c in school.courses if not school.is_enrolled(u, c.id))
    r = await api.get(f"/v2/users/{u.id}/courses/{not_enrolled.id}/progress")
    assert r.status_code == 404 and "error" in r.json()


async def test_user_groups_of_user_both_shapes(school: SandboxSchool) -> None:
    g = next(g for g in school.groups if school.group_members(g.id))
    member = school.group_members(g.id)[0]
    async with client(school) as c:
        body = (await c.get(f"/v2/users/{member.id}/user-groups")).json()
    assert {"id": g.id, "title": g.title} in body["data"]["user_groups"]
    s1 = make_school(s1_shapes=True)
    async with client(s1) as c:
        body = (await c.get(f"/v2/users/{member.id}/user-groups")).json()
    assert isinstance(body, list) and {"id": g.id, "title": g.title} in body


# ----- roles, groups, courses, events: reads ---------------------------------------------------


async def test_user_roles(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    body = (await api.get("/v2/user-roles")).json()
    assert set(body) == {"data"}
    titles = [r["title"] for r in body["data"]]
    assert titles == sorted(titles, key=str.lower)
    assert {"Admin", "User", "Course creator", "Group manager", "Regional reporter"} <= set(titles)
    assert any(r["custom_role"] for r in body["data"]) and any(
        not r["custom_role"] for r in body["data"]
    )
    assert all(
        r["id"].startswith("61bb42d5e07e2027000000") for r in body["data"] if not r["custom_role"]
    )
    only = (
        await api.get("/v2/user-roles", params={"access_level": "reporter,license_reporter"})
    ).json()
    assert {r["access_level"] for r in only["data"]} == {"reporter", "license_reporter"}
    one = (await api.get("/v2/user-roles", params={"role_id": body["data"][0]["id"]})).json()
    assert one["data"] == [body["data"][0]]
    assert (await api.get("/v2/user-roles", params={"access_level": "boss"})).status_code == 422


async def test_groups_list_and_get(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    body = (await api.get("/v2/user_groups")).json()
    assert body["meta"] == {"page": 1, "totalItems": 15, "totalPages": 1, "itemsPerPage": 20}
    assert [g["id"] for g in body["data"]] == [g.id for g in school.groups]
    created = [g["created"] for g in body["data"]]
    assert created == sorted(created, reverse=True)
    g = next(g for g in school.groups if g.manager_ids)
    one = (await api.get(f"/v2/user_groups/{g.id}")).json()
    assert one == school.group_json(g)
    manager = school.user(one["group_managers"][0]["id"])
    assert manager is not None and school.role(manager.role_id).title == "Group manager"  # type: ignore[union-attr]
    assert set(one["group_managers"][0]) == {"id", "username", "email", "role_id"}
    assert (await api.get("/v2/user_groups/ffffffffffffffffffffffff")).status_code == 404


async def test_group_members_and_empty_group() -> None:
    school = make_school(users=400)
    big = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    visible = [u for u in school.group_members(big.id) if not u.is_suspended]
    assert len(visible) > 40
    async with client(school) as api:
        body = (await api.get(f"/v2/user_groups/{big.id}/users", params={"page": 2})).json()
        assert body["meta"]["totalItems"] == len(visible) and body["meta"]["itemsPerPage"] == 20
        assert [u["id"] for u in body["data"]] == [u.id for u in visible[20:40]]
        assert body["data"][0] == school.user_json(visible[20])
        empty = next(g for g in school.groups if not school.group_members(g.id))
        r = await api.get(f"/v2/user_groups/{empty.id}/users")
    assert r.status_code == 404 and r.json() == {"error": "Users not found"}


async def test_group_members_s1_shape() -> None:
    school = make_school(s1_shapes=True)
    g = next(g for g in school.groups if school.group_members(g.id))
    empty = next(g for g in school.groups if not school.group_members(g.id))
    async with client(school) as c:
        body = (await c.get(f"/v2/user_groups/{g.id}/users")).json()
        assert isinstance(body, list) and body
        assert (await c.get(f"/v2/user_groups/{empty.id}/users")).json() == []


async def test_courses_list_filters_and_get(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    body = (await api.get("/v2/courses")).json()
    assert body["meta"]["itemsPerPage"] == 50 and body["meta"]["totalItems"] == len(school.courses)
    assert {c["access"] for c in body["data"]} >= {
        "paid",
        "free",
        "private",
        "draft",
        "coming_soon",
    }
    sales = (await api.get("/v2/courses", params={"categories": "sales,finance"})).json()["data"]
    assert sales and all({"sales", "finance"} & set(c["categories"]) for c in sales)
    free_or_draft = (
        await api.get("/v2/courses", params=[("access", "free"), ("access", "draft")])
    ).json()
    assert {c["access"] for c in free_or_draft["data"]} == {"free", "draft"}
    brackets = (await api.get("/v2/courses", params={"access[]": "private"})).json()
    assert {c["access"] for c in brackets["data"]} == {"private"}
    assert (await api.get("/v2/courses", params={"access": "secret"})).status_code == 422
    one = (await api.get("/v2/courses/sales-101")).json()
    assert one == school.course_json(school.course("sales-101"))  # type: ignore[arg-type]
    assert (await api.get("/v2/courses/no-such-course")).status_code == 404
    contents = (await api.get("/v2/courses/sales-101/contents")).json()
    assert contents["sections"] and contents["sections"][0]["learningUnits"]


async def test_course_users(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    course = max(school.courses, key=lambda c: len(school.course_users(c.id)))
    visible = [u for u in school.course_users(course.id) if not u.is_suspended]
    body = (await api.get(f"/v2/courses/{course.id}/users", params={"items_per_page": 5})).json()
    assert body["meta"]["totalItems"] == len(visible) and body["meta"]["itemsPerPage"] == 5
    assert [u["id"] for u in body["data"]] == [u.id for u in visible[:5]]


async def test_bundles_and_plans(api: httpx2.AsyncClient) -> None:
    bundles = (await api.get("/v2/bundles")).json()
    assert bundles["meta"]["itemsPerPage"] == 20 and len(bundles["data"]) == 3
    plans = (await api.get("/v2/subscription-plans")).json()
    assert plans["meta"]["itemsPerPage"] == 50 and plans["data"]
    assert (await api.get(f"/v2/bundles/{bundles['data'][0]['id']}")).json() == bundles["data"][0]
    assert (await api.get(f"/v2/subscription-plans/{plans['data'][0]['id']}")).status_code == 200


async def test_event_logs(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    body = (await api.get("/v2/event-logs")).json()
    assert body["meta"]["itemsPerPage"] == 50 and body["meta"]["totalItems"] == len(school.events)
    times = [e["created"] for e in body["data"]]
    assert times == sorted(times, reverse=True)
    assert set(body["data"][0]) == {
        "user",
        "created",
        "activity",
        "description",
        "type",
        "additional_info",
    }
    asc = (await api.get("/v2/event-logs", params={"sort": "asc"})).json()["data"]
    assert [e["created"] for e in asc] == sorted(e["created"] for e in asc)
    assert asc[0] == school.event_json(school.events[0])
    logins = (await api.get("/v2/event-logs", params={"activity": "login"})).json()["data"]
    assert logins and {e["activity"] for e in logins} == {"login"}
    u = school.user(logins[0]["user"]["id"])
    assert u is not None
    mine = await fetch_all(api, "/v2/event-logs", user_id=u.email)
    assert mine and {e["user"]["id"] for e in mine} == {u.id}  # type: ignore[index]
    lo, hi = NOW - 30 * 86400, NOW - 10 * 86400
    window = await fetch_all(api, "/v2/event-logs", created_after=lo, created_before=hi)
    assert len(window) == sum(1 for e in school.events if lo <= e.created <= hi)
    assert (await api.get("/v2/event-logs", params={"activity": "dance"})).status_code == 422
    assert (await api.get("/v2/event-logs", params={"sort": "up"})).status_code == 422
    kinds = {e.activity for e in school.events}
    assert {
        "login",
        "register",
        "visit_course",
        "manual_enrollment",
        "purchase",
        "complete_course",
    } <= kinds


# ----- determinism ---------------------------------------------------------------------------


def test_same_seed_same_school_other_seed_other_school() -> None:
    a, b = make_school(seed=11), make_school(seed=11)
    assert [a.user_json(u) for u in a.users] == [b.user_json(u) for u in b.users]
    assert [a.group_json(g) for g in a.groups] == [b.group_json(g) for g in b.groups]
    assert [a.event_json(e) for e in a.events] == [b.event_json(e) for e in b.events]
    assert a.mint_token() == b.mint_token()
    c = make_school(seed=12)
    assert [u.id for u in c.users] != [u.id for u in a.users]
    later = make_school(seed=11, now=NOW + 3600)
    assert {u.id for u in later.users} == {u.id for u in a.users}


def test_generated_school_is_realistic() -> None:
    school = make_school(users=600)
    users = school.users
    assert len(users) == 600 and len({u.id for u in users}) == 600
    assert len({u.email.lower() for u in users}) == 600
    assert all(len(u.id) == 24 and int(u.id, 16) >= 0 for u in users)
    assert any("+" in u.email for u in users) and any("." in u.email.split("@")[0] for u in users)
    assert len({u.email.split("@")[1] for u in users}) >= 8
    assert users[0].created - users[-1].created > 2 * 365 * 86400
    assert any(u.last_login is None for u in users)
    staff = [u for u in users if school.state.role_of(u).access_level != "user"]
    assert 10 <= len(staff) <= 60
    assert any(u.last_login and 100 * 86400 <= NOW - u.last_login <= 400 * 86400 for u in staff)
    for u in users:
        level = school.state.role_of(u).access_level
        j = school.user_json(u)
        assert (j["is_admin"], j["is_instructor"], j["is_reporter"]) == (
            level == "admin",
            level == "instructor",
            level == "reporter",
        )
    sizes = sorted(len(school.group_members(g.id)) for g in school.groups)
    assert sizes[0] == 0 and sizes[-1] >= 50
    nearly_full = [
        g for g in school.groups if g.max_number_of_users == len(school.group_members(g.id)) + 1
    ]
    assert nearly_full
    assert any(u.nps_score is not None for u in users) and any(u.billing_info for u in users)
    assert len(school.events) > 1000
    for (_uid, cid), p in list(school.progress.items())[:200]:
        body = school.progress_json(p)
        assert body["total_units"] == len(school.course(cid).units)  # type: ignore[union-attr]
        assert (body["status"] == "completed") == (body["completed_at"] is not None)
