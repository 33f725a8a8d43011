"""Tests for the command line (as a subprocess, the way a host runs it) and for ``--check``."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx2
import pytest
from pydantic import SecretStr

from learnworlds_mcp import __version__
from learnworlds_mcp.check import run_check
from learnworlds_mcp.clock import FakeClock
from learnworlds_mcp.config import ENVIRONMENT_VARIABLES, Settings

SECRET = "SUPERSECRET-cs-4f9a8b7c6d5e"
GOOD_SECRET = "right-secret-0123456789"
MINTED = "MintedToken0123456789abcdefABCDEF012345"
STATIC = "StaticToken0123456789abcdefABCDEF0123456"
CLIENT_ID = "5ea173beca205e67b47f4552"

_script = shutil.which("learnworlds-mcp", path=str(Path(sys.executable).parent))
COMMAND: list[str] = [_script] if _script else [sys.executable, "-m", "learnworlds_mcp"]


def _has_sandbox() -> bool:
    try:
        from learnworlds_mcp import sandbox
    except ImportError:
        return False
    return all(
        hasattr(sandbox, name) for name in ("SandboxSchool", "SandboxOptions", "serve_sandbox")
    )


needs_sandbox = pytest.mark.skipif(not _has_sandbox(), reason="the sandbox school is not there yet")


# --- running the command -----------------------------------------------------------------------


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """An empty working directory, so no stray ./.env is read."""
    work = tmp_path / "cwd"
    work.mkdir()
    return work


def base_env(home: Path) -> dict[str, str]:
    """A minimal environment: nothing LEARNWORLDS_* leaks in from the developer's shell."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "PYTHONIOENCODING": "utf-8",
        "PYTHONUTF8": "1",
    }
    if "SYSTEMROOT" in os.environ:  # Windows needs it to start Python at all
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    return env


