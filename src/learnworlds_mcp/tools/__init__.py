"""The tools, one module per resource. Importing this package fills `registry.TOOLS`."""

from learnworlds_mcp.tools import groups, roles, users
from learnworlds_mcp.tools.registry import TOOLS, ToolSpec

__all__ = ["TOOLS", "ToolSpec", "groups", "roles", "users"]
