"""User roles of the school."""

from __future__ import annotations

from learnworlds_mcp.models.common import Record
from learnworlds_mcp.pagination import FullList


class Role(Record):
    id: str
    title: str | None = None
    description: str | None = None
    access_level: str | None = None
    custom_role: bool | None = None


class RoleList(FullList[Role]):
    """All roles, alphabetical by title (not paginated: `next_page` is always null)."""
