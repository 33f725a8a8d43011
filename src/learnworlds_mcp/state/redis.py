"""The Redis plumbing every shared store uses: one lazy connection, key names, errors, health.

`RedisState(url, namespace)` is made once per server and handed to each Redis store (the rate
budget, the OAuth records, the report tallies, …). Nothing connects at import or construction —
start-up stays fast and a server starts even while Redis is down; the `redis` package (the
`redis` extra) is imported on first use. Every key is `lwmcp:{<namespace>}:<kind>:…`: one prefix,
one namespace per school (`school_namespace`, a hash of the API URL and client id, no secret),
in braces so a Redis Cluster keeps a school's keys in one slot for its scripts. Stores give
every key a TTL.

Any failure to reach Redis, or a command Redis refuses, becomes `SharedStateUnavailableError`,
whose message names `LEARNWORLDS_REDIS_URL` and says what to do. Timeouts are short, so a tool
answers promptly while Redis is gone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from learnworlds_mcp.errors import SharedStateUnavailableError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = [
    "KEY_PREFIX",
    "RedisState",
    "SharedStateUnavailableError",
    "school_namespace",
]

KEY_PREFIX = "lwmcp"
# Seconds to open a connection, and to wait for any one reply: a tool answers promptly (well
# inside a host's timeout) when Redis is gone, while a healthy Redis answers in milliseconds.
DEFAULT_CONNECT_TIMEOUT = 1.0
DEFAULT_SOCKET_TIMEOUT = 2.0
_SCHEMES = ("redis", "rediss", "unix")
_NAMESPACE = re.compile(r"[0-9A-Za-z_.-]{1,64}")


def school_namespace(api_url: str, client_id: str) -> str:
    """The namespace of one school's keys: a short hash of its API URL and client id.

    Two servers of the same school (same URL and client id) share state; different schools on
    one Redis never see each other's. No secret goes in (the client id is not one), and the hash
    keeps the school's domain out of key names.
    """
    source = f"{api_url.strip().rstrip('/').lower()}\n{client_id.strip()}"
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def redacted_url(url: str) -> str:
    """`url` without user name or password: `redis://host:port/db`, for messages and logs."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = str(parts.port or 6379)
    except ValueError:
        port = "?"
    return f"{parts.scheme}://{host}:{port}{parts.path or '/0'}"


class RedisState:
    """One Redis connection pool for one school's shared state, made on first use."""

    def __init__(
        self,
        url: str,
        namespace: str,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    ) -> None:
        """`url` is `LEARNWORLDS_REDIS_URL`; `namespace` is `school_namespace(api_url, client_id)`.

        Raises `ValueError` for a URL that is not `redis://`, `rediss://` or `unix://`.
        """
        if urlsplit(url).scheme not in _SCHEMES:
            raise ValueError(
                "LEARNWORLDS_REDIS_URL must look like redis://host:6379/0 "
                "(or rediss:// for TLS, unix:///path/to/redis.sock)"
            )
        if not _NAMESPACE.fullmatch(namespace):
            raise ValueError("a Redis namespace is 1-64 letters, digits, '_', '.' or '-'")
        self.namespace = namespace
        self.where = redacted_url(url)  # safe to show: no user name or password
        self._url = url
        self._connect_timeout = connect_timeout
        self._socket_timeout = socket_timeout
        self._client: Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}

    def key(self, *parts: str) -> str:
        """The full name of one of this school's keys: `lwmcp:{namespace}:part:…`."""
        return ":".join((KEY_PREFIX, f"{{{self.namespace}}}", *parts))

    def client(self) -> Redis:
        """The `redis.asyncio` client (connections open on the first command, not here)."""
        if self._client is None:
            try:
                from redis.asyncio import Redis
                from redis.asyncio.retry import Retry
                from redis.backoff import NoBackoff
            except ImportError:  # pragma: no cover - the `redis` extra is not installed
                raise SharedStateUnavailableError(
                    "LEARNWORLDS_REDIS_URL is set but the `redis` package is not installed: "
                    "install learnworlds-mcp[redis] (e.g. `uvx 'learnworlds-mcp[redis]'`), "
                    "or unset LEARNWORLDS_REDIS_URL to keep state in this process."
                ) from None
            self._client = Redis.from_url(
                self._url,
                socket_connect_timeout=self._connect_timeout,
                socket_timeout=self._socket_timeout,
                # One immediate retry: a pooled connection that Redis dropped (a restart) is
                # replaced at once; a Redis that is really gone fails within the timeouts.
                retry=Retry(NoBackoff(), 1),
            )
        return self._client

    def script(self, source: str) -> AsyncScript:
        """A Lua script on this Redis (loaded on first call, and again after a restart)."""
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self.client().register_script(source)
        return script

    async def run(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run a Lua script atomically; Redis trouble is `SharedStateUnavailableError`."""
        async with self.reached():
            return await self.script(source)(keys=list(keys), args=list(args))

    @asynccontextmanager
    async def reached(self) -> AsyncIterator[Redis]:
        """`async with state.reached() as redis:` turns any Redis failure into a clear error."""
        from redis.exceptions import RedisError

        try:
            yield self.client()
        except (RedisError, OSError) as error:
            raise self.unavailable(error) from error

    def unavailable(self, error: BaseException) -> SharedStateUnavailableError:
        """The error a tool answers when Redis fails: what happened, and what to do."""
        from redis import exceptions as rx

        safe = "Nothing was sent to the school."
        if isinstance(error, rx.AuthenticationError | rx.AuthorizationError | rx.NoPermissionError):
            return SharedStateUnavailableError(
                f"Redis at {self.where} refused this server's credentials: check the user and "
                f"password in LEARNWORLDS_REDIS_URL and the Redis ACL. {safe}"
            )
        if isinstance(error, rx.TimeoutError | TimeoutError):
            what = f"did not answer within {self._socket_timeout:g} s"
        elif isinstance(error, rx.BusyLoadingError):
            what = "is still loading its data"
        elif isinstance(error, rx.ConnectionError | OSError):
            what = "cannot be reached"
        else:
            reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
            return SharedStateUnavailableError(
                f"Redis at {self.where} (LEARNWORLDS_REDIS_URL) refused a command ({reason}). "
                f"{safe} Check the Redis server's logs and memory, then try again."
            )
        return SharedStateUnavailableError(
            f"The shared state in Redis at {self.where} {what}. {safe} Check that Redis is "
            "running and reachable at LEARNWORLDS_REDIS_URL, then try again: the server "
            "recovers by itself once Redis is back."
        )

    async def healthy(self) -> bool:
        """Whether Redis answers a PING now (for `/healthz`); never raises."""
        try:
            async with self.reached() as redis:
                return bool(await redis.ping())
        except SharedStateUnavailableError:
            return False

    async def aclose(self) -> None:
        """Close the connections (a later command opens new ones)."""
        client, self._client = self._client, None
        self._scripts.clear()
        if client is not None:
            await client.aclose()
