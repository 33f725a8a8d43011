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
from learnworlds_mcp.models.users import User, UserRoleDetail

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
    title: str | None = None


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


class RoleChange(Change):
    user_role: UserRoleDetail = Field(description="After the change; else as it is now.")
