"""Results of the workflow tools: inactive staff, group managers, a cohort report, a user
overview."""

from __future__ import annotations

from pydantic import BaseModel, Field

from learnworlds_mcp.models.common import IsoTime, Record
from learnworlds_mcp.models.enrollments import Enrollment
from learnworlds_mcp.models.groups import Group, GroupManager, GroupRef
from learnworlds_mcp.models.users import RoleWithAssignments, UserRole, UserSummary


class Partial(BaseModel):
    """What every workflow result says about its own cost and completeness."""

    api_calls: int = Field(description="API calls this call made.")
    complete: bool
    note: str | None = None


class StaffMember(Record):
    id: str
    email: str
    username: str | None = None
    role: UserRole | None = None
    last_login: IsoTime = Field(default=None, description="Absent: never.")
    days_since_login: int | None = None
    suspended: bool | None = None


class InactiveStaff(Partial):
    items: list[StaffMember] = Field(description="Never logged in first, then longest idle.")
    total_items: int
    days: int
    cutoff: str = Field(description="Last login before this counts as inactive.")
    levels: list[str]
    staff_checked: int
    resume_from: str | None = Field(default=None, description="Pass back to continue.")


class ManagerProfile(GroupManager):
    """A group manager with what their own record adds (absent: the record could not be read)."""

    nps_score: int | None = None
    is_instructor: bool | None = None
    is_admin: bool | None = None


class ManagerRow(Record):
    """One row of the group-managers table: a group and one of its managers."""

    group_id: str
    group_title: str | None = None
    manager_id: str
    email: str | None = None
    username: str | None = None
    nps_score: int | None = None
    is_instructor: bool | None = None
    is_admin: bool | None = None


class GroupManagerTable(Partial):
    items: list[ManagerRow] = Field(description="By group (newest first), then manager.")
    total_items: int
    groups_matched: int
    groups_without_managers: list[GroupRef]
    managers_read: int = Field(description="Distinct managers whose record was read.")
    resume_from: str | None = Field(default=None, description="Pass back to continue.")


class ReportGroup(Group):
    group_managers: list[ManagerProfile] = Field(default_factory=list)  # type: ignore[assignment]


class CohortCourse(Record):
    course_id: str
    title: str | None = None
    enrolled: int
    completed: int
    in_progress: int
    not_started: int
    not_enrolled: int
    average_progress: float | None = Field(default=None, description="Percent, enrolled only.")


class CohortMember(Record):
    id: str
    email: str
    username: str | None = None
    last_login: IsoTime = Field(default=None, description="Absent: never.")
    progress: list[float | None] = Field(
        description="Percent per course, in `courses` order; null: not enrolled."
    )


class GroupReport(Partial):
    group: ReportGroup
    member_count: int
    members_read: int = Field(description="Members whose progress is counted.")
    courses: list[CohortCourse]
    never_logged_in: int
    idle_30_days: int = Field(description="Last login over 30 days ago.")
    members: list[CohortMember] = Field(description="Furthest behind first, member_limit.")
    resume_from: int | None = Field(default=None, description="Member page to continue from.")


class Profile(UserSummary):
    nps_score: int | None = None
    nps_comment: str | None = None
    fields: dict[str, object] | None = Field(default=None, description="Filled sign-up fields.")


class OverviewEnrollment(Enrollment):
    status: str | None = None
    progress_rate: float | None = Field(default=None, description="Percent.")
    completed_at: IsoTime = None


class RecentEvent(Record):
    created: IsoTime = None
    activity: str | None = None
    description: str | None = None


class UserOverview(Partial):
    user: Profile
    role: RoleWithAssignments | None = None
    groups: list[GroupRef]
    enrollments: list[OverviewEnrollment]
    total_enrollments: int
    last_activity: IsoTime = None
    recent_activity: list[RecentEvent] = Field(description="Latest first.")
