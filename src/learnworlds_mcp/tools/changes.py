"""What every write and destructive tool shares: the plan, dry runs, confirmation, sending.

A change tool works in two steps. First it *plans*: it validates its arguments, makes the few
reads that prove the change makes sense (the user exists, the group has room, …) and builds a
`Plan` — the exact request, the sentence that asks the person to confirm it, and what was read.
Then `carry_out` decides what happens to the plan:

- ``dry_run=True``: nothing is sent; the result shows the request and the record as it is now;
- the change is already in effect (`Plan.unchanged`): nothing is sent;
- a destructive change the person declined or cancelled: nothing is sent;
- otherwise the request is sent once. If its outcome is unknown (timeout, dropped connection,
  5xx) it is never resent: the error names the read tool that shows whether it happened. Once
  the school accepted it, any later failure (an unreadable reply, a failed read-back) says the
  change was made and must not be sent again.

Destructive tools plan inside a resolver (`Resolve(planner)`), so the question to the person —
asked by a second resolver made with `confirmation(planner)` — can name the user or group the
plan found, and the tool body receives both without reading anything twice. The SDK runs the
question over whichever protocol generation the client speaks; clients without the elicitation
capability, ``LEARNWORLDS_CONFIRM_DESTRUCTIVE=off`` and dry runs are never asked.
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

from mcp.server.elicitation import (
    AcceptedElicitation,
    CancelledElicitation,
    DeclinedElicitation,
    ElicitationResult,
)
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit, Resolve
from pydantic import BaseModel, Field

from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import (
    AfterWriteError,
    InvalidRequestError,
    LearnWorldsError,
    NotFoundError,
    UnexpectedResponseError,
    WriteReplyUnreadableError,
)
from learnworlds_mcp.models.changes import ChangeStatus, PlannedRequest
from learnworlds_mcp.models.common import as_record
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.common import app_context
from learnworlds_mcp.tools.groups import group_not_found
from learnworlds_mcp.tools.registry import clear_errors, record_write
from learnworlds_mcp.tools.users import user_not_found

WriteMethod = Literal["POST", "PUT", "DELETE"]
P = ParamSpec("P")
R = TypeVar("R")

# No description: the name says it, and the server's instructions (present whenever a change
# tool is) say "use dry_run to preview"; the result's status `dry_run` shows the exact request.
DryRun = bool

MAX_TAGS = 50
Tags = Annotated[
    list[str],
    Field(min_length=1, max_length=MAX_TAGS, description="Tag names (no commas)."),
]
MAX_LISTED = 20  # group managers or courses named in one call


# ---------------------------------------------------------------------------------- the plan


@dataclass
class Plan:
    """A change checked and worked out, not yet sent.

    `question` is the one sentence the person confirms (destructive tools): it names the user or
    group, says what happens and what cannot be undone. `check_with` names the read tool that
    shows whether the change happened. `reads` keeps what the planner read (API JSON), so the
    tool body can show the record as it is now without reading it again.
    """

    method: WriteMethod
    path: str
    body: dict[str, Any] | None
    question: str
    check_with: str
    unchanged: str | None = None
    reads: dict[str, Any] = field(default_factory=dict)

    @property
    def request(self) -> PlannedRequest:
        return PlannedRequest(method=self.method, path=self.path, body=self.body)


@dataclass
class Outcome:
    """What became of a plan: its status, the API's reply (when sent) and a note."""

    status: ChangeStatus
    reply: Any = None
    note: str | None = None

    @property
    def done(self) -> bool:
        return self.status == "done"

    def fields(self, plan: Plan) -> dict[str, Any]:
        """The common result fields: status, request, note."""
        return {"status": self.status, "request": plan.request, "note": self.note}


# --------------------------------------------------------------------------- confirmation


class Confirm(BaseModel):
    """The person's answer to a confirmation question."""

    confirm: bool = Field(default=True, title="Make this change")


class GoAhead(BaseModel):
    """A confirmation resolver's answer when no question is asked, and why."""

    reason: Literal["dry run", "unchanged", "confirmation off", "client cannot ask"]


