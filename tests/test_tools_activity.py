"""The event-log tool through an MCP client, checked against the sandbox school's event log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from learnworlds_mcp.sandbox import SandboxSchool
from tests.support import connected, error_text, make_school, payload


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def school() -> SandboxSchool:
    return make_school(users=150)


@pytest.fixture(autouse=True)
def fresh_window(school: SandboxSchool) -> None:
    """Each test's server has its own limiter: let the school's window pass (virtual time)."""
    school.clock.advance(11)  # type: ignore[attr-defined]


def newest_first(events: list) -> list:
    return sorted(events, key=lambda e: e.created, reverse=True)


async def test_first_page_is_the_fifty_newest_events(school: SandboxSchool) -> None:
    async with connected(school) as client:
        data = payload(await client.call_tool("list_all_learnworlds_event_logs", {}))
    expected = newest_first(school.events)[:50]
    assert [(e["created"], e["activity"]) for e in data["items"]] == [
        (iso(e.created), e.activity) for e in expected
    ]
    first, event = data["items"][0], expected[0]
    assert first["user_id"] == event.user_id and first["username"] == event.username
    assert first["description"] == event.description
    assert data["total_items"] == len(school.events) and data["next_page"] == 2


async def test_filters_by_user_activity_dates_and_order(school: SandboxSchool) -> None:
    user = max(school.users, key=lambda u: sum(e.user_id == u.id for e in school.events))
    mine = [e for e in school.events if e.user_id == user.id]
    middle = sorted(e.created for e in school.events)[len(school.events) // 2]
    after = datetime.fromtimestamp(middle, UTC).date()
    async with connected(school) as client:
        by_user = payload(
            await client.call_tool(
                "list_all_learnworlds_event_logs", {"user_id": user.email, "sort": "asc"}
            )
        )
        logins = payload(
            await client.call_tool("list_all_learnworlds_event_logs", {"activity": "login"})
        )
        enrollments = payload(
            await client.call_tool("list_all_learnworlds_event_logs", {"activity": "enrollment"})
        )
        recent = payload(
            await client.call_tool(
                "list_all_learnworlds_event_logs", {"created_after": after.isoformat()}
            )
        )
        window = payload(
            await client.call_tool(
                "list_all_learnworlds_event_logs",
                {
                    "created_after": (after - timedelta(days=7)).isoformat(),
                    "created_before": f"{after.isoformat()}T00:00:00Z",
                },
            )
        )
    assert [e["created"] for e in by_user["items"]] == [iso(e.created) for e in mine][:50]
    assert by_user["total_items"] == len(mine)
    assert logins["total_items"] == sum(e.activity == "login" for e in school.events)
    assert {e["activity"] for e in enrollments["items"]} <= {"manual_enrollment", "purchase"}
    assert enrollments["total_items"] == sum(
        e.activity in ("manual_enrollment", "purchase") for e in school.events
    )
    cut = datetime.combine(after, datetime.min.time(), tzinfo=UTC).timestamp()
    assert recent["total_items"] == sum(e.created >= int(cut) for e in school.events)
    assert window["total_items"] == sum(
        int(cut) - 7 * 86400 <= e.created <= int(cut) for e in school.events
    )


async def test_an_enrollment_event_carries_its_details(school: SandboxSchool) -> None:
    async with connected(school) as client:
        data = payload(
            await client.call_tool(
                "list_all_learnworlds_event_logs", {"activity": "manual_enrollment"}
            )
        )
    info = data["items"][0]["additional_info"]
    assert info["product_type"] == "course" and "product_id" in info and info["is_manual"]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"activity": "logged_in"}, "login"),  # the Literal lists the valid names
        ({"activity": "logged_in"}, "complete_course"),
        ({"created_after": "2999-01-01"}, "is in the future"),
        ({"created_after": "last week"}, "is not a date"),
        ({"created_after": "31/01/2024"}, "ISO date"),
        ({"created_after": "2024-02-01", "created_before": "2024-01-01"}, "swap them"),
        ({"user_id": "nobody@nowhere.test"}, "No user"),
        ({"sort": "newest"}, "asc"),
        ({"page": 9999}, "There is no page 9999"),
    ],
)
async def test_bad_input_gets_a_clear_error(
    school: SandboxSchool, arguments: dict, expected: str
) -> None:
    async with connected(school) as client:
        result = await client.call_tool("list_all_learnworlds_event_logs", arguments)
    assert expected in error_text(result)


async def test_a_future_upper_bound_means_up_to_now(school: SandboxSchool) -> None:
    async with connected(school) as client:
        bounded = payload(
            await client.call_tool(
                "list_all_learnworlds_event_logs", {"created_before": "2999-01-01"}
            )
        )
        unbounded = payload(await client.call_tool("list_all_learnworlds_event_logs", {}))
    assert bounded["total_items"] == unbounded["total_items"] > 0


async def test_a_future_date_sends_nothing(school: SandboxSchool) -> None:
    tomorrow_plus = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    school.clear_log()
    async with connected(school) as client:
        result = await client.call_tool(
            "list_all_learnworlds_event_logs", {"created_after": tomorrow_plus}
        )
    assert "in the future" in error_text(result)
    assert not [r for r in school.requests if r.path.startswith("/v2")]
