"""Courses: the trimmed list item and the full record (`id` is the course slug)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from learnworlds_mcp.models.common import IsoTime, NullableList, Record, as_record
from learnworlds_mcp.pagination import ListPage


class CourseSummary(Record):
    """What a model needs to pick a course."""

    id: str = Field(description="Course slug.")
    title: str | None = None
    access: str | None = None
    categories: NullableList[str] = Field(default_factory=list)
    final_price: float | None = None
    created: IsoTime = None


class Course(CourseSummary):
    """A course's full record."""

    description: str | None = None
    label: str | None = None
    author: str | None = None
    original_price: float | None = None
    discount_price: float | None = None
    dripFeed: str | None = None
    expires: int | None = Field(default=None, description="Access length, in expiresType units.")
    expiresType: str | None = None
    after_purchase: str | None = Field(default=None, description="Where buyers land.")
    courseImage: str | None = None
    modified: IsoTime = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Course:
        data = as_record(data, "course")
        author = data.get("author")
        after = data.get("afterPurchase")
        return cls.model_validate(
            {
                **data,
                "author": author.get("name") if isinstance(author, dict) else None,
                "after_purchase": after.get("type") if isinstance(after, dict) else None,
            }
        )


class CourseList(ListPage[CourseSummary]):
    """A page of courses, newest first. Call again with `page` = `next_page` until it is null."""