def run(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdin: str = "",
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    full_env = base_env(cwd)
    full_env.update(env or {})
    return subprocess.run(
        [*COMMAND, *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def assert_config_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, nothing on stdout, exactly one line on stderr, no traceback, no secret."""
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("learnworlds-mcp: ")
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr
    for needle in needles:
        assert needle in line
    return line


GOOD_ENV = {
    "LEARNWORLDS_API_URL": "https://school.example.com",
    "LEARNWORLDS_CLIENT_ID": CLIENT_ID,
    "LEARNWORLDS_CLIENT_SECRET": SECRET,
}


def test_version(cwd: Path) -> None:
    result = run("--version", cwd=cwd)
    assert result.returncode == 0
    assert result.stdout == f"learnworlds-mcp {__version__}\n"
    assert result.stderr == ""


def test_python_dash_m(cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "learnworlds_mcp", "--version"],
        cwd=cwd,
        env=base_env(cwd),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"learnworlds-mcp {__version__}"


def test_help_lists_flags_and_variables(cwd: Path) -> None:
    result = run("--help", cwd=cwd)
    assert result.returncode == 0
    assert result.stderr == ""
    for flag in (
        "--allow-writes",
        "--allow-destructive",
        "--toolsets",
        "--env-file",
        "--demo",
        "--check",
        "--version",
    ):
        assert flag in result.stdout
    for name in ENVIRONMENT_VARIABLES:
        assert name in result.stdout


def test_missing_configuration(cwd: Path) -> None:
    line = assert_config_error(run(cwd=cwd), "LEARNWORLDS_API_URL is not set", "--demo")
    assert "https://myschool.learnworlds.com/admin/api" in line


def test_unknown_argument_is_one_line(cwd: Path) -> None:
    assert_config_error(run("--allow-write", cwd=cwd), "--allow-write", "--help")


@pytest.mark.parametrize(
    ("args", "env", "needles"),
    [
        ((), {"LEARNWORLDS_API_URL": "http://school.example.com"}, ["LEARNWORLDS_API_URL"]),
        ((), {"LEARNWORLDS_CLIENT_ID": ""}, ["LEARNWORLDS_CLIENT_ID is not set"]),
        (
            (),
            {"LEARNWORLDS_CLIENT_SECRET": ""},
            ["LEARNWORLDS_CLIENT_SECRET", "LEARNWORLDS_ACCESS_TOKEN"],
        ),
        (("--toolsets", "users,widgets"), {}, ["--toolsets", "widgets", "enrollments"]),
        ((), {"LEARNWORLDS_TOOLSETS": "widgets"}, ["LEARNWORLDS_TOOLSETS", "activity"]),
        (("--allow-destructive",), {}, ["--allow-writes", "LEARNWORLDS_ALLOW_WRITES"]),
        ((), {"LEARNWORLDS_ALLOW_WRITES": "sure"}, ["LEARNWORLDS_ALLOW_WRITES", "'sure'"]),
        ((), {"LEARNWORLDS_RATE_LIMIT": "30 per 10"}, ["LEARNWORLDS_RATE_LIMIT", "30/10"]),
        ((), {"LEARNWORLDS_TIMEOUT": "0"}, ["LEARNWORLDS_TIMEOUT"]),
        ((), {"LEARNWORLDS_TIMEOUT": SECRET}, ["LEARNWORLDS_TIMEOUT"]),
        ((), {"LEARNWORLDS_CONFIRM_DESTRUCTIVE": "ask"}, ["LEARNWORLDS_CONFIRM_DESTRUCTIVE"]),
        ((), {"LEARNWORLDS_CLIENT_SECRET": SECRET + " x"}, ["LEARNWORLDS_CLIENT_SECRET"]),
        (("--demo", "--allow-destructive"), {}, ["--allow-writes"]),
        (("--demo", "--toolsets", "nope"), {}, ["--toolsets"]),
    ],
)
def test_invalid_configuration(
    cwd: Path, args: tuple[str, ...], env: dict[str, str], needles: list[str]
) -> None:
    assert_config_error(run(*args, cwd=cwd, env={**GOOD_ENV, **env}), *needles)


def test_missing_env_file(cwd: Path) -> None:
    assert_config_error(run("--env-file", "nowhere.env", cwd=cwd), "--env-file", "nowhere.env")


def test_dotenv_in_working_directory_is_read(cwd: Path) -> None:
    (cwd / ".env").write_text(
        "".join(f"{k}={v}\n" for k, v in GOOD_ENV.items()) + "LEARNWORLDS_TIMEOUT=soon\n",
        encoding="utf-8",
    )
    assert_config_error(run(cwd=cwd), "LEARNWORLDS_TIMEOUT (in ", ".env", "not a number")
    # the environment beats the file
    result = run("--env-file", ".env", cwd=cwd, env={"LEARNWORLDS_TIMEOUT": "-1"})
    assert_config_error(result, "LEARNWORLDS_TIMEOUT is out of range")


def test_serve_exits_quietly_when_stdin_closes(cwd: Path) -> None:
    # Tokens are minted lazily, so the server starts without reaching the (unreachable) school.
    env = {**GOOD_ENV, "LEARNWORLDS_API_URL": "http://127.0.0.1:9/admin/api"}
    result = run(cwd=cwd, env=env, stdin="")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("demo", [False, True], ids=["school", "demo"])
def test_serve_speaks_only_mcp_on_stdout_and_stops_on_ctrl_c(cwd: Path, demo: bool) -> None:
    env = {**base_env(cwd), **GOOD_ENV, "LEARNWORLDS_API_URL": "http://127.0.0.1:9/admin/api"}
    args = ["--demo"] if demo else []
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    with subprocess.Popen(
        [*COMMAND, *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write((json.dumps(initialize) + "\n").encode())
        proc.stdin.flush()
        reply = json.loads(proc.stdout.readline())
        assert reply["id"] == 1 and reply["result"]["serverInfo"]["name"] == "learnworlds-mcp"
        proc.send_signal(signal.SIGINT)  # stdin stays open: Ctrl-C alone must stop it
        try:
            returncode = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
        stderr = proc.stderr.read().decode()
        assert returncode == 130
        assert "Traceback" not in stderr and SECRET not in stderr
        assert proc.stdout.read() == b""


# --- --check against a stub school on a loopback port --------------------------------------------


class _StubSchool(BaseHTTPRequestHandler):
    """Just enough of a school for --check: the token endpoint and GET /v2/user-roles."""

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        creds = json.loads(form.get("data", ["{}"])[0])
        if self.path == "/admin/api/oauth2/access_token" and (
            creds.get("client_secret") == GOOD_SECRET and creds.get("client_id") == CLIENT_ID
        ):
            self._reply(
                200,
                {
                    "tokenData": {
                        "access_token": MINTED,
                        "token_type": "Bearer",
                        "expires_in": 8000,
                    },
                    "errors": [],
                    "success": True,
                },
            )
        else:
            self._reply(400, _ACCESS_DENIED)

    def do_GET(self) -> None:
        if self.path != "/admin/api/v2/user-roles":
            self._reply(404, {"errors": [{"code": 404, "message": "Not found"}]})
        elif self.headers.get("Authorization") in (f"Bearer {MINTED}", f"Bearer {STATIC}"):
            self._reply(200, {"data": [{"id": "r1", "title": "Learner"}]})
        else:
            self._reply(400, _ACCESS_DENIED)


_ACCESS_DENIED = {
    "errors": [
        {
            "code": "400",
            "context": "access_denied",
            "message": "The resource owner or authorization server denied the request.",
        }
    ],
    "success": False,
}


@pytest.fixture
def stub_school() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubSchool)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/admin/api"
    finally:
        server.shutdown()
        server.server_close()


def test_check_with_wrong_secret_exits_1(cwd: Path, stub_school: str) -> None:
    env = {**GOOD_ENV, "LEARNWORLDS_API_URL": stub_school}
    result = run("--check", cwd=cwd, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stdout + result.stderr
    token_line = next(line for line in result.stdout.splitlines() if "Access token" in line)
    assert token_line.startswith("✗")
    assert "LEARNWORLDS_CLIENT_SECRET" in token_line
    assert "1 check failed" in result.stdout


def test_check_with_right_secret_exits_0(cwd: Path, stub_school: str) -> None:
    env = {**GOOD_ENV, "LEARNWORLDS_API_URL": stub_school, "LEARNWORLDS_CLIENT_SECRET": GOOD_SECRET}
    result = run("--check", cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✗" not in result.stdout
    assert "1 user role" in result.stdout
    assert GOOD_SECRET not in result.stdout + result.stderr
    assert MINTED not in result.stdout + result.stderr


# --- --demo, with the sandbox school --------------------------------------------------------------


@needs_sandbox
def test_demo_check(cwd: Path) -> None:
    result = run("--demo", "--check", cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✗" not in result.stdout
    for label in ("School URL", "Auth mode", "Access token", "API reachable", "Plan has API"):
        line = next(line for line in result.stdout.splitlines() if label in line)
        assert line.startswith("✓"), line
    assert "demo school running at http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


@needs_sandbox
def test_demo_ignores_real_credentials_but_keeps_switches(cwd: Path) -> None:
    env = {**GOOD_ENV, "LEARNWORLDS_ALLOW_WRITES": "1", "LEARNWORLDS_TOOLSETS": "users"}
    result = run("--demo", "--check", cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "school.example.com" not in result.stdout
    tools = next(line for line in result.stdout.splitlines() if "Tools" in line)
    assert "write" in tools and "toolsets: users" in tools


@needs_sandbox
def test_demo_serve_exits_quietly_when_stdin_closes(cwd: Path) -> None:
    result = run("--demo", cwd=cwd, stdin="")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "demo school running" in result.stderr


@needs_sandbox
def test_check_against_sandbox_with_wrong_secret(cwd: Path) -> None:
    from learnworlds_mcp.sandbox import SandboxOptions, SandboxSchool, serve_sandbox

    options = SandboxOptions(users=20)
    with serve_sandbox(SandboxSchool(options), host="127.0.0.1", port=0) as api_url:
        env = {
            "LEARNWORLDS_API_URL": api_url,
            "LEARNWORLDS_CLIENT_ID": options.client_id,
            "LEARNWORLDS_CLIENT_SECRET": SECRET,
        }
        result = run("--check", cwd=cwd, env=env)
        assert result.returncode == 1, result.stdout + result.stderr
        assert SECRET not in result.stdout + result.stderr
        assert any(line.startswith("✗ Access token") for line in result.stdout.splitlines()), (
            result.stdout
        )

        env["LEARNWORLDS_CLIENT_SECRET"] = options.client_secret
        result = run("--check", cwd=cwd, env=env)
        assert result.returncode == 0, result.stdout + result.stderr


# --- run_check in process, against a mock transport, in virtual time ------------------------------


Handler = Callable[[httpx2.Request], httpx2.Response]


def mock_school(
    *,
    token: Handler | None = None,
    roles: Handler | None = None,
) -> httpx2.MockTransport:
    def default_token(request: httpx2.Request) -> httpx2.Response:
        creds = json.loads(parse_qs(request.content.decode())["data"][0])
        if creds["client_secret"] != GOOD_SECRET:
            return httpx2.Response(400, json=_ACCESS_DENIED)
        return httpx2.Response(
            200, json={"tokenData": {"access_token": MINTED, "expires_in": 8000}, "success": True}
        )

    def default_roles(request: httpx2.Request) -> httpx2.Response:
        if request.headers.get("Authorization") not in (f"Bearer {MINTED}", f"Bearer {STATIC}"):
            return httpx2.Response(400, json=_ACCESS_DENIED)
        roles = [{"id": f"r{i}", "title": t} for i, t in enumerate(["Admin", "Learner", "Tutor"])]
        return httpx2.Response(200, json={"data": roles})

    def handler(request: httpx2.Request) -> httpx2.Response:
        assert request.headers["Lw-Client"] == CLIENT_ID
        if request.url.path == "/admin/api/oauth2/access_token":
            return (token or default_token)(request)
        if request.url.path == "/admin/api/v2/user-roles":
            return (roles or default_roles)(request)
        return httpx2.Response(404, json={"errors": [{"message": "nope"}]})

    return httpx2.MockTransport(handler)


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "api_url": "https://school.example.com",
        "client_id": CLIENT_ID,
        "client_secret": SecretStr(GOOD_SECRET),
    }
    values.update(overrides)
    return Settings.model_validate(values)


async def check(s: Settings, transport: httpx2.AsyncBaseTransport) -> tuple[bool, str]:
    out = io.StringIO()
    ok = await run_check(s, transport=transport, out=out, clock=FakeClock())
    text = out.getvalue()
    for secret in (GOOD_SECRET, SECRET, MINTED, STATIC):
        assert secret not in text
    return ok, text


def line_of(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if f" {label}" in line)


async def test_run_check_all_good() -> None:
    ok, text = await check(settings(), mock_school())
    assert ok is True
    assert text.startswith(f"learnworlds-mcp {__version__}")
    assert line_of(text, "School URL") == "✓ School URL: https://school.example.com/admin/api"
    assert line_of(text, "Auth mode").startswith("✓ Auth mode: client credentials")
    assert line_of(text, "Access token").startswith("✓ Access token: minted")
    assert "3 user roles" in line_of(text, "API reachable")
    assert line_of(text, "Plan has API access").startswith("✓")
    assert "30 requests per 10 s" in line_of(text, "Rate limit")
    tools = line_of(text, "Tools")
    assert "kinds: read;" in tools and "--allow-writes" in tools
    assert "✗" not in text and "All checks passed" in text


async def test_run_check_static_token() -> None:
    s = settings(client_secret=None, access_token=SecretStr(STATIC))
    ok, text = await check(s, mock_school())
    assert ok
    assert "static access token" in line_of(text, "Auth mode")
    assert "LEARNWORLDS_ACCESS_TOKEN was accepted" in line_of(text, "Access token")


async def test_run_check_static_token_rejected_without_fallback() -> None:
    s = settings(client_secret=None, access_token=SecretStr("ExpiredToken0000"))
    ok, text = await check(s, mock_school())
    assert not ok
    token = line_of(text, "Access token")
    assert token.startswith("✗") and "LEARNWORLDS_ACCESS_TOKEN" in token


async def test_run_check_static_token_rejected_falls_back_to_minting() -> None:
    s = settings(access_token=SecretStr("ExpiredToken0000"))
    ok, text = await check(s, mock_school())
    assert ok
    assert "fallback" in line_of(text, "Auth mode")
    assert "was rejected, so one was minted" in line_of(text, "Access token")


async def test_run_check_wrong_secret() -> None:
    ok, text = await check(settings(client_secret=SecretStr(SECRET)), mock_school())
    assert not ok
    assert line_of(text, "Access token").startswith("✗")
    assert "LEARNWORLDS_CLIENT_SECRET" in line_of(text, "Access token")
    assert line_of(text, "API reachable").startswith("–")
    assert "1 check failed" in text


async def test_run_check_plan_without_api_access() -> None:
    def forbidden(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(403, json={"errors": [{"message": "Upgrade your plan"}]})

    ok, text = await check(settings(), mock_school(roles=forbidden))
    assert not ok
    assert line_of(text, "Access token").startswith("✓")
    plan = line_of(text, "Plan has API access")
    assert plan.startswith("✗") and "403" in plan and "plan" in plan


async def test_run_check_unreachable() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    ok, text = await check(settings(), mock_school(token=refuse, roles=refuse))
    assert not ok
    assert line_of(text, "Access token").startswith("–")
    assert line_of(text, "API reachable").startswith("✗")


async def test_run_check_unexpected_reply() -> None:
    def html(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, text="<html>Welcome</html>")

    ok, text = await check(settings(), mock_school(roles=html))
    assert not ok
    assert line_of(text, "API reachable").startswith("✗")


async def test_run_check_reply_without_role_list() -> None:
    def odd(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"roles": []})

    ok, text = await check(settings(), mock_school(roles=odd))
    assert not ok
    assert "/admin/api" in line_of(text, "API reachable")


async def test_run_check_rate_limited() -> None:
    def busy(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(429, headers={"Retry-After": "60"}, json={"message": "slow down"})

    ok, text = await check(settings(), mock_school(roles=busy))
    assert not ok
    reachable = line_of(text, "API reachable")
    assert reachable.startswith("✗") and "retry" in reachable.lower()


async def test_run_check_reports_gates() -> None:
    s = settings(allow_writes=True, allow_destructive=True, toolsets="users,groups")
    ok, text = await check(s, mock_school())
    assert ok
    tools = line_of(text, "Tools")
    assert "kinds: read, write, destructive" in tools and "toolsets: users, groups" in tools
    assert "asked to confirm" in tools


async def test_run_check_ascii_output() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii", errors="replace")
    ok = await run_check(settings(), transport=mock_school(), out=out, clock=FakeClock())
    assert ok
    text = raw.getvalue().decode("ascii")
    assert "[ok] School URL" in text and "?" not in text.splitlines()[0]
