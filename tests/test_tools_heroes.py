"""The five hero tools through an MCP client, checked against the sandbox school's own data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from learnworlds_mcp.sandbox import SandboxSchool
from tests.support import connected, error_text, make_school, payload


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return make_school(users=150)


def visible(school: SandboxSchool) -> list:
    return [u for u in school.users if not u.is_suspended]


async def test_list_users_first_page_matches_the_school(school: SandboxSchool) -> None:
    async with connected(school) as client:
        data = payload(await client.call_tool("list_all_learnworlds_users", {"items_per_page": 7}))
    expected = visible(school)[:7]
    assert [u["id"] for u in data["items"]] == [u.id for u in expected]
    first = data["items"][0]
    user = expected[0]
    assert first["email"] == user.email
    assert first["created"] == iso(user.created)
    assert first.get("last_login") == iso(user.last_login)
    assert first["role"]["level"] == school.role(user.role_id).access_level
    assert set(first) <= {
        "id",
        "email",
        "username",
        "first_name",
        "last_name",
        "role",
        "tags",
        "created",
        "last_login",
        "suspended",
    }
    assert data["total_items"] == len(visible(school))
    assert data["page"] == 1 and data["next_page"] == 2


async def test_paging_walks_every_user_once_and_stops(school: SandboxSchool) -> None:
    seen: list[str] = []
    page: int | None = 1
    calls = 0
    async with connected(school) as client:
        while page is not None:
            data = payload(
                await client.call_tool(
                    "list_all_learnworlds_users", {"page": page, "items_per_page": 40}
                )
            )
            seen += [u["id"] for u in data["items"]]
            page = data["next_page"]
            calls += 1
    assert seen == [u.id for u in visible(school)]
    assert calls == -(-len(seen) // 40)


async def test_filters_reach_the_api_and_narrow_the_list(school: SandboxSchool) -> None:
    admins = [u for u in visible(school) if school.role(u.role_id).access_level == "admin"]
    tagged = next(u for u in visible(school) if u.tags)
    async with connected(school) as client:
        by_role = payload(await client.call_tool("list_all_learnworlds_users", {"role": "admin"}))
        by_tag = payload(
            await client.call_tool("list_all_learnworlds_users", {"tags": [tagged.tags[0]]})
        )
        suspended = payload(
            await client.call_tool("list_all_learnworlds_users", {"status": "suspended"})
        )
        cutoff = sorted(u.created for u in school.users)[len(school.users) // 2]
        recent = payload(
            await client.call_tool(
                "list_all_learnworlds_users",
                {"registered_after": iso(cutoff), "include_suspended": True, "items_per_page": 200},
            )
        )
    assert by_role["total_items"] == len(admins)
    assert all(u["role"]["level"] == "admin" for u in by_role["items"])
    assert all(tagged.tags[0] in u["tags"] for u in by_tag["items"])
    assert suspended["items"] and all(u["suspended"] for u in suspended["items"])
    assert {u["id"] for u in recent["items"]} == {
        u.id for u in school.users if u.created >= int(cutoff)
    }
    query = school.requests[-1].query
    assert query["registration_after"] == str(int(cutoff)) and query["include_suspended"] == "true"


async def test_get_user_by_id_and_by_email_give_the_full_record(school: SandboxSchool) -> None:
    user = (
        next(u for u in visible(school) if "+" in u.email)
        if any("+" in u.email for u in visible(school))
        else visible(school)[3]
    )
    async with connected(school) as client:
        by_id = payload(
            await client.call_tool("get_single_learnworlds_user_by_id", {"user_id": user.id})
        )
        by_email = payload(
            await client.call_tool(
                "get_single_learnworlds_user_by_id", {"user_id": user.email.upper()}
            )
        )
    assert by_id == by_email
    assert by_id["id"] == user.id and by_id["email"] == user.email
    assert by_id["is_admin"] == (school.role(user.role_id).access_level == "admin")
    filled = {k: v for k, v in user.fields.items() if v not in (None, "")}
    assert by_id.get("fields", {}) == filled
    if user.nps_score is not None:
        assert by_id["nps_score"] == user.nps_score


async def test_get_user_finds_suspended_users(school: SandboxSchool) -> None:
    user = next(u for u in school.users if u.is_suspended)
    async with connected(school) as client:
        data = payload(
            await client.call_tool("get_single_learnworlds_user_by_id", {"user_id": user.id})
        )
    assert data["suspended"] is True


async def test_roles_are_all_listed_and_filterable(school: SandboxSchool) -> None:
    async with connected(school) as client:
        everything = payload(await client.call_tool("list_all_learnworlds_roles", {}))
        reporters = payload(
            await client.call_tool("list_all_learnworlds_roles", {"access_level": ["reporter"]})
        )
    assert [r["title"] for r in everything["items"]] == [r.title for r in school.roles]
    assert everything["next_page"] is None and everything["total_items"] == len(school.roles)
    assert any(r.get("custom_role") for r in everything["items"])
    assert reporters["items"] and all(r["access_level"] == "reporter" for r in reporters["items"])


async def test_groups_list_and_get(school: SandboxSchool) -> None:
    group = next(g for g in school.groups if g.manager_ids)
    async with connected(school) as client:
        listed = payload(await client.call_tool("list_all_learnworlds_groups", {}))
        one = payload(
            await client.call_tool("get_single_learnworlds_group_by_id", {"group_id": group.id})
        )
    assert [g["id"] for g in listed["items"]] == [g.id for g in school.groups[:20]]
    assert one["title"] == group.title
    assert one["products"] == group.course_ids
    assert [m["id"] for m in one["group_managers"]] == group.manager_ids
    assert one["group_managers"][0]["email"] == school.user(group.manager_ids[0]).email


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        (
            "get_single_learnworlds_user_by_id",
            {"user_id": "nobody@nowhere.test"},
            "user_id takes the user's id or their email",
        ),
        ("get_single_learnworlds_user_by_id", {"user_id": "ffffffffffffffffffffffff"}, "No user"),
        (
            "get_single_learnworlds_group_by_id",
            {"group_id": "ffffffffffffffffffffffff"},
            "No group",
        ),
        ("get_single_learnworlds_user_by_id", {"user_id": "a/b"}, "contains '/'"),
        ("get_single_learnworlds_user_by_id", {"user_id": ".."}, "is not an id"),
        ("get_single_learnworlds_user_by_id", {"user_id": "x?y"}, "contains '?'"),
        ("get_single_learnworlds_user_by_id", {"user_id": "x#y"}, "contains '#'"),
        ("get_single_learnworlds_user_by_id", {"user_id": "x y"}, "contains ' '"),
        ("get_single_learnworlds_user_by_id", {"user_id": "100%"}, "contains '%'"),
        ("get_single_learnworlds_user_by_id", {"user_id": ""}, "user_id is empty"),
        ("get_single_learnworlds_group_by_id", {"group_id": "../users"}, "contains '/'"),
        ("list_all_learnworlds_users", {"page": 0}, "greater than or equal to 1"),
        ("list_all_learnworlds_users", {"page": 99}, "There is no page 99"),
        ("list_all_learnworlds_groups", {"page": 5}, "the group list has 1 page"),
        ("list_all_learnworlds_users", {"items_per_page": 0}, "items_per_page"),
        ("list_all_learnworlds_users", {"items_per_page": 201}, "items_per_page"),
        ("list_all_learnworlds_users", {"role": "superuser"}, "role"),
        ("list_all_learnworlds_users", {"status": "active"}, "status"),
        ("list_all_learnworlds_users", {"registered_after": "last tuesday"}, "is not a date"),
        ("list_all_learnworlds_users", {"tags": ["a,b"]}, "cannot contain commas"),
        ("list_all_learnworlds_roles", {"access_level": ["boss"]}, "access_level"),
    ],
)
async def test_bad_input_gets_a_clear_tool_error_and_the_next_call_works(
    school: SandboxSchool, tool: str, arguments: dict, expected: str
) -> None:
    async with connected(school) as client:
        result = await client.call_tool(tool, arguments)
        assert expected in error_text(result)
        assert payload(await client.call_tool("list_all_learnworlds_roles", {}))["items"]


async def test_no_request_leaves_for_an_invalid_id(school: SandboxSchool) -> None:
    school.clear_log()
    async with connected(school) as client:
        await client.call_tool("get_single_learnworlds_user_by_id", {"user_id": "../../v2/users"})
    assert school.requests == []


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("expired_static", "LEARNWORLDS_ACCESS_TOKEN"),
        ("no_api_access", "HTTP 403"),
        ("malformed", "not JSON"),
        ("server_down", "HTTP 503"),
    ],
)
async def test_school_failures_become_clear_messages(fault: str, expected: str) -> None:
    from tests.support import settings_for

    school = make_school(users=20, api_access=fault != "no_api_access")
    settings = settings_for(
        school, secret=fault != "expired_static", token=fault == "expired_static"
    )
    if fault == "expired_static":
        school.faults.expire_tokens()
    elif fault == "malformed":
        school.faults.malformed_next(path_contains="/v2/")
    elif fault == "server_down":
        school.faults.fail_next(count=3, status=503, path_contains="/v2/")
    async with connected(school, settings) as client:
        result = await client.call_tool("list_all_learnworlds_roles", {})
        text = error_text(result)
        assert expected in text
        assert "Error executing tool list_all_learnworlds_roles:" in text and len(text) > 60


async def test_wrong_secret_unreachable_and_slow_school_are_clear_tool_errors() -> None:
    from pydantic import SecretStr

    from tests.support import settings_for

    school = make_school(users=20)
    wrong = settings_for(school, client_secret=SecretStr("not-the-secret"))
    async with connected(school, wrong) as client:
        text = error_text(await client.call_tool("list_all_learnworlds_roles", {}))
    assert "LEARNWORLDS_CLIENT_SECRET" in text and "not-the-secret" not in text

    slow = settings_for(school, timeout=0.2)
    async with connected(school, slow) as client:
        await client.call_tool("list_all_learnworlds_roles", {})  # mint first
        school.faults.slow_next(count=3, seconds=1.0, path_contains="/v2/")
        text = error_text(await client.call_tool("list_all_learnworlds_roles", {}))
        assert "did not answer within 0.2 s" in text
        assert payload(await client.call_tool("list_all_learnworlds_roles", {}))["items"]


async def test_unreachable_school_is_a_clear_tool_error() -> None:
    import socket

    from mcp import Client

    from learnworlds_mcp.server import build_server
    from tests.support import settings_for

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    school = make_school(users=5)
    settings = settings_for(school, api_url=f"http://127.0.0.1:{port}/admin/api")
    async with Client(build_server(settings)) as client:
        text = error_text(await client.call_tool("list_all_learnworlds_roles", {}))
    assert "did not answer" in text or "Could not" in text
    assert "LEARNWORLDS_API_URL" in text


async def test_a_plain_before_date_includes_that_whole_day(school: SandboxSchool) -> None:
    user = visible(school)[10]
    day = iso(user.created)[:10]  # type: ignore[index]
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "list_all_learnworlds_users",
                {"registered_after": day, "registered_before": day, "items_per_page": 200},
            )
        )
    assert user.id in {u["id"] for u in data["items"]}
