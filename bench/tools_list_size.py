"""`tools/list` size: bytes and ≈tokens of every tool entry the client receives.

An entry is measured as compact JSON of what the server sends for it — name, title,
description, inputSchema, outputSchema, annotations — with ≈tokens = bytes / 4. The server is
built in-process with `build_server(Settings(...))` and listed through `mcp.Client(server)`.
Sizes are given for the five hero tools, for all read tools (the default), and with
`allow_writes` + `allow_destructive`.

Two figures per set:
- **model-facing**: what a host puts in front of the model — each tool's name, description and
  input schema, as compact JSON `[{"name", "description", "inputSchema"}, …]`;
- **whole**: the `tools` array of `tools/list` as sent (titles, output schemas, annotations too).
Goals, with every tool listed: model-facing ≤ 4,000 tokens, whole ≤ 9,000 tokens.

    uv run python bench/tools_list_size.py
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from mcp import Client
from pydantic import SecretStr

from _env import describe
from learnworlds_mcp.config import Settings
from learnworlds_mcp.server import build_server

HEROES = (
    "list_all_learnworlds_users",
    "get_single_learnworlds_user_by_id",
    "list_all_learnworlds_roles",
    "list_all_learnworlds_groups",
    "get_single_learnworlds_group_by_id",
)
GOAL_HERO_TOKENS = 1_500
GOAL_MODEL_FACING_TOKENS = 4_000
GOAL_WHOLE_TOKENS = 9_000
BYTES_PER_TOKEN = 4


def compact_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def tokens(size: int) -> int:
    return round(size / BYTES_PER_TOKEN)


async def tools_list(
    *, allow_writes: bool = False, allow_destructive: bool = False
) -> list[dict[str, Any]]:
    settings = Settings(
        api_url="https://school.example.com/admin/api",
        client_id="5f1e9a3c7b2d4e6f80a1b2c3",
        client_secret=SecretStr("not-used"),
        allow_writes=allow_writes,
        allow_destructive=allow_destructive,
    )
    async with Client(build_server(settings)) as client:
        listed = (await client.list_tools()).tools
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed]


def model_facing(entries: list[dict[str, Any]]) -> int:
    """Bytes of what a host shows the model: name, description and input schema per tool."""
    return compact_size(
        [
            {
                "name": e["name"],
                "description": e.get("description", ""),
                "inputSchema": e["inputSchema"],
            }
            for e in entries
        ]
    )


def print_table(title: str, entries: list[dict[str, Any]]) -> tuple[int, int, int]:
    """Print one row per tool and the totals; return the list's bytes, its output schemas'
    and the model-facing bytes."""
    print(f"\n{title} — {len(entries)} tools")
    header = f"{'tool':<40} {'descr':>6} {'input':>6} {'output':>7} {'annot':>6} {'bytes':>6}"
    print(f"{header} {'≈tok':>5}")
    sums = [0, 0, 0, 0, 0]
    for entry in entries:
        parts = [
            len(entry.get("description", "").encode()),
            compact_size(entry.get("inputSchema", {})),
            compact_size(entry.get("outputSchema", {})),
            compact_size(entry.get("annotations", {})),
            compact_size(entry),
        ]
        sums = [a + b for a, b in zip(sums, parts, strict=True)]
        cells = " ".join(f"{p:>{w}}" for p, w in zip(parts, (6, 6, 7, 6, 6), strict=True))
        print(f"{entry['name']:<40} {cells} {tokens(parts[-1]):>5}")
    total = compact_size(entries)  # the `tools` array as sent, brackets and commas included
    cells = " ".join(f"{p:>{w}}" for p, w in zip(sums[:4], (6, 6, 7, 6), strict=True))
    print(f"{'total (the tools array)':<40} {cells} {total:>6} {tokens(total):>5}")
    facing = model_facing(entries)
    print(f"{'model-facing (name, description, input)':<40} {facing:>35} {tokens(facing):>5}")
    return total, sums[2], facing


async def main() -> None:
    read = await tools_list()
    heroes = [e for e in read if e["name"] in HEROES]
    everything = await tools_list(allow_writes=True, allow_destructive=True)
    print(describe())
    print("tools/list size: compact JSON bytes per entry, ≈tokens = bytes / 4")
    rows = [
        ("five hero tools", len(heroes), *print_table("The five hero tools", heroes)),
        ("all read tools", len(read), *print_table("All read tools (default gates)", read)),
        (
            "writes + destructive",
            len(everything),
            *print_table("With allow_writes + allow_destructive", everything),
        ),
    ]
    print("\nSummary (≈tokens = bytes / 4)")
    header = f"{'set':<24} {'tools':>5} {'model-facing':>13} {'≈tok':>6} {'whole':>7} {'≈tok':>6}"
    print(f"{header} {'output schemas':>15}")
    for name, count, size, output, facing in rows:
        share = f"{output / size:.0%}" if size else "—"
        print(
            f"{name:<24} {count:>5} {facing:>13,} {tokens(facing):>6,} {size:>7,} "
            f"{tokens(size):>6,} {share:>15}"
        )

    def verdict(value: int, goal: int) -> str:
        return f"{value:,}, {'ok' if value <= goal else 'MISSED'}"

    hero_tokens = tokens(rows[0][2])
    every = rows[-1]
    print(
        f"goal: five hero tools ≤ {GOAL_HERO_TOKENS:,} tokens — {verdict(hero_tokens, GOAL_HERO_TOKENS)}"
    )
    print(
        f"goal: all {every[1]} tools model-facing ≤ {GOAL_MODEL_FACING_TOKENS:,} tokens — "
        f"{verdict(tokens(every[4]), GOAL_MODEL_FACING_TOKENS)}"
    )
    print(
        f"goal: all {every[1]} tools, whole tools/list ≤ {GOAL_WHOLE_TOKENS:,} tokens — "
        f"{verdict(tokens(every[2]), GOAL_WHOLE_TOKENS)}"
    )


if __name__ == "__main__":
    asyncio.run(main())
