"""Enrollments and progress: who holds which course, since when, and how far along."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from learnworlds_mcp.models.common import IsoTime, OptionalInt, Record, as_record
from learnworlds_mcp.pagination import ListPage


class Enrollment(Record):
    """One course a user is enrolled in."""

    course_id: str = Field(description="Course slug.")
    title: str | None = None
    enrolled: IsoTime = None
    expires: IsoTime = Field(default=None, description="Absent: never.")

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Enrollment:
        data = as_record(data, "enrollment")
        raw = data.get("course")
        course: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return cls.model_validate(
            {
                "course_id": course.get("id") or data.get("course_id") or "",
                "title": course.get("title"),
                "enrolled": data.get("created"),
                "expires": data.get("expires"),
            }
        )


class EnrollmentList(ListPage[Enrollment]):
    """A page of a user's enrollments, newest first."""


class UnitProgress(Record):
    unit_id: str
    unit_name: str | None = None
    unit_type: str | None = None
    section: str | None = None
    completed: bool = False
    score_on_unit: float | None = None
    time_on_unit: OptionalInt = Field(default=None, description="Seconds.")


class CourseProgress(Record):
    """One user's progress in one course."""

    course_id: str | None = None
    status: str | None = Field(default=None, description="not_started, not_completed, completed")
    progress_rate: float | None = Field(default=None, description="Percent of units completed.")
    average_score_rate: float | None = None
    time_on_course: OptionalInt = Field(default=None, description="Seconds.")
    completed_units: OptionalInt = None
    total_units: OptionalInt = None
    completed_at: IsoTime = None
    units: list[UnitProgress] | None = Field(default=None, description="With course_id only.")

    @classmethod
    def from_api(
        cls, data: dict[str, Any], *, course_id: str | None = None, units: bool = False
    ) -> CourseProgress:
        data = as_record(data, "progress")
        detail = None
        if units:
            detail = [
                UnitProgress.model_validate(
                    {
                        **unit,
                        "section": unit.get("unit_section_name"),
                        "completed": unit.get("unit_status") == "completed",
                    }
                )
                for section in data.get("progress_per_section_unit") or []
                if isinstance(section, dict)
                for unit in section.get("units") or []
                if isinstance(unit, dict) and unit.get("unit_id")
            ]
        return cls.model_validate(
            {**data, "course_id": data.get("course_id") or course_id, "units": detail}
        )


class ProgressList(ListPage[CourseProgress]):
    """A user's progress per course. Call again with `page` = `next_page` until it is null."""
