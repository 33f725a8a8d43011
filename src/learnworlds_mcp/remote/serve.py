"""Serve the remote app: bind first, build the app with the bound port's URL, then listen.

With `--port 0` the stderr line `learnworlds-mcp: serving MCP at http://HOST:PORT/mcp (N
members)` is how a script learns the port: it is printed once uvicorn accepts connections. The
issuer and resource URLs are fixed when the app is built, hence the order.
"""

import asyncio
import socket
import sys

import uvicorn

from learnworlds_mcp.config import Settings

PROG = "learnworlds-mcp"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host`:`port` (0 = a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints the one serving line once it accepts connections."""

    def __init__(self, config: uvicorn.Config, line: str) -> None:
        super().__init__(config)
        self.line = line

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            print(self.line, file=sys.stderr, flush=True)


def serve_http(settings: Settings) -> int:
    """Serve MCP over Streamable HTTP until interrupted; return the exit status."""
    from learnworlds_mcp.remote.app import build_http_app

    try:
        sock = bind(settings.host, settings.port)
    except OSError as error:
        print(
            f"{PROG}: cannot listen on {settings.host}:{settings.port}: {error.strerror}: choose "
            "another --port / LEARNWORLDS_PORT (0 picks a free one) or --host",
            file=sys.stderr,
        )
        return 2
    port = sock.getsockname()[1]
    settings = settings.model_copy(update={"port": port})
    built = build_http_app(settings)
    config = uvicorn.Config(
        built.app,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=True,  # forwarded client addresses from the proxies in FORWARDED_ALLOW_IPS
        lifespan="on",
    )
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    server = AnnouncingServer(
        config, f"{PROG}: serving MCP at http://{host}:{port}/mcp ({built.members} members)"
    )
    try:
        asyncio.run(server.serve(sockets=[sock]))
    except KeyboardInterrupt:
        return 130
    finally:
        sock.close()
    return 0
