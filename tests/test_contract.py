"""The official LearnWorlds OpenAPI v2 description as the contract (DESIGN §7).

`tests/conftest.py` holds every request any test's tools send against the spec; this file also
stands alone: it drives every tool `tools/list` shows (reads, writes, destructive, workflows;
dry runs off) and the prompt completions through an MCP client and holds their requests, checks
that the checker itself catches what is off, and holds the sandbox's replies against the spec's
response schemas where the spec describes them.

The spec is read from `../shared/learnworlds-openapi-v2.yaml` beside the checkout, never copied
in; where it is absent these tests skip with that reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp_types import PromptReference

from learnworlds_mcp.sandbox import LoggedRequest, SandboxSchool
from tests import openapi_contract as contract
from tests.support import (
    SCHOOL_HOST,
    connected,
    learner,
    make_school,
    payload,
    settings_for,
    transport_for,
)


@pytest.fixture
def spec() -> contract.Contract:
    reason = contract.spec_missing_reason()
    if reason:
        if contract.must_check():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return contract.Contract.load()


# ------------------------------------------------------------------------ every tool, driven


def sample_calls(school: SandboxSchool) -> list[tuple[str, dict[str, Any]]]:
    """Calls that exercise every tool and the parameters each one maps onto the API."""
    user = learner(school, 0)
    other = learner(school, 1)
    third = learner(school, 2)
    group = max(school.groups, key=lambda g: (len(school.group_members(g.id)), g.id))
    open_group = next(
        g for g in school.groups if g.max_number_of_users is None and g.id != group.id
    )
    course = max(school.courses, key=lambda c: (len(school.course_users(c.id)), c.id))
    enrolled = next(
        u for u in school.users if not u.is_suspended and school.enrollments_of(u, "course")
    )
    held = school.enrollments_of(enrolled, "course")[0].product_id
    new_course = next(c.id for c in school.courses if not school.is_enrolled(user, c.id))
    bundle = school.bundles[0].id
    plan = school.subscription_plans[0].id
    instructor = school.role_by_title("Instructor")
    assert instructor is not None
    tag = next(t for u in school.users for t in u.tags)
    return [
        (
            "list_all_learnworlds_users",
            {
                "role": "user",
                "status": "never_logged_in",
                "tags": [tag],
                "registered_after": "2020-01-01",
                "registered_before": "2030-12-31",
                "include_suspended": True,
                "items_per_page": 50,
                "custom_fields": {"employee_code": "A7"},
            },
        ),
        ("list_all_learnworlds_users", {"status": "suspended", "page": 1}),
        ("get_single_learnworlds_user_by_id", {"user_id": user.email}),
        (
            "list_all_learnworlds_inactive_staff",
            {"days": 30, "include_suspended": True},
        ),
        ("get_single_learnworlds_user_overview_by_id", {"user_id": enrolled.email}),
        ("list_all_learnworlds_roles", {"access_level": ["admin", "instructor"]}),
        ("get_single_learnworlds_user_role_by_id", {"user_id": user.id}),
        ("list_all_learnworlds_groups", {"page": 1}),
        ("list_all_learnworlds_groups", {"title_contains": group.title[:4]}),
        ("get_single_learnworlds_group_by_id", {"group_id": group.id}),
        ("list_all_learnworlds_group_members", {"group_id": group.id}),
        (
            "list_all_learnworlds_group_members",
            {"group_id": group.id, "include_suspended": True},
        ),
        ("list_all_learnworlds_user_groups", {"user_id": user.email}),
        (
            "get_single_learnworlds_group_report_by_id",
            {"group_id": group.id, "member_limit": 5, "max_calls": 300},
        ),
        ("list_all_learnworlds_courses", {"access": ["free", "paid"], "categories": ["Sales"]}),
        ("list_all_learnworlds_courses", {"title_contains": "sales"}),
        ("get_single_learnworlds_course_by_id", {"course_id": course.id}),
        (
            "list_all_learnworlds_course_users",
            {"course_id": course.id, "items_per_page": 10, "include_suspended": True},
        ),
        ("list_all_learnworlds_user_enrollments", {"user_id": enrolled.id}),
        ("get_single_learnworlds_user_progress_by_id", {"user_id": enrolled.id}),
        (
            "get_single_learnworlds_user_progress_by_id",
            {"user_id": enrolled.id, "course_id": held},
        ),
        (
            "list_all_learnworlds_event_logs",
            {
                "user_id": enrolled.id,
                "activity": "login",
                "created_after": "2020-01-01",
                "created_before": "2030-01-01",
                "sort": "asc",
            },
        ),
        ("list_all_learnworlds_event_logs", {"activity": "enrollment"}),
        # writes
        (
            "create_a_learnworlds_user",
            {
                "email": "contract+new@example.com",
                "username": "Contract New",
                "first_name": "Contract",
                "last_name": "New",
                "fields": {"company": "Acme", "cf_employee_code": "C1"},
                "tags": ["contract"],
                "send_registration_email": False,
            },
        ),
        ("add_tags_to_a_learnworlds_user", {"user_id": user.id, "tags": ["vip", "contract"]}),
        (
            "create_a_learnworlds_group",
            {
                "title": "Contract cohort",
                "courses": [course.id],
                "description": "Held against the spec",
                "max_number_of_users": 50,
                "enroll_users_on_courses": True,
                "group_managers": [other.email],
                "tags": ["cohort"],
            },
        ),
        ("add_a_learnworlds_user_to_a_group", {"group_id": open_group.id, "user_id": user.id}),
        (
            "enroll_a_learnworlds_user",
            {
                "user_id": user.id,
                "product_id": new_course,
                "price": 0,
                "justification": "Added by admin",
                "send_enrollment_email": False,
            },
        ),
        (
            "enroll_a_learnworlds_user",
            {"user_id": other.id, "product_id": bundle, "product_type": "bundle"},
        ),
        (
            "enroll_a_learnworlds_user",
            {
                "user_id": third.id,
                "product_id": plan,
                "product_type": "subscription",
                "duration_type": "months",
                "duration": 1,
            },
        ),
        # destructive
        (
            "update_a_learnworlds_user_by_id",
            {
                "user_id": user.id,
                "username": "Renamed",
                "fields": {"company": "Globex", "bio": None},
                "tags": ["a", "b"],
            },
        ),
        ("remove_tags_from_a_learnworlds_user", {"user_id": user.id, "tags": ["a"]}),
        ("suspend_a_learnworlds_user", {"user_id": other.email}),
        ("unsuspend_a_learnworlds_user", {"user_id": other.email}),
        (
            "change_a_learnworlds_user_role",
            {
                "user_id": third.id,
                "role_id": instructor.id,
                "assigned_courses": [{"course_id": course.id, "revenue_share_percentage": 10}],
                "assigned_user_group_ids": [group.id],
            },
        ),
        (
            "remove_a_learnworlds_user_from_a_group",
            {"group_id": open_group.id, "user_id": user.id},
        ),
        (
            "update_a_learnworlds_group_by_id",
            {"group_id": open_group.id, "description": "Updated", "tags": ["x"]},
        ),
        (
            "unenroll_a_learnworlds_user",
            {"user_id": user.id, "product_id": new_course, "product_type": "course"},
        ),
        ("unenroll_a_learnworlds_user", {"user_id": user.id, "product_id": new_course}),
    ]


SAMPLE_ARGUMENTS = {
    "user_id": lambda s: learner(s, 3).id,
    "group_id": lambda s: s.groups[0].id,
    "course_id": lambda s: s.courses[0].id,
}
"""What a tool without a call above is given for each required argument (so a new tool is
held against the spec the day it appears; one needing more fails here, naming it)."""

# A call that ends in a tool error is fine for the contract (its requests are still held);
# these are expected to, since they repeat a change that was just made.
MAY_FAIL = {("unenroll_a_learnworlds_user", 1)}


def product_requests(school: SandboxSchool) -> list[LoggedRequest]:
    return [r for r in school.requests if contract.is_product_request(r)]


def describe(requests: list[LoggedRequest], spec: contract.Contract) -> list[str]:
    return [
        f"{r.method} {r.raw_path}?{r.query_items}: {problem}"
        for r in requests
        for problem in spec.problems(r)
    ]


async def test_every_tool_sends_only_what_the_spec_declares(spec: contract.Contract) -> None:
    school = make_school(users=300)
    settings = settings_for(school, allow_writes=True, allow_destructive=True)
    calls = sample_calls(school)
    made: dict[str, int] = {}
    per_tool: dict[str, list[LoggedRequest]] = {}
    async with connected(school, settings) as client:
        listed = [t.name for t in (await client.list_tools()).tools]
        for name in listed:
            if name not in {c[0] for c in calls}:
                schema = next(t for t in (await client.list_tools()).tools if t.name == name)
                required = schema.input_schema.get("required", [])
                unknown = [a for a in required if a not in SAMPLE_ARGUMENTS]
                assert not unknown, f"{name}: add a call to sample_calls() (needs {unknown})"
                calls.append((name, {a: SAMPLE_ARGUMENTS[a](school) for a in required}))
        for name, arguments in calls:
            before = len(school.requests)
            result = await client.call_tool(name, arguments)
            nth = made.get(name, 0)
            made[name] = nth + 1
            if (name, nth) not in MAY_FAIL:
                payload(result)
            per_tool.setdefault(name, []).extend(
                r for r in school.requests[before:] if contract.is_product_request(r)
            )
        cohort = PromptReference(name="learnworlds_cohort_report")
        await client.complete(cohort, {"name": "group", "value": "a"})
        await client.complete(
            cohort, {"name": "course", "value": ""}, context_arguments={"group": "a"}
        )
    assert sorted(made) == sorted(listed), "every tool is driven"
    silent = [name for name, sent in per_tool.items() if not sent]
    assert not silent, f"tools that sent nothing: {silent}"
    writes = {(r.method, spec.template_for(r.raw_path)) for r in school.requests if r.is_write}
    assert len(writes) >= 10, writes  # the write paths were really taken, not dry runs
    sent = product_requests(school)
    assert describe(sent, spec) == []


async def test_the_checker_catches_what_is_off(spec: contract.Contract) -> None:
    """Requests the spec does not declare are caught (so the contract can fail). They are
    sent with httpx's own User-Agent, so the suite-wide check leaves them to this test."""
    school = make_school(users=20, rate_limit=None)
    user = learner(school)
    group = school.groups[0]
    async with httpx2.AsyncClient(
        transport=transport_for(school),
        base_url=f"{SCHOOL_HOST}/admin/api",
        headers=school.auth_headers(),
    ) as http:
        await http.get(f"/v2/user_groups/{group.id}/users", params={"include_suspended": "true"})
        await http.get("/v2/users", params={"page": "two", "role": "owner"})
        await http.get("/v2/no-such-thing")
        await http.post(f"/v2/users/{user.id}/suspend")
        await http.put(f"/v2/users/{user.id}/tags", json={"tags": "vip", "action": "glue"})
        await http.post("/v2/user_groups", json={"title": 5})
        await http.get("/v2/users", headers={"Lw-Client": ""})
        await http.get("/v2/users/segments")  # declared: a literal segment beats {id}
        await http.get("/v2/users", params={"cf_employee_code": "A7", "tags": "a,b"})
    assert not any(contract.is_product_request(r) for r in school.requests)
    found = [spec.problems(r) for r in school.requests]
    assert any("'include_suspended' is not declared" in p for p in found[0])
    assert any("page='two': not an integer" in p for p in found[1])
    assert any("role='owner': not one of" in p for p in found[1])
    assert found[2] == ["path /v2/no-such-thing matches no path of the spec"]
    assert found[3] == ["POST is not declared for /v2/users/{id}/suspend"]
    assert any(p.startswith("body: tags:") for p in found[4])
    assert any(p.startswith("body: action:") for p in found[4])
    assert any("body: title:" in p for p in found[5])
    assert any("body: (top): 'products' is a required property" in p for p in found[5])
    assert "no Lw-Client header" in found[6]
    assert found[7] == [] and found[8] == []


