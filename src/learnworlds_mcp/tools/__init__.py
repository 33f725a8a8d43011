"""The tools, one module per resource; `registry.TOOLS` is the table gating reads.

Importing this package imports no tool module: start-up lists tools from the catalog
(`learnworlds_mcp.catalog`) and a tool's module is imported on its first call. `TOOLS` (and
`load_all()`) import every tool module, filling the table in the order of `MODULES`.
"""

import importlib
from typing import Any

from learnworlds_mcp.tools.registry import ToolSpec

MODULES = (
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
)


def load_all() -> list[ToolSpec]:
    """Import every tool module; return the whole tool table."""
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
    from learnworlds_mcp.tools.registry import TOOLS

    return TOOLS


def __getattr__(name: str) -> Any:
    if name == "TOOLS":
        return load_all()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MODULES", "TOOLS", "ToolSpec", "load_all"]