def can_elicit(ctx: Context) -> bool:
    """Whether the client declared form elicitation (a bare `elicitation: {}` counts)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def as_tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Run a resolver with its failures turned into clear `ToolError`s.

    Resolvers run before the tool body, outside the registry's own error mapping, and only
    `ToolError` messages reach the client: the same mapping (`registry.clear_errors`) applies.
    """
    return clear_errors(fn)


def confirmation(
    planner: Callable[..., Awaitable[Plan]],
) -> Callable[..., Awaitable[Elicit[Confirm] | GoAhead]]:
    """The resolver that asks the person to confirm the plan `planner` makes — or says why not.

    Use as ``Annotated[ElicitationResult[Confirm], Resolve(confirmation(planner))]`` next to
    ``Annotated[Plan, Resolve(planner)]``: the SDK runs the planner once per call for both.
    """

    async def confirm(
        ctx: Context, dry_run: bool, plan: Annotated[Plan, Resolve(planner)]
    ) -> Elicit[Confirm] | GoAhead:
        if dry_run:
            return GoAhead(reason="dry run")
        if plan.unchanged:
            return GoAhead(reason="unchanged")
        if app_context(ctx).settings.confirm_destructive == "off":
            return GoAhead(reason="confirmation off")
        if not can_elicit(ctx):
            return GoAhead(reason="client cannot ask")
        return Elicit(plan.question, Confirm)

    return confirm


def refusal(answer: ElicitationResult[Confirm]) -> str | None:
    """None when the change may go ahead; otherwise the note saying the person did not want it."""
    if isinstance(answer, AcceptedElicitation):
        if isinstance(answer.data, Confirm) and not answer.data.confirm:
            return "The person did not confirm this change; nothing was sent."
        return None
    if isinstance(answer, DeclinedElicitation):
        return "The person declined this change; nothing was sent. Do not retry unless they ask."
    assert isinstance(answer, CancelledElicitation)
    return "The person cancelled the confirmation; nothing was sent."


# ------------------------------------------------------------------------------- sending


async def carry_out(
    client: LearnWorldsClient,
    plan: Plan,
    *,
    dry_run: bool,
    answer: ElicitationResult[Confirm] | None = None,
) -> Outcome:
    """Send the plan's request once — unless it is a dry run, unneeded, or declined."""
    if dry_run:
        return Outcome("dry_run", note=plan.unchanged or "Dry run: nothing was sent.")
    if plan.unchanged:
        return Outcome("unchanged", note=plan.unchanged)
    if answer is not None and (why := refusal(answer)) is not None:
        return Outcome("declined", note=why)
    try:
        reply = await client.request(plan.method, plan.path, json_body=plan.body)
    except AfterWriteError as error:
        raise error.naming(plan.check_with) from error
    # From here on the change is made: whatever fails while the tool builds its result, the
    # error says so and that it must not be sent again (`registry.tool_error`).
    record_write(plan.check_with)
    note = None
    if isinstance(answer, AcceptedElicitation) and isinstance(answer.data, Confirm):
        note = "The person confirmed this change."
    return Outcome("done", reply, note)


async def read_back(plan: Plan, read: Awaitable[R]) -> R:
    """Read the record after a change was made; a failure here must not look like the change's."""
    try:
        return await read
    except LearnWorldsError as error:
        raise WriteReplyUnreadableError(
            f"reading the result back failed (the school accepted {plan.method} {plan.path}): "
            f"{error.message.rstrip('. ')}",
            check_with=plan.check_with,
        ) from error


# ------------------------------------------------------------------------ checks and reads

# Practical, not RFC 5322: one @, no spaces or characters that break a URL segment, a dotted
# domain of letters, digits and hyphens (any script), each label without edge hyphens.
_LOCAL = r"[^\s@,;:<>()\[\]\\\"/?#%]+"
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_EMAIL = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})+")


