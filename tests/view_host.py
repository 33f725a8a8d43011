"""A minimal MCP Apps host in headless Chromium, for the view tests and `bench/view_weight.py`.

The host page holds the view in a sandboxed iframe (`sandbox="allow-scripts"`, opaque origin,
`srcdoc` = the page as `resources/read` served it) and plays the host's side of the bridge:
it answers `ui/initialize`, and on `ui/notifications/initialized` sends `tool-input` and then
`tool-result` with the tool's real `CallToolResult`; it sizes the iframe from
`ui/notifications/size-changed` and forwards the view's `tools/call` to a Python callback (a
real MCP client in the tests). Every request the browser tries is recorded and, except the
host page itself, refused; every console error and page error is recorded.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
HOST_URL = "http://host.test/"
HOST_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>test host</title>
<style>body { margin: 0; background: #e9eaee; } iframe { display: block; border: 0;
width: 760px; height: 120px; background: #fff; }</style></head>
<body><iframe id="view" sandbox="allow-scripts" title="view"></iframe>
<script>
window.fromView = [];
window.sizes = [];
window.setup = {};
const frame = document.getElementById("view");
const send = (msg) => frame.contentWindow.postMessage(Object.assign({ jsonrpc: "2.0" }, msg), "*");
window.addEventListener("message", async (event) => {
  if (event.source !== frame.contentWindow) return;
  const msg = event.data;
  window.fromView.push(msg);
  if (msg.method === "ui/initialize") {
    window.initializeAt = performance.now();
    send({ id: msg.id, result: { protocolVersion: "2026-01-26",
      hostInfo: { name: "test-host", version: "1.0.0" },
      hostCapabilities: window.setup.hostCapabilities, hostContext: window.setup.hostContext } });
  } else if (msg.method === "ui/notifications/initialized") {
    window.firstDrawStart = performance.now();
    send({ method: "ui/notifications/tool-input", params: { arguments: window.setup.toolInput } });
    send({ method: "ui/notifications/tool-result", params: window.setup.toolResult });
  } else if (msg.method === "ui/notifications/size-changed") {
    window.sizes.push(Object.assign({ at: performance.now() }, msg.params));
    frame.style.height = msg.params.height + "px";
  } else if (msg.method === "tools/call") {
    try {
      send({ id: msg.id, result: await window.hostCallTool(msg.params.name, msg.params.arguments || {}) });
    } catch (error) {
      send({ id: msg.id, error: { code: -32000, message: String(error.message || error) } });
    }
  } else if (msg.id !== undefined) {
    send({ id: msg.id, error: { code: -32601, message: "Method not found" } });
  }
});
window.sendToView = send;
window.startView = (setup) => { window.setup = setup; window.loadStart = performance.now(); frame.srcdoc = setup.html; };
</script></body></html>
"""

ToolCaller = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def chromium_or_skip() -> None:
    """Skip (with the reason) where Debian's chromium is missing; under CI=true, fail."""
    import pytest

    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium) — the view tests need it"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class Host:
    """One host page with one view in it, and what the browser did."""

    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def view(self) -> Any:
        """The view's frame."""
        return self.page.frames[1]

    async def show(
        self,
        html: str,
        result: dict[str, Any],
        *,
        tool_input: dict[str, Any] | None = None,
        host_capabilities: dict[str, Any] | None = None,
        host_context: dict[str, Any] | None = None,
    ) -> None:
        """Load the view, feed it `result` through the bridge, wait until it is drawn and the
        host has been told its final size."""
        await self.page.evaluate(
            "setup => window.startView(setup)",
            {
                "html": html,
                "toolResult": result,
                "toolInput": tool_input or {},
                "hostCapabilities": host_capabilities or {},
                "hostContext": host_context or {"theme": "light"},
            },
        )
        await self.page.wait_for_function("() => window.frames.length && window.sizes.length")
        await self.view.wait_for_selector("[data-view], .error")
        await self.settled()

    async def settled(self) -> None:
        """Wait until the host has been told the view's current height."""
        height = await self.view.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() =>"
            " r(Math.ceil(document.body.getBoundingClientRect().height)))))"
        )
        await self.page.wait_for_function(
            "h => window.sizes.length && window.sizes[window.sizes.length - 1].height === h",
            arg=height,
        )

    async def text(self, selector: str) -> str:
        return (await self.view.locator(selector).inner_text()).strip()

    async def texts(self, selector: str) -> list[str]:
        return [t.strip() for t in await self.view.locator(selector).all_inner_texts()]

    async def screenshot(self, path: Path) -> None:
        """The view as drawn (the viewport grows to hold it: Chromium paints no more)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        box = await self.page.locator("#view").bounding_box()
        await self.page.set_viewport_size({"width": 780, "height": int(box["height"]) + 1})
        await self.page.locator("#view").screenshot(path=str(path))


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Headless Debian chromium driven by playwright (its own browser download is not used)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def host_page(browser: Any, call_tool: ToolCaller | None = None) -> AsyncIterator[Host]:
    """A fresh host page; every network request but the host page's own is refused."""
    context = await browser.new_context(viewport={"width": 780, "height": 900})
    page = await context.new_page()
    host = Host(page)

    async def route(route: Any) -> None:
        if route.request.url == HOST_URL:
            await route.fulfill(status=200, content_type="text/html", body=HOST_PAGE)
        else:
            await route.abort()

    page.on("request", lambda request: host.requests.append(request.url))
    page.on(
        "console",
        lambda message: host.errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: host.errors.append(str(error)))
    await page.route("**/*", route)
    if call_tool is not None:
        await page.expose_function("hostCallTool", call_tool)
    await page.goto(HOST_URL)
    try:
        yield host
    finally:
        await context.close()
