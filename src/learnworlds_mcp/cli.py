"""The ``learnworlds-mcp`` command: read the configuration once, then serve MCP on stdio.

stdout belongs to the MCP protocol: the only things this module prints there are ``--help``,
``--version`` and the ``--check`` report. Everything else (logs, the demo banner, configuration
errors) goes to stderr. Heavy modules — the MCP SDK, the server, the sandbox school, uvicorn — are
imported only in the branch that needs them, so ``--help``, ``--version`` and configuration errors
answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from learnworlds_mcp import __version__
from learnworlds_mcp.config import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    TOOLSETS,
    ConfigError,
    DemoCredentials,
    Settings,
    load_settings,
)

__all__ = ["EXIT_CHECK_FAILED", "EXIT_CONFIG_ERROR", "build_parser", "main"]

PROG = "learnworlds-mcp"
EXIT_CHECK_FAILED = 1
"""``--check`` found a problem."""
EXIT_CONFIG_ERROR = 2
"""The configuration (or the command line) is invalid."""
EXIT_INTERRUPTED = 130
"""Stopped with Ctrl-C."""

_DEMO_PLACEHOLDER_URL = "http://127.0.0.1/admin/api"

_DESCRIPTION = """\
MCP server for a LearnWorlds school: users, roles, groups, courses, enrollments and activity.
An MCP host (Claude Desktop, Cursor, Claude Code, MCP Inspector) starts it and talks to it over
stdio; with --transport http it serves a team at a URL (ChatGPT, claude.ai, remote hosts), each
member with their own key (`learnworlds-mcp members --help`). It is read-only unless you allow
changes.

