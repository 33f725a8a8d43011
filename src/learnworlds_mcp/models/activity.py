"""Event logs: what happened in the school, and who did it."""

from __future__ import annotations

from typing import Any

from learnworlds_mcp.models.common import IsoTime, Record, as_record
from learnworlds_mcp.pagination import ListPage


class Event(Record):
    created: IsoTime = None
    activity: str | None = None
    user_id: str | None = None
    username: str | None = None
    description: str | None = None
    type: str | None = None
    additional_info: dict[str, Any] | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Event:
        data = as_record(data, "event")
        raw = data.get("user")
        user: dict[str, Any] = raw if isinstance(raw, dict) else {}
        info = data.get("additional_info")
        if isinstance(info, dict):
            info = {k: v for k, v in info.items() if v is not None} or None
        return cls.model_validate(
            {
                **data,
                "user_id": user.get("id"),
                "username": user.get("username"),
                "additional_info": info if isinstance(info, dict) else None,
            }
        )


class EventList(ListPage[Event]):
    """A page of event logs. Call again with `page` = `next_page` until it is null."""
