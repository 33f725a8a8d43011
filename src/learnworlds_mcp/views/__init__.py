"""MCP Apps views (DESIGN §10): HTML pages a host renders next to a workflow tool's result.

`registration` says which tool names which `ui://learnworlds/…` page and builds the SDK's
`Apps` extension that serves them; `pages` loads a page from this package's data files the
first time a host reads it (nothing is read at start-up)."""

from learnworlds_mcp.views.registration import VIEWS, View, tool_meta, views_extension

__all__ = ["VIEWS", "View", "tool_meta", "views_extension"]
