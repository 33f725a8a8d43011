"""What every tool shares: parameter types, the client lookup, compact results, date input."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.config import Settings
from learnworlds_mcp.errors import InvalidRequestError

UserRef = Annotated[
    str,
    Field(description="User id or email."),
]
GroupId = Annotated[
    str,
    Field(description="Group id."),
]
Page = Annotated[int, Field(ge=1)]
ItemsPerPage = Annotated[int, Field(ge=1, le=200)]
IsoDate = Annotated[str | None, Field(description="ISO date, e.g. 2024-01-31")]


@dataclass(frozen=True)
class AppContext:
    """What the server's lifespan hands every tool call."""

    client: LearnWorldsClient
    settings: Settings


def app_context(ctx: Context) -> AppContext:
    state = ctx.request_context.lifespan_context
    assert isinstance(state, AppContext)
    return state


def client_of(ctx: Context) -> LearnWorldsClient:
    return app_context(ctx).client


def compact_result(model: BaseModel) -> CallToolResult:
    """The result as structured content plus the same data as compact JSON text.

    Nulls are left out of both (the schema marks such fields optional), which keeps what the
    model reads about a third smaller than the SDK's indented default.
    """
    text = model.model_dump_json(exclude_none=True)
    structured = model.model_dump(mode="json", exclude_none=True)
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=structured
    )


def unix_seconds(value: str | None, name: str) -> int | None:
    """ISO date/date-time → Unix seconds (UTC assumed when no offset is given)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
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