def check_email(value: str, name: str = "email") -> str:
    """Return the email stripped, or raise saying why it is not one."""
    email = value.strip()
    local = email.rpartition("@")[0]
    if (
        len(email) > 254
        or not email.isprintable()
        or not _EMAIL.fullmatch(email)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        raise InvalidRequestError(
            f"{name} {value[:80]!r} is not a valid email address (expected e.g. "
            "jane.doe@example.com). Nothing was sent."
        )
    return email


def check_tags(tags: list[str]) -> list[str]:
    """Tags stripped and de-duplicated; refuses empty tags, commas and empty or long lists."""
    cleaned = [t.strip() for t in tags]
    if not cleaned:
        raise InvalidRequestError("tags is empty: give at least one tag. Nothing was sent.")
    if len(cleaned) > MAX_TAGS:
        raise InvalidRequestError(
            f"{len(cleaned)} tags at once is too many: give at most {MAX_TAGS} per call."
        )
    if any(not t for t in cleaned):
        raise InvalidRequestError("tags holds an empty tag name. Nothing was sent.")
    unprintable = [t for t in cleaned if not t.isprintable()]
    if unprintable:
        raise InvalidRequestError(
            f"Tag {unprintable[0]!r} contains a line break or control character. Nothing was sent."
        )
    with_comma = [t for t in cleaned if "," in t]
    if with_comma:
        raise InvalidRequestError(
            f"Tag {with_comma[0]!r} contains a comma, which LearnWorlds uses to separate tags: "
            "give each tag as its own list item. Nothing was sent."
        )
    return list(dict.fromkeys(cleaned))


async def fetch_user(client: LearnWorldsClient, user_id: str) -> dict[str, Any]:
    """A user's record by id or email (suspended users included), or a clear not-found error."""
    path = api_path("/v2/users/{user_id}", user_id=user_id)
    try:
        data = await client.get(path, {"include_suspended": "true"})
    except NotFoundError:
        raise user_not_found(user_id) from None
    return _record(data, "user")


async def fetch_group(client: LearnWorldsClient, group_id: str) -> dict[str, Any]:
    """A group's record by id, or a clear not-found error."""
    try:
        data = await client.get(api_path("/v2/user_groups/{group_id}", group_id=group_id))
    except NotFoundError:
        raise group_not_found(group_id) from None
    return _record(data, "group")


async def resolve_user_ids(client: LearnWorldsClient, refs: list[str], name: str) -> list[str]:
    """User ids for users named by id or email (one read each), in order, without repeats."""
    refs = list(dict.fromkeys(r.strip() for r in refs))
    if len(refs) > MAX_LISTED:
        raise InvalidRequestError(f"{name} names {len(refs)} users; give at most {MAX_LISTED}.")
    ids = []
    for ref in refs:
        user = await fetch_user(client, ref)
        ids.append(str(user["id"]))
    return list(dict.fromkeys(ids))


async def check_courses(client: LearnWorldsClient, course_ids: list[str]) -> list[str]:
    """Course slugs, stripped and de-duplicated, each checked to exist (one read each)."""
    slugs = list(dict.fromkeys(c.strip() for c in course_ids))
    if len(slugs) > MAX_LISTED:
        raise InvalidRequestError(f"{len(slugs)} courses at once; give at most {MAX_LISTED}.")
    for slug in slugs:
        try:
            await client.get(api_path("/v2/courses/{course_id}", course_id=slug))
        except NotFoundError:
            raise NotFoundError(
                f"No course {slug!r} in this school: courses are named by their slug (the id "
                "the course list shows, e.g. sales-101). Nothing was sent."
            ) from None
    return slugs


def _record(data: Any, what: str) -> dict[str, Any]:
    record = as_record(data, what)
    if "id" not in record:
        raise UnexpectedResponseError(f"The school's {what} reply was not a {what} record.")
    return record


def who(user: dict[str, Any]) -> str:
    """How a question names a user: their email (the id if the record has none)."""
    return str(user.get("email") or user.get("id"))


def listing(values: list[str]) -> str:
    return ", ".join(values) if values else "none"
