"""Users: the trimmed list item and the full record."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from learnworlds_mcp.models.common import IsoTime, NullableList, Record, as_record
from learnworlds_mcp.pagination import ListPage


class UserRole(Record):
    level: str | None = None
    name: str | None = None


class UserSummary(Record):
    """What a model needs to tell users apart and decide what to do next."""

    id: str
    email: str
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    role: UserRole | None = None
    tags: NullableList[str] = Field(default_factory=list)
    created: IsoTime = None
    last_login: IsoTime = None  # absent: never logged in
    suspended: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> UserSummary:
        data = as_record(data, "user")
        return cls.model_validate({**data, "suspended": bool(data.get("is_suspended"))})


class User(UserSummary):
    """A user's full record."""

    is_admin: bool | None = None
    is_instructor: bool | None = None
    is_affiliate: bool | None = None
    subscribed_for_marketing_emails: bool | None = None
    signup_approval_status: str | None = None
    fields: dict[str, Any] | None = Field(
        default=None, description="Filled sign-up fields, incl. custom cf_*."
    )
    utms: dict[str, Any] | None = None
    billing_info: dict[str, Any] | None = None
    nps_score: int | None = None
    nps_comment: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> User:
        data = as_record(data, "user")
        cleaned = {
            **data,
            "suspended": bool(data.get("is_suspended")),
            "fields": _without_empty(data.get("fields")),
            "utms": _without_empty(data.get("utms")),
            "billing_info": _without_empty(data.get("billing_info")),
        }
        return cls.model_validate(cleaned)


def _without_empty(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    kept = {k: v for k, v in value.items() if v not in (None, "", [], {})}
    return kept or None


class UserList(ListPage[UserSummary]):
    """A page of users, newest first. Call again with `page` = `next_page` until it is null."""


class RoleRef(Record):
    id: str | None = None
    access_level: str | None = None
    name: str | None = None


class AssignedCourse(Record):
    course_id: str
    revenue_share_percentage: float | None = None


class Assignments(Record):
    """What a role is assigned to (empty assignments are left out)."""

    assigned_courses: list[AssignedCourse] | None = None
    assigned_user_group_ids: list[str] | None = Field(default=None, description="Groups managed.")
    assigned_seat_offering_ids: list[str] | None = None
    assigned_segment_id: str | None = None
    assigned_licenses_ids: list[str] | None = None


class RoleWithAssignments(Assignments, RoleRef):
    """A user's role (id, level, title) and its assignments, in one object."""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> RoleWithAssignments:
        fields = _role_fields(data)
        return cls.model_validate({**fields, **(fields["role"] or {})})


class UserRoleDetail(Assignments):
    """GET /v2/users/{id}/user-role, with empty assignments left out."""

    id: str | None = None
    email: str | None = None
    username: str | None = None
    role: RoleRef | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> UserRoleDetail:
        return cls.model_validate(_role_fields(data))


def _role_fields(data: dict[str, Any]) -> dict[str, Any]:
    data = as_record(data, "user role")
    role = data.get("user_role")
    if not isinstance(role, dict):
        role = {"id": data.get("role_id")} if data.get("role_id") else None
    cleaned = {k: (v if v not in ([], "", {}) else None) for k, v in data.items()}
    return {**cleaned, "role": role}
