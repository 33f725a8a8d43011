"""The views' weight: bytes of each page as served, and time to first render in Chromium.

Each page is read through `resources/read` from a server built in-process (`build_server`)
against a 600-user sandbox school, and fed a real result of its tool through the minimal test
host of the view tests (`tests/view_host.py`: a sandboxed iframe, `srcdoc` = the page, the
host's side of the MCP Apps bridge). Time to first render runs from setting `srcdoc` until the
host receives the view's `ui/notifications/size-changed` for the drawn result (the view sends it
from a ResizeObserver, i.e. after layout of the drawn content); "handshake" is the part until
`ui/initialize` arrives (parse + script start). Each figure is the median of N fresh pages in one
headless Chromium (/usr/bin/chromium), after one untimed warm-up.

    uv run python bench/view_weight.py [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import sys
from typing import Any

from mcp import Client

from _env import ROOT, describe
from learnworlds_mcp.clock import FakeClock
from learnworlds_mcp.sandbox import SandboxOptions, SandboxSchool
from learnworlds_mcp.server import build_server
from learnworlds_mcp.views import VIEWS

sys.path.insert(0, str(ROOT))  # the test host lives with the tests
from tests.support import settings_for, transport_for
from tests.view_host import CHROMIUM, chromium, host_page


async def cases(school: SandboxSchool) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(label, tool, page HTML, wire result) for each view and a long-list variant."""
    big = max(school.groups, key=lambda g: len(school.group_members(g.id)))
    user = next(u for u in school.users if len(school.enrollments_of(u, "course")) >= 3)
    calls = [
        ("cohort, 25 members listed", VIEWS[0].tool, {"group_id": big.id, "max_calls": 1000}),
        (
            "cohort, all members listed",
            VIEWS[0].tool,
            {"group_id": big.id, "max_calls": 1000, "member_limit": 500},
        ),
        ("inactive staff, 30 days", VIEWS[1].tool, {"days": 30}),
        ("user overview", VIEWS[2].tool, {"user_id": user.email}),
    ]
    server = build_server(
        settings_for(school), transport=transport_for(school), clock=school.options.clock
    )
    out = []
    async with Client(server) as client:
        pages = {}
        for view in VIEWS:
            (content,) = (await client.read_resource(view.uri)).contents
            pages[view.tool] = content.text  # type: ignore[union-attr]
        for label, tool, args in calls:
            school.clock.advance(11)  # type: ignore[attr-defined]
            result = await client.call_tool(tool, args)
            out.append(
                (
                    label,
                    tool,
                    pages[tool],
                    result.model_dump(mode="json", by_alias=True, exclude_none=True),
                )
            )
    return out


async def time_render(browser: Any, html: str, result: dict[str, Any]) -> tuple[float, float]:
    """(ms to the drawn result's size-changed, ms to ui/initialize) for one fresh page."""
    async with host_page(browser) as host:
        await host.show(html, result)
        final = host.view
        height = await final.evaluate(
            "() => Math.ceil(document.body.getBoundingClientRect().height)"
        )
        timing = await host.page.evaluate(
            """h => ({ drawn: window.sizes.find(s => s.height === h).at - window.loadStart,
                       handshake: window.initializeAt - window.loadStart })""",
            height,
        )
        assert not host.errors and len(host.requests) == 1, (host.errors, host.requests)
    return timing["drawn"], timing["handshake"]


async def main(runs: int) -> None:
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    school = SandboxSchool(SandboxOptions(users=600, clock=FakeClock()))
    measured = await cases(school)
    print(describe())
    print(f"View pages as served (resources/read), {VIEWS[0].uri.rsplit('/', 1)[0]}/…")
    print(f"{'page':<22} {'bytes':>7} {'gzip':>6}")
    for view in VIEWS:
        html = next(h for _, tool, h, _ in measured if tool == view.tool)
        size = len(html.encode())
        print(
            f"{view.uri.rsplit('/', 1)[1]:<22} {size:>7,} {len(gzip.compress(html.encode())):>6,}"
        )
    print(f"\nTime to first render in headless Chromium ({runs} fresh pages each, median; ms)")
    print(
        f"{'result drawn':<28} {'result B':>9} {'rendered':>9} {'min':>6} {'max':>6} {'handshake':>10}"
    )
    async with chromium() as browser:
        for label, _, html, result in measured:
            await time_render(browser, html, result)  # warm-up
            samples = [await time_render(browser, html, result) for _ in range(runs)]
            drawn = [d for d, _ in samples]
            size = len(json.dumps(result["structuredContent"], separators=(",", ":")).encode())
            print(
                f"{label:<28} {size:>9,} {statistics.median(drawn):>9.1f} {min(drawn):>6.1f}"
                f" {max(drawn):>6.1f} {statistics.median(h for _, h in samples):>10.1f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed pages per case (15)")
    asyncio.run(main(parser.parse_args().runs))
