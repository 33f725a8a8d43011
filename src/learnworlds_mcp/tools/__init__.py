"""The tools, one module per resource. Importing this package fills `registry.TOOLS`."""

from learnworlds_mcp.tools import (
    activity,
    cohort_report,
    courses,
    enrollment_changes,
    enrollments,
    group_changes,
    group_managers,
    groups,
    inactive_staff,
    role_changes,
    roles,
    user_changes,
    user_overview,
    users,
)
from learnworlds_mcp.tools.registry import TOOLS, ToolSpec

__all__ = [
    "TOOLS",
    "ToolSpec",
    "activity",
    "cohort_report",
    "courses",
    "enrollment_changes",
    "enrollments",
    "group_changes",
    "group_managers",
    "groups",
    "inactive_staff",
    "role_changes",
    "roles",
    "user_changes",
    "user_overview",
    "users",
]