Configuration comes from command-line flags, then the process environment, then a .env file in
the working directory (or --env-file); a flag wins over the environment, which wins over the file.
"""

_EPILOG = f"""\
environment variables:
  LEARNWORLDS_API_URL        the school's API URL from Settings → Developers → API,
                             https://<school-domain>/admin/api (a bare https://<school-domain>
                             is completed). Required unless --demo.
  LEARNWORLDS_CLIENT_ID      the API Client ID (sent as Lw-Client). Required unless --demo.
  LEARNWORLDS_CLIENT_SECRET  the Client Secret; the server mints and renews access tokens.
  LEARNWORLDS_ACCESS_TOKEN   an access token generated on the admin page, used as is (with a
                             secret as well, the server mints a new one when it is rejected).
                             One of secret or token is required.
  LEARNWORLDS_ALLOW_WRITES   1/true/yes/on: register the additive write tools (--allow-writes).
  LEARNWORLDS_ALLOW_DESTRUCTIVE
                             1/true/yes/on: register the destructive tools as well; needs
                             writes allowed too (--allow-destructive).
  LEARNWORLDS_TOOLSETS       comma-separated toolsets to expose, default all (--toolsets):
                             {", ".join(TOOLSETS)}.
  LEARNWORLDS_RATE_LIMIT     client-side request budget <requests>/<seconds>,
                             default {DEFAULT_RATE_LIMIT} (the API's published limit).
  LEARNWORLDS_TIMEOUT        seconds per HTTP attempt, default {DEFAULT_TIMEOUT:g} (at most {MAX_TIMEOUT:g}).
  LEARNWORLDS_CONFIRM_DESTRUCTIVE
                             auto (default): ask the person to confirm a destructive change
                             when the MCP client supports it; off: never ask.

remote server (--transport http; see the README, "Use it from ChatGPT / claude.ai / your team"):
  LEARNWORLDS_TRANSPORT      stdio (default) or http (--transport).
  LEARNWORLDS_HOST           interface to bind, default 127.0.0.1 (--host).
  LEARNWORLDS_PORT           port, default 8000; 0 picks a free one (--port).
  LEARNWORLDS_PUBLIC_URL     the https URL people's hosts reach the server at; required when
                             the host is not loopback (--public-url).
  LEARNWORLDS_MEMBERS_FILE   the members file, default ./learnworlds-members.json
                             (--members-file); manage it with `{PROG} members`.
  LEARNWORLDS_AUDIT_LOG      JSON Lines audit of change tools: a path, or - for stderr
                             (--audit-log); also works on stdio.
  LEARNWORLDS_REDIS_URL      redis://host:port/db: state shared by several replicas
                             (--redis-url).
  LEARNWORLDS_STATE_KEY      a random secret shared by every replica (with Redis).

examples:
  {PROG} --check                     verify the credentials against the school
  {PROG} --demo                      serve the built-in sandbox school, no account needed
  {PROG} --allow-writes --toolsets users,groups
  {PROG} members add alice --allow-writes
  {PROG} --transport http --host 0.0.0.0 --public-url https://mcp.myschool.com

exit status: 0 ok, 1 --check found a problem, 2 invalid configuration.
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr, like configuration errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_CONFIG_ERROR, f"{PROG}: {message} (see {PROG} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line: flags for the switches people change most, plus --check and --demo."""
    parser = _Parser(
        prog=PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # a host config with "--allow-write" should fail, not guess
    )
    gates = parser.add_argument_group("what the server may do")
    gates.add_argument(
        "--allow-writes",
        action="store_true",
        default=None,
        help="register the additive write tools (create, enroll, add, tag); "
        "same as LEARNWORLDS_ALLOW_WRITES=1",
    )
    gates.add_argument(
        "--allow-destructive",
        action="store_true",
        default=None,
        help="also register the tools that overwrite, remove, suspend or unenroll "
        "(needs --allow-writes); same as LEARNWORLDS_ALLOW_DESTRUCTIVE=1",
    )
    gates.add_argument(
        "--toolsets",
        metavar="LIST",
        default=None,
        help=f"comma-separated toolsets to expose: {', '.join(TOOLSETS)}, or all "
        "(default); same as LEARNWORLDS_TOOLSETS",
    )
    runs = parser.add_argument_group("how to run")
    runs.add_argument(
        "--env-file",
        metavar="PATH",
        type=Path,
        default=None,
        help="read settings from this .env file instead of ./.env (it must exist)",
    )
    runs.add_argument(
        "--demo",
        action="store_true",
        help="serve the built-in sandbox school on a free loopback port and use it instead of "
        "a real school (no credentials needed)",
    )
    runs.add_argument(
        "--check",
        action="store_true",
        help="check the configuration against the school (get a token, make one call), print "
        "a report and exit 0 (all good) or 1, without starting MCP",
    )
    runs.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    remote = parser.add_argument_group("serving over HTTP (remote)")
    remote.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default=None,
        help="stdio (default: a host starts this process) or http (serve MCP at /mcp); "
        "same as LEARNWORLDS_TRANSPORT",
    )
    remote.add_argument("--host", default=None, help="interface to bind, default 127.0.0.1")
    remote.add_argument("--port", default=None, help="port, default 8000; 0 picks a free one")
    remote.add_argument(
        "--public-url",
        metavar="URL",
        default=None,
        help="the https URL people's hosts reach this server at (required off loopback)",
    )
    remote.add_argument(
        "--members-file",
        metavar="PATH",
        default=None,
        help="the members file (default ./learnworlds-members.json)",
    )
    remote.add_argument(
        "--audit-log",
        metavar="PATH",
        default=None,
        help="append one JSON line per change-tool call to PATH (- for stderr)",
    )
    remote.add_argument(
        "--redis-url", metavar="URL", default=None, help="shared state for several replicas"
    )
    remote.add_argument(
        "--no-auth",
        action="store_true",
        help="serve HTTP without credentials: only on a loopback host, for trying it out",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line; always ends with ``SystemExit`` carrying the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["members"]:
        _configure_logging()
        from learnworlds_mcp.remote.members_cli import members_main

        raise SystemExit(members_main(arguments[1:], environ=os.environ))
    args = build_parser().parse_args(arguments)
    _configure_logging()
    flags: dict[str, object] = {
        "allow_writes": args.allow_writes,
        "allow_destructive": args.allow_destructive,
        "toolsets": args.toolsets,
        "demo": args.demo or None,
        "transport": args.transport,
        "host": args.host,
        "port": args.port,
        "public_url": args.public_url,
        "members_file": args.members_file,
        "audit_log": args.audit_log,
        "redis_url": args.redis_url,
        "no_auth": args.no_auth or None,
    }
    try:
        if args.demo:
            status = _run_demo(flags, os.environ, args.env_file, check=args.check)
        else:
            settings = load_settings(flags=flags, environ=os.environ, env_file=args.env_file)
            status = _check(settings) if args.check else _serve(settings)
    except ConfigError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        status = EXIT_CONFIG_ERROR
    except KeyboardInterrupt:
        status = EXIT_INTERRUPTED
    raise SystemExit(status)


def _configure_logging() -> None:
    """Logs go to stderr at WARNING (stdout is the MCP protocol; INFO would log every URL)."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _run_demo(
    flags: Mapping[str, object], environ: Mapping[str, str], env_file: Path | None, *, check: bool
) -> int:
    """Start the sandbox school in this process, point the settings at it, then check or serve."""
    # Validate the switches first, so a bad one fails fast without starting anything.
    load_settings(
        flags=flags,
        environ=environ,
        env_file=env_file,
        demo_credentials=DemoCredentials(_DEMO_PLACEHOLDER_URL, "demo", "demo"),
    )
    from learnworlds_mcp.sandbox import SandboxOptions, SandboxSchool, serve_sandbox

    options = SandboxOptions()
    school = SandboxSchool(options)
    with serve_sandbox(school, host="127.0.0.1", port=0) as api_url:
        settings = load_settings(
            flags=flags,
            environ=environ,
            env_file=env_file,
            demo_credentials=DemoCredentials(api_url, options.client_id, options.client_secret),
        )
        interactive = not check and _is_terminal(sys.stdin)
        print(demo_banner(api_url, interactive=interactive), file=sys.stderr, flush=True)
        return _check(settings) if check else _serve(settings)


INSPECTOR = "npx -y @modelcontextprotocol/inspector@0.15.0"


def demo_banner(api_url: str, *, interactive: bool) -> str:
    """The line `--demo` prints on stderr; in a terminal, also what it waits for and how to try
    it (a host, not a person, speaks MCP on stdin)."""
    line = (
        f"{PROG}: demo school running at {api_url} (generated sandbox data; "
        "nothing leaves this machine)"
    )
    if not interactive:
        return line
    return (
        f"{line}\n{PROG}: waiting for an MCP client on stdin; typing here does nothing "
        "(Ctrl-C stops). To try it, run in another terminal:\n"
        f"  {INSPECTOR} uv run {PROG} --demo          (the Inspector in your browser)\n"
        f"  {INSPECTOR} --cli uv run {PROG} --demo --method tools/list"
    )


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):
        return False


def _check(settings: Settings) -> int:
    """Run ``--check`` and turn its verdict into the exit status."""
    import asyncio

    from learnworlds_mcp.check import run_check

    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")
    try:
        ok = asyncio.run(run_check(settings, out=sys.stdout))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_CHECK_FAILED
    return 0 if ok else EXIT_CHECK_FAILED


def _serve(settings: Settings) -> int:
    """Serve MCP on the configured transport until it ends."""
    if settings.transport == "http":
        from learnworlds_mcp.remote.serve import serve_http

        return serve_http(settings)
    return _serve_stdio(settings)


def _serve_stdio(settings: Settings) -> int:
    """Serve MCP on stdio until the host closes stdin; leave quietly when it goes away."""
    from learnworlds_mcp.server import build_server

    server = build_server(settings)
    # The SDK reads stdin in a worker thread that Ctrl-C cannot interrupt, so the usual
    # KeyboardInterrupt would wait for the next line on stdin. Ctrl-C on a stdio server means
    # "stop now": leave at once, quietly.
    signal.signal(signal.SIGINT, _exit_on_interrupt)
    try:
        server.run("stdio")
    except BaseException as exc:
        quiet = _quiet_exit_status(exc)
        if quiet is None:
            raise
        if quiet != EXIT_INTERRUPTED:
            _silence_stdout()
        return quiet
    return 0


_DISCONNECTS = (BrokenPipeError, ConnectionResetError, EOFError)


def _quiet_exit_status(exc: BaseException) -> int | None:
    """The exit status for an expected way to stop (Ctrl-C, host gone), or None for a crash.

    The SDK runs on anyio task groups, so these can arrive wrapped in exception groups.
    """
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, _DISCONNECTS):
        return 0
    if isinstance(exc, BaseExceptionGroup):
        statuses = [_quiet_exit_status(inner) for inner in exc.exceptions]
        if statuses and all(status is not None for status in statuses):
            return EXIT_INTERRUPTED if EXIT_INTERRUPTED in statuses else 0
    return None


def _exit_on_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGINT while serving: flush what can be flushed and end the process with status 130."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(EXIT_INTERRUPTED)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so flushing at exit cannot raise BrokenPipeError again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
