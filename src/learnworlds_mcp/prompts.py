"""MCP prompts for the three workflows, and completion of the school's group and course titles.

Hosts that show prompts offer these as one-click starts: inactive staff (`days`), a cohort
report (`group`, optional `course`), a user 360 (`user`). A `group` or `course` argument is
completed (`completion/complete`) from the school's own titles, fetched through the shared
client the first time they are asked for — never at start-up — and kept briefly in memory.

MCPServer hands a completion handler only the reference and the argument, not the request
context, so a small server middleware (the SDK's public `server.middleware` seam) makes each
request's lifespan context — the `AppContext` with the client — visible to the handler through
a context variable for the duration of that request.
"""

import logging
from collections.abc import Collection
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import (
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)
from pydantic import Field

from learnworlds_mcp.errors import LearnWorldsError
from learnworlds_mcp.tools.common import AppContext

logger = logging.getLogger(__name__)

INACTIVE_STAFF_PROMPT = "learnworlds_inactive_staff_review"
COHORT_PROMPT = "learnworlds_cohort_report"
USER_PROMPT = "learnworlds_user_360"

PROMPT_TOOLS: dict[str, str] = {
    INACTIVE_STAFF_PROMPT: "list_all_learnworlds_inactive_staff",
    COHORT_PROMPT: "get_single_learnworlds_group_report_by_id",
    USER_PROMPT: "get_single_learnworlds_user_overview_by_id",
}
"""Each prompt and the tool it sends the model to: a prompt is offered only with its tool."""

COMPLETION_TOOLS: dict[tuple[str, str], str] = {
    (COHORT_PROMPT, "course"): "list_all_learnworlds_courses",
}
"""Completed arguments that show more than their prompt's tool does (every course title, not
just the group's), and the tool a caller must be able to use to see that."""

# Titles offered by completion are fetched at most this often per server run.
TITLES_TTL_SECONDS = 60.0
# Pages read for titles: 20 groups or 50 courses a page.
MAX_TITLE_PAGES = 10
# MCP allows at most 100 completion values per answer.
MAX_COMPLETIONS = 100

_app: ContextVar[AppContext | None] = ContextVar("learnworlds_app", default=None)


@dataclass(frozen=True)
class Titled:
    id: str
    title: str
    courses: tuple[str, ...] = ()


class TitleCache:
    """The school's group and course titles, kept for `TITLES_TTL_SECONDS` in the shared state
    (`AppContext.titles`: this process, or Redis for every replica)."""

    async def get(self, app: AppContext, kind: str) -> list[Titled]:
        """`kind` is "groups" or "courses"; fetched when missing or older than the TTL."""
        kept = await app.titles.get(kind)
        if kept is not None:
            return [
                Titled(str(i["id"]), str(i["title"]), tuple(i.get("courses") or ())) for i in kept
            ]
        from learnworlds_mcp.pagination import walk_pages  # not needed to start: imported here

        path = "/v2/user_groups" if kind == "groups" else "/v2/courses"

        async def fetch(page: int) -> Any:
            return await app.client.get(path, {"page": page})

        walk = await walk_pages(fetch, max_pages=MAX_TITLE_PAGES)
        items = [_titled(item) for item in walk.items if item.get("id") and item.get("title")]
        await app.titles.put(
            kind,
            [{"id": i.id, "title": i.title, "courses": list(i.courses)} for i in items],
            TITLES_TTL_SECONDS,
        )
        return items


def _titled(item: dict[str, Any]) -> Titled:
    from learnworlds_mcp.models.groups import course_slugs

    return Titled(
        id=str(item["id"]),
        title=str(item["title"]),
        courses=tuple(course_slugs(item.get("products"))),
    )


def matching(options: list[Titled], typed: str) -> list[str]:
    """Titles containing `typed` (any case): those starting with it first, then A–Z."""
    needle = typed.strip().casefold()
    hits = {o.title for o in options if needle in o.title.casefold()}
    return sorted(hits, key=lambda t: (not t.casefold().startswith(needle), t.casefold()))


def find(options: list[Titled], name: str) -> Titled | None:
    """The one option whose id or title (any case) is `name`."""
    wanted = name.strip().casefold()
    exact = [o for o in options if o.id == name.strip() or o.title.casefold() == wanted]
    return exact[0] if len(exact) == 1 else None


