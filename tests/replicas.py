"""The replica command and environment: one description for `compose.yaml` and the tests.

`compose.yaml` runs each replica as `replica_command()` with `compose_replica_env()` plus the
school's credentials from its env file; the multi-replica tests run the very same command and
environment as local processes, with loopback values in place of the container ones:

    with running_replica(school_env, redis_url=redis.url, state_key=STATE_KEY,
                         members_file=path, public_url=proxy_url) as replica:
        ...

`tests/test_deploy.py` holds `compose.yaml` to these functions, so neither can drift alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from tests.http_server import RunningServer, running_server

PROGRAM = "learnworlds-mcp"
"""The console script (the image's ENTRYPOINT)."""

COMPOSE_PORT = 8000
"""The port each replica listens on inside its container (the image's EXPOSE)."""
COMPOSE_REDIS_URL = "redis://redis:6379/0"
COMPOSE_MEMBERS_FILE = "/data/learnworlds-members.json"
COMPOSE_PROXY_ADDRESS = "172.30.53.10"
"""HAProxy's fixed address on the compose network: the only proxy the replicas trust."""
COMPOSE_PUBLIC_URL = "${LEARNWORLDS_PUBLIC_URL:?set LEARNWORLDS_PUBLIC_URL in .env}"
COMPOSE_STATE_KEY = "${LEARNWORLDS_STATE_KEY:?set LEARNWORLDS_STATE_KEY in .env}"

SCHOOL_ENV = ("LEARNWORLDS_API_URL", "LEARNWORLDS_CLIENT_ID", "LEARNWORLDS_CLIENT_SECRET")
"""What the school's env file gives every replica (never written in compose.yaml)."""


def replica_args(*, host: str, port: int, public_url: str) -> list[str]:
    """A replica's arguments after the program name."""
    return ["--transport", "http", "--host", host, "--port", str(port), "--public-url", public_url]


def replica_command(
    *, host: str = "0.0.0.0", port: int = COMPOSE_PORT, public_url: str = COMPOSE_PUBLIC_URL
) -> list[str]:
    """A replica's whole command line (by default, the one in `compose.yaml`)."""
    return [PROGRAM, *replica_args(host=host, port=port, public_url=public_url)]


def replica_env(
    *, redis_url: str, state_key: str, members_file: str, forwarded_allow_ips: str
) -> dict[str, str]:
    """A replica's environment besides the school's credentials (`SCHOOL_ENV`)."""
    return {
        "LEARNWORLDS_REDIS_URL": redis_url,
        "LEARNWORLDS_STATE_KEY": state_key,
        "LEARNWORLDS_MEMBERS_FILE": members_file,
        "FORWARDED_ALLOW_IPS": forwarded_allow_ips,
    }


def compose_replica_env() -> dict[str, str]:
    """The `environment:` of each replica in `compose.yaml`."""
    return replica_env(
        redis_url=COMPOSE_REDIS_URL,
        state_key=COMPOSE_STATE_KEY,
        members_file=COMPOSE_MEMBERS_FILE,
        forwarded_allow_ips=COMPOSE_PROXY_ADDRESS,
    )


@contextmanager
def running_replica(
    school_env: Mapping[str, str],
    *extra_args: str,
    redis_url: str,
    state_key: str,
    members_file: str,
    public_url: str,
    port: int = 0,
    forwarded_allow_ips: str = "127.0.0.1",
    extra_env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> Iterator[RunningServer]:
    """One replica as a local process: the compose command and environment, on loopback.

    `school_env` holds the `SCHOOL_ENV` credentials (e.g. a sandbox school's). The replica
    listens on loopback at `port` (0: a free one; `server.url` names it); `public_url` is the
    one URL all replicas share (the proxy's). What a test sets beyond the compose file — the
    school's gates or rate limit (an operator's `deploy/school.env`), an audit log — goes in
    `extra_env` and `extra_args`, so it is plain to see.
    """
    env = {key: school_env[key] for key in SCHOOL_ENV}
    env.update(extra_env or {})
    env.update(
        replica_env(
            redis_url=redis_url,
            state_key=state_key,
            members_file=members_file,
            forwarded_allow_ips=forwarded_allow_ips,
        )
    )
    args = replica_args(host="127.0.0.1", port=port, public_url=public_url)
    with running_server(env, *args, *extra_args, cwd=cwd) as server:
        yield server
