"""The compose deployment as files: what Docker would run is what the tests run.

Docker cannot run here, so this holds `compose.yaml`, the `Dockerfile`, `deploy/haproxy.cfg` and
`.dockerignore` to each other and to `tests/replicas.py` — the replica command and environment
the multi-replica tests start as processes. (`tests/test_haproxy.py` runs the proxy config for
real.)
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.replicas import (
    COMPOSE_MEMBERS_FILE,
    COMPOSE_PORT,
    COMPOSE_PROXY_ADDRESS,
    PROGRAM,
    SCHOOL_ENV,
    compose_replica_env,
    replica_command,
)

ROOT = Path(__file__).resolve().parent.parent
REPLICAS = ("replica-a", "replica-b")
SECRET_WORDS = re.compile(r"SECRET|PASSWORD|TOKEN|STATE_KEY|API_KEY", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile's final stage, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    instructions = [tuple(line.split(None, 1)) for line in lines if not line.startswith("#")]
    stages = [i for i, (op, _) in enumerate(instructions) if op.upper() == "FROM"]
    return [(op.upper(), rest) for op, rest in instructions[stages[-1] :]]


def json_array(text: str) -> list[str]:
    found = yaml.safe_load(text)
    assert isinstance(found, list), f"not an exec-form array: {text}"
    return [str(item) for item in found]


def test_each_replica_runs_the_command_the_tests_run(compose: dict[str, Any]) -> None:
    final = dockerfile_instructions()
    (entrypoint,) = [json_array(rest) for op, rest in final if op == "ENTRYPOINT"]
    assert entrypoint == [PROGRAM]
    for name in REPLICAS:
        service = compose["services"][name]
        assert "entrypoint" not in service  # the image's: learnworlds-mcp
        assert [*entrypoint, *service["command"]] == replica_command(), name


def test_each_replica_has_the_environment_the_tests_give(compose: dict[str, Any]) -> None:
    for name in REPLICAS:
        service = compose["services"][name]
        assert service["environment"] == compose_replica_env(), name
        # The school's credentials come from the env file only, never written here.
        assert service["env_file"] == ["deploy/school.env"]
        assert not set(SCHOOL_ENV) & set(service["environment"])
    example = (ROOT / "deploy" / "school.env.example").read_text()
    assert sorted(re.findall(r"^(\w+)=", example, re.MULTILINE)) == sorted(SCHOOL_ENV)


def test_the_replicas_share_redis_the_members_file_and_trust_only_the_proxy(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["redis"]["image"].startswith("redis:7")
    members_dir = str(Path(COMPOSE_MEMBERS_FILE).parent)
    for name in REPLICAS:
        service = services[name]
        assert f"./deploy/members:{members_dir}:ro" in service["volumes"]
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert "ports" not in service  # reached through the proxy only
        assert str(service["user"]).split(":")[0] not in ("0", "root")
        assert service["read_only"] is True
    proxy = services["haproxy"]
    assert proxy["networks"]["backplane"]["ipv4_address"] == COMPOSE_PROXY_ADDRESS
    assert proxy["ports"] == ["443:443"]
    assert "./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in proxy["volumes"]
    assert "ports" not in services["redis"]


def test_the_proxy_config_names_the_replicas_and_keeps_legacy_sessions() -> None:
    config = (ROOT / "deploy" / "haproxy.cfg").read_text()
    servers = re.findall(r"^\s*server (\S+) (\S+)", config, re.MULTILINE)
    assert servers == [(name, f"{name}:{COMPOSE_PORT}") for name in REPLICAS]
    assert "stick store-response res.hdr(mcp-session-id)" in config
    assert "stick match req.hdr(mcp-session-id)" in config
    assert "balance roundrobin" in config
    assert re.search(r"bind :443 ssl crt /usr/local/etc/haproxy/certs/\S+\.pem", config)
    assert "uri /healthz" in config
    assert "option forwardfor" in config
    assert re.search(r"timeout server 1h", config) and re.search(r"timeout client 1h", config)


def test_the_image_is_non_root_locked_and_holds_no_secret() -> None:
    text = (ROOT / "Dockerfile").read_text()
    final = dockerfile_instructions()
    (user,) = [rest for op, rest in final if op == "USER"]
    assert user.split(":")[0] not in ("0", "root")
    assert "uv sync --locked --no-dev --extra redis" in text
    assert ("EXPOSE", str(COMPOSE_PORT)) in final
    (healthcheck,) = [rest for op, rest in final if op == "HEALTHCHECK"]
    assert f"http://127.0.0.1:{COMPOSE_PORT}/healthz" in healthcheck and '"python"' in healthcheck
    for op, rest in final:
        if op in ("ENV", "ARG", "LABEL"):
            assert not SECRET_WORDS.search(rest), f"{op} {rest}"
    copied = [shlex.split(rest)[:-1] for op, rest in dockerfile_instructions() if op == "COPY"]
    assert all(".env" not in part for parts in copied for part in parts)


def test_the_build_context_is_only_the_project() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0] == "**"  # everything out, then only what the build needs back in
    assert set(rules) >= {"!pyproject.toml", "!uv.lock", "!src/", "!README.md", "!LICENSE"}
    assert not [rule for rule in rules if "env" in rule or "deploy" in rule or "members" in rule]
