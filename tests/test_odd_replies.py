"""Odd but legal replies the sandbox cannot produce, through an MCP client and a mock school.

A null where a list belongs, a timestamp no calendar holds, a record where a list belongs: the
tools either read past it or answer a clear tool error — never the SDK's bare "Error executing
tool X", never the reply's values. Once a write was accepted, every failure says the change was
made and must not be sent again.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import SecretStr

from learnworlds_mcp.clock import FakeClock
from learnworlds_mcp.config import Settings
from learnworlds_mcp.errors import InvalidRequestError, UnexpectedResponseError
from learnworlds_mcp.models.common import to_int, to_iso
from learnworlds_mcp.models.courses import Course
from learnworlds_mcp.models.groups import Group, course_slugs
from learnworlds_mcp.models.users import User, UserSummary
from learnworlds_mcp.server import build_server
from learnworlds_mcp.tools.registry import clear_errors
from tests.support import error_text, payload

API = "https://school.example.com/admin/api"
META = {"page": 1, "totalItems": 1, "totalPages": 1, "itemsPerPage": 20}
UID = "a" * 24
GID = "b" * 24
USER = {
    "id": UID,
    "email": "x@y.com",
    "username": "X",
    "tags": None,
    "role": {"level": "user", "name": "User"},
    "created": 1700000000.5,
    "last_login": None,
    "is_suspended": False,
}
GROUP = {
    "id": GID,
    "title": "G",
    "description": None,
    "products": {"courses": []},
    "group_managers": None,
    "tags": None,
    "created": 1.0,
    "modified": 2.0,
}
COURSE = {"id": "c1", "title": "C", "categories": None, "access": "paid", "created": 1.0}
SECRET_LOOKING = "s3cr3t-V4LUE-in-the-reply"

Reply = Callable[[httpx2.Request], Any]


@dataclass
class MockSchool:
    """Routes by method and path below /admin/api; a route answers JSON or an `httpx2.Response`."""

    routes: dict[tuple[str, str], Reply] = field(default_factory=dict)
    sent: list[tuple[str, str]] = field(default_factory=list)

    def on(self, method: str, path: str, reply: Any) -> MockSchool:
        self.routes[(method, path)] = reply if callable(reply) else (lambda _r: reply)
        return self

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.raw_path.decode().split("?")[0].removeprefix("/admin/api")
        if path.endswith("/oauth2/access_token"):
            token = {"access_token": "T" * 40, "token_type": "Bearer", "expires_in": 8000}
            return httpx2.Response(200, json={"tokenData": token})
        self.sent.append((request.method, path))
        route = self.routes.get((request.method, path))
        if route is None:
            return httpx2.Response(404, json={"success": False, "error": "Not found"})
        answer = route(request)
        return answer if isinstance(answer, httpx2.Response) else httpx2.Response(200, json=answer)

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [s for s in self.sent if s[0] != "GET"]


@asynccontextmanager
async def mock_client(school: MockSchool, writes: bool = False) -> AsyncIterator[Client]:
    settings = Settings(
        api_url=API,
        client_id="c" * 24,
        client_secret=SecretStr("s" * 20),
        allow_writes=writes,
        allow_destructive=writes,
        confirm_destructive="off",
    )
    server = build_server(
        settings, transport=httpx2.MockTransport(school.handle), clock=FakeClock()
    )
    async with Client(server) as client:
        yield client


async def call(
    school: MockSchool, tool: str, arguments: dict[str, Any], writes: bool = False
) -> CallToolResult:
    async with mock_client(school, writes) as client:
        return await client.call_tool(tool, arguments)


def clear_error(result: CallToolResult, tool: str) -> str:
    """The error text, checked to be a message and not the SDK's bare error or a value."""
    text = error_text(result)
    assert text.startswith(f"Error executing tool {tool}: "), text
    assert len(text) > len(f"Error executing tool {tool}: ") + 20, text
    assert SECRET_LOOKING not in text
    return text


# ------------------------------------------------------------- the models read past odd values


async def test_null_lists_read_as_empty_lists() -> None:
    school = (
        MockSchool()
        .on("GET", "/v2/users", {"data": [USER], "meta": META})
        .on("GET", f"/v2/user_groups/{GID}", GROUP)
        .on("GET", "/v2/courses", {"data": [COURSE], "meta": META})
    )
    async with mock_client(school) as client:
        users = payload(await client.call_tool("list_all_learnworlds_users", {}))
        group = payload(
            await client.call_tool("get_single_learnworlds_group_by_id", {"group_id": GID})
        )
        courses = payload(await client.call_tool("list_all_learnworlds_courses", {}))
    assert users["items"][0]["tags"] == []
    assert group["group_managers"] == [] and group["tags"] == [] and group["products"] == []
    assert courses["items"][0]["categories"] == []


