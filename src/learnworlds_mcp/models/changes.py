"""What the write and destructive tools return: the request, what became of it, the record.

Every change tool answers with one shape: `status` (what happened), `request` (the exact
request sent, or that would be sent), an optional `note`, and the record concerned — after the
change when it was made, as it is now otherwise (dry run, declined, unchanged).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from learnworlds_mcp.models.common import Record
from learnworlds_mcp.models.groups import Group
from learnworlds_mcp.models.users import User

ChangeStatus = Literal["done", "unchanged", "dry_run", "declined"]


class PlannedRequest(Record):
    """One API request, exactly as sent (or as it would be sent)."""

    method: Literal["POST", "PUT", "DELETE"]
    path: str = Field(description="Below the school's /admin/api.")
    body: dict[str, Any] | None = None


class Change(Record):
    """The common part of every change tool's result."""

    status: ChangeStatus = Field(
        description="done: made. unchanged: already so, nothing sent. dry_run, declined "
        "(the person said no): nothing sent."
    )
    request: PlannedRequest
    note: str | None = None


class UserChange(Change):
    user: User | None = Field(default=None, description="After the change; else as it is now.")


class GroupChange(Change):
    group: Group | None = Field(default=None, description="After the change; else as it is now.")


class Person(Record):
    """Who a membership or enrollment change is about."""

    id: str
    email: str
    username: str | None = None


class GroupBrief(Record):
    id: str
    title: str


class MembershipChange(Change):
    user: Person
    group: GroupBrief
    member: bool = Field(description="Whether the user is in the group now.")
    user_groups: list[GroupBrief] = Field(
        default_factory=list, description="All the user's groups now."
    )


class Product(Record):
    id: str
    title: str | None = None
    type: str


class EnrollmentChange(Change):
    user: Person
    product: Product
    enrolled: bool = Field(description="Whether the user holds the product now.")


class AssignedCourse(Record):
    course_id: str
    revenue_share_percentage: float | None = None


class RoleOfUser(Record):
    id: str
    title: str | None = None
    access_level: str | None = None


class RoleAssignment(Record):
    """A user's role and what it is assigned to (GET /v2/users/{id}/user-role)."""

    id: str
    email: str | None = None
    username: str | None = None
    role: RoleOfUser
    assigned_courses: list[AssignedCourse] = Field(default_factory=list)
    assigned_user_group_ids: list[str] = Field(default_factory=list)
    assigned_seat_offering_ids: list[str] = Field(default_factory=list)
    assigned_segment_id: str | None = None
    assigned_licenses_ids: list[str] = Field(default_factory=list)

    @classmethod
    def from_api(cls, data: dict[str, Any], title: str | None = None) -> RoleAssignment:
        """From the API's UserRoleUserResponse; `title` fills a role name the reply lacks."""
        role = data.get("user_role") if isinstance(data.get("user_role"), dict) else {}
        assert isinstance(role, dict)
        return cls.model_validate(
            {
                **data,
                "assigned_segment_id": data.get("assigned_segment_id") or None,
                "role": {
                    "id": role.get("id") or data.get("role_id"),
                    "title": role.get("name") or title,
                    "access_level": role.get("access_level"),
                },
            }
        )


class RoleChange(Change):
    user_role: RoleAssignment = Field(description="After the change; else as it is now.")
