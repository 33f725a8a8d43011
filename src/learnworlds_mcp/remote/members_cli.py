"""``learnworlds-mcp members add|list|remove|rotate``: manage the members file.

``add`` and ``rotate`` print the new key on stdout, alone on one line, once (so
``KEY=$(learnworlds-mcp members add anna)`` captures just the key); confirmations go to stderr.
``list`` prints a table on stdout (it holds no keys). Errors are one line on stderr, exit 2.

The members file is found as the server finds it: ``--members-file`` > ``LEARNWORLDS_MEMBERS_FILE``
in the process environment > the same variable in ``./.env`` (or the ``--env-file PATH`` given)
> ``./learnworlds-members.json``; every confirmation names the file and where its name came from.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from learnworlds_mcp.config import TOOLSETS, ConfigError, _read_env_file
from learnworlds_mcp.remote.members import Member, MembersError, MembersFile

__all__ = [
    "DEFAULT_MEMBERS_FILE",
    "MEMBERS_FILE_VARIABLE",
    "members_main",
    "members_path",
    "members_source",
]

MEMBERS_FILE_VARIABLE = "LEARNWORLDS_MEMBERS_FILE"
DEFAULT_MEMBERS_FILE = "learnworlds-members.json"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised rather than printed with the usage."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def members_source(
    flag: str | None,
    environ: Mapping[str, str],
    env_file: Mapping[str, str] | None = None,
    env_file_label: str = ".env",
) -> tuple[str, str]:
    """The members file and where its name came from, as the server resolves it:
    ``--members-file`` > ``LEARNWORLDS_MEMBERS_FILE`` in ``environ`` > the same in the ``.env``
    file's values ``env_file`` (read from ``env_file_label``) > the default name."""
    if flag and flag.strip():
        return flag.strip(), "--members-file"
    value = environ.get(MEMBERS_FILE_VARIABLE, "").strip()
    if value:
        return value, f"${MEMBERS_FILE_VARIABLE}"
    value = (env_file or {}).get(MEMBERS_FILE_VARIABLE, "").strip()
    if value:
        return value, f"{MEMBERS_FILE_VARIABLE} in {env_file_label}"
    return DEFAULT_MEMBERS_FILE, "the default"


def members_path(
    flag: str | None, environ: Mapping[str, str], env_file: Mapping[str, str] | None = None
) -> str:
    """The members file: ``--members-file`` > ``LEARNWORLDS_MEMBERS_FILE`` (process environment,
    then the ``.env`` file's values ``env_file``) > the default name."""
    return members_source(flag, environ, env_file)[0]