async def test_null_titles_and_activities_are_kept_as_null() -> None:
    event = {"created": 1700000000, "activity": None, "user": {"id": UID, "username": "X"}}
    school = (
        MockSchool()
        .on("GET", "/v2/user-roles", {"data": [{"id": "r1", "title": None}]})
        .on("GET", "/v2/event-logs", {"data": [event], "meta": META})
        .on("GET", "/v2/courses", {"data": [{**COURSE, "title": None}], "meta": META})
    )
    async with mock_client(school) as client:
        roles = payload(await client.call_tool("list_all_learnworlds_roles", {}))
        events = payload(await client.call_tool("list_all_learnworlds_event_logs", {}))
        courses = payload(await client.call_tool("list_all_learnworlds_courses", {}))
    assert roles["items"] == [{"id": "r1"}]
    assert "activity" not in events["items"][0] and events["items"][0]["user_id"] == UID
    assert "title" not in courses["items"][0]


@pytest.mark.parametrize("created", [1.7e15, -1e20, "inf", "-inf", "nan", 1e308])
async def test_timestamps_no_calendar_holds_read_as_absent(created: Any) -> None:
    school = MockSchool().on("GET", "/v2/users", {"data": [{**USER, "created": created}]})
    data = payload(await call(school, "list_all_learnworlds_users", {}))
    assert "created" not in data["items"][0]


async def test_nan_and_infinity_in_the_json_read_as_absent() -> None:
    body = json.dumps({"data": [{**USER, "created": math.nan, "last_login": math.inf}]})
    school = MockSchool().on(
        "GET", "/v2/users", lambda _r: httpx2.Response(200, content=body.encode())
    )
    data = payload(await call(school, "list_all_learnworlds_users", {}))
    assert "created" not in data["items"][0] and "last_login" not in data["items"][0]


def test_to_iso_and_to_int_return_none_for_unusable_numbers() -> None:
    for value in (math.nan, math.inf, -math.inf, 1.7e15, -1e20, 1e308, "nan", "inf"):
        assert to_iso(value) is None, value
    for value in (math.nan, math.inf, -math.inf, "nan", "inf", "1e400"):
        assert to_int(value) is None, value
    assert to_iso(0) == "1970-01-01T00:00:00Z" and to_int("3.0") == 3


@pytest.mark.parametrize("model", [User, UserSummary, Group, Course])
@pytest.mark.parametrize("data", [None, [], ["x"], "x"])
def test_from_api_refuses_what_is_not_a_record(model: Any, data: Any) -> None:
    with pytest.raises(UnexpectedResponseError, match="reply was not a"):
        model.from_api(data)


def test_course_slugs_is_one_reading_of_products() -> None:
    assert course_slugs({"courses": ["a", "b"]}) == ["a", "b"]
    assert course_slugs(["a", 7]) == ["a", "7"]
    for odd in (None, {"courses": None}, {"courses": "a"}, "a", {}):
        assert course_slugs(odd) == []
    assert course_slugs({"courses": ["a", None, True, {"id": "x"}]}) == ["a"]
    assert Group.from_api({"id": GID, "title": "G", "products": {"courses": "a"}}).products == []


# ----------------------------------------------------------- replies the models cannot read


@pytest.mark.parametrize(
    ("tool", "arguments", "path"),
    [
        ("get_single_learnworlds_user_by_id", {"user_id": UID}, f"/v2/users/{UID}"),
        ("get_single_learnworlds_group_by_id", {"group_id": GID}, f"/v2/user_groups/{GID}"),
        ("get_single_learnworlds_course_by_id", {"course_id": "c1"}, "/v2/courses/c1"),
    ],
)
async def test_a_record_that_is_a_list_is_a_clear_error(
    tool: str, arguments: dict[str, Any], path: str
) -> None:
    school = MockSchool().on("GET", path, [{"id": SECRET_LOOKING}])
    text = clear_error(await call(school, tool, arguments), tool)
    assert "reply was not a" in text


async def test_an_unreadable_item_names_the_field_and_not_the_value() -> None:
    odd = {**USER, "email": {"value": SECRET_LOOKING}}
    school = MockSchool().on("GET", "/v2/users", {"data": [odd], "meta": META})
    text = clear_error(
        await call(school, "list_all_learnworlds_users", {}), "list_all_learnworlds_users"
    )
    assert "unexpected shape" in text and "email" in text and "report it" in text


async def test_a_resolver_reading_an_odd_reply_is_a_clear_error() -> None:
    school = MockSchool().on(
        "GET", f"/v2/users/{UID}/user-role", {**ROLE, "assigned_courses": SECRET_LOOKING}
    )
    school.on("GET", "/v2/user-roles", {"data": [{"id": "r2", "title": "T"}]})
    text = clear_error(
        await call(
            school,
            "change_a_learnworlds_user_role",
            {"user_id": UID, "role_id": "r2", "dry_run": True},
            writes=True,
        ),
        "change_a_learnworlds_user_role",
    )
    assert "unexpected shape" in text and "assigned_courses" in text and not school.writes


