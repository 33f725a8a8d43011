"""Which tool carries which view, and the `Apps` extension that serves the views.

A tool with a view gets `_meta.ui.resourceUri` in tools/list (for every client: hosts that
render apps without announcing the extension exist, and `_meta` is not text the model reads).
Its tools/call result is untouched: the page draws the same `structuredContent` a client
without Apps receives, so such a client gets exactly what it got before views existed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mcp.server.apps import Apps, ResourceCsp
from mcp.server.mcpserver.resources import Resource


@dataclass(frozen=True)
class View:
    """One page: the tool it draws, its `ui://` address and its file in this package."""

    tool: str
    uri: str
    page: str
    title: str
    description: str


VIEWS: tuple[View, ...] = (
    View(
        tool="get_single_learnworlds_group_report_by_id",
        uri="ui://learnworlds/cohort-report.html",
        page="cohort_report.html",
        title="Cohort report",
        description="Completion per course, the members furthest behind, logins, managers.",
    ),
    View(
        tool="list_all_learnworlds_inactive_staff",
        uri="ui://learnworlds/inactive-staff.html",
        page="inactive_staff.html",
        title="Inactive staff",
        description="Who on the staff has been idle, how long, by role.",
    ),
    View(
        tool="get_single_learnworlds_user_overview_by_id",
        uri="ui://learnworlds/user-overview.html",
        page="user_overview.html",
        title="User overview",
        description="A user's courses with progress, groups, role and last activity.",
    ),
)
_BY_TOOL = {view.tool: view for view in VIEWS}


def tool_meta(tool_name: str) -> dict[str, Any] | None:
    """The `_meta` a tool carries in tools/list: its view's address, or None without a view."""
    view = _BY_TOOL.get(tool_name)
    return None if view is None else {"ui": {"resourceUri": view.uri}}


class PackagedPage(Resource):
    """A view page read from the package on first `resources/read` (then kept)."""

    page: str

    async def read(self) -> str:
        from learnworlds_mcp.views.pages import load_page  # not at start-up: on first read

        return load_page(self.page)


def views_extension(tool_names: Iterable[str]) -> Apps | None:
    """The `Apps` extension serving the views of the registered `tool_names` (None: none).

    Each page asks the host for no network, frame or base domain at all (an empty
    `_meta.ui.csp`), and carries its own hash-pinned Content-Security-Policy as well.
    """
    chosen = [_BY_TOOL[name] for name in tool_names if name in _BY_TOOL]
    if not chosen:
        return None
    apps = Apps()
    for view in chosen:
        apps.add_resource(
            PackagedPage(
                uri=view.uri,
                name=view.page.removesuffix(".html"),
                title=view.title,
                description=view.description,
                meta={
                    "ui": {
                        "csp": ResourceCsp().model_dump(by_alias=True, exclude_none=True),
                        "prefersBorder": True,
                    }
                },
                page=view.page,
            )
        )
    return apps