# --------------------------------------------------------------------- the sandbox's replies

SANDBOX_DEVIATIONS: dict[tuple[str, str], str] = {
    ("GET", "/v2/user_groups/{id}/users"): "2026 `{data, meta}` shape (s1_shapes: bare array)",
    ("GET", "/v2/users/{id}/user-groups"): "2026 `{data: {user_groups}}` (s1_shapes: bare)",
    ("GET", "/v2/user-roles"): "the 2026 `license_reporter` access level",
    ("GET", "/v2/bundles/{id}"): "`products.courses` as slugs, as the spec's own example has it",
}
"""Replies where the sandbox follows `learnworlds-api.md` (the newer 2026 spec, or the spec's
own examples) rather than this file's schemas: the sandbox's docstring lists each, with the
reason. Every other reply must validate (with null allowed, as the spec's examples send it)."""


def sandbox_calls(school: SandboxSchool) -> list[tuple[str, str, dict[str, Any] | None]]:
    """One request per operation the sandbox serves, with a body where it takes one."""
    user = learner(school)
    other = learner(school, 1)
    group = next(g for g in school.groups if school.group_members(g.id))
    course = max(school.courses, key=lambda c: (len(school.course_users(c.id)), c.id))
    enrolled = next(
        u for u in school.users if not u.is_suspended and school.enrollments_of(u, "course")
    )
    held = school.enrollments_of(enrolled, "course")[0].product_id
    fresh = next(c.id for c in school.courses if not school.is_enrolled(user, c.id))
    role = school.role_by_title("User")
    assert role is not None
    return [
        ("GET", "/v2/users?page=1", None),
        ("GET", f"/v2/users/{user.id}", None),
        ("GET", f"/v2/users/{enrolled.id}/courses", None),
        ("GET", f"/v2/users/{enrolled.id}/products", None),
        ("GET", f"/v2/users/{enrolled.id}/progress", None),
        ("GET", f"/v2/users/{enrolled.id}/courses/{held}/progress", None),
        ("GET", f"/v2/users/{user.id}/user-groups", None),
        ("GET", f"/v2/users/{user.id}/user-role", None),
        ("GET", "/v2/user-roles", None),
        ("GET", "/v2/user_groups", None),
        ("GET", f"/v2/user_groups/{group.id}", None),
        ("GET", f"/v2/user_groups/{group.id}/users", None),
        ("GET", "/v2/courses", None),
        ("GET", f"/v2/courses/{course.id}", None),
        ("GET", f"/v2/courses/{course.id}/users", None),
        ("GET", f"/v2/courses/{course.id}/contents", None),
        ("GET", f"/v2/bundles/{school.bundles[0].id}", None),
        ("GET", f"/v2/subscription-plans/{school.subscription_plans[0].id}", None),
        ("GET", "/v2/event-logs", None),
        ("POST", "/v2/users", {"email": "spec+reply@example.com", "username": "Spec Reply"}),
        ("PUT", f"/v2/users/{user.id}", {"username": "Spec Renamed"}),
        ("PUT", f"/v2/users/{user.id}/tags", {"tags": ["spec"], "action": "attach"}),
        ("PUT", f"/v2/users/{other.id}/suspend", None),
        ("PUT", f"/v2/users/{other.id}/unsuspend", None),
        (
            "POST",
            f"/v2/users/{user.id}/enrollment",
            {"productId": fresh, "productType": "course", "price": 0},
        ),
        (
            "DELETE",
            f"/v2/users/{user.id}/enrollment",
            {"productId": fresh, "productType": "course"},
        ),
        ("POST", "/v2/user_groups", {"title": "Spec group", "products": {"courses": []}}),
        (
            "PUT",
            f"/v2/user_groups/{group.id}",
            {"title": group.title, "products": {"courses": group.course_ids}},
        ),
        ("POST", f"/v2/user_groups/{group.id}/users/{user.id}", None),
        ("DELETE", f"/v2/user_groups/{group.id}/users/{user.id}", None),
        ("PUT", f"/v2/users/{user.id}/user-role", {"role_id": role.id}),
    ]


