"""User groups (cohorts): their courses, capacity and managers."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from learnworlds_mcp.models.common import IsoTime, OptionalInt, Record
from learnworlds_mcp.pagination import FullList, ListPage


class GroupManager(Record):
    id: str
    username: str | None = None
    email: str | None = None
    role_id: str | None = None


class Group(Record):
    id: str
    title: str
    description: str | None = None
    products: list[str] = Field(default_factory=list)  # course slugs
    enroll_users_on_courses: bool | None = None
    max_number_of_users: OptionalInt = Field(default=None, description="Absent: no limit.")
    group_managers: list[GroupManager] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)  # given to members when they join
    created: IsoTime = None
    modified: IsoTime = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Group:
        products = data.get("products")
        courses = products.get("courses") if isinstance(products, dict) else products
        return cls.model_validate({**data, "products": courses or []})


class GroupList(ListPage[Group]):
    """A page of groups, newest first. Call again with `page` = `next_page` until it is null."""


class GroupRef(Record):
    """A group a user belongs to."""

    id: str
    title: str | None = None


class UserGroupList(FullList[GroupRef]):
    """All groups of one user (not paged: `next_page` is always null)."""
