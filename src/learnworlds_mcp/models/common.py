"""Shared field types: ISO times from the API's Unix seconds, lists the API may send as null,
and the compact base model.

The models tolerate odd but legal replies — a null where a list belongs, a timestamp no
calendar holds, a null title — so one strange record never breaks a whole list.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

from learnworlds_mcp.errors import UnexpectedResponseError

T = TypeVar("T")


def to_iso(value: Any) -> str | None:
    """Unix seconds (int, float or numeric string) → ``2024-05-01T12:00:00Z``.

    None, empty, and numbers no date matches (NaN, infinities, far out of range) become None.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value  # already a date string: keep what the API said
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
        if not math.isfinite(seconds):
            return None
        return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return None


IsoTime = Annotated[str | None, BeforeValidator(to_iso)]
"""A moment as an ISO 8601 UTC string (the API sends Unix seconds)."""


def to_int(value: Any) -> int | None:
    """A count the API may send as a float, an empty string or null (NaN and inf: None)."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


OptionalInt = Annotated[int | None, BeforeValidator(to_int)]


def _none_to_empty(value: Any) -> Any:
    return [] if value is None else value


NullableList = Annotated[list[T], BeforeValidator(_none_to_empty)]
"""A list the API may send as null: null reads as an empty list."""


def as_record(data: Any, what: str) -> dict[str, Any]:
    """`data` if it is a JSON object; otherwise a clear error naming what was expected."""
    if not isinstance(data, dict):
        raise UnexpectedResponseError(f"The school's {what} reply was not a {what} record.")
    return data


class Record(BaseModel):
    """Base of every result model: unknown API keys are ignored, never invented."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
