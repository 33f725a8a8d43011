"""The tools, one module per resource. Importing this package fills `registry.TOOLS`."""

from learnworlds_mcp.tools import (
    activity,
    courses,
    enrollment_changes,
    enrollments,
    group_changes,
    groups,
    role_changes,
    roles,
    user_changes,
    users,
    workflows,
)
from learnworlds_mcp.tools.registry import TOOLS, ToolSpec

__all__ = [
    "TOOLS",
    "ToolSpec",
    "activity",
    "courses",
    "enrollment_changes",
    "enrollments",
    "group_changes",
    "groups",
    "role_changes",
    "roles",
    "user_changes",
    "users",
    "workflows",
]
