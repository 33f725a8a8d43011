"""Values of the 2026 spec that the 2025 file lacks (`tests/openapi_contract.NEWER_SPEC_VALUES`):
the product's results stay right when a school ignores them and answers as if unfiltered."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from learnworlds_mcp.sandbox import SandboxSchool
from tests.support import connected, make_school, payload


def ignoring(school: SandboxSchool, name: str, value: str) -> None:
    """Make `school` drop `name=value` from every query before answering, as a school that
    does not know the value would ignore it."""
    inner = school.gateway

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            pairs = parse_qsl(scope.get("query_string", b"").decode())
            kept = [(k, v) for k, v in pairs if (k, v) != (name, value)]
            scope = {**scope, "query_string": urlencode(kept).encode()}
        await inner(scope, receive, send)

    school.app = app  # type: ignore[assignment]


async def inactive_license_reporters(school: SandboxSchool) -> list[str]:
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "list_all_learnworlds_inactive_staff",
                {"levels": ["license_reporter"], "days": 1},
            )
        )
    assert data["complete"]
    return sorted(m["email"] for m in data["items"])


async def test_inactive_license_reporters_are_right_where_the_role_filter_is_ignored() -> None:
    honoured = await inactive_license_reporters(make_school(users=300))
    school = make_school(users=300)
    ignoring(school, "role", "license_reporter")
    assert await inactive_license_reporters(school) == honoured
    assert honoured, "the school has license reporters to find"
    # the school did answer unfiltered: every user was read
    assert any("role" not in r.query for r in school.requests if r.path == "/v2/users")


@pytest.mark.parametrize("ignored", [False, True])
async def test_enrollment_events_are_right_where_the_activity_is_ignored(ignored: bool) -> None:
    school = make_school(users=120)
    if ignored:
        ignoring(school, "activity", "enrollment")
    async with connected(school) as client:
        data = payload(
            await client.call_tool("list_all_learnworlds_event_logs", {"activity": "enrollment"})
        )
    assert data["items"]
    assert {e["activity"] for e in data["items"]} <= {"enrollment", "manual_enrollment", "purchase"}
