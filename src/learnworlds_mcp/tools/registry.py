"""The tool table: every tool with its toolset and kind, the one source gating reads.

A tool module declares its tools with `@tool(...)`; `server.build_server` registers exactly the
ones whose toolset is selected and whose kind the operator allowed, with annotations derived
from the same entry — so what a client is told and what the server allows cannot drift.
"""

import logging
import traceback
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import ValidationError

from learnworlds_mcp.errors import (
    AfterWriteError,
    InvalidIdError,
    InvalidRequestError,
    LearnWorldsError,
    NotFoundError,
    PermissionDeniedError,
    WriteOutcomeUnknownError,
    WriteReplyUnreadableError,
)
from learnworlds_mcp.observe import Failure, note_failure

logger = logging.getLogger(__name__)
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
        return tool_annotations(self.kind, self.idempotent)


def tool_annotations(kind: Kind, idempotent: bool) -> ToolAnnotations:
    """Honest hints: reads are read-only and idempotent; all reach an open world.

    The title is the tool's own `title` field, not repeated here.
    """
    if kind == "read":
        return ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=True)
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=kind == "destructive",
        idempotent_hint=idempotent,
        open_world_hint=True,
    )


TOOLS: list[ToolSpec] = []

# ------------------------------------------------------------------------- error mapping

# What reading an odd reply can raise (a null where a list belongs, a list where a record
# belongs, a missing key); pydantic's ValidationError is a ValueError.
SHAPE_ERRORS = (ValidationError, TypeError, KeyError, AttributeError, ValueError)

# The writes this tool call has sent and the school accepted, each as the read tool that shows
# the record now (`Plan.check_with`). Set afresh for every call by `clear_errors`; a list, so
# that a write made in a child task is seen too.
_WRITES_MADE: ContextVar[list[str] | None] = ContextVar("writes_made", default=None)


def record_write(check_with: str) -> None:
    """Note that this tool call's write was accepted: any later failure must say it was made."""
    made = _WRITES_MADE.get()
    if made is not None:
        made.append(check_with)


def shape_detail(error: BaseException) -> str:
    """Where reading a reply failed, without the reply's values (they may be anything)."""
    if isinstance(error, ValidationError):
        places = [
            f"{error.title}.{'.'.join(str(part) for part in e['loc'])} ({e['type']})"
            if e["loc"]
            else f"{error.title} ({e['type']})"
            for e in error.errors(include_url=False, include_input=False, include_context=False)
        ]
        more = f" and {len(places) - 3} more" if len(places) > 3 else ""
        return ", ".join(places[:3]) + more
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "learnworlds_mcp" in f.filename] or frames
    where = (
        f" in {Path(ours[-1].filename).name}:{ours[-1].lineno} ({ours[-1].name})" if ours else ""
    )
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str):
        key = error.args[0]
        if key.isidentifier() and len(key) <= 40:
            return f"missing field {key!r}{where}"
    return f"{type(error).__name__}{where}"


def tool_error(error: BaseException) -> ToolError:
    """The one mapping of a failure to the `ToolError` a client sees (only those reach it).

    A `LearnWorldsError` keeps its message; an odd reply that broke the reading of it (see
    `SHAPE_ERRORS`) says so, naming only where. Once this call's write was accepted, every
    failure says the change was made and must not be sent again.
    """
    if isinstance(error, ToolError):
        return error
    made = _WRITES_MADE.get()
    note_failure(_failure_kind(error, made=bool(made)))
    if made and not isinstance(error, AfterWriteError):
        if isinstance(error, LearnWorldsError):
            what = f"what followed failed: {error.message.rstrip('. ')}"
        else:
            what = f"its reply could not be read ({shape_detail(error)})"
        return ToolError(str(WriteReplyUnreadableError(what, check_with=made[-1])))
    if isinstance(error, LearnWorldsError):
        return ToolError(str(error))
    return ToolError(
        f"The school's reply had an unexpected shape: {shape_detail(error)}; try again, and "
        "report it if it persists."
    )


_REFUSALS = (InvalidIdError, InvalidRequestError, NotFoundError, PermissionDeniedError)


def _failure_kind(error: BaseException, *, made: bool) -> Failure:
    """How a failure left the school, for observers (the audit log)."""
    if made or isinstance(error, WriteReplyUnreadableError):
        return "made"
    if isinstance(error, WriteOutcomeUnknownError):
        return "unknown"
    if isinstance(error, _REFUSALS):
        return "refused"
    status = error.status if isinstance(error, LearnWorldsError) else None
    if status is not None and 400 <= status < 500 and status != 429:
        return "refused"
    return "error"


def _first_leaf(group: BaseExceptionGroup[Any]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def clear_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Run a tool (or a resolver) with its failures turned into clear `ToolError`s."""

    @wraps(fn)
    async def with_clear_errors(*args: P.args, **kwargs: P.kwargs) -> R:
        made = _WRITES_MADE.get()
        token = _WRITES_MADE.set([] if made is None else made)
        try:
            return await fn(*args, **kwargs)
        except (LearnWorldsError, *SHAPE_ERRORS) as error:
            if not isinstance(error, LearnWorldsError):
                logger.warning("%s: unexpected reply shape: %s", fn.__name__, shape_detail(error))
            raise tool_error(error) from error
        except BaseExceptionGroup as group:  # from a task group: report its first failure
            mapped, _ = group.split((ToolError, LearnWorldsError, *SHAPE_ERRORS))
            if mapped is None:
                raise
            raise tool_error(_first_leaf(mapped)) from group
        finally:
            _WRITES_MADE.reset(token)

    return with_clear_errors


def tool(
    *, toolset: str, kind: Kind, title: str, idempotent: bool | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Add the decorated coroutine to the tool table (its name is the function's name).

    `idempotent` defaults to True for reads and False otherwise. Failures become tool errors
    with a clear message (`clear_errors`).
    """

    def register(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        TOOLS.append(
            ToolSpec(
                name=fn.__name__,
                title=title,
                toolset=toolset,
                kind=kind,
                idempotent=kind == "read" if idempotent is None else idempotent,
                fn=clear_errors(fn),
            )
        )
        return fn

    return register
