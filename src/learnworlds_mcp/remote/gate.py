"""Per-member gates: each member sees, and may call, only the tools their gates allow.

The server registers the tools its own gates allow (`server.selected_tools`); a member's gates
(writes, destructive, toolsets) narrow that further. This server middleware — the SDK's seam for
hiding tools per caller — applies them to every message that could reveal or reach a tool:
`tools/list` is filtered; a `tools/call` of a hidden tool is answered exactly as a call of a
tool that does not exist (nothing reaches the school); prompts, completions and the view pages
follow the tools they lead to; the instructions say what is off for this member. It is the only
place that knows about members' gates.

The SDK also looks up a called tool's input schema before middleware runs (to check
`Mcp-Param-*` headers), so that lookup finds hidden tools too; it can reveal nothing here because
no tool's schema declares such headers (`x-mcp-header`).
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError

from learnworlds_mcp.catalog import CatalogEntry
from learnworlds_mcp.prompts import COMPLETION_TOOLS, PROMPT_TOOLS
from learnworlds_mcp.views.registration import VIEWS

VIEW_TOOLS = {view.uri: view.tool for view in VIEWS}
"""Each view page and the tool it draws: a page is offered only with its tool."""

# Stands in for a hidden name on its way through the SDK, so the answer is the SDK's own answer
# for a name that does not exist; the real name is put back into that answer.
_NOWHERE = "\u2400hidden\u2400"


@dataclass(frozen=True)
class Gates:
    """What one caller may use: tool kinds (read, write, destructive) and toolsets."""

    kinds: frozenset[str]
    toolsets: frozenset[str]

    def allow(self, spec: CatalogEntry) -> bool:
        return spec.kind in self.kinds and spec.toolset in self.toolsets


CallerGates = Callable[[], Gates | None]
"""The current caller's gates; None means no member gates apply (`--no-auth`)."""


class MemberGate:
    """The server middleware that hides from each member what their gates do not allow."""

    def __init__(
        self,
        tools: Collection[CatalogEntry],
        caller_gates: CallerGates,
        instructions: Callable[[Gates], str] | None = None,
    ) -> None:
        """`instructions` gives the server's instructions as they read for a member's gates."""
        self._tools = {spec.name: spec for spec in tools}
        self._caller_gates = caller_gates
        self._instructions = instructions

    def visible_tools(self, gates: Gates | None) -> set[str]:
        """The names of the registered tools a caller with `gates` may see and call."""
        return {n for n, spec in self._tools.items() if gates is None or gates.allow(spec)}

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> Any:
        gates = self._caller_gates()
        if gates is None:
            return await call_next(ctx)
        visible = self.visible_tools(gates)
        params: Mapping[str, Any] = ctx.params or {}
        method = ctx.method
        if method in ("initialize", "server/discover") and self._instructions is not None:
            result = await call_next(ctx)
            if isinstance(result, Mapping) and "instructions" in result:
                return {**result, "instructions": self._instructions(gates)}
            return result
        if method == "tools/list":
            return _keep(await call_next(ctx), "tools", lambda item: item.get("name") in visible)
        if method == "prompts/list":
            return _keep(await call_next(ctx), "prompts", lambda item: _offered(item, visible))
        if method == "resources/list":
            return _keep(
                await call_next(ctx),
                "resources",
                lambda item: (
                    VIEW_TOOLS.get(item.get("uri", ""), "") in visible
                    or item.get("uri") not in VIEW_TOOLS
                ),
            )
        if method == "resources/read":
            uri = params.get("uri")
            if isinstance(uri, str) and uri in VIEW_TOOLS and VIEW_TOOLS[uri] not in visible:
                nowhere = f"ui://learnworlds/{_NOWHERE}"
                return await _as_unknown(ctx, call_next, {**params, "uri": nowhere}, uri, nowhere)
        if method == "tools/call":
            name = params.get("name")
            if isinstance(name, str) and name not in visible:
                return await _as_unknown(ctx, call_next, {**params, "name": _NOWHERE}, name)
        if method == "prompts/get":
            name = params.get("name")
            if isinstance(name, str) and not _offered({"name": name}, visible):
                return await _as_unknown(ctx, call_next, {**params, "name": _NOWHERE}, name)
        if method == "completion/complete":
            ref = params.get("ref")
            name = ref.get("name") if isinstance(ref, Mapping) else None
            if isinstance(name, str) and name in PROMPT_TOOLS and PROMPT_TOOLS[name] not in visible:
                hidden_ref = {**ref, "name": _NOWHERE}  # type: ignore[dict-item]
                return await _as_unknown(ctx, call_next, {**params, "ref": hidden_ref}, name)
            argument = params.get("argument")
            arg = argument.get("name") if isinstance(argument, Mapping) else None
            if isinstance(name, str) and isinstance(arg, str):
                needed = COMPLETION_TOOLS.get((name, arg))
                if needed is not None and needed not in visible:
                    hidden_arg = {**argument, "name": _NOWHERE}  # type: ignore[dict-item]
                    hidden = {**params, "argument": hidden_arg}
                    return await _as_unknown(ctx, call_next, hidden, arg)
        return await call_next(ctx)


def _offered(prompt: Mapping[str, Any], visible: set[str]) -> bool:
    """A prompt is offered when the tool it sends the model to is visible."""
    tool = PROMPT_TOOLS.get(prompt.get("name", ""))
    return tool is None or tool in visible


def _keep(result: HandlerResult, key: str, wanted: Callable[[Mapping[str, Any]], bool]) -> Any:
    """A list result (wire form) with only the wanted items under `key`."""
    if isinstance(result, Mapping) and isinstance(result.get(key), list):
        return {**result, key: [item for item in result[key] if wanted(item)]}
    items = getattr(result, key, None)
    if isinstance(items, list):
        kept = [i for i in items if wanted(i.model_dump(by_alias=True, exclude_none=True))]
        return result.model_copy(update={key: kept})  # type: ignore[union-attr]
    return result


async def _as_unknown(
    ctx: ServerRequestContext[Any, Any],
    call_next: CallNext,
    params: Mapping[str, Any],
    name: str,
    stand_in: str = _NOWHERE,
) -> Any:
    """Answer as the SDK answers for a name that does not exist (`stand_in`), naming `name`."""
    try:
        result = await call_next(replace(ctx, params=dict(params)))
    except MCPError as error:
        raise MCPError(
            code=error.error.code,
            message=error.error.message.replace(stand_in, name),
            data=_restore(error.error.data, stand_in, name),
        ) from None
    except Exception as error:  # e.g. the SDK's ValueError("Unknown prompt: …")
        if stand_in not in str(error) or len(error.args) != 1:
            raise
        raise type(error)(str(error).replace(stand_in, name)) from None
    return _restore(result, stand_in, name)


def _restore(value: Any, stand_in: str, name: str) -> Any:
    """`value` with the stand-in replaced by the real name, in every string it holds."""
    if isinstance(value, str):
        return value.replace(stand_in, name)
    if isinstance(value, Mapping):
        return {key: _restore(item, stand_in, name) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item, stand_in, name) for item in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return _restore(dump(by_alias=True, mode="json", exclude_none=True), stand_in, name)
    return value
