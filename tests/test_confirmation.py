"""The person confirms destructive changes, not the model (DESIGN §3, LEARNWORLDS_CONFIRM_DESTRUCTIVE).

A client with an elicitation callback stands in for the person. Accept → the change is made
once; decline or cancel → nothing is sent and the result says so. Clients without the
capability, `confirm_destructive="off"`, dry runs, changes already in effect and additive writes
are never asked. Both protocol generations: `legacy` (a mid-call elicitation request) and the
default `auto` (the 2026 input-required round trip).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from mcp_types import ElicitRequestParams, ElicitResult

from learnworlds_mcp.sandbox import SandboxSchool
from tests.support import (
    connected,
    error_text,
    learner,
    make_school,
    payload,
    settings_for,
    write_requests,
)

DESTRUCTIVE = [
    "update_a_learnworlds_user_by_id",
    "remove_tags_from_a_learnworlds_user",
    "suspend_a_learnworlds_user",
    "unsuspend_a_learnworlds_user",
    "unenroll_a_learnworlds_user",
    "remove_a_learnworlds_user_from_a_group",
    "update_a_learnworlds_group_by_id",
    "change_a_learnworlds_user_role",
]


@dataclass
class Person:
    """An elicitation callback that answers every question the same way, and remembers them."""

    action: str = "accept"
    content: dict[str, Any] | None = field(default_factory=lambda: {"confirm": True})
    asked: list[str] = field(default_factory=list)
    schemas: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(params.message)
        self.schemas.append(getattr(params, "requested_schema", {}))
        content = self.content if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)  # type: ignore[arg-type]


def settings(school: SandboxSchool, **overrides: Any) -> Any:
    return settings_for(school, allow_writes=True, allow_destructive=True, **overrides)


# ----- accept / decline / cancel, both protocol generations -----------------------------------


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_accept_makes_the_change_once(mode: str) -> None:
    school = make_school(users=20)
    user = learner(school)
    person = Person()
    async with connected(school, settings(school), elicitation_callback=person, mode=mode) as c:
        done = payload(await c.call_tool("suspend_a_learnworlds_user", {"user_id": user.id}))
    assert person.asked == [
        f"Suspend {user.email}? They lose access to the school at once; "
        "unsuspend_a_learnworlds_user restores it."
    ]
    assert person.schemas[0]["properties"]["confirm"]["type"] == "boolean"
    assert done["status"] == "done" and done["note"] == "The person confirmed this change."
    assert user.is_suspended
    assert len(write_requests(school)) == 1


@pytest.mark.parametrize("mode", ["legacy", "auto"])
@pytest.mark.parametrize(("action", "word"), [("decline", "declined"), ("cancel", "cancelled")])
async def test_decline_or_cancel_sends_nothing(mode: str, action: str, word: str) -> None:
    school = make_school(users=20)
    user = learner(school)
    person = Person(action=action)
    async with connected(school, settings(school), elicitation_callback=person, mode=mode) as c:
        result = payload(await c.call_tool("suspend_a_learnworlds_user", {"user_id": user.email}))
        still = payload(
            await c.call_tool("get_single_learnworlds_user_by_id", {"user_id": user.id})
        )
    assert len(person.asked) == 1 and user.email in person.asked[0]
    assert result["status"] == "declined" and word in result["note"]
    assert "nothing was sent" in result["note"]
    assert result["user"]["suspended"] is False and still["suspended"] is False
    assert not user.is_suspended and write_requests(school) == []


async def test_accepting_with_the_box_unticked_counts_as_no() -> None:
    school = make_school(users=20)
    user = learner(school)
    person = Person(content={"confirm": False})
    async with connected(school, settings(school), elicitation_callback=person, mode="legacy") as c:
        result = payload(await c.call_tool("suspend_a_learnworlds_user", {"user_id": user.id}))
    assert result["status"] == "declined" and "did not confirm" in result["note"]
    assert write_requests(school) == []


# ----- every destructive tool asks one sentence naming who or what -----------------------------


def _scenario(school: SandboxSchool, tool: str) -> tuple[dict[str, Any], str, Callable[[], bool]]:
    """Arguments for `tool`, the name its question must contain, and a check that it happened."""
    user = learner(school)
    if tool == "update_a_learnworlds_user_by_id":
        return (
            {"user_id": user.id, "username": "Renamed"},
            user.email,
            lambda: user.username == "Renamed",
        )
    if tool == "remove_tags_from_a_learnworlds_user":
        user.tags = ["vip", "keep"]
        return {"user_id": user.id, "tags": ["vip"]}, user.email, lambda: user.tags == ["keep"]
    if tool == "suspend_a_learnworlds_user":
        return {"user_id": user.id}, user.email, lambda: user.is_suspended
    if tool == "unsuspend_a_learnworlds_user":
        user.is_suspended = True
        return {"user_id": user.id}, user.email, lambda: not user.is_suspended
    if tool == "unenroll_a_learnworlds_user":
        course = next(e for e in school.enrollments_of(user, "course")).product_id
        return (
            {"user_id": user.id, "product_id": course},
            user.email,
            lambda: not school.is_enrolled(user, course),
        )
    if tool == "remove_a_learnworlds_user_from_a_group":
        group = next(g for g in school.groups if school.group_members(g.id))
        member = school.group_members(group.id)[0]
        return (
            {"group_id": group.id, "user_id": member.id},
            group.title,
            lambda: member not in school.group_members(group.id),
        )
    if tool == "update_a_learnworlds_group_by_id":
        group = school.groups[0]
        title = group.title
        return (
            {"group_id": group.id, "description": "Changed"},
            title,
            lambda: group.description == "Changed",
        )
    role = school.role_by_title("Reporter")
    assert role is not None
    return (
        {"user_id": user.id, "role_id": role.id},
        user.email,
        lambda: user.role_id == role.id,
    )


@pytest.mark.parametrize("tool", DESTRUCTIVE)
async def test_every_destructive_tool_asks_before_changing(tool: str) -> None:
    school = make_school(users=40)
    arguments, named, happened = _scenario(school, tool)
    no, yes = Person(action="decline"), Person()
    async with connected(school, settings(school), elicitation_callback=no, mode="legacy") as c:
        declined = payload(await c.call_tool(tool, arguments))
    assert declined["status"] == "declined" and not happened() and write_requests(school) == []
    async with connected(school, settings(school), elicitation_callback=yes, mode="legacy") as c:
        done = payload(await c.call_tool(tool, arguments))
    assert done["status"] == "done" and happened()
    assert len(write_requests(school)) == 1
    for question in (no.asked, yes.asked):
        assert len(question) == 1
        assert named in question[0] and question[0].count("?") == 1
        assert len(question[0]) < 400


# ----- who is never asked -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_client_without_elicitation_is_never_asked(mode: str) -> None:
    school = make_school(users=20)
    user = learner(school)
    async with connected(school, settings(school), mode=mode) as client:
        done = payload(await client.call_tool("suspend_a_learnworlds_user", {"user_id": user.id}))
    assert done["status"] == "done" and "note" not in done
    assert user.is_suspended and len(write_requests(school)) == 1


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_confirm_destructive_off_never_asks(mode: str) -> None:
    school = make_school(users=20)
    user = learner(school)
    person = Person(action="decline")
    config = settings(school, confirm_destructive="off")
    async with connected(school, config, elicitation_callback=person, mode=mode) as client:
        done = payload(await client.call_tool("suspend_a_learnworlds_user", {"user_id": user.id}))
    assert person.asked == [] and done["status"] == "done" and user.is_suspended


async def test_dry_runs_changes_already_made_and_additive_writes_are_not_asked() -> None:
    school = make_school(users=20)
    user, other = learner(school), learner(school, 1)
    other.is_suspended = True
    person = Person(action="decline")
    async with connected(
        school, settings(school), elicitation_callback=person, mode="legacy"
    ) as client:
        dry = payload(
            await client.call_tool(
                "suspend_a_learnworlds_user", {"user_id": user.id, "dry_run": True}
            )
        )
        already = payload(
            await client.call_tool("suspend_a_learnworlds_user", {"user_id": other.id})
        )
        tagged = payload(
            await client.call_tool(
                "add_tags_to_a_learnworlds_user", {"user_id": user.id, "tags": ["new"]}
            )
        )
    assert person.asked == []
    assert dry["status"] == "dry_run" and already["status"] == "unchanged"
    assert tagged["status"] == "done" and "new" in user.tags


async def test_bad_input_fails_clearly_before_any_question() -> None:
    school = make_school(users=20)
    person = Person()
    async with connected(
        school, settings(school), elicitation_callback=person, mode="legacy"
    ) as client:
        result = await client.call_tool(
            "suspend_a_learnworlds_user", {"user_id": "nobody@nowhere.test"}
        )
        bad_id = await client.call_tool("suspend_a_learnworlds_user", {"user_id": "a/b"})
    assert "user_id takes the user's id or their email" in error_text(result)
    assert "contains '/'" in error_text(bad_id)
    assert person.asked == [] and write_requests(school) == []


async def test_the_confirmation_parameters_are_not_in_the_input_schema() -> None:
    school = make_school(users=10)
    async with connected(school, settings(school)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    for name in DESTRUCTIVE:
        properties = tools[name].input_schema["properties"]
        assert "dry_run" in properties
        assert not {"plan", "answer"} & set(properties), name
