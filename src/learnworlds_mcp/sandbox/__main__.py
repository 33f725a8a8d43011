"""`python -m learnworlds_mcp.sandbox`: serve a sandbox school until Ctrl-C.

Prints the `LEARNWORLDS_*` settings to paste (on stderr) and serves on a loopback port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

import uvicorn

from learnworlds_mcp.sandbox.options import SandboxOptions
from learnworlds_mcp.sandbox.school import SandboxSchool
from learnworlds_mcp.sandbox.serve import _config, _url


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m learnworlds_mcp.sandbox",
        description="Serve a simulated LearnWorlds school (REST API v2) on a loopback port.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 = any free port)")
    parser.add_argument("--seed", type=int, default=7, help="data seed (default 7)")
    parser.add_argument("--users", type=int, default=3000, help="number of users (default 3000)")
    parser.add_argument(
        "--auth-error-status",
        type=int,
        choices=(400, 401),
        default=400,
        help="status for rejected tokens (default 400)",
    )
    parser.add_argument(
        "--retry-after", action="store_true", help="send Retry-After on 429 answers"
    )
    parser.add_argument(
        "--chaos", type=int, metavar="SEED", help="mix faults into requests, reproducibly from SEED"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    options = SandboxOptions(
        seed=args.seed,
        users=args.users,
        auth_error_status=args.auth_error_status,
        retry_after_header=args.retry_after,
    )
    school = SandboxSchool(options)
    if args.chaos is not None:
        school.faults.chaos(args.chaos)
    server = uvicorn.Server(_config(school, args.host, args.port))

    async def announce_and_serve() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                await task
                return
            await asyncio.sleep(0.01)
        url = _url(server, args.host)
        chaos = f", chaos seed {args.chaos}" if args.chaos is not None else ""
        print(
            "LearnWorlds sandbox school is running. Use:\n"
            f"  LEARNWORLDS_API_URL={url}\n"
            f"  LEARNWORLDS_CLIENT_ID={options.client_id}\n"
            f"  LEARNWORLDS_CLIENT_SECRET={options.client_secret}\n"
            f"  LEARNWORLDS_ACCESS_TOKEN={options.static_token}\n"
            f"({options.users} users, seed {options.seed}{chaos}). Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )
        await task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(announce_and_serve())


if __name__ == "__main__":
    main()
