"""build_server: the MCP server for one school, with exactly the tools the operator allowed.

Tools are listed from the catalog (`catalog.json`, see `learnworlds_mcp.catalog`): start-up
imports no tool module and builds no tool; each tool is built on its first call.
"""

import importlib
import inspect
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

import httpx2
from mcp.server.auth.provider import OAuthAuthorizationServerProvider
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import ServerMiddleware
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.server.request_state import RequestStateSecurity
from pydantic import BaseModel, PrivateAttr, ValidationError

from learnworlds_mcp import __version__
from learnworlds_mcp.audit import AuditLog, Identify, audit_middleware, local_caller
from learnworlds_mcp.catalog import CatalogEntry, catalog
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.clock import Clock
from learnworlds_mcp.config import TOOLSETS, Settings
from learnworlds_mcp.prompts import register_prompts
from learnworlds_mcp.schema import PlainDefaults, slim_schema
from learnworlds_mcp.state.shared import SharedState, in_process_state
from learnworlds_mcp.tools.common import AppContext
from learnworlds_mcp.tools.registry import ToolSpec
from learnworlds_mcp.views import tool_meta, views_extension

if TYPE_CHECKING:
    from mcp.server.mcpserver.context import Context

KIND_ORDER = ("read", "write", "destructive")


def selected_tools(settings: Settings) -> list[CatalogEntry]:
    """The rows of the tool table this configuration exposes — the one gating rule."""
    kinds = settings.tool_kinds
    chosen = [t for t in catalog() if t.toolset in settings.toolsets and t.kind in kinds]
    # A stable order for clients: reads, writes, destructive; by toolset within each kind.
    return sorted(chosen, key=lambda t: (KIND_ORDER.index(t.kind), TOOLSETS.index(t.toolset)))


def instructions_for(settings: Settings, member_kinds: Collection[str] | None = None) -> str:
    """What the model is told at `initialize`: how to use the tools, and which changes are off
    and who turns them on (the text follows the gates). `member_kinds`: the caller's own tool
    kinds on the remote server (None over stdio); what the server allows but the member may not
    use is the member's to ask for, not the operator's flags."""
    server_kinds = settings.tool_kinds
    kinds = [k for k in server_kinds if member_kinds is None or k in member_kinds]
    lines = [
        "Tools for one LearnWorlds school. Users can be named by id or email. List tools are "
        "paged: repeat with page = next_page until next_page is null. The school allows "
        f"{settings.rate_limit.requests} API requests per {settings.rate_limit.seconds:g} s; "
        "the server paces calls, so prefer few, targeted calls.",
    ]
    member_text = (
        "your member key does not allow them: the server's operator gives a member changes "
        "with `learnworlds-mcp members add NAME --allow-writes` (and --allow-destructive)."
    )
    if "write" not in kinds:
        if "write" in server_kinds:
            lines.append(f"Read-only: changes are off for you; {member_text}")
        else:
            lines.append(
                "Read-only: changes are off. The operator turns on additive changes (create, "
                "add, enroll) by starting the server with --allow-writes "
                "(LEARNWORLDS_ALLOW_WRITES=1), and changes that overwrite or remove with "
                "--allow-destructive as well (LEARNWORLDS_ALLOW_DESTRUCTIVE=1)."
            )
    elif "destructive" not in kinds:
        lines.append(
            "Additive changes are on; use dry_run to preview one. Changes that overwrite or "
            "remove (update, suspend, unenroll, remove) are off"
            + (
                f" for you; {member_text}"
                if "destructive" in server_kinds
                else ": the operator turns them on by starting the server with "
                "--allow-destructive (LEARNWORLDS_ALLOW_DESTRUCTIVE=1)."
            )
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
    state: SharedState | None = None,
) -> MCPServer[AppContext]:
    """Build the server. `transport` and `clock` let tests and --demo run it in-process.

    The remote server (`remote/`) passes who is calling (`identify`, for the audit log), its
    per-member `middleware` and its authorization server; over stdio none of them is needed.
    `state` is the school's shared state (default: in this process, `state.shared`); the server
    closes it when it stops.
    """
    audit = AuditLog(settings.audit_log) if settings.audit_log else None
    if audit is not None:
        audit.check()
    shared = state or in_process_state(settings, clock)

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppContext]) -> AsyncIterator[AppContext]:
        try:
            async with LearnWorldsClient(
                settings, transport=transport, clock=clock, budget=shared.budget
            ) as client:
                yield AppContext(
                    client=client, settings=settings, tallies=shared.tallies, titles=shared.titles
                )
        finally:
            if audit is not None:
                audit.close()
            await shared.aclose()

    entries = selected_tools(settings)
    tools: list[Tool] = [CatalogTool.listing(entry) for entry in entries]
    views = views_extension(tool.name for tool in tools)  # a view only for a registered tool
    chain: list[ServerMiddleware[Any]] = []
    if audit is not None:
        changes = [entry.name for entry in entries if entry.kind != "read"]
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
        # A call paused for the person's answer (2026-07-28) carries its state to the client and
        # back: sealed with the key every replica shares, so either replica can finish it.
        request_state_security=(
            None
            if settings.state_key is None
            else RequestStateSecurity(keys=[settings.state_key.get_secret_value()])
        ),
    )
    register_prompts(server, {tool.name for tool in tools})
    return server


