"""build_server: the MCP server for one school, with exactly the tools the operator allowed."""

import inspect
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp.server.auth.provider import OAuthAuthorizationServerProvider
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import ServerMiddleware
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool

from learnworlds_mcp import __version__
from learnworlds_mcp.audit import AuditLog, Identify, audit_middleware, local_caller
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.clock import Clock
from learnworlds_mcp.config import TOOLSETS, Settings
from learnworlds_mcp.prompts import register_prompts
from learnworlds_mcp.schema import slim_schema
from learnworlds_mcp.tools import TOOLS, ToolSpec
from learnworlds_mcp.tools.common import AppContext
from learnworlds_mcp.views import tool_meta, views_extension

KIND_ORDER = ("read", "write", "destructive")


def selected_tools(settings: Settings) -> list[ToolSpec]:
    """The rows of the tool table this configuration exposes — the one gating rule."""
    kinds = settings.tool_kinds
    chosen = [t for t in TOOLS if t.toolset in settings.toolsets and t.kind in kinds]
    # A stable order for clients: reads, writes, destructive; by toolset within each kind.
    return sorted(chosen, key=lambda t: (KIND_ORDER.index(t.kind), TOOLSETS.index(t.toolset)))


def instructions_for(settings: Settings) -> str:
    kinds = settings.tool_kinds
    lines = [
        "Tools for one LearnWorlds school. Users can be named by id or email. List tools are "
        "paged: repeat with page = next_page until next_page is null. The school allows "
        f"{settings.rate_limit.requests} API requests per {settings.rate_limit.seconds:g} s; "
        "the server paces calls, so prefer few, targeted calls.",
    ]
    if "write" not in kinds:
        lines.append(
            "Read-only: the operator has not allowed changes (--allow-writes / "
            "LEARNWORLDS_ALLOW_WRITES turns on additive changes)."
        )
    elif "destructive" not in kinds:
        lines.append(
            "Additive changes are on; changes that overwrite or remove are off "
            "(--allow-destructive / LEARNWORLDS_ALLOW_DESTRUCTIVE). Use dry_run to preview."
        )
    else:
        lines.append(
            "Additive and destructive changes are on. Use dry_run to preview a change; the "
            "person may be asked to confirm destructive ones."
        )
    return " ".join(lines)


def build_server(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    identify: Identify = local_caller,
    middleware: Sequence[ServerMiddleware[Any]] = (),
    auth: AuthSettings | None = None,
    auth_server_provider: OAuthAuthorizationServerProvider[Any, Any, Any] | None = None,
) -> MCPServer[AppContext]:
    """Build the server. `transport` and `clock` let tests and --demo run it in-process.

    The remote server (`remote/`) passes who is calling (`identify`, for the audit log), its
    per-member `middleware` and its authorization server; over stdio none of them is needed.
    """
    audit = AuditLog(settings.audit_log) if settings.audit_log else None

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppContext]) -> AsyncIterator[AppContext]:
        try:
            async with LearnWorldsClient(settings, transport=transport, clock=clock) as client:
                yield AppContext(client=client, settings=settings)
        finally:
            if audit is not None:
                audit.close()

    specs = selected_tools(settings)
    tools = [_tool_from(spec) for spec in specs]
    views = views_extension(tool.name for tool in tools)  # a view only for a registered tool
    chain: list[ServerMiddleware[Any]] = []
    if audit is not None:
        changes = [spec.name for spec in specs if spec.kind != "read"]
        chain.append(audit_middleware(audit, changes, identify))
    chain.extend(middleware)
    server = MCPServer(
        "learnworlds-mcp",
        title="LearnWorlds",
        instructions=instructions_for(settings),
        version=__version__,
        log_level="WARNING",
        lifespan=lifespan,
        tools=tools,
        middleware=chain,
        auth=auth,
        auth_server_provider=auth_server_provider,
        extensions=[views] if views else None,
    )
    register_prompts(server, {tool.name for tool in tools})
    return server


def _tool_from(spec: ToolSpec) -> Tool:
    """An SDK tool for one table row, with its docstring as description and slim schemas;
    a tool with a view (§10) names its `ui://` page in `_meta`."""
    tool = Tool.from_function(
        spec.fn,
        name=spec.name,
        title=spec.title,
        description=inspect.cleandoc(spec.fn.__doc__ or ""),
        annotations=spec.annotations,
        structured_output=True,
        meta=tool_meta(spec.name),
    )
    tool.parameters = slim_schema(tool.parameters)
    if tool.fn_metadata.output_schema is not None:
        tool.fn_metadata.output_schema = slim_schema(
            tool.fn_metadata.output_schema, keep_defaults=False
        )
    return tool