async def test_the_error_helper_maps_task_group_failures_and_keeps_tool_errors() -> None:
    import anyio

    @clear_errors
    async def grouped() -> None:
        async def odd() -> None:
            {}["missing"]

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(odd)

    @clear_errors
    async def own() -> None:
        raise ToolError("mine")

    @clear_errors
    async def known() -> None:
        raise InvalidRequestError("No such thing.")

    with pytest.raises(ToolError, match="unexpected shape: missing field 'missing'"):
        await grouped()
    with pytest.raises(ToolError, match=r"^mine$"):
        await own()
    with pytest.raises(ToolError, match=r"^No such thing\.$"):
        await known()


# ------------------------------------------------------------- after a write was accepted


def _groups_route(reply: Callable[[], httpx2.Response]) -> Reply:
    def route(request: httpx2.Request) -> Any:
        if request.method == "POST":
            return reply()
        return {"data": [], "meta": {**META, "totalItems": 0}}

    return route


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(
            lambda: httpx2.Response(201, json={**GROUP, "group_managers": SECRET_LOOKING}),
            id="unreadable-record",
        ),
        pytest.param(lambda: httpx2.Response(201, content=b"<html>ok</html>"), id="not-json"),
        pytest.param(lambda: httpx2.Response(201, json={"success": True}), id="no-record"),
    ],
)
async def test_a_created_group_whose_reply_cannot_be_read_says_it_was_made(
    reply: Callable[[], httpx2.Response],
) -> None:
    school = MockSchool()
    school.routes[("POST", "/v2/user_groups")] = _groups_route(reply)
    result = await call(
        school, "create_a_learnworlds_group", {"title": "Cohort", "courses": []}, writes=True
    )
    text = clear_error(result, "create_a_learnworlds_group")
    assert text.count("The change was made") == 1 and "Do not send it again" in text
    assert "list_all_learnworlds_groups" in text
    assert school.writes == [("POST", "/v2/user_groups")]


async def test_a_created_group_whose_reply_holds_nulls_is_done() -> None:
    school = MockSchool()
    school.routes[("POST", "/v2/user_groups")] = _groups_route(
        lambda: httpx2.Response(201, json={**GROUP, "tags": None})
    )
    data = payload(
        await call(
            school, "create_a_learnworlds_group", {"title": "Cohort", "courses": []}, writes=True
        )
    )
    assert data["status"] == "done" and data["group"]["tags"] == []
    assert school.writes == [("POST", "/v2/user_groups")]


async def test_a_created_user_whose_read_back_is_odd_says_it_was_made() -> None:
    made: list[str] = []

    def user(request: httpx2.Request) -> Any:
        if request.method == "POST":
            made.append("POST")
            return httpx2.Response(201, json={"success": True})
        if not made:
            return httpx2.Response(404, json={"success": False, "error": "User not found"})
        return {**USER, "email": "new@y.com", "role": SECRET_LOOKING}

    school = MockSchool().on("POST", "/v2/users", user).on("GET", "/v2/users/new%40y.com", user)
    result = await call(
        school, "create_a_learnworlds_user", {"email": "new@y.com", "username": "New"}, True
    )
    text = clear_error(result, "create_a_learnworlds_user")
    assert "The change was made" in text and "get_single_learnworlds_user_by_id" in text
    assert school.writes == [("POST", "/v2/users")]


# --------------------------------------------------------------------------------- roles

ROLE = {
    "id": UID,
    "email": "x@y.com",
    "username": "X",
    "role_id": "r1",
    "user_role": {"id": "r1", "access_level": "instructor", "name": "Instructor"},
    "assigned_courses": [{"course_id": "c1", "revenue_share_percentage": None}],
    "assigned_user_group_ids": [],
}


async def test_a_null_revenue_share_is_kept_as_zero() -> None:
    school = (
        MockSchool()
        .on("GET", f"/v2/users/{UID}/user-role", ROLE)
        .on("GET", "/v2/user-roles", {"data": [{"id": "r2", "title": "T", "access_level": "user"}]})
    )
    data = payload(
        await call(
            school,
            "change_a_learnworlds_user_role",
            {"user_id": UID, "role_id": "r2", "dry_run": True},
            writes=True,
        )
    )
    assert data["status"] == "dry_run"
    assert data["request"]["body"]["assigned_courses"] == [
        {"course_id": "c1", "revenue_share_percentage": 0.0}
    ]


async def test_the_same_role_with_a_null_revenue_share_is_unchanged() -> None:
    school = (
        MockSchool()
        .on("GET", f"/v2/users/{UID}/user-role", ROLE)
        .on("GET", "/v2/user-roles", {"data": [{"id": "r1", "title": "I"}]})
    )
    data = payload(
        await call(
            school, "change_a_learnworlds_user_role", {"user_id": UID, "role_id": "r1"}, True
        )
    )
    assert data["status"] == "unchanged" and not school.writes
