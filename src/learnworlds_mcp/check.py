"""``learnworlds-mcp --check``: verify the configuration against the school, without MCP.

It gets a token (or checks the static one is there), makes one cheap call (``GET
/v2/user-roles``) and prints a short report, one check per line, marked ✓ (passed), ✗ (failed)
or – (not checked, because an earlier step failed). It is what the README tells a user to run
when something does not work, so every ✗ line says what to do. Nothing it prints contains the
client secret or an access token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TextIO

from learnworlds_mcp import __version__
from learnworlds_mcp.config import TOOLSETS, Settings, redact

if TYPE_CHECKING:
    import httpx2

    from learnworlds_mcp.clock import Clock

__all__ = ["ROLES_PATH", "run_check"]

ROLES_PATH = "/v2/user-roles"
"""The one cheap call the check makes: unpaginated, small, available on every plan with API."""

Status = Literal["ok", "fail", "skip"]
_MARKS: dict[Status, str] = {"ok": "✓", "fail": "✗", "skip": "–"}
_ASCII_MARKS: dict[Status, str] = {"ok": "[ok]", "fail": "[FAIL]", "skip": "[--]"}


@dataclass(frozen=True)
class _Line:
    status: Status
    label: str
    detail: str


async def run_check(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    out: TextIO,
    clock: Clock | None = None,
) -> bool:
    """Check ``settings`` against the school and print the report to ``out``.

    ``transport`` and ``clock`` are handed to the client (tests run it in-process and in virtual
    time).

    Returns True when every check passed. Never raises for a failure talking to the school:
    that is what the report is for.
    """
    from learnworlds_mcp.client import LearnWorldsClient
    from learnworlds_mcp.errors import (
        AuthenticationError,
        LearnWorldsError,
        PermissionDeniedError,
    )

    school = settings.api_url + (" (the built-in demo school)" if settings.demo else "")
    lines = [
        _Line("ok", "School URL", school),
        _Line("ok", "Auth mode", f"{settings.auth_mode}, client id {settings.client_id}"),
    ]
    token = _Line("skip", "Access token", "not checked")
    reachable = _Line("skip", "API reachable", "not checked")
    access = _Line("skip", "Plan has API access", "not checked")

    step = "token"
    try:
        async with LearnWorldsClient(settings, transport=transport, clock=clock) as client:
            await client.authenticate()
            step = "call"
            reply = await client.get(ROLES_PATH)
            how = await client.authenticate()  # which token the call finally went with
        token = _Line("ok", "Access token", _token_ok(settings, how))
        reachable = _Line("ok", "API reachable", _roles_summary(reply))
        access = _Line("ok", "Plan has API access", "yes")
        if _count_roles(reply) is None:
            reachable = _Line(
                "fail",
                "API reachable",
                f"GET {ROLES_PATH} answered, but not with the role list the API documents: "
                "check that LEARNWORLDS_API_URL is https://<school-domain>/admin/api",
            )
            access = _Line("skip", "Plan has API access", "not checked")
    except AuthenticationError as exc:
        token = _Line("fail", "Access token", str(exc))
        if step == "call":
            reachable = _Line("ok", "API reachable", "the school answered (and refused the token)")
    except PermissionDeniedError as exc:
        token = _Line("ok", "Access token", "accepted")
        reachable = _Line("ok", "API reachable", "the school answered")
        access = _Line(
            "fail",
            "Plan has API access",
            f"{exc} API access comes with the Learning Center plan and above.",
        )
    except LearnWorldsError as exc:
        if step == "token":
            token = _Line("skip", "Access token", "not checked: the school could not be reached")
        else:
            token = _Line("ok", "Access token", "ready")
        reachable = _Line("fail", "API reachable", str(exc))
    except Exception as exc:  # a bug, not a configuration problem: still report, don't crash
        bug = _Line("fail", "Unexpected error", f"{type(exc).__name__}: {exc}")
        if step == "token":
            token = bug
        else:
            reachable = bug

    lines += [token, reachable, access]
    lines.append(
        _Line(
            "ok",
            "Rate limit",
            f"{settings.rate_limit.requests} requests per {settings.rate_limit.seconds:g} s "
            f"(LEARNWORLDS_RATE_LIMIT={settings.rate_limit}); {settings.timeout:g} s per attempt "
            "(LEARNWORLDS_TIMEOUT)",
        )
    )
    lines.append(_Line("ok", "Tools", _tools_summary(settings)))

    failed = sum(line.status == "fail" for line in lines)
    marks = _marks_for(out)
    secrets = [s.get_secret_value() for s in (settings.client_secret, settings.access_token) if s]
    dash = "—" if marks is _MARKS else "-"
    out.write(f"learnworlds-mcp {__version__} {dash} configuration check\n")
    for line in lines:
        out.write(redact(f"{marks[line.status]} {line.label}: {line.detail}\n", secrets))
    if failed:
        plural = "check" if failed == 1 else "checks"
        out.write(
            f"{failed} {plural} failed: fix what the {marks['fail']} line says and run "
            "learnworlds-mcp --check again.\n"
        )
    else:
        out.write("All checks passed: the server is ready for an MCP host.\n")
    out.flush()
    return failed == 0


def _token_ok(settings: Settings, how: str) -> str:
    if how != "minted token":
        return "the static token in LEARNWORLDS_ACCESS_TOKEN was accepted"
    if settings.access_token is not None:
        return (
            "the static token in LEARNWORLDS_ACCESS_TOKEN was rejected, so one was minted with "
            "LEARNWORLDS_CLIENT_SECRET instead (generate a new token, or remove the old one)"
        )
    return "minted with LEARNWORLDS_CLIENT_ID and LEARNWORLDS_CLIENT_SECRET"


def _count_roles(reply: Any) -> int | None:
    if isinstance(reply, dict) and isinstance(reply.get("data"), list):
        return len(reply["data"])
    return None


def _roles_summary(reply: Any) -> str:
    count = _count_roles(reply)
    noun = "role" if count == 1 else "roles"
    return f"GET {ROLES_PATH} answered: the school has {count} user {noun}"


def _tools_summary(settings: Settings) -> str:
    """Which tools a host would see: how many, of which kinds, from which toolsets."""
    from learnworlds_mcp.server import selected_tools

    count = len(selected_tools(settings))
    toolsets = [name for name in TOOLSETS if name in settings.toolsets]
    kinds = list(settings.tool_kinds)
    text = f"{count} exposed; kinds: {', '.join(kinds)}; toolsets: {', '.join(toolsets)}"
    if not settings.allow_writes:
        text += " (changes are off: --allow-writes turns on additive ones)"
    elif not settings.allow_destructive:
        text += " (destructive changes are off: add --allow-destructive to allow them)"
    else:
        confirm = "asked" if settings.confirm_destructive == "auto" else "not asked"
        text += f" (the person is {confirm} to confirm destructive changes)"
    return text


def _marks_for(out: TextIO) -> dict[Status, str]:
    """✓/✗ where the output can show them; ASCII marks on a terminal that cannot."""
    encoding = getattr(out, "encoding", None)
    if not encoding:
        return _MARKS
    try:
        "".join(_MARKS.values()).encode(encoding)
        "—".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return _ASCII_MARKS
    return _MARKS
