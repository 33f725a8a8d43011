"""User groups (cohorts): their courses, capacity and managers."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from learnworlds_mcp.models.common import IsoTime, NullableList, OptionalInt, Record, as_record
from learnworlds_mcp.pagination import FullList, ListPage


class GroupManager(Record):
    id: str
    username: str | None = None
    email: str | None = None
    role_id: str | None = None


class Group(Record):
    id: str
    title: str | None = None
    description: str | None = None
    products: NullableList[str] = Field(default_factory=list)  # course slugs
    enroll_users_on_courses: bool | None = None
    max_number_of_users: OptionalInt = Field(default=None, description="Absent: no limit.")
    group_managers: NullableList[GroupManager] = Field(default_factory=list)
    tags: NullableList[str] = Field(default_factory=list)  # given to members when they join
    created: IsoTime = None
    modified: IsoTime = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Group:
        data = as_record(data, "group")
        return cls.model_validate({**data, "products": course_slugs(data.get("products"))})


def course_slugs(products: Any) -> list[str]:
    """The course slugs of a group's `products` (``{"courses": [...]}``, or a bare list)."""
    courses = products.get("courses") if isinstance(products, dict) else products
    if not isinstance(courses, list):
        return []
    return [str(c) for c in courses if isinstance(c, str | int) and not isinstance(c, bool)]


class GroupList(ListPage[Group]):
    """A page of groups, newest first. Call again with `page` = `next_page` until it is null."""


class GroupRef(Record):
    """A group a user belongs to."""

    id: str
    title: str | None = None


class UserGroupList(FullList[GroupRef]):
    """All groups of one user (not paged: `next_page` is always null)."""
