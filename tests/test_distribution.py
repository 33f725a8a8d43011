"""Ready to publish (DESIGN §11): the wheel and sdist, `server.json`, and the MCP Bundle.

Slow (they build, install and spawn real things), so few: the built wheel installed into a fresh
venv runs `learnworlds-mcp --demo --check`; the bundle's manifest validates with the mcpb CLI
and, unpacked, starts the server the way the manifest says and answers `tools/list`. They need
`uv` and `npx` on PATH (and the package registries): where one is missing they skip saying so,
except under CI=true, where that is a failure.
"""

from __future__ import annotations

import email
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from learnworlds_mcp import __version__
from learnworlds_mcp.config import ENVIRONMENT_VARIABLES, REMOTE_ONLY_VARIABLES
from learnworlds_mcp.sandbox import SandboxSchool, serve_sandbox

ROOT = Path(__file__).resolve().parent.parent
MCPB = ["npx", "-y", "@anthropic-ai/mcpb@2.1.2"]
SECRETS = {"LEARNWORLDS_CLIENT_SECRET", "LEARNWORLDS_ACCESS_TOKEN"}
SERVER_NAME = "io.github.learnworlds-mcp/learnworlds-mcp"


def need(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        reason = f"`{program}` is not on PATH"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """This machine's environment (its PATH, uv cache, certificates, proxies) without this
    suite's virtualenv or any LearnWorlds setting, plus `extra`."""
    dropped = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith("LEARNWORLDS_")
    }
    env.update(extra)
    return env


def run(command: list[str], cwd: Path = ROOT, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False, **kwargs
    )


@pytest.fixture(scope="module")
def built() -> Any:
    need("uv")
    with tempfile.TemporaryDirectory(prefix="learnworlds-dist-") as out:
        done = run(["uv", "build", "--out-dir", out], env=clean_env())
        assert done.returncode == 0, done.stderr
        yield Path(out)


def only(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- wheel and sdist


def test_wheel_and_sdist_carry_complete_metadata_and_nothing_else(built: Path) -> None:
    wheel = only(built, f"learnworlds_mcp-{__version__}-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = f"learnworlds_mcp-{__version__}.dist-info"
        metadata = email.message_from_string(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert metadata["Name"] == "learnworlds-mcp" and metadata["Version"] == __version__
    assert metadata["Summary"] == project["description"]
    assert metadata["License-Expression"] == "MIT" and metadata["License-File"] == "LICENSE"
    assert metadata["Requires-Python"] == ">=3.11"
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert set(urls) == {"Homepage", "Repository", "Issues", "Documentation"}
    assert all(u.startswith("https://") for u in urls.values())
    classifiers = metadata.get_all("Classifier")
    assert "License :: OSI Approved :: MIT License" in classifiers
    assert (
        "Programming Language :: Python :: 3.11" in classifiers and "Typing :: Typed" in classifiers
    )
    requires = {re.split(r"[<>=;\[ ]", r)[0] for r in metadata.get_all("Requires-Dist")}
    assert {"mcp", "pydantic", "python-dotenv", "httpx2"} <= requires
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "uv run learnworlds-mcp --demo" in metadata.get_payload()  # the README
    assert f"mcp-name: {SERVER_NAME}" in metadata.get_payload()  # the MCP Registry's marker
    assert "learnworlds-mcp = learnworlds_mcp.cli:main" in entry_points
    # the wheel: the package (sandbox included: --demo needs it), typed, and nothing else
    assert all(n.startswith(("learnworlds_mcp/", f"{info}/")) for n in names), names
    assert "learnworlds_mcp/sandbox/__init__.py" in names and "learnworlds_mcp/py.typed" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
    assert not [n for n in names if "/tests/" in n or n.startswith("tests/")]
    with tarfile.open(only(built, f"learnworlds_mcp-{__version__}.tar.gz")) as sdist:
        files = [m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name]
    for kept in ("README.md", "LICENSE", "pyproject.toml", "src/learnworlds_mcp/cli.py"):
        assert kept in files
    assert not [f for f in files if f.startswith((".venv", "dist/")) or "__pycache__" in f]


def install_wheel(wheel: Path, venv: Path) -> subprocess.CompletedProcess[str]:
    """Install `wheel` into `venv` with its locked dependencies, from uv's cache when it holds
    them (no network), else from PyPI."""
    locked = run(
        ["uv", "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project"],
        env=clean_env(),
    )
    assert locked.returncode == 0, locked.stderr
    requirements = venv.parent / "requirements.txt"
    requirements.write_text(locked.stdout)
    command = ["uv", "pip", "install", "--python", str(venv / "bin" / "python")]
    command += ["-r", str(requirements), str(wheel)]
    done = run([*command, "--offline"], env=clean_env())
    if done.returncode != 0:  # the cache lacks something: the registry has it
        done = run(command, env=clean_env())
    return done


def test_the_wheel_in_a_fresh_venv_runs_the_demo_check(built: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    made = run(["uv", "venv", "--python", sys.executable, str(venv)], env=clean_env())
    assert made.returncode == 0, made.stderr
    installed = install_wheel(only(built, "*.whl"), venv)
    assert installed.returncode == 0, installed.stderr
    script = venv / "bin" / "learnworlds-mcp"
    version = run([str(script), "--version"], cwd=tmp_path, env=clean_env())
    assert version.stdout.strip().endswith(__version__), version.stdout + version.stderr
    checked = run([str(script), "--demo", "--check"], cwd=tmp_path, env=clean_env())
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All checks passed" in checked.stdout
    assert "Traceback" not in checked.stderr


# ------------------------------------------------------------------------------ server.json

REGISTRY_RULES = {
    "type": "object",
    "required": ["$schema", "name", "description", "version", "packages"],
    "properties": {
        "$schema": {
            "const": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
        },
        "name": {"type": "string", "pattern": "^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$", "maxLength": 200},
        "description": {"type": "string", "minLength": 1, "maxLength": 100},
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+"},
        "repository": {"type": "object", "required": ["url", "source"]},
        "packages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["registryType", "identifier", "version", "transport"],
                "properties": {
                    "registryType": {"enum": ["npm", "pypi", "nuget", "oci", "mcpb"]},
                    "version": {"type": "string", "not": {"const": "latest"}},
                    "transport": {"type": "object", "properties": {"type": {"const": "stdio"}}},
                    "environmentVariables": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "description"],
                            "properties": {
                                "name": {"type": "string"},
                                "isRequired": {"type": "boolean"},
                                "isSecret": {"type": "boolean"},
                                "format": {"enum": ["string", "number", "boolean", "filepath"]},
                                "default": {"type": "string"},
                                "choices": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                },
            },
        },
    },
}
"""The MCP Registry's server.json rules (2025-12-11 schema) for the fields this file uses."""


def test_server_json_describes_the_pypi_package_for_the_registry() -> None:
    server = json.loads((ROOT / "server.json").read_text())
    jsonschema.validate(server, REGISTRY_RULES)
    assert server["name"] == SERVER_NAME
    assert server["version"] == __version__
    (package,) = server["packages"]
    assert package["registryType"] == "pypi" and package["identifier"] == "learnworlds-mcp"
    assert package["version"] == __version__ and package["transport"] == {"type": "stdio"}
    variables = {v["name"]: v for v in package["environmentVariables"]}
    # server.json describes the stdio package: what a host passes it (not the remote server's).
    assert set(variables) == set(ENVIRONMENT_VARIABLES) - set(REMOTE_ONLY_VARIABLES)
    assert {n for n, v in variables.items() if v.get("isSecret")} == SECRETS
    assert {n for n, v in variables.items() if v.get("isRequired")} == {
        "LEARNWORLDS_API_URL",
        "LEARNWORLDS_CLIENT_ID",
    }
    assert f"mcp-name: {SERVER_NAME}" in (ROOT / "README.md").read_text()


# ---------------------------------------------------------------------------------- bundle


def filled(value: str, values: dict[str, str]) -> str:
    """A manifest string with `${__dirname}` and `${user_config.x}` replaced, as hosts do."""
    return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], value)


