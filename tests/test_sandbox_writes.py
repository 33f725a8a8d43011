"""The sandbox school's writes: each one, its conflict answers, and later reads seeing it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx2
import pytest

from learnworlds_mcp.sandbox import SandboxOptions, SandboxSchool
from learnworlds_mcp.sandbox.records import User

BASE = "http://school.test/admin/api"
NOW = 1_760_000_000.0


@pytest.fixture
def school() -> SandboxSchool:
    return SandboxSchool(SandboxOptions(users=120, now=NOW, rate_limit=None))


@pytest.fixture
async def api(school: SandboxSchool) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=school.app), base_url=BASE, headers=school.auth_headers()
    ) as c:
        yield c


def learner(school: SandboxSchool, n: int = 0) -> User:
    found = [
        u for u in school.users if not u.is_suspended and school.role(u.role_id).title == "User"
    ]  # type: ignore[union-attr]
    return found[n]


# ----- users ----------------------------------------------------------------------------------


async def test_create_user_then_read_it(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    body = {
        "email": "New.Person+lw@acme.com",
        "username": "New Person",
        "fields": {"company": "Acme", "cf_employee_code": "ACM-9999"},
        "tags": ["trial", "trial", "sales"],
    }
    r = await api.post("/v2/users", json=body)
    assert r.status_code == 201
    created = r.json()
    assert created["email"] == "New.Person+lw@acme.com" and created["tags"] == ["trial", "sales"]
    assert created["role"] == {"level": "user", "name": "User"} and created["last_login"] is None
    assert created["fields"]["cf_employee_code"] == "ACM-9999" and created["fields"]["bio"] is None
    again = (await api.get(f"/v2/users/{quote('new.person+LW@acme.com', safe='')}")).json()
    assert again == created
    first = (await api.get("/v2/users")).json()["data"][0]
    assert first["id"] == created["id"]  # newest first
    dup = await api.post("/v2/users", json={"email": "NEW.PERSON+lw@acme.com", "username": "x"})
    assert dup.status_code == 400 and "error" in dup.json()
    for bad in (
        {"username": "x"},
        {"email": "not-an-email", "username": "x"},
        {"email": "a@b.co"},
        {"email": "a@b.co", "username": "x", "tags": "one"},
        {"email": "a@b.co", "username": "x", "fields": {"shoe": "42"}},
    ):
        r = await api.post("/v2/users", json=bad)
        assert r.status_code == 422 and "error" in r.json(), bad
    assert (await api.post("/v2/users", content=b"[1]")).status_code == 422


async def test_update_user(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    u = learner(school)
    other = learner(school, 1)
    r = await api.put(
        f"/v2/users/{u.id}", json={"username": "Renamed", "tags": ["only"], "fields": {"bio": "Hi"}}
    )
    assert r.status_code == 200
    body = r.json()
    assert (
        body["username"] == "Renamed" and body["tags"] == ["only"] and body["fields"]["bio"] == "Hi"
    )
    assert body["fields"]["country"] == u.fields["country"]  # merged, not replaced
    assert (await api.get(f"/v2/users/{u.id}")).json() == body
    clash = await api.put(f"/v2/users/{u.id}", json={"email": other.email.upper()})
    assert clash.status_code == 400
    r = await api.put(f"/v2/users/{u.id}", json={"email": "moved@globex.io", "is_admin": True})
    assert r.json()["is_admin"] is True and r.json()["role"]["level"] == "admin"
    assert (await api.get(f"/v2/users/{quote('moved@globex.io', safe='')}")).status_code == 200
    assert school.user("moved@globex.io") is u
    assert (
        await api.put("/v2/users/nobody%40nowhere.com", json={"username": "x"})
    ).status_code == 404


async def test_tags_attach_detach(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    u = learner(school)
    before = list(u.tags)
    r = await api.put(
        f"/v2/users/{quote(u.email, safe='')}/tags",
        json={"tags": ["vip", "zz-new"], "action": "attach"},
    )
    assert r.status_code == 200 and {"vip", "zz-new"} <= set(r.json()["tags"])
    r = await api.put(f"/v2/users/{u.id}/tags", json={"tags": ["zz-new"], "action": "detach"})
    assert "zz-new" not in r.json()["tags"] and set(before) <= set(r.json()["tags"])
    assert (
        await api.put(f"/v2/users/{u.id}/tags", json={"tags": ["a"], "action": "replace"})
    ).status_code == 422
    assert (await api.put(f"/v2/users/{u.id}/tags", json={"action": "attach"})).status_code == 422
    listed = (await api.get("/v2/users", params={"tags": "vip"})).json()["data"]
    assert u.id in [x["id"] for x in listed]


async def test_suspend_and_unsuspend(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    u = learner(school)
    r = await api.put(f"/v2/users/{u.id}/suspend")
    assert r.status_code == 200 and r.json()["is_suspended"] is True
    assert (await api.get(f"/v2/users/{u.id}")).status_code == 404
    ids = [
        x["id"]
        for x in (
            await api.get("/v2/users", params={"status": "suspended", "items_per_page": 200})
        ).json()["data"]
    ]
    assert u.id in ids
    r = await api.put(f"/v2/users/{quote(u.email, safe='')}/unsuspend")
    assert r.status_code == 200 and r.json()["is_suspended"] is False
    assert (await api.get(f"/v2/users/{u.id}")).status_code == 200


# ----- enrollment -----------------------------------------------------------------------------


async def test_enroll_and_unenroll_course(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    u = learner(school)
    course = next(c for c in school.courses if not school.is_enrolled(u, c.id))
    body = {
        "productId": course.id,
        "productType": "course",
        "price": 0,
        "justification": "Added by admin",
    }
    r = await api.post(f"/v2/users/{quote(u.email, safe='')}/enrollment", json=body)
    assert r.status_code == 200 and r.json() == {"success": True}
    courses = (await api.get(f"/v2/users/{u.id}/courses")).json()["data"]
    assert courses[0]["course"]["id"] == course.id  # newest first
    progress = (await api.get(f"/v2/users/{u.id}/courses/{course.id}/progress")).json()
    assert progress["status"] == "not_started" and progress["completed_units"] == 0
    users = (
        await api.get(f"/v2/courses/{course.id}/users", params={"items_per_page": 200})
    ).json()["data"]
    assert u.id in [x["id"] for x in users]
    events = (
        await api.get("/v2/event-logs", params={"user_id": u.id, "activity": "manual_enrollment"})
    ).json()["data"]
    assert events[0]["additional_info"]["product_id"] == course.id
    assert events[0]["additional_info"]["justification"] == "Added by admin"
    again = await api.post(f"/v2/users/{u.id}/enrollment", json=body)
    assert again.status_code == 400 and "error" in again.json()

    r = await api.request(
        "DELETE",
        f"/v2/users/{u.id}/enrollment",
        json={"productId": course.id, "productType": "course"},
    )
    assert r.status_code == 204 and r.content == b""
    assert not school.is_enrolled(u, course.id)
    assert (await api.get(f"/v2/users/{u.id}/courses/{course.id}/progress")).status_code == 404
    r = await api.request(
        "DELETE",
        f"/v2/users/{u.id}/enrollment",
        json={"productId": course.id, "productType": "course"},
    )
    assert r.status_code == 400


async def test_enrollment_validation(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    u = learner(school)
    path = f"/v2/users/{u.id}/enrollment"
    cases = [
        ({"productId": "no-such-course", "productType": "course", "price": 0}, 404),
        ({"productId": "sales-101", "productType": "ebook", "price": 0}, 422),
        ({"productId": "sales-101", "productType": "course", "price": -5}, 422),
        ({"productId": "sales-101", "productType": "course"}, 422),
        ({"productType": "course", "price": 0}, 422),
        (
            {
                "productId": "all-access-monthly",
                "productType": "subscription",
                "price": 0,
                "duration_type": "years",
                "duration": 1,
            },
            422,
        ),
        (
            {
                "productId": "all-access-monthly",
                "productType": "subscription",
                "price": 0,
                "duration_type": "months",
                "duration": 0,
            },
            422,
        ),
    ]
    for body, status in cases:
        r = await api.post(path, json=body)
        assert r.status_code == status, body
        assert "error" in r.json()
    assert (
        await api.post("/v2/users/ffffffffffffffffffffffff/enrollment", json=cases[0][0])
    ).status_code == 404
    assert not any(r.status == 200 for r in school.requests if r.is_write)


async def test_bundle_and_subscription_enrollment(
    school: SandboxSchool, api: httpx2.AsyncClient
) -> None:
    u = next(
        u
        for u in school.users
        if not u.is_suspended
        and not any(e.product_type != "course" for e in school.enrollments_of(u))
    )
    bundle = school.bundles[0]
    r = await api.post(
        f"/v2/users/{u.id}/enrollment",
        json={"productId": bundle.id, "productType": "bundle", "price": 99},
    )
    assert r.status_code == 200
    assert all(school.is_enrolled(u, c) for c in bundle.course_ids)
    assert school.is_paying(u)
    products = (await api.get(f"/v2/users/{u.id}/products")).json()["data"]
    assert {"id": bundle.id, "title": bundle.title, "type": "bundle"} in products
    plan = school.subscription_plans[0]
    body = {
        "productId": plan.id,
        "productType": "subscription",
        "price": 0,
        "duration_type": "weeks",
        "duration": 2,
    }
    assert (await api.post(f"/v2/users/{u.id}/enrollment", json=body)).status_code == 200
    held = next(e for e in school.enrollments_of(u, "subscription") if e.product_id == plan.id)
    assert held.expires is not None and round(held.expires - held.created) == 14 * 86400
    r = await api.request(
        "DELETE",
        f"/v2/users/{u.id}/enrollment",
        json={"productId": bundle.id, "productType": "bundle"},
    )
    assert r.status_code == 204
    assert not any(e.via == bundle.id for e in school.enrollments_of(u))


# ----- user role ------------------------------------------------------------------------------


async def test_user_role_get_and_put(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    u = learner(school)
    role = (await api.get(f"/v2/users/{u.id}/user-role")).json()
    assert role == school.user_role_json(u)
    assert role["user_role"]["access_level"] == "user" and role["assigned_user_group_ids"] == []
    manager_role = school.role_by_title("Group manager")
    group = school.groups[0]
    assert manager_role is not None
    r = await api.put(
        f"/v2/users/{quote(u.email, safe='')}/user-role",
        json={"role_id": manager_role.id, "assigned_user_group_ids": [group.id]},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["role_id"] == manager_role.id and body["assigned_user_group_ids"] == [group.id]
    assert body["user_role"] == {
        "id": manager_role.id,
        "access_level": "user",
        "name": "Group manager",
    }
    managers = (await api.get(f"/v2/user_groups/{group.id}")).json()["group_managers"]
    assert {
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "role_id": manager_role.id,
    } in managers
    creator = school.role_by_title("Course creator")
    assert creator is not None
    r = await api.put(
        f"/v2/users/{u.id}/user-role",
        json={
            "role_id": creator.id,
            "assigned_courses": [{"course_id": "sales-101", "revenue_share_percentage": 20}],
        },
    )
    body = r.json()
    assert body["assigned_courses"] == [{"course_id": "sales-101", "revenue_share_percentage": 20}]
    assert body["assigned_user_group_ids"] == []  # omitted list removes previous assignments
    user_body = (await api.get(f"/v2/users/{u.id}")).json()
    assert user_body["is_instructor"] is True and user_body["role"] == {
        "level": "instructor",
        "name": "Course creator",
    }
    assert u.id not in [
        m["id"] for m in (await api.get(f"/v2/user_groups/{group.id}")).json()["group_managers"]
    ]
    assert (
        await api.put(f"/v2/users/{u.id}/user-role", json={"role_id": "f" * 24})
    ).status_code == 404
    assert (await api.put(f"/v2/users/{u.id}/user-role", json={})).status_code == 422
    bad_course = {"role_id": creator.id, "assigned_courses": [{"course_id": "nope"}]}
    assert (await api.put(f"/v2/users/{u.id}/user-role", json=bad_course)).status_code == 422


# ----- groups ---------------------------------------------------------------------------------


async def test_create_update_delete_group(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    manager = next(u for u in school.users if school.role(u.role_id).title == "Group manager")  # type: ignore[union-attr]
    body = {
        "title": "Hooli – Q4 cohort",
        "description": "New cohort",
        "products": {"courses": ["sales-101"]},
        "enroll_users_on_courses": True,
        "max_number_of_users": 2,
        "group_managers": [manager.id],
        "tags": ["hooli-q4"],
    }
    r = await api.post("/v2/user_groups", json=body)
    assert r.status_code == 201
    g = r.json()
    assert g["title"] == body["title"] and g["products"] == {"courses": ["sales-101"]}
    assert g["group_managers"][0]["id"] == manager.id and g["created"] == g["modified"]
    listed = (await api.get("/v2/user_groups")).json()
    assert listed["data"][0]["id"] == g["id"] and listed["meta"]["totalItems"] == 16
    for bad in (
        {"products": {"courses": []}},
        {"title": "x"},
        {"title": "x", "products": {"courses": ["nope"]}},
        {"title": "x", "products": {"courses": []}, "group_managers": ["f" * 24]},
        {"title": "x", "products": {"courses": []}, "max_number_of_users": 0},
    ):
        assert (await api.post("/v2/user_groups", json=bad)).status_code == 422, bad

    r = await api.put(f"/v2/user_groups/{g['id']}", json={"description": "Renamed cohort"})
    assert r.status_code == 200
    updated = r.json()
    assert updated["description"] == "Renamed cohort" and updated["title"] == body["title"]
    assert (await api.get(f"/v2/user_groups/{g['id']}")).json() == updated
    assert (await api.put(f"/v2/user_groups/{g['id']}", json={"title": ""})).status_code == 422

    r = await api.delete(f"/v2/user_groups/{g['id']}")
    assert r.status_code == 202
    job = r.json()
    assert job["async"] is True and len(job["job_id"]) == 24
    assert (await api.get(f"/v2/user_groups/{g['id']}")).status_code == 404
    status = (await api.get(f"/v2/async-actions/{job['job_id']}")).json()
    assert status["state"] == "completed"
    assert (await api.delete(f"/v2/user_groups/{g['id']}")).status_code == 404


async def test_group_membership(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    r = await api.post(
        "/v2/user_groups",
        json={
            "title": "Tiny",
            "products": {"courses": ["sales-101", "seo-essentials"]},
            "enroll_users_on_courses": True,
            "max_number_of_users": 2,
            "tags": ["tiny-group"],
        },
    )
    gid = r.json()["id"]
    a, b, c = learner(school, 0), learner(school, 1), learner(school, 2)
    r = await api.post(f"/v2/user_groups/{gid}/users/{quote(a.email, safe='')}")
    assert r.status_code == 200 and r.json() == {"success": True}
    assert "tiny-group" in a.tags
    assert school.is_enrolled(a, "sales-101") and school.is_enrolled(a, "seo-essentials")
    again = await api.post(f"/v2/user_groups/{gid}/users/{a.id}")
    assert again.status_code == 400 and "error" in again.json()
    assert (await api.post(f"/v2/user_groups/{gid}/users/{b.id}")).status_code == 200
    full = await api.post(f"/v2/user_groups/{gid}/users/{c.id}")
    assert full.status_code == 400 and "maximum" in full.json()["error"]
    members = (await api.get(f"/v2/user_groups/{gid}/users")).json()
    assert {u["id"] for u in members["data"]} == {a.id, b.id}
    assert {"id": gid, "title": "Tiny"} in (await api.get(f"/v2/users/{a.id}/user-groups")).json()[
        "data"
    ]["user_groups"]
    assert (
        await api.post(f"/v2/user_groups/{gid}/users/ffffffffffffffffffffffff")
    ).status_code == 404
    assert (await api.post(f"/v2/user_groups/{'f' * 24}/users/{c.id}")).status_code == 404

    r = await api.delete(f"/v2/user_groups/{gid}/users/{a.id}")
    assert r.status_code == 204
    assert (await api.delete(f"/v2/user_groups/{gid}/users/{a.id}")).status_code == 400
    assert (await api.post(f"/v2/user_groups/{gid}/users/{c.id}")).status_code == 200
    await api.delete(f"/v2/user_groups/{gid}/users/{b.id}")
    await api.delete(f"/v2/user_groups/{gid}/users/{c.id}")
    r = await api.get(f"/v2/user_groups/{gid}/users")
    assert r.status_code == 404 and r.json() == {"error": "Users not found"}


async def test_nearly_full_generated_group(school: SandboxSchool, api: httpx2.AsyncClient) -> None:
    g = next(
        g for g in school.groups if g.max_number_of_users == len(school.group_members(g.id)) + 1
    )
    outsiders = [
        u for u in school.users if not u.is_suspended and u not in school.group_members(g.id)
    ]
    assert (await api.post(f"/v2/user_groups/{g.id}/users/{outsiders[0].id}")).status_code == 200
    assert (await api.post(f"/v2/user_groups/{g.id}/users/{outsiders[1].id}")).status_code == 400
