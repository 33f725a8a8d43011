"""Shared test helpers: a sandbox school, settings pointing at it, and an MCP client to it.

Clients are opened inside tests with `connected(...)` (an async context manager), never in an
async-generator fixture: pytest-asyncio would tear such a fixture down in another task.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import Client
from mcp_types import CallToolResult
from pydantic import SecretStr

from learnworlds_mcp.clock import Clock, FakeClock
from learnworlds_mcp.config import RateLimit, Settings
from learnworlds_mcp.sandbox import LoggedRequest, SandboxOptions, SandboxSchool
from learnworlds_mcp.sandbox.records import User
from learnworlds_mcp.server import build_server

SCHOOLS: list[SandboxSchool] = []  # schools of the running test (conftest checks for leaks)
RESULTS: list[str] = []  # every tool result `connected()` saw, as JSON

SCHOOL_HOST = "http://127.0.0.1:8000"  # in-process: the ASGI transport never connects


def make_school(users: int = 120, clock: Clock | None = None, **options: Any) -> SandboxSchool:
    """A small deterministic school; share `clock` with the client to run in virtual time."""
    school = SandboxSchool(SandboxOptions(users=users, clock=clock or FakeClock(), **options))
    SCHOOLS.append(school)
    return school


def settings_for(
    school: SandboxSchool, *, secret: bool = True, token: bool = False, **overrides: Any
) -> Settings:
    opts = school.options
    values: dict[str, Any] = {
        "api_url": f"{SCHOOL_HOST}/admin/api",
        "client_id": opts.client_id,
        "client_secret": SecretStr(opts.client_secret) if secret else None,
        "access_token": SecretStr(opts.static_token or "") if token else None,
        "rate_limit": RateLimit(requests=30, seconds=10.0),
        "timeout": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


def transport_for(school: SandboxSchool) -> httpx2.ASGITransport:
    return httpx2.ASGITransport(app=school.app)


@asynccontextmanager
async def connected(
    school: SandboxSchool,
    settings: Settings | None = None,
    **client_options: Any,
) -> AsyncIterator[Client]:
    """An in-memory MCP client to a server that talks to `school` in-process."""
    server = build_server(
        settings or settings_for(school),
        transport=transport_for(school),
        clock=school.options.clock,
    )
    SCHOOLS.append(school)
    async with Client(server, **client_options) as client:
        call_tool = client.call_tool
        output_schemas: dict[str, dict[str, Any] | None] = {}

        async def recorded(*args: Any, **kwargs: Any) -> CallToolResult:
            result = await call_tool(*args, **kwargs)
            RESULTS.append(result.model_dump_json())
            name = args[0] if args else kwargs["name"]
            if not result.is_error:
                if name not in output_schemas:
                    listed = (await client.list_tools()).tools
                    output_schemas.update({t.name: t.output_schema for t in listed})
                check_output_schema(name, output_schemas.get(name), result)
            return result

        client.call_tool = recorded  # type: ignore[method-assign]
        yield client


def check_output_schema(name: str, schema: dict[str, Any] | None, result: CallToolResult) -> None:
    """A tool's structured result validates against the outputSchema it advertises in
    tools/list (JSON Schema 2020-12, with `jsonschema`), as a validating client checks it."""
    from jsonschema import Draft202012Validator

    assert schema is not None, f"{name} advertises no outputSchema"
    Draft202012Validator.check_schema(schema)
    errors = list(Draft202012Validator(schema).iter_errors(result.structured_content))
    assert not errors, f"{name}: structuredContent does not match outputSchema: {errors[0]}"


def payload(result: CallToolResult) -> Any:
    """The JSON text the model reads, parsed — and checked equal to the structured content."""
    assert not result.is_error, result.content
    text = result.content[0].text  # type: ignore[union-attr]
    data = json.loads(text)
    assert data == result.structured_content
    return data


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    return " ".join(getattr(block, "text", "") for block in result.content)


def console_script() -> str:
    """The installed `learnworlds-mcp` script of this environment (what `uvx` would run)."""
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "learnworlds-mcp"
    assert script.exists(), f"{script} missing: run `uv sync`"
    return str(script)


def stdio_env(url: str, school: SandboxSchool, **extra: str) -> dict[str, str]:
    """The environment a host passes: credentials for the sandbox at `url`, and nothing else."""
    import os

    env = {
        "LEARNWORLDS_API_URL": url,
        "LEARNWORLDS_CLIENT_ID": school.options.client_id,
        "LEARNWORLDS_CLIENT_SECRET": school.options.client_secret,
        "PATH": os.environ.get("PATH", ""),
    }
    env.update(extra)
    return env


def learner(school: SandboxSchool, n: int = 0) -> User:
    """The n-th active user with the plain User role (safe to change in a test)."""
    found = [
        u
        for u in school.users
        if not u.is_suspended and school.role(u.role_id).title == "User"  # type: ignore[union-attr]
    ]
    return found[n]


def write_requests(school: SandboxSchool) -> list[LoggedRequest]:
    """The POST/PUT/DELETE requests under /v2 the school received."""
    return [r for r in school.requests if r.is_write]


def max_in_window(times: list[float], window: float) -> int:
    """The most of `times` (request arrival times) that fall in any window of `window` seconds."""
    times, best, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