def register_prompts(
    server: MCPServer[AppContext], tool_names: Collection[str] | None = None
) -> None:
    """Add the workflow prompts whose tool is exposed, and completion of their arguments.

    `tool_names`: the tools this server exposes (all when None); a prompt that would send
    the model to a hidden tool is left out.
    """
    titles = TitleCache()

    def exposed(name: str) -> bool:
        return tool_names is None or name in tool_names

    async def remember_app(
        ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        state = ctx.lifespan_context
        token = _app.set(state if isinstance(state, AppContext) else None)
        try:
            return await call_next(ctx)
        finally:
            _app.reset(token)

    server.middleware.append(remember_app)

    if exposed(PROMPT_TOOLS[INACTIVE_STAFF_PROMPT]):

        @server.prompt(name=INACTIVE_STAFF_PROMPT, title="Inactive staff review")
        def inactive_staff(
            days: Annotated[
                int, Field(ge=1, le=3650, description="Days without a login (default 90).")
            ] = 90,
        ) -> str:
            """Which admins, instructors and other staff have not logged in for N days."""
            return (
                f"Which staff accounts of our LearnWorlds school have not logged in for {days} "
                "days or more, or never? Call list_all_learnworlds_inactive_staff with "
                f"days={days} (if the result is partial, call again with its resume_from). "
                "Then give me a short table grouped by role: name, email, role, last login "
                "(or never) and days idle — admins first, since they matter most for "
                "security — and suggest what to review for each (suspend, change the role, or "
                "remind them). Change nothing."
            )

    if exposed(PROMPT_TOOLS[COHORT_PROMPT]):

        @server.prompt(name=COHORT_PROMPT, title="Cohort report")
        async def cohort_report(
            group: Annotated[str, Field(description="The group's title (or id).")],
            ctx: Context,
            course: Annotated[str | None, Field(description="A course to focus on.")] = None,
        ) -> str:
            """How a cohort (user group) is doing: managers, members, progress per course."""
            found = await _lookup(titles, ctx, "groups", group)
            if found is not None:
                first = (
                    f'How is the cohort "{found.title}" doing? Call '
                    f'get_single_learnworlds_group_report_by_id with group_id="{found.id}"'
                )
            else:
                first = (
                    f'How is the cohort "{group}" doing? Find the group with '
                    f'list_all_learnworlds_groups(title_contains="{group}") — ask me if several '
                    "match — then call get_single_learnworlds_group_report_by_id with its id"
                )
            focus = (
                f' Look closest at the course "{course}": who has not started it and who is '
                "furthest behind."
                if course
                else ""
            )
            return (
                f"{first} (if the report is partial, call again with its resume_from until it "
                "is complete). Tell me who manages the group, its courses, how many members it "
                "has, and per course how many completed, are in progress, have not started or "
                "are not enrolled, with the average progress; how many members have not logged "
                "in for 30 days or never; and the members furthest behind." + focus
            )

    if exposed(PROMPT_TOOLS[USER_PROMPT]):

        @server.prompt(name=USER_PROMPT, title="User 360")
        def user_360(
            user: Annotated[str, Field(description="The user's email or id.")],
        ) -> str:
            """One user at a glance: role, NPS, groups, enrollments with progress, activity."""
            return (
                f'Give me a 360° view of the LearnWorlds user "{user}". Call '
                f'get_single_learnworlds_user_overview_by_id with user_id="{user}". Summarise '
                "who they are (name, email, signed up, last login, suspended or not), their "
                "role and what it is assigned to, their NPS score and comment, their groups, "
                "their enrollments with progress (completed, in progress, not started, expiring "
                "soon) and their latest activity."
            )

    @server.completion()
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        if not isinstance(ref, PromptReference) or ref.name != COHORT_PROMPT:
            return None
        if not exposed(PROMPT_TOOLS[COHORT_PROMPT]):
            return None
        app = _app.get()
        if app is None or argument.name not in ("group", "course"):
            return None
        try:
            if argument.name == "group":
                options = await titles.get(app, "groups")
            else:
                options = await titles.get(app, "courses")
                chosen = (context.arguments or {}).get("group") if context else None
                if chosen:
                    group = find(await titles.get(app, "groups"), chosen)
                    if group is not None and group.courses:
                        options = [o for o in options if o.id in group.courses] or options
        except LearnWorldsError as error:
            logger.warning("completion of %s: %s", argument.name, error)
            return Completion(values=[], total=0, has_more=False)
        values = matching(options, argument.value)
        return Completion(
            values=values[:MAX_COMPLETIONS],
            total=len(values),
            has_more=len(values) > MAX_COMPLETIONS,
        )


async def _lookup(titles: TitleCache, ctx: Context, kind: str, name: str) -> Titled | None:
    """The group or course named `name` (title or id), if exactly one matches; else None."""
    state = ctx.request_context.lifespan_context
    if not isinstance(state, AppContext):
        return None
    try:
        return find(await titles.get(state, kind), name)
    except LearnWorldsError as error:
        logger.warning("prompt: could not look up %s %r: %s", kind, name, error)
        return None