@pytest.mark.parametrize("s1_shapes", [False, True], ids=["2026-shapes", "2025-shapes"])
async def test_sandbox_replies_match_the_spec_where_it_describes_them(
    spec: contract.Contract, s1_shapes: bool
) -> None:
    school = make_school(users=60, s1_shapes=s1_shapes, rate_limit=None)
    checked: list[str] = []
    off: dict[tuple[str, str], list[str]] = {}
    async with httpx2.AsyncClient(
        transport=transport_for(school),
        base_url=f"{SCHOOL_HOST}/admin/api",
        headers=school.auth_headers(),
    ) as http:
        for method, path, body in sandbox_calls(school):
            reply = await http.request(method, path, json=body)
            assert reply.status_code < 400, (method, path, reply.text)
            template = spec.template_for(path)
            assert template is not None, path
            op = spec.operation(template, method)
            assert op is not None, (method, template)
            data = json.loads(reply.content) if reply.content else None
            problems = spec.response_problems(op, reply.status_code, data)
            if problems is None:
                continue
            checked.append(f"{method} {template}")
            if problems:
                off[(method, template)] = problems
    expected = {
        key
        for key in SANDBOX_DEVIATIONS
        if not (s1_shapes and "s1_shapes" in SANDBOX_DEVIATIONS[key])
    }
    assert set(off) == expected, json.dumps({f"{k[0]} {k[1]}": v for k, v in off.items()})
    assert len(checked) >= 20, checked  # most operations have a schema to hold the reply to


def test_a_missing_spec_skips_with_its_reason_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setattr(contract, "SPEC_PATH", tmp_path / "learnworlds-openapi-v2.yaml")
    reason = contract.spec_missing_reason()
    assert reason is not None and str(tmp_path) in reason and "never copied" in reason
    monkeypatch.setenv("CI", "true")
    assert contract.must_check()
    monkeypatch.setenv("CI", "")
    assert not contract.must_check()
