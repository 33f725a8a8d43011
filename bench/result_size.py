"""Result size: what a tool sends back next to what the LearnWorlds API sent it.

For a 50-user page (`list_all_learnworlds_users`, `items_per_page=50`, against
`GET /v2/users?items_per_page=50`) and for single users (`get_single_learnworlds_user_by_id`
against `GET /v2/users/{id}`), it counts the bytes of the text the model reads and of the
structured content (compact JSON), and compares them with the raw API reply (its body, compact
JSON as the API sends it). The school is the sandbox, in-process; the tools run in a real
server reached through `mcp.Client(server)`.

    uv run python bench/result_size.py
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx2
from mcp import Client
from mcp_types import CallToolResult
from pydantic import SecretStr

from _env import describe
from learnworlds_mcp.config import RateLimit, Settings
from learnworlds_mcp.sandbox import SandboxSchool
from learnworlds_mcp.server import build_server

GOAL_RATIO = 0.25
PAGE_SIZE = 50
BASE_URL = "http://127.0.0.1:8000/admin/api"  # in-process: the ASGI transport never connects


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def sizes(result: CallToolResult) -> tuple[int, int, int]:
    """Bytes of the text the model reads, of the structured content (compact JSON), and of the
    whole `CallToolResult` as it travels (compact JSON: both of them plus the envelope)."""
    if result.is_error:
        raise SystemExit(f"the tool failed: {result.content}")
    text = "".join(getattr(block, "text", "") for block in result.content)
    wire = compact(result.model_dump(mode="json", by_alias=True, exclude_none=True))
    return len(text.encode()), len(compact(result.structured_content)), len(wire)


def field_bytes(records: list[dict[str, Any]]) -> Counter[str]:
    """Bytes each top-level field takes across `records` (`"name":value,` in compact JSON)."""
    counts: Counter[str] = Counter()
    for record in records:
        for name, value in record.items():
            counts[name] += len(compact({name: value})) - 1  # minus braces, plus a comma
    return counts


def print_comparison(
    title: str, raw: int, text: int, structured: int, wire: int, *, goal: bool
) -> None:
    both = text + structured
    verdict = ("ok" if both <= GOAL_RATIO * raw else "MISSED") if goal else ""
    note = f"goal ≤ {GOAL_RATIO:.0%}  {verdict}" if goal else "(no goal: the full record)"
    print(f"\n{title}")
    print(f"  {'':<40} {'bytes':>8} {'of raw':>7}")
    print(f"  {'raw API reply (body as sent)':<40} {raw:>8,} {'100%':>7}")
    print(f"  {'text the model reads':<40} {text:>8,} {text / raw:>7.1%}")
    print(f"  {'structured content':<40} {structured:>8,} {structured / raw:>7.1%}")
    print(f"  {'text + structured':<40} {both:>8,} {both / raw:>7.1%}  {note}")
    print(f"  {'whole CallToolResult on the wire':<40} {wire:>8,} {wire / raw:>7.1%}")


def print_fields(title: str, raw: Counter[str], kept: Counter[str], top: int = 8) -> None:
    """The biggest raw fields, then every field the result keeps, with their bytes."""
    raw_total, kept_total = sum(raw.values()), sum(kept.values())
    print(f'  {title} (bytes of `"field":value,` summed over the records)')
    print(f"    {'field':<32} {'raw':>8} {'share':>6} {'result':>8} {'share':>6}")
    names = [n for n, _ in raw.most_common(top)]
    names += [n for n, _ in kept.most_common() if n not in names]
    for name in names:
        r, k = raw.get(name, 0), kept.get(name, 0)
        r_cells = f"{r:>8,} {r / raw_total:>6.1%}" if r else f"{'—':>8} {'':>6}"
        k_cells = f"{k:>8,} {k / kept_total:>6.1%}" if k else f"{'—':>8} {'':>6}"
        print(f"    {name:<32} {r_cells} {k_cells}")
    others = raw_total - sum(raw.get(n, 0) for n in names)
    print(f"    {'(other raw fields)':<32} {others:>8,} {others / raw_total:>6.1%}")


async def main() -> None:
    school = SandboxSchool(users=500, rate_limit=None)
    transport = httpx2.ASGITransport(app=school.app)
    settings = Settings(
        api_url=BASE_URL,
        client_id=school.options.client_id,
        client_secret=SecretStr(school.options.client_secret),
        rate_limit=RateLimit(requests=10_000, seconds=1.0),  # sizes only: no pacing
    )
    headers = school.auth_headers()
    async with (
        httpx2.AsyncClient(base_url=BASE_URL, transport=transport, headers=headers) as http,
        Client(build_server(settings, transport=transport)) as client,
    ):
        raw_page = await http.get("/v2/users", params={"items_per_page": PAGE_SIZE})
        raw_page.raise_for_status()
        listed = await client.call_tool("list_all_learnworlds_users", {"items_per_page": PAGE_SIZE})
        raw_users: list[dict[str, Any]] = raw_page.json()["data"]
        items: list[dict[str, Any]] = (listed.structured_content or {})["items"]
        assert len(items) == len(raw_users) == PAGE_SIZE, (len(items), len(raw_users))

        single_raw = single_text = single_structured = single_wire = 0
        first: tuple[int, int, int, int] | None = None
        full_records: list[dict[str, Any]] = []
        for user in raw_users:
            raw_one = await http.get(f"/v2/users/{user['id']}")
            raw_one.raise_for_status()
            got = await client.call_tool(
                "get_single_learnworlds_user_by_id", {"user_id": user["id"]}
            )
            text, structured, wire = sizes(got)
            full_records.append(got.structured_content or {})
            single_raw += len(raw_one.content)
            single_text += text
            single_structured += structured
            single_wire += wire
            first = first or (len(raw_one.content), text, structured, wire)

    recompacted = len(compact(raw_page.json()))
    print(describe())
    print(
        f"Result size: tool results next to the raw API replies (sandbox, {len(school.users)} users)"
    )
    print(f"raw page body {len(raw_page.content):,} bytes; re-serialized compactly {recompacted:,}")
    print_comparison(
        f"list_all_learnworlds_users, items_per_page={PAGE_SIZE}",
        len(raw_page.content),
        *sizes(listed),
        goal=True,
    )
    print_fields("per field, 50 users", field_bytes(raw_users), field_bytes(items))
    assert first is not None
    print_comparison("get_single_learnworlds_user_by_id, the newest user", *first, goal=False)
    print_comparison(
        f"get_single_learnworlds_user_by_id, all {PAGE_SIZE} users of the page, summed",
        single_raw,
        single_text,
        single_structured,
        single_wire,
        goal=False,
    )
    raw_full = [json.loads(compact(u)) for u in raw_users]
    print_fields("per field, 50 full records", field_bytes(raw_full), field_bytes(full_records))


if __name__ == "__main__":
    asyncio.run(main())