def _parser() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--members-file",
        metavar="PATH",
        help=f"the members file (default: ${MEMBERS_FILE_VARIABLE}, from the environment or the "
        f".env file, else ./{DEFAULT_MEMBERS_FILE})",
    )
    common.add_argument(
        "--env-file",
        metavar="PATH",
        type=Path,
        help="read settings from this .env file instead of ./.env (it must exist), as the "
        "server does",
    )
    parser = _Parser(
        prog="learnworlds-mcp members",
        description="Manage who may use the remote server (learnworlds-mcp --transport http).",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    add = commands.add_parser(
        "add", parents=[common], help="add a member and print their new key (shown once)"
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--allow-writes", action="store_true", help="may use the write tools")
    add.add_argument(
        "--allow-destructive",
        action="store_true",
        help="may use the destructive tools as well (needs --allow-writes)",
    )
    add.add_argument(
        "--toolsets",
        metavar="a,b",
        default="all",
        help=f"toolsets the member may use: {', '.join(TOOLSETS)} or all (default)",
    )
    commands.add_parser("list", parents=[common], help="list the members (no keys)")
    remove = commands.add_parser(
        "remove", parents=[common], help="remove a member; their key and tokens stop working"
    )
    remove.add_argument("name", metavar="NAME")
    rotate = commands.add_parser(
        "rotate",
        parents=[common],
        help="give a member a new key (printed once); the old key and their tokens stop working",
    )
    rotate.add_argument("name", metavar="NAME")
    return parser


def members_main(
    argv: Sequence[str],
    environ: Mapping[str, str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run a ``members`` command (``argv`` is what follows ``members``); return the exit code."""
    environ = os.environ if environ is None else environ
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _parser()
    try:
        with contextlib.redirect_stdout(out):  # --help
            args = parser.parse_args(list(argv))
    except _UsageError as exc:
        print(f"learnworlds-mcp members: {exc} (see: learnworlds-mcp members --help)", file=err)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    if args.command is None:
        parser.print_help(err)
        return 2
    try:
        file_values, file_label = _read_env_file(args.env_file)
    except ConfigError as exc:
        print(f"learnworlds-mcp members: {exc}", file=err)
        return 2
    path, origin = members_source(args.members_file, environ, file_values, file_label)
    store = MembersFile(path)
    where = f"{store.path} ({origin})"
    # What the server would see: the process environment, then the .env file (for `list`'s Redis).
    settings = {**file_values, **{k: v for k, v in environ.items() if v.strip()}}
    try:
        if args.command == "add":
            key = store.add(
                args.name,
                allow_writes=args.allow_writes,
                allow_destructive=args.allow_destructive,
                toolsets=args.toolsets,
            )
            member = store.load()[args.name]
            print(
                f"Added {member.name} ({_describe(member)}) to {where}. Their key, shown "
                "only now (give it to them privately):",
                file=err,
            )
            print(key, file=out)
        elif args.command == "rotate":
            key = store.rotate(args.name)
            print(
                f"New key for {args.name} in {where}; the old key and every token issued "
                "with it stop working within 2 seconds. The new key, shown only now:",
                file=err,
            )
            print(key, file=out)
        elif args.command == "remove":
            member = store.remove(args.name)
            print(
                f"Removed {member.name} from {where}; their key and tokens stop working "
                "within 2 seconds.",
                file=err,
            )
        else:
            _list(store, where, out, err, settings)
    except MembersError as exc:
        print(f"learnworlds-mcp members: {exc}", file=err)
        return 2
    out.flush()
    return 0


def _describe(member: Member) -> str:
    toolsets = (
        "all toolsets"
        if member.toolsets >= frozenset(TOOLSETS)
        else "toolsets " + ",".join(t for t in TOOLSETS if t in member.toolsets)
    )
    return f"{member.gates}, {toolsets}"


def _list(
    store: MembersFile, where: str, out: TextIO, err: TextIO, environ: Mapping[str, str]
) -> None:
    members = store.load()
    if not members:
        print(
            f"No members in {where} yet. Add one with: learnworlds-mcp members add NAME",
            file=err,
        )
        return
    print(f"Members in {where}:", file=err)
    seen = _last_seen(sorted(members), environ, err)
    rows = [("NAME", "ALLOWED", "TOOLSETS", "CREATED", *(("LAST SEEN",) if seen else ()))]
    for member in sorted(members.values(), key=lambda m: m.name.lower()):
        toolsets = (
            "all"
            if member.toolsets >= frozenset(TOOLSETS)
            else ",".join(t for t in TOOLSETS if t in member.toolsets)
        )
        last = (seen[member.name],) if seen else ()
        rows.append((member.name, member.gates, toolsets, member.created, *last))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(len(widths))]
        print("  ".join([*cells, row[-1]]), file=out)


def _last_seen(names: list[str], environ: Mapping[str, str], err: TextIO) -> dict[str, str] | None:
    """When each member was last seen by any replica, where the servers keep state in Redis
    (LEARNWORLDS_REDIS_URL with the school's LEARNWORLDS_API_URL and LEARNWORLDS_CLIENT_ID, as
    the servers are given); None elsewhere: a server's own memory cannot be read from here."""
    url, api, client = (
        environ.get(f"LEARNWORLDS_{name}", "").strip()
        for name in ("REDIS_URL", "API_URL", "CLIENT_ID")
    )
    if not (url and api and client):
        return None
    import asyncio

    from learnworlds_mcp.config import normalize_api_url
    from learnworlds_mcp.errors import LearnWorldsError
    from learnworlds_mcp.state.redis import RedisState, school_namespace
    from learnworlds_mcp.state.seen import RedisLastSeen

    async def read() -> dict[str, str]:
        state = RedisState(url, school_namespace(normalize_api_url(api), client))
        try:
            seen = RedisLastSeen(state)
            found = {name: await seen.last_seen(name) for name in names}
        finally:
            await state.aclose()
        return {
            name: when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else "never"
            for name, when in found.items()
        }

    try:
        return asyncio.run(read())
    except (LearnWorldsError, ValueError) as error:
        print(f"learnworlds-mcp: last seen not shown: {error}", file=err)
        return None
