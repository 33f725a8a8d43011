"""The tool catalog: what `tools/list` says about each tool, kept beside the code as JSON.

Start-up answers `tools/list` from `catalog.json` — one small file — instead of importing
every tool module and having pydantic build ~100 models and 30 argument models, which made
start-up about a fifth slower than a bare `MCPServer`. A tool's module is imported and its SDK
tool built on its first call (`server.CatalogTool`).

The catalog is generated from the tool table (`tools/registry.py`) by the same code that builds
the tools, and `tests/test_tool_surface.py` fails when it drifts from the code; regenerate it
with `UPDATE_SNAPSHOTS=1 uv run pytest tests/test_tool_surface.py` (or
`python -m learnworlds_mcp.catalog`).
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mcp_types import ToolAnnotations

from learnworlds_mcp.tools.registry import Kind, tool_annotations

CATALOG_PATH = Path(__file__).with_name("catalog.json")


@dataclass(frozen=True)
class CatalogEntry:
    """One tool as `tools/list` shows it, with the table row gating reads (toolset, kind)."""

    name: str
    title: str
    toolset: str
    kind: Kind
    idempotent: bool
    module: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]

    @property
    def annotations(self) -> ToolAnnotations:
        return tool_annotations(self.kind, self.idempotent)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CatalogEntry":
        return cls(
            name=data["name"],
            title=data["title"],
            toolset=data["toolset"],
            kind=data["kind"],
            idempotent=data["idempotent"],
            module=data["module"],
            description=data["description"],
            input_schema=data["inputSchema"],
            output_schema=data["outputSchema"],
        )


@cache
def catalog() -> tuple[CatalogEntry, ...]:
    """The shipped catalog, read once per process."""
    return tuple(CatalogEntry.from_json(e) for e in json.loads(CATALOG_PATH.read_text("utf-8")))


def generate() -> list[dict[str, Any]]:
    """The catalog as the code says it should be: every tool of the table, built for real."""
    from learnworlds_mcp.server import tool_from
    from learnworlds_mcp.tools import MODULES, TOOLS

    # The table fills in import order, which depends on who imported what first: list the
    # tools in the order of MODULES (each module's own tools in their order), whatever it was.
    rank = {f"learnworlds_mcp.tools.{name}": n for n, name in enumerate(MODULES)}
    entries = []
    for spec in sorted(TOOLS, key=lambda spec: rank.get(spec.fn.__module__, len(rank))):
        tool = tool_from(spec)
        entries.append(
            {
                "name": spec.name,
                "title": spec.title,
                "toolset": spec.toolset,
                "kind": spec.kind,
                "idempotent": spec.idempotent,
                "module": spec.fn.__module__,
                "description": tool.description,
                "inputSchema": tool.parameters,
                "outputSchema": tool.output_schema,
            }
        )
    return entries


def render(entries: list[dict[str, Any]]) -> str:
    return json.dumps(entries, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    CATALOG_PATH.write_text(render(generate()), "utf-8")
    print(f"wrote {CATALOG_PATH}")
