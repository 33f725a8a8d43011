"""Fuzzing every tool with hypothesis: arguments from its input schema plus hostile strings.

Every call must end in a valid result or a clear tool error — never the SDK's bare "Error
executing tool X" (which means an unexpected exception), never a request outside the tool's own
endpoints (checked in the sandbox's request log), never a dead server.

The MCP client lives in a background event loop (an anyio blocking portal), so hypothesis drives
plain synchronous test functions and shrinks failures as usual.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from learnworlds_mcp.sandbox import SandboxSchool
from tests.support import connected, make_school, settings_for

EXAMPLES_PER_TOOL = 40

# The endpoints each tool may call, as path templates relative to /admin/api ({} = one segment).
ENDPOINTS: dict[str, list[str]] = {
    "list_all_learnworlds_users": ["GET /v2/users"],
    "get_single_learnworlds_user_by_id": ["GET /v2/users/{}"],
    "list_all_learnworlds_roles": ["GET /v2/user-roles"],
    "list_all_learnworlds_groups": ["GET /v2/user_groups"],
    "get_single_learnworlds_group_by_id": ["GET /v2/user_groups/{}"],
    "list_all_learnworlds_event_logs": ["GET /v2/event-logs"],
    "list_all_learnworlds_courses": ["GET /v2/courses"],
    "get_single_learnworlds_course_by_id": ["GET /v2/courses/{}"],
    "list_all_learnworlds_group_members": ["GET /v2/user_groups/{}/users", "GET /v2/user_groups/{}"],
    "list_all_learnworlds_user_groups": ["GET /v2/users/{}/user-groups"],
    "list_all_learnworlds_course_users": ["GET /v2/courses/{}/users"],
    "list_all_learnworlds_user_enrollments": ["GET /v2/users/{}/courses"],
    "get_single_learnworlds_user_progress_by_id": [
        "GET /v2/users/{}/progress", "GET /v2/users/{}/courses/{}/progress",
        "GET /v2/courses/{}", "GET /v2/users/{}",
    ],
    "get_single_learnworlds_user_role_by_id": ["GET /v2/users/{}/user-role"],
    "list_all_learnworlds_inactive_staff": ["GET /v2/users"],
    "get_single_learnworlds_group_report_by_id": [
        "GET /v2/user_groups/{}", "GET /v2/user_groups", "GET /v2/users/{}", "GET /v2/courses/{}",
        "GET /v2/user_groups/{}/users", "GET /v2/users/{}/progress",
    ],
    "list_all_learnworlds_group_managers": ["GET /v2/user_groups", "GET /v2/users/{}"],
    "get_single_learnworlds_user_overview_by_id": [
        "GET /v2/users/{}", "GET /v2/users/{}/user-role", "GET /v2/users/{}/user-groups",
        "GET /v2/users/{}/courses", "GET /v2/users/{}/progress", "GET /v2/event-logs",
    ],
    # writes and destructive changes: their pre-checks (reads), then the one write
    "create_a_learnworlds_user": ["GET /v2/users/{}", "POST /v2/users"],
    "add_tags_to_a_learnworlds_user": ["GET /v2/users/{}", "PUT /v2/users/{}/tags"],
    "enroll_a_learnworlds_user": [
        "GET /v2/users/{}", "GET /v2/users/{}/products", "GET /v2/courses/{}",
        "GET /v2/bundles/{}", "GET /v2/subscription-plans/{}", "POST /v2/users/{}/enrollment",
    ],
    "add_a_learnworlds_user_to_a_group": [
        "GET /v2/user_groups/{}", "GET /v2/users/{}", "GET /v2/users/{}/user-groups",
        "GET /v2/user_groups/{}/users", "POST /v2/user_groups/{}/users/{}",
    ],
    "create_a_learnworlds_group": ["GET /v2/courses/{}", "GET /v2/users/{}", "POST /v2/user_groups"],
    "update_a_learnworlds_user_by_id": ["GET /v2/users/{}", "PUT /v2/users/{}"],
    "remove_tags_from_a_learnworlds_user": ["GET /v2/users/{}", "PUT /v2/users/{}/tags"],
    "suspend_a_learnworlds_user": ["GET /v2/users/{}", "PUT /v2/users/{}/suspend"],
    "unsuspend_a_learnworlds_user": ["GET /v2/users/{}", "PUT /v2/users/{}/unsuspend"],
    "unenroll_a_learnworlds_user": [
        "GET /v2/users/{}", "GET /v2/users/{}/products", "DELETE /v2/users/{}/enrollment",
    ],
    "remove_a_learnworlds_user_from_a_group": [
        "GET /v2/user_groups/{}", "GET /v2/users/{}", "GET /v2/users/{}/user-groups",
        "DELETE /v2/user_groups/{}/users/{}",
    ],
    "update_a_learnworlds_group_by_id": [
        "GET /v2/user_groups/{}", "GET /v2/courses/{}", "GET /v2/users/{}",
        "GET /v2/user_groups/{}/users", "PUT /v2/user_groups/{}",
    ],
    "change_a_learnworlds_user_role": [
        "GET /v2/users/{}/user-role", "GET /v2/user-roles", "GET /v2/courses/{}",
        "GET /v2/user_groups/{}", "PUT /v2/users/{}/user-role",
    ],
}  # fmt: skip

HOSTILE = [
    "",
    " ",
    "..",
    "../../v2/users",
    "a/b",
    "%2e%2e%2f",
    "%00",
    "x?include_suspended=true",
    "x#frag",
    "a\\b",
    "tab\tchar",
    "line\nbreak",
    "nul\x00byte",
    "\u202eevil",
    "😀@example.com",
    "ｊａｎｅ@acme.com",
    "Ünïcødé",
    "a" * 5_000,
    "jane@acme.com",
    "'; DROP TABLE users; --",
    "{{7*7}}",
    "null",
    "-1",
    "1e309",
]


def compile_template(template: str) -> tuple[str, re.Pattern[str]]:
    method, path = template.split(" ", 1)
    pattern = re.escape(path).replace(r"\{\}", "[^/]+")
    return method, re.compile(f"^{pattern}$")


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))


def value_for(
    schema: dict[str, Any], school_ids: list[str], well_typed: bool = True
) -> st.SearchStrategy[Any]:
    """A strategy for one property: well-typed (hostile values still), or sometimes not."""
    wrong = st.one_of(
        st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)
    )
    kind = schema.get("type")
    if "enum" in schema:
        right: st.SearchStrategy[Any] = st.one_of(st.sampled_from(schema["enum"]), hostile_text())
    elif kind == "string":
        right = st.one_of(
            hostile_text(), st.sampled_from(school_ids), st.dates().map(str), st.emails()
        )
    elif kind == "integer":
        low, high = schema.get("minimum", -5), schema.get("maximum", 500)
        right = st.integers(min_value=low - 3, max_value=high + 3)
    elif kind == "number":
        right = st.floats(allow_nan=False, min_value=-1e6, max_value=1e6)
    elif kind == "boolean":
        right = st.booleans()
    elif kind == "array":
        items = schema.get("items", {})
        right = st.lists(value_for(items, school_ids, well_typed), max_size=4)
    elif kind == "object":
        right = st.dictionaries(hostile_text(), hostile_text(), max_size=3)
    else:
        right = hostile_text()
    return right if well_typed else st.one_of(right, wrong)


def arguments_for(
    schema: dict[str, Any], school_ids: list[str]
) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = {
        name: value_for(sub, school_ids) for name, sub in properties.items() if name in required
    }
    optional = {
        name: value_for(sub, school_ids) for name, sub in properties.items() if name not in required
    }
    return st.fixed_dictionaries(fixed, optional=optional)


class Harness:
    """One school, one server, one client in a background loop for all examples of a tool."""

    def __init__(self, portal: BlockingPortal, school: SandboxSchool, client: Client) -> None:
        self.portal, self.school, self.client = portal, school, client

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        return self.portal.call(self.client.call_tool, name, arguments)


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    school = make_school(users=80)
    options = settings_for(school, allow_writes=True, allow_destructive=True)
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(connected(school, options)) as client,
    ):
        yield Harness(portal, school, client)


@pytest.fixture(scope="module")
def tool_schemas(harness: Harness) -> dict[str, dict[str, Any]]:
    tools = harness.portal.call(harness.client.list_tools).tools
    return {t.name: t.input_schema for t in tools}


def test_every_tool_has_an_endpoint_table_entry(tool_schemas: dict[str, dict[str, Any]]) -> None:
    assert set(tool_schemas) == set(ENDPOINTS)


@pytest.mark.parametrize("tool", sorted(ENDPOINTS))
def test_fuzz_tool(tool: str, harness: Harness, tool_schemas: dict[str, dict[str, Any]]) -> None:
    school = harness.school
    ids = [u.id for u in school.users[:5]] + [u.email for u in school.users[:5]]
    ids += [g.id for g in school.groups[:3]] + [c.id for c in school.courses[:3]]
    ids += [r.id for r in school.roles[:3]]
    allowed = [compile_template(t) for t in ENDPOINTS[tool]] + [
        compile_template("POST /oauth2/access_token")
    ]

    reached = 0  # examples that got past validation to the school

    @settings(
        max_examples=EXAMPLES_PER_TOOL,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
        derandomize=True,  # the same examples every run: CI is reproducible
    )
    @given(arguments=arguments_for(tool_schemas[tool], ids))
    def run(arguments: dict[str, Any]) -> None:
        nonlocal reached
        before = len(school.requests)
        result = harness.call(tool, arguments)
        if result.is_error:
            text = " ".join(getattr(block, "text", "") for block in result.content)
            prefix = f"Error executing tool {tool}"
            assert text.startswith(prefix), text
            assert len(text) > len(prefix) + 10, f"bare error for {arguments!r}: {text!r}"
        else:
            assert result.structured_content is not None
        reached += any(r.path.startswith("/v2/") for r in school.requests[before:])
        for request in school.requests[before:]:
            assert any(
                request.method == method and pattern.match(request.raw_path.split("?")[0])
                for method, pattern in allowed
            ), f"{tool} sent {request.method} {request.raw_path} for {arguments!r}"

    run()
    assert reached > 0, f"no example of {tool} got past validation to the school"
    alive = harness.call("list_all_learnworlds_roles", {})
    assert not alive.is_error
