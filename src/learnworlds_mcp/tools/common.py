"""What every tool shares: parameter types, the client lookup, compact results, date input."""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.config import Settings
from learnworlds_mcp.errors import InvalidRequestError, LearnWorldsError
from learnworlds_mcp.state.tallies import TallyStore
from learnworlds_mcp.state.titles import TitleStore

DAY = 86_400  # seconds

UserRef = Annotated[
    str,
    Field(description="Id or email."),
]
GroupId = Annotated[
    str,
    Field(description="Group id."),
]
Page = Annotated[int, Field(ge=1)]
ItemsPerPage = Annotated[int, Field(ge=1, le=200)]
TitleContains = Annotated[
    str | None,
    Field(description="Any case; scans pages."),
]
IsoDate = Annotated[str | None, Field(description="ISO date.")]


@dataclass(frozen=True)
class AppContext:
    """What the server's lifespan hands every tool call."""

    client: LearnWorldsClient
    settings: Settings
    tallies: TallyStore
    """Where partial cohort reports keep their tallies (this process, or shared in Redis)."""
    titles: TitleStore
    """The school's group and course titles that completion offers, kept briefly."""


def app_context(ctx: Context) -> AppContext:
    state = ctx.request_context.lifespan_context
    assert isinstance(state, AppContext)
    return state


def client_of(ctx: Context) -> LearnWorldsClient:
    return app_context(ctx).client


# DESIGN §3: no result above about 20,000 tokens (≈ 4 bytes a token of compact JSON).
MAX_RESULT_BYTES = 80_000
# Room kept for the note that says what was cut.
_NOTE_ROOM_BYTES = 600
_DEFAULT_REST = (
    "Ask for less to see the rest: a smaller items_per_page, a narrower filter or fewer "
    "members; next_page, where present, still continues after this whole page."
)


def compact_result(model: BaseModel, *, rest: str | None = None) -> CallToolResult:
    """The result as structured content plus the same data as compact JSON text.

    Nulls are left out of both (the schema marks such fields optional), which keeps what the
    model reads about a third smaller than the SDK's indented default.

    The size guard for every tool: a result whose text would exceed `MAX_RESULT_BYTES` is cut
    at whole list items (the longest list first), gains `"truncated": true` and a `note` that
    says what was left out and how to get it (`rest`, or a generic hint). Paging fields are not
    touched, so `next_page` keeps meaning "the page after this one".
    """
    text = model.model_dump_json(exclude_none=True)
    structured = model.model_dump(mode="json", exclude_none=True)
    if len(text.encode()) > MAX_RESULT_BYTES:
        structured = _fit(structured, MAX_RESULT_BYTES, rest or _DEFAULT_REST)
        text = _json(structured)
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=structured
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _size(value: Any) -> int:
    return len(_json(value).encode())


def _lists(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], list[Any]]]:
    """Every non-empty list in `node` with its path, outermost first."""
    found: list[tuple[tuple[Any, ...], list[Any]]] = []
    children: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        if node and path:
            found.append((path, node))
        children = list(enumerate(node))
    for key, child in children:
        found.extend(_lists(child, (*path, key)))
    return found


def _fit(data: dict[str, Any], limit: int, rest: str) -> dict[str, Any]:
    """Cut `data` to at most `limit` bytes of compact JSON at whole list items, and say so."""
    note_before = data.get("note")
    totals: dict[tuple[Any, ...], int] = {}
    kept: dict[tuple[Any, ...], int] = {}
    shortened = False
    budget = limit - _NOTE_ROOM_BYTES - len(rest.encode())
    while True:
        while _size(data) > budget:
            lists = _lists(data)
            if not lists:
                break
            path, items = max(lists, key=lambda entry: _size(entry[1]))
            totals.setdefault(path, len(items))
            kept[path] = _keep_prefix(data, items, budget)
        if _size(data) > budget:
            _shorten_strings(data, budget)
            shortened = True
        cuts = [f"{'.'.join(map(str, p))} shows {kept[p]} of {n}" for p, n in totals.items()]
        if shortened:
            cuts.append("the longest texts are shortened")
        note = f"Cut to stay under ~20,000 tokens: {'; '.join(cuts)}. {rest}"
        data["truncated"] = True
        data["note"] = f"{note_before} {note}" if isinstance(note_before, str) else note
        over = _size(data) - limit
        if over <= 0 or budget <= 0:
            return data
        budget -= over  # the note itself took more room than planned: cut a little more


def _keep_prefix(data: dict[str, Any], items: list[Any], budget: int) -> int:
    """Shorten `items` (a list inside `data`) to the longest prefix that lets `data` fit."""
    original = list(items)
    low, high = 0, len(original) - 1  # the full list does not fit
    while low < high:
        mid = (low + high + 1) // 2
        items[:] = original[:mid]
        if _size(data) <= budget:
            low = mid
        else:
            high = mid - 1
    items[:] = original[:low]
    return low


def _shorten_strings(data: dict[str, Any], budget: int) -> None:
    """Last resort (one huge text): shorten the longest strings until `data` fits."""

    def strings(node: Any) -> list[tuple[Any, Any]]:
        out: list[tuple[Any, Any]] = []
        pairs = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in pairs:
            if isinstance(value, str):
                out.append((node, key))
            elif isinstance(value, dict | list):
                out.extend(strings(value))
        return out

    for holder, key in sorted(strings(data), key=lambda ref: -len(ref[0][ref[1]])):
        excess = _size(data) - budget
        if excess <= 0:
            return
        text: str = holder[key]
        holder[key] = text[: max(100, len(text) - excess - 10)] + "…"


def unix_seconds(value: str | None, name: str, *, end_of_day: bool = False) -> int | None:
    """ISO date/date-time → Unix seconds (UTC when no offset is given).

    A plain date means its first second — or, with `end_of_day` (for `*_before` bounds), its
    last, so that `registered_before=2024-01-31` includes the 31st.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
            moment = day + timedelta(days=1, seconds=-1) if end_of_day else day
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequestError(
            f"{name} {value!r} is not a date: use an ISO date such as 2024-01-31 "
            "or a date-time such as 2024-01-31T09:00:00Z."
        ) from None
    return int(moment.timestamp())


def comma_list(values: list[str] | None, name: str) -> str | None:
    """Join values the API takes comma-separated, refusing values that hold a comma."""
    if not values:
        return None
    cleaned = [v.strip() for v in values if v.strip()]
    bad = [v for v in cleaned if "," in v]
    if bad:
        raise InvalidRequestError(f"{name} values cannot contain commas: {bad[0]!r}.")
    return ",".join(cleaned) or None


def drop_none(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


async def run_concurrently(jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> None:
    """Run `jobs` at most `concurrency` at a time; then raise the first LearnWorlds error.

    (Errors are collected rather than left to the task group, whose exception group would
    hide them from the tool layer's error messages.)
    """
    errors: list[LearnWorldsError] = []
    limiter = anyio.CapacityLimiter(concurrency)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with limiter:
            try:
                await job()
            except LearnWorldsError as error:
                errors.append(error)

    async with anyio.create_task_group() as tasks:
        for job in jobs:
            tasks.start_soon(run, job)
    if errors:
        raise errors[0]
