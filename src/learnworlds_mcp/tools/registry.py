"""The tool table: every tool with its toolset and kind, the one source gating reads.

A tool module declares its tools with `@tool(...)`; `server.build_server` registers exactly the
ones whose toolset is selected and whose kind the operator allowed, with annotations derived
from the same entry — so what a client is told and what the server allows cannot drift.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

from learnworlds_mcp.errors import LearnWorldsError

Kind = Literal["read", "write", "destructive"]
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class ToolSpec:
    """One row of the tool table."""

    name: str
    title: str
    toolset: str
    kind: Kind
    idempotent: bool
    fn: Callable[..., Awaitable[Any]]

    @property
    def annotations(self) -> ToolAnnotations:
        """Honest hints: reads are read-only and idempotent; all reach an open world.

        The title is the tool's own `title` field, not repeated here.
        """
        if self.kind == "read":
            return ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=True)
        return ToolAnnotations(
            read_only_hint=False,
            destructive_hint=self.kind == "destructive",
            idempotent_hint=self.idempotent,
            open_world_hint=True,
        )


TOOLS: list[ToolSpec] = []


def tool(
    *, toolset: str, kind: Kind, title: str, idempotent: bool | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Add the decorated coroutine to the tool table (its name is the function's name).

    `idempotent` defaults to True for reads and False otherwise. Any `LearnWorldsError` the
    tool raises becomes a tool error whose text is the error's message.
    """

    def register(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(fn)
        async def with_clear_errors(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except LearnWorldsError as error:
                raise ToolError(str(error)) from error

        TOOLS.append(
            ToolSpec(
                name=fn.__name__,
                title=title,
                toolset=toolset,
                kind=kind,
                idempotent=kind == "read" if idempotent is None else idempotent,
                fn=with_clear_errors,
            )
        )
        return fn

    return register