class _NotBuiltYet(ArgModelBase):
    """The argument model of a tool not built yet (its real one comes with its first call)."""


class CatalogTool(Tool):
    """A tool as the catalog lists it; its module is imported and the SDK tool built (once
    per process) on its first call, which then runs it: validation, context and all."""

    _module: str = PrivateAttr(default="")

    @classmethod
    def listing(cls, entry: CatalogEntry) -> "CatalogTool":
        tool = cls(
            fn=_not_built,
            name=entry.name,
            title=entry.title,
            description=entry.description,
            parameters=entry.input_schema,
            fn_metadata=FuncMetadata(arg_model=_NotBuiltYet, output_schema=entry.output_schema),
            is_async=True,
            context_kwarg=None,
            annotations=entry.annotations,
            meta=tool_meta(entry.name),
        )
        tool._module = entry.module
        return tool

    async def run(
        self, arguments: dict[str, Any], context: "Context[Any, Any]", convert_result: bool = False
    ) -> Any:
        try:
            return await built_tool(self.name, self._module).run(arguments, context, convert_result)
        except ToolError as error:
            if isinstance(error.__cause__, ValidationError):
                raise ToolError(_invalid_arguments(self.name, error.__cause__)) from error
            raise


def _invalid_arguments(tool: str, error: ValidationError) -> str:
    """Argument errors in words a model acts on: which argument, what is wrong (no values)."""
    problems = [
        f"{'.'.join(str(part) for part in e['loc']) or 'arguments'}: {e['msg'].lower()}"
        for e in error.errors(include_url=False, include_input=False, include_context=False)
    ]
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    # The same opening as every other tool error (the SDK's), then what to fix.
    return (
        f"Error executing tool {tool}: invalid arguments: {'; '.join(problems[:5])}{more}. "
        "Check the tool's input schema and call again; nothing was sent to the school."
    )


async def _not_built(**_: Any) -> None:  # pragma: no cover - CatalogTool.run never calls it
    raise RuntimeError("a catalog tool runs through its built tool")


_BUILT: dict[str, Tool] = {}


def built_tool(name: str, module: str) -> Tool:
    """The SDK tool `name`, built from its table row on first use (importing `module`)."""
    built = _BUILT.get(name)
    if built is None:
        importlib.import_module(module)
        from learnworlds_mcp.tools.registry import TOOLS

        spec = next((t for t in TOOLS if t.name == name), None)
        if spec is None:  # the catalog names a tool the code no longer has
            raise RuntimeError(f"{name} is in catalog.json but not in {module}")
        built = _BUILT[name] = tool_from(spec)
    return built


def tool_from(spec: ToolSpec) -> Tool:
    """An SDK tool for one table row, with its docstring as description and slim schemas.

    Each tool returns a `CallToolResult` built from its result model (`compact_result`), so
    the SDK is not asked to derive and re-validate an output model: the tool advertises the
    model's slim schema, built once per model however many tools share it.
    """
    tool = Tool.from_function(
        spec.fn,
        name=spec.name,
        title=spec.title,
        description=" ".join((spec.fn.__doc__ or "").split()),  # one line: no "\n" escapes
        annotations=spec.annotations,
        structured_output=False,
        meta=tool_meta(spec.name),
    )
    tool.parameters = slim_schema(tool.parameters)
    tool.fn_metadata.output_schema = output_schema(result_model(spec))  # shared, never changed
    return tool


def result_model(spec: ToolSpec) -> type[BaseModel]:
    """The model in a tool's `-> Annotated[CallToolResult, Model]` annotation."""
    returns = inspect.signature(spec.fn).return_annotation
    args = get_args(returns)
    if get_origin(returns) is not Annotated or len(args) != 2 or not issubclass(args[1], BaseModel):
        raise TypeError(f"{spec.name} must be annotated -> Annotated[CallToolResult, Model]")
    model: type[BaseModel] = args[1]
    return model


@cache
def output_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The slim output schema of a result model (computed once per model)."""
    return slim_schema(model.model_json_schema(schema_generator=PlainDefaults), output=True)