async def test_the_bundle_validates_and_unpacked_answers_tools_list(tmp_path: Path) -> None:
    need("uv")
    need("npx")
    broken = tmp_path / "broken" / "manifest.json"
    broken.parent.mkdir()
    manifest = json.loads((ROOT / "bundle" / "manifest.json").read_text())
    broken.write_text(json.dumps({**manifest, "manifest_version": "9.9"}))
    refused = run([*MCPB, "validate", str(broken)], cwd=tmp_path, env=clean_env())
    assert refused.returncode != 0  # the validator does reject

    made = run(
        [sys.executable, str(ROOT / "bundle" / "build.py"), "--out", str(tmp_path)],
        env=clean_env(),
    )
    assert made.returncode == 0, made.stderr
    bundle = Path(made.stdout.strip().splitlines()[-1])
    assert bundle == tmp_path / f"learnworlds-mcp-{__version__}.mcpb"
    unpacked = tmp_path / "unpacked"
    opened = run([*MCPB, "unpack", str(bundle), str(unpacked)], cwd=tmp_path, env=clean_env())
    assert opened.returncode == 0, opened.stderr
    manifest = json.loads((unpacked / "manifest.json").read_text())
    assert manifest["manifest_version"] == "0.4" and manifest["version"] == __version__
    assert manifest["server"]["type"] == "uv"
    assert (unpacked / manifest["server"]["entry_point"]).is_file()
    settings = manifest["user_config"]
    assert set(settings) == {
        "api_url",
        "client_id",
        "client_secret",
        "allow_writes",
        "allow_destructive",
    }
    assert [k for k, v in settings.items() if v.get("sensitive")] == ["client_secret"]
    assert settings["allow_writes"]["type"] == settings["allow_destructive"]["type"] == "boolean"

    school = SandboxSchool(users=40)
    with serve_sandbox(school) as url:
        values = {
            "__dirname": str(unpacked),
            "user_config.api_url": url,
            "user_config.client_id": school.options.client_id,
            "user_config.client_secret": school.options.client_secret,
            "user_config.allow_writes": "true",
            "user_config.allow_destructive": "false",
        }
        config = manifest["server"]["mcp_config"]
        env = {k: filled(v, values) for k, v in config["env"].items()}
        params = StdioServerParameters(
            command=config["command"],
            args=[filled(a, values) for a in config["args"]],
            env=clean_env(**env),
            cwd=str(tmp_path),
        )
        with tempfile.TemporaryFile(mode="w+") as stderr:
            async with Client(stdio_client(params, errlog=stderr)) as client:  # type: ignore[arg-type]
                tools = (await client.list_tools()).tools
                roles = await client.call_tool("list_all_learnworlds_roles", {})
            stderr.seek(0)
            logged = stderr.read()
    names = {t.name for t in tools}
    assert "create_a_learnworlds_user" in names  # allow_writes reached the server
    assert "suspend_a_learnworlds_user" not in names  # allow_destructive stayed off
    assert not roles.is_error
    assert school.options.client_secret not in logged
    assert any(r.path == "/v2/user-roles" for r in school.requests)  # it reached the sandbox
