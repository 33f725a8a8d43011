"""The sign-in page: where a person connecting an OAuth client (ChatGPT, claude.ai…) proves who
they are with their member key.

``GET /signin?request=ID`` shows a self-contained HTML page that names the client (as it named
itself when it registered, escaped), where the browser goes afterwards, and what the server
allows; it holds one password field, ``key``, and a hidden ``request`` field that ties the form to
the authorization request (an unguessable, single-use id that lives 10 minutes).

``POST /signin`` with the right key answers 302 to the client's ``redirect_uri`` with ``code``
and ``state``. A wrong key shows the page again (200) with an error. A source address gets at
most 5 wrong keys a minute: after that every try — even with the right key — is refused (429)
until the minute is over, so guessing is pointless and a person who mistyped waits a minute.
Tries from one source are taken one at a time, so a burst of parallel posts gets no more (exact
within a replica; with several replicas sharing a Redis store a simultaneous burst could get up
to 5 per replica).
The source is ``request.client.host`` (for IPv6, its /64; an IPv4-mapped address as the IPv4
address), see :func:`request_source`: behind a reverse proxy, run uvicorn with proxy headers on
and ``FORWARDED_ALLOW_IPS`` naming the proxy, so the forwarded address counts (not the proxy's).

The POST must come from this server's own page: an ``Origin`` (or, without one, a ``Referer``)
of another origin is refused (403) — the SDK's Host/Origin checks cover ``/mcp`` only. Every page
is sent with a strict Content-Security-Policy (no scripts, no external anything), ``no-store``
and ``X-Frame-Options: DENY``.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import anyio
from mcp.server.transport_security import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route, request_response

from learnworlds_mcp.config import TOOLSETS
from learnworlds_mcp.remote.oauth import SIGNIN_PATH, LearnWorldsAuthProvider, PendingSignIn

__all__ = [
    "WRONG_KEY_LIMIT",
    "WRONG_KEY_WINDOW",
    "GateSettings",
    "ServerGates",
    "problem_page",
    "request_source",
    "signin_routes",
]

logger = logging.getLogger(__name__)

WRONG_KEY_LIMIT = 5
"""Wrong keys a source address may send per window."""
WRONG_KEY_WINDOW = 60.0
"""The window, in seconds."""

_MAX_BODY = 16 * 1024
_CSP_SOURCE_RE = re.compile(r"[A-Za-z0-9.\-:\[\]]+")


class GateSettings(Protocol):
    """Anything with the server's gates (:class:`~learnworlds_mcp.config.Settings` has them)."""

    @property
    def allow_writes(self) -> bool: ...
    @property
    def allow_destructive(self) -> bool: ...
    @property
    def toolsets(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class ServerGates:
    """The server's own gates, which every member's are capped by (what the page states)."""

    allow_writes: bool = False
    allow_destructive: bool = False
    toolsets: frozenset[str] = frozenset(TOOLSETS)

    @classmethod
    def of(cls, settings: GateSettings) -> ServerGates:
        """The gates of a :class:`~learnworlds_mcp.config.Settings` (or anything shaped alike)."""
        return cls(
            allow_writes=settings.allow_writes,
            allow_destructive=settings.allow_destructive and settings.allow_writes,
            toolsets=frozenset(settings.toolsets),
        )

    def lines(self) -> list[str]:
        """What a member may be allowed here, one sentence each."""
        areas = ", ".join(t for t in TOOLSETS if t in self.toolsets)
        lines = [f"Read the school's data: {areas}."]
        if self.allow_writes:
            lines.append("Make changes, such as enrolling users or adding them to groups.")
        else:
            lines.append("No changes: this server is read-only.")
        if self.allow_destructive:
            lines.append(
                "Destructive changes, such as suspending users (each one asks you to confirm "
                "where the app supports it)."
            )
        return lines


class _Page:
    """The sign-in page and its error pages, with their security headers."""

    def __init__(self, gates: ServerGates) -> None:
        self.gates = gates

    def headers(self, nonce: str, redirect_uri: str | None = None) -> dict[str, str]:
        form_action = "'self'"
        target = _csp_source(redirect_uri) if redirect_uri else None
        if target:
            form_action += f" {target}"  # the 302 after the POST must be allowed too
        return {
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'nonce-{nonce}'; form-action {form_action}; "
                "frame-ancestors 'none'; base-uri 'none'"
            ),
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        }

    def render(self, title: str, body: str, nonce: str) -> str:
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{html.escape(title)}</title>
<style nonce="{nonce}">
body{{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f5f6f8;color:#1d2330;margin:0}}
main{{max-width:30rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;
box-shadow:0 1px 4px rgba(0,0,0,.12)}}
h1{{font-size:1.3rem;margin:0 0 1rem}} ul{{padding-left:1.2rem}} .muted{{color:#5a6275;font-size:.9rem}}
label{{display:block;font-weight:600;margin:1.2rem 0 .3rem}}
input[type=password]{{width:100%;box-sizing:border-box;padding:.6rem;font:inherit;border:1px solid #9aa3b5;border-radius:6px}}
button{{margin-top:1rem;padding:.6rem 1.2rem;font:inherit;border:0;border-radius:6px;background:#2456d3;color:#fff;cursor:pointer}}
.error{{background:#fdecec;color:#8a1c1c;border-radius:6px;padding:.6rem .8rem}}
code{{background:#eef0f4;padding:0 .2rem;border-radius:3px}}
</style></head>
<body><main>
{body}
</main></body></html>
"""

    def signin(
        self, request_id: str, pending: PendingSignIn, *, error: str | None, status: int = 200
    ) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        name = html.escape(pending.client_name)
        destination = html.escape(_destination(pending.redirect_uri))
        allowed = "".join(f"<li>{html.escape(line)}</li>" for line in self.gates.lines())
        alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        body = f"""<h1>Connect “{name}” to your LearnWorlds school</h1>
<p>An app that calls itself <strong>“{name}”</strong> asks to use this school's LearnWorlds
server as you. After you sign in, your browser goes back to <strong>{destination}</strong>.</p>
<p>This server allows:</p>
<ul>{allowed}</ul>
<p class="muted">Your member key's own permissions apply on top: the app gets at most what your
key allows. Only sign in if you started this connection yourself.</p>
{alert}
<form method="post" action="{SIGNIN_PATH}">
<input type="hidden" name="request" value="{html.escape(request_id)}">
<label for="key">Your member key</label>
<input type="password" id="key" name="key" required autocomplete="off" spellcheck="false"
 autofocus placeholder="lwm_…">
<button type="submit">Sign in and allow</button>
</form>
<p class="muted">No key? Ask the server's admin to run
<code>learnworlds-mcp members add YOUR-NAME</code>.</p>"""
        return HTMLResponse(
            self.render(f"Connect {pending.client_name}", body, nonce),
            status_code=status,
            headers=self.headers(nonce, pending.redirect_uri),
        )

    def problem(
        self, status: int, title: str, text: str, extra: dict[str, str] | None = None
    ) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        body = f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(text)}</p>"
        headers = self.headers(nonce)
        headers.update(extra or {})
        return HTMLResponse(self.render(title, body, nonce), status_code=status, headers=headers)


def problem_page(
    status: int, title: str, text: str, extra: dict[str, str] | None = None
) -> HTMLResponse:
    """A plain page with a title and one paragraph (escaped), with the sign-in page's security
    headers (strict CSP, ``no-store``, no framing) plus ``extra``."""
    return _Page(ServerGates()).problem(status, title, text, extra)


def _destination(redirect_uri: str) -> str:
    parts = urlsplit(redirect_uri)
    if parts.scheme in ("http", "https"):
        return parts.netloc or redirect_uri[:80]
    return f"the {parts.scheme} app"


def _csp_source(redirect_uri: str) -> str | None:
    """The CSP source that allows a redirect to ``redirect_uri`` (its origin, or its scheme)."""
    parts = urlsplit(redirect_uri)
    if parts.scheme in ("http", "https"):
        source = f"{parts.scheme}://{parts.netloc}"
        return source if _CSP_SOURCE_RE.fullmatch(parts.netloc or "") else None
    return f"{parts.scheme}:" if _CSP_SOURCE_RE.fullmatch(parts.scheme or "") else None


def _origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class _SignIn:
    def __init__(self, provider: LearnWorldsAuthProvider, gates: ServerGates) -> None:
        self.provider = provider
        self.page = _Page(gates)
        self.origin = _origin_of(provider.public_url)
        self._locks: dict[str, anyio.Lock] = {}

    @asynccontextmanager
    async def _turn(self, source: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(source, anyio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and lock.statistics().tasks_waiting == 0:
                self._locks.pop(source, None)

    async def wrong_key(self, source: str, request_id: str, pending: PendingSignIn) -> Response:
        wrong = await self.provider.store.hit("wrong_key", source, WRONG_KEY_WINDOW)
        logger.warning(
            "wrong member key on the sign-in page from %s (%d in this minute)", source, wrong
        )
        error = (
            "That key is not right. Check that you pasted the whole key, starting with lwm_."
            if wrong < WRONG_KEY_LIMIT
            else "That key is not right, and that was the last try for a minute."
        )
        return self.page.signin(request_id, pending, error=error)

    def expired(self) -> HTMLResponse:
        return self.page.problem(
            400,
            "This sign-in link has expired",
            "It was already used, or it is more than 10 minutes old. Go back to the app and "
            "connect again to get a new one.",
        )

    def same_origin(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is not None:
            return _origin_of(origin) == self.origin
        referer = request.headers.get("referer")
        if referer is not None:
            return _origin_of(referer) == self.origin
        return True  # neither header: not a browser's cross-site form post

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            request_id = request.query_params.get("request", "")
            pending = await self.provider.pending_signin(request_id)
            if pending is None:
                return self.expired()
            return self.page.signin(request_id, pending, error=None)
        return await self.submit(request)

    async def submit(self, request: Request) -> Response:
        if not self.same_origin(request):
            logger.warning("refused a sign-in form posted from another site")
            return self.page.problem(
                403,
                "This form must be sent from this server's own page",
                "Open the sign-in link from the app again and sign in there.",
            )
        try:
            form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
        except Exception:  # a malformed body: Starlette's multipart errors have no common base
            return self.page.problem(400, "Bad request", "The form could not be read.")
        request_id = _text(form.get("request"))
        key = _text(form.get("key")).strip()
        source = request_source(request)
        # One try at a time per source, so a burst of parallel posts cannot slip past the count.
        async with self._turn(source):
            if await self.provider.store.count("wrong_key", source) >= WRONG_KEY_LIMIT:
                logger.warning("sign-in refused: too many wrong keys from %s", source)
                return self.page.problem(
                    429,
                    "Too many wrong keys",
                    f"{WRONG_KEY_LIMIT} wrong keys were tried from your address within a "
                    "minute. Wait a minute, then try again.",
                    {"Retry-After": str(int(WRONG_KEY_WINDOW))},
                )
            pending = await self.provider.pending_signin(request_id)
            if pending is None:
                return self.expired()
            member = self.provider.check_key(key) if key else None
            if member is None:
                return await self.wrong_key(source, request_id, pending)
            url = await self.provider.approve(request_id, member)
        if url is None:
            return self.expired()
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


def request_source(request: Request) -> str:
    """Who is asking, for the per-source limits: the client address.

    An IPv6 address counts by its /64 (which one host or home network holds); an IPv4 address
    that reaches an IPv6 socket (``--host ::``) as ``::ffff:1.2.3.4`` counts as the IPv4 address
    itself, so IPv4 clients do not share one bucket.
    """
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if not address.is_loopback:
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def signin_routes(provider: LearnWorldsAuthProvider, gates: ServerGates) -> list[Route]:
    """The sign-in page's route (GET and POST ``/signin``), its body capped at 16 KiB."""
    handler = _SignIn(provider, gates)
    app = RequestBodyLimitMiddleware(request_response(handler.handle), _MAX_BODY)
    return [Route(SIGNIN_PATH, endpoint=app, methods=["GET", "POST"])]
