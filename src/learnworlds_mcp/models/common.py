"""Shared field types: ISO times from the API's Unix seconds, and the compact base model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


def to_iso(value: Any) -> str | None:
    """Unix seconds (int, float or numeric string) → ``2024-05-01T12:00:00Z``; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value  # already a date string: keep what the API said
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(float(value), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


IsoTime = Annotated[str | None, BeforeValidator(to_iso)]
"""A moment as an ISO 8601 UTC string (the API sends Unix seconds)."""


def to_int(value: Any) -> int | None:
    """A count the API may send as a float, an empty string or null."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


OptionalInt = Annotated[int | None, BeforeValidator(to_int)]


class Record(BaseModel):
    """Base of every result model: unknown API keys are ignored, never invented."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
