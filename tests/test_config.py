"""Tests for learnworlds_mcp.config: every variable and flag, precedence, .env files, messages."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from learnworlds_mcp.config import (
    DEFAULT_RATE_LIMIT,
    ENVIRONMENT_VARIABLES,
    TOOLSETS,
    ConfigError,
    DemoCredentials,
    RateLimit,
    Settings,
    load_settings,
    normalize_api_url,
)

SECRET = "SUPERSECRET-cs-4f9a8b7c6d5e"
TOKEN = "TOKENVALUE-at-0123456789abcdef"
BASE_ENV: dict[str, str] = {
    "LEARNWORLDS_API_URL": "https://school.example.com/admin/api",
    "LEARNWORLDS_CLIENT_ID": "5ea173beca205e67b47f4552",
    "LEARNWORLDS_CLIENT_SECRET": SECRET,
}
DEMO = DemoCredentials(
    api_url="http://127.0.0.1:54321/admin/api",
    client_id="demo-client",
    client_secret="demo-secret-value",
)


@pytest.fixture(autouse=True)
def _empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every test in an empty directory, so no stray ./.env is read."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def load(
    env: Mapping[str, str] | None = None,
    *,
    flags: Mapping[str, object] | None = None,
    env_file: Path | None = None,
    demo: DemoCredentials | None = None,
    **extra: str,
) -> Settings:
    environ = dict(BASE_ENV if env is None else env)
    environ.update(extra)
    return load_settings(
        flags=flags or {}, environ=environ, env_file=env_file, demo_credentials=demo
    )


def error_of(
    env: Mapping[str, str] | None = None,
    *,
    flags: Mapping[str, object] | None = None,
    env_file: Path | None = None,
    **extra: str,
) -> str:
    with pytest.raises(ConfigError) as info:
        load(env, flags=flags, env_file=env_file, **extra)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    assert SECRET not in message and TOKEN not in message
    return message


# --- defaults and each variable ------------------------------------------------------------


def test_defaults() -> None:
    s = load()
    assert s.api_url == "https://school.example.com/admin/api"
    assert s.client_id == "5ea173beca205e67b47f4552"
    assert isinstance(s.client_secret, SecretStr)
    assert s.client_secret.get_secret_value() == SECRET
    assert s.access_token is None
    assert s.allow_writes is False
    assert s.allow_destructive is False
    assert s.toolsets == frozenset(TOOLSETS)
    assert s.rate_limit == RateLimit(30, 10)
    assert str(s.rate_limit) == "30/10"
    assert s.timeout == 30.0
    assert s.confirm_destructive == "auto"
    assert s.demo is False
    assert s.auth_mode == "client credentials"
    assert s.tool_kinds == ("read",)


def test_toolsets_constant() -> None:
    assert TOOLSETS == ("users", "roles", "groups", "courses", "enrollments", "activity")


def test_settings_is_frozen() -> None:
    s = load()
    with pytest.raises(ValidationError):
        s.allow_writes = True  # type: ignore[misc]


def test_access_token_only() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "LEARNWORLDS_CLIENT_SECRET"}
    s = load(env, LEARNWORLDS_ACCESS_TOKEN=TOKEN)
    assert s.client_secret is None
    assert s.access_token is not None and s.access_token.get_secret_value() == TOKEN
    assert s.auth_mode == "static access token"


def test_token_and_secret() -> None:
    s = load(LEARNWORLDS_ACCESS_TOKEN=TOKEN)
    assert s.auth_mode == "static access token, with client credentials as fallback"


def test_pasted_bearer_prefix_and_whitespace_are_stripped() -> None:
    s = load(LEARNWORLDS_ACCESS_TOKEN=f"  Bearer {TOKEN}\n", LEARNWORLDS_CLIENT_ID=" abc \n")
    assert s.access_token is not None and s.access_token.get_secret_value() == TOKEN
    assert s.client_id == "abc"


@pytest.mark.parametrize("word", ["1", "true", "TRUE", "Yes", "on", " On "])
def test_boolean_true_words(word: str) -> None:
    s = load(LEARNWORLDS_ALLOW_WRITES=word, LEARNWORLDS_ALLOW_DESTRUCTIVE=word)
    assert s.allow_writes is True and s.allow_destructive is True
    assert s.tool_kinds == ("read", "write", "destructive")


@pytest.mark.parametrize("word", ["0", "false", "False", "NO", "off"])
def test_boolean_false_words(word: str) -> None:
    s = load(LEARNWORLDS_ALLOW_WRITES=word, LEARNWORLDS_ALLOW_DESTRUCTIVE=word)
    assert s.allow_writes is False and s.allow_destructive is False


@pytest.mark.parametrize("name", ["LEARNWORLDS_ALLOW_WRITES", "LEARNWORLDS_ALLOW_DESTRUCTIVE"])
def test_boolean_garbage_names_variable(name: str) -> None:
    message = error_of(**{name: "maybe"})
    assert message.startswith(name)
    assert "'maybe'" in message
    assert "1/true/yes/on" in message and "0/false/no/off" in message


def test_writes_only() -> None:
    s = load(LEARNWORLDS_ALLOW_WRITES="1")
    assert s.tool_kinds == ("read", "write")


def test_destructive_without_writes() -> None:
    message = error_of(LEARNWORLDS_ALLOW_DESTRUCTIVE="1")
    assert "LEARNWORLDS_ALLOW_DESTRUCTIVE" in message and "--allow-destructive" in message
    assert "--allow-writes" in message and "LEARNWORLDS_ALLOW_WRITES" in message


def test_destructive_flag_without_writes() -> None:
    message = error_of(flags={"allow_destructive": True})
    assert "--allow-writes" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("all", set(TOOLSETS)),
        ("users", {"users"}),
        ("users,groups", {"users", "groups"}),
        (" Users , ROLES ,", {"users", "roles"}),
        ("users,all", set(TOOLSETS)),
        ("activity,enrollments,courses", {"activity", "enrollments", "courses"}),
    ],
)
def test_toolsets(value: str, expected: set[str]) -> None:
    assert load(LEARNWORLDS_TOOLSETS=value).toolsets == frozenset(expected)


@pytest.mark.parametrize("value", ["users,bogus", "user", ",,"])
def test_unknown_toolset_lists_valid_ones(value: str) -> None:
    message = error_of(LEARNWORLDS_TOOLSETS=value)
    assert message.startswith("LEARNWORLDS_TOOLSETS (--toolsets)")
    for name in (*TOOLSETS, "all"):
        assert name in message


def test_toolsets_flag_message_says_command_line() -> None:
    message = error_of(flags={"toolsets": "nope"})
    assert "--toolsets" in message and "command line" in message and "'nope'" in message


@pytest.mark.parametrize(
    ("value", "requests", "seconds"),
    [("30/10", 30, 10.0), ("5/1", 5, 1.0), (" 100 / 60 ", 100, 60.0), ("1/0.5", 1, 0.5)],
)
def test_rate_limit(value: str, requests: int, seconds: float) -> None:
    limit = load(LEARNWORLDS_RATE_LIMIT=value).rate_limit
    assert (limit.requests, limit.seconds) == (requests, seconds)


@pytest.mark.parametrize(
    "value", ["30", "30/", "/10", "0/10", "30/0", "-1/10", "30/-5", "a/b", "3.5/10", "30/inf"]
)
def test_bad_rate_limit(value: str) -> None:
    message = error_of(LEARNWORLDS_RATE_LIMIT=value)
    assert message.startswith("LEARNWORLDS_RATE_LIMIT")
    assert "<requests>/<seconds>" in message and "30/10" in message


def test_rate_limit_type() -> None:
    assert RateLimit.parse("30/10") == RateLimit(30, 10.0) == DEFAULT_RATE_LIMIT
    assert str(RateLimit(7, 2.5)) == "7/2.5"
    assert str(RateLimit.parse("1/60")) == "1/60"
    with pytest.raises(ValueError):
        RateLimit(0, 10)
    with pytest.raises(ValueError):
        RateLimit.parse("ten/10")
    limit = RateLimit(1, 1)
    with pytest.raises(AttributeError):
        limit.requests = 2  # type: ignore[misc]


@pytest.mark.parametrize(("value", "seconds"), [("30", 30.0), ("0.5", 0.5), ("300", 300.0)])
def test_timeout(value: str, seconds: float) -> None:
    assert load(LEARNWORLDS_TIMEOUT=value).timeout == seconds


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("soon", "is not a number"),
        ("30s", "is not a number"),
        ("0", "is out of range"),
        ("-3", "is out of range"),
        ("301", "is out of range"),
        ("nan", "is out of range"),
        ("inf", "is out of range"),
    ],
)
def test_bad_timeout(value: str, problem: str) -> None:
    message = error_of(LEARNWORLDS_TIMEOUT=value)
    assert message.startswith(f"LEARNWORLDS_TIMEOUT {problem}")
    assert "300" in message


@pytest.mark.parametrize(
    ("value", "expected"), [("auto", "auto"), ("OFF", "off"), (" off ", "off")]
)
def test_confirm_destructive(value: str, expected: str) -> None:
    assert load(LEARNWORLDS_CONFIRM_DESTRUCTIVE=value).confirm_destructive == expected


@pytest.mark.parametrize("value", ["on", "never", "yes"])
def test_bad_confirm_destructive(value: str) -> None:
    message = error_of(LEARNWORLDS_CONFIRM_DESTRUCTIVE=value)
    assert message.startswith("LEARNWORLDS_CONFIRM_DESTRUCTIVE")
    assert "auto" in message and "off" in message


# --- required values -------------------------------------------------------------------------


def test_missing_api_url_message() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "LEARNWORLDS_API_URL"}
    assert error_of(env) == (
        "LEARNWORLDS_API_URL is not set: set it to your school's API URL as shown in "
        "Settings → Developers → API, e.g. https://myschool.learnworlds.com/admin/api "
        "(or run with --demo to try the built-in sandbox school)"
    )


def test_missing_client_id() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "LEARNWORLDS_CLIENT_ID"}
    message = error_of(env)
    assert message.startswith("LEARNWORLDS_CLIENT_ID is not set")
    assert "--demo" in message


def test_missing_secret_and_token() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "LEARNWORLDS_CLIENT_SECRET"}
    message = error_of(env)
    assert "LEARNWORLDS_CLIENT_SECRET" in message and "LEARNWORLDS_ACCESS_TOKEN" in message


def test_blank_values_count_as_unset() -> None:
    message = error_of(LEARNWORLDS_API_URL="   ")
    assert message.startswith("LEARNWORLDS_API_URL is not set")
    s = load(LEARNWORLDS_ACCESS_TOKEN="", LEARNWORLDS_TOOLSETS=" ", LEARNWORLDS_TIMEOUT="")
    assert s.access_token is None and s.toolsets == frozenset(TOOLSETS) and s.timeout == 30


def test_empty_environment_reports_api_url_first() -> None:
    assert error_of({}).startswith("LEARNWORLDS_API_URL is not set")


@pytest.mark.parametrize("name", ["LEARNWORLDS_CLIENT_SECRET", "LEARNWORLDS_ACCESS_TOKEN"])
def test_malformed_secret_is_not_echoed(name: str) -> None:
    bad = SECRET[:10] + " \t" + SECRET[10:]
    with pytest.raises(ConfigError) as info:
        load(**{name: bad})
    message = str(info.value)
    assert message.startswith(name)
    assert SECRET[:10] not in message and SECRET[10:] not in message
    assert "\n" not in message


def test_malformed_client_id() -> None:
    message = error_of(LEARNWORLDS_CLIENT_ID="abc def")
    assert message.startswith("LEARNWORLDS_CLIENT_ID")


# --- API URL -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://school.example.com", "https://school.example.com/admin/api"),
        ("https://school.example.com/", "https://school.example.com/admin/api"),
        ("https://school.example.com/admin/api", "https://school.example.com/admin/api"),
        ("https://school.example.com/admin/api/", "https://school.example.com/admin/api"),
        ("https://school.example.com/admin/api//", "https://school.example.com/admin/api"),
        ("https://school.example.com/admin/api/v2", "https://school.example.com/admin/api"),
        ("  https://School.Example.COM/admin/api  ", "https://school.example.com/admin/api"),
        ("HTTPS://school.example.com", "https://school.example.com/admin/api"),
        ("school.example.com", "https://school.example.com/admin/api"),
        ("https://school.example.com:8443", "https://school.example.com:8443/admin/api"),
        ("https://academy.mylearnworlds.com", "https://academy.mylearnworlds.com/admin/api"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/admin/api"),
        ("http://127.0.0.1:8000/admin/api/", "http://127.0.0.1:8000/admin/api"),
        ("http://localhost:9000/admin/api", "http://localhost:9000/admin/api"),
        ("http://[::1]:9000/admin/api", "http://[::1]:9000/admin/api"),
        ("https://127.0.0.1:9000", "https://127.0.0.1:9000/admin/api"),
    ],
)
def test_api_url_normalisation(given: str, expected: str) -> None:
    assert normalize_api_url(given) == expected
    assert load(LEARNWORLDS_API_URL=given).api_url == expected


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("http://school.example.com", "https://"),
        ("http://10.0.0.5:8000/admin/api", "loopback"),
        ("ftp://school.example.com", "https://"),
        ("https://", "host"),
        ("https://school.example.com/admin", "/admin/api"),
        ("https://school.example.com/api/v2", "/admin/api"),
        ("https://school.example.com/admin/api?x=1", "query"),
        ("https://school.example.com/#frag", "fragment"),
        ("https://user:pw@school.example.com", "user name or password"),
        ("https://school..example.com", "host"),
        ("https://bad_host.example.com", "host"),
        ("https://school.example.com:99999", "URL"),
        ("https://school example.com", "spaces"),
    ],
)
def test_bad_api_url(given: str, reason: str) -> None:
    message = error_of(LEARNWORLDS_API_URL=given)
    assert message.startswith("LEARNWORLDS_API_URL")
    assert reason in message
    assert "https://myschool.learnworlds.com/admin/api" in message
    with pytest.raises(ValueError):
        normalize_api_url(given)


def test_api_url_credentials_never_echoed() -> None:
    message = error_of(LEARNWORLDS_API_URL=f"https://me:{SECRET}@school.example.com")
    assert SECRET not in message


# --- precedence and .env files -----------------------------------------------------------------


def write_env(path: Path, values: Mapping[str, str]) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


def test_dotenv_in_working_directory_is_read(_empty_cwd: Path) -> None:
    write_env(_empty_cwd / ".env", {**BASE_ENV, "LEARNWORLDS_TIMEOUT": "12"})
    s = load({})
    assert s.api_url == "https://school.example.com/admin/api"
    assert s.timeout == 12.0


def test_no_dotenv_and_no_env_means_missing(_empty_cwd: Path) -> None:
    assert not (_empty_cwd / ".env").exists()
    assert error_of({}).startswith("LEARNWORLDS_API_URL is not set")


def test_precedence_flag_over_env_over_file(tmp_path: Path) -> None:
    env_file = write_env(
        tmp_path / "custom.env",
        {
            **BASE_ENV,
            "LEARNWORLDS_TOOLSETS": "courses",
            "LEARNWORLDS_TIMEOUT": "11",
            "LEARNWORLDS_RATE_LIMIT": "1/1",
            "LEARNWORLDS_ALLOW_WRITES": "yes",
        },
    )
    # file only
    s = load({}, env_file=env_file)
    assert s.toolsets == {"courses"} and s.timeout == 11 and s.rate_limit == RateLimit(1, 1)
    assert s.allow_writes is True
    # environment beats file
    s = load(
        {
            "LEARNWORLDS_TOOLSETS": "users",
            "LEARNWORLDS_TIMEOUT": "22",
            "LEARNWORLDS_ALLOW_WRITES": "0",
        },
        env_file=env_file,
    )
    assert s.toolsets == {"users"} and s.timeout == 22 and s.rate_limit == RateLimit(1, 1)
    assert s.allow_writes is False
    # flag beats environment
    s = load(
        {"LEARNWORLDS_TOOLSETS": "users", "LEARNWORLDS_ALLOW_WRITES": "0"},
        env_file=env_file,
        flags={"toolsets": "groups,roles", "allow_writes": True},
    )
    assert s.toolsets == {"groups", "roles"} and s.allow_writes is True


def test_absent_flags_fall_through() -> None:
    s = load(
        flags={"allow_writes": None, "allow_destructive": None, "toolsets": None, "demo": False},
        LEARNWORLDS_ALLOW_WRITES="1",
        LEARNWORLDS_TOOLSETS="users",
    )
    assert s.allow_writes is True and s.toolsets == {"users"}


def test_all_flags_switch_on() -> None:
    s = load(flags={"allow_writes": True, "allow_destructive": True, "toolsets": "users"})
    assert s.allow_writes and s.allow_destructive and s.toolsets == {"users"}


def test_programmatic_flags_for_other_fields() -> None:
    s = load(flags={"timeout": 5, "rate_limit": "10/5", "confirm_destructive": "off"})
    assert s.timeout == 5 and s.rate_limit == RateLimit(10, 5) and s.confirm_destructive == "off"


def test_unknown_flag_key_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        load(flags={"allow_write": True})


def test_explicit_env_file_replaces_working_directory_dotenv(
    _empty_cwd: Path, tmp_path: Path
) -> None:
    write_env(_empty_cwd / ".env", {**BASE_ENV, "LEARNWORLDS_TIMEOUT": "12"})
    other = write_env(tmp_path / "other.env", {**BASE_ENV, "LEARNWORLDS_TIMEOUT": "13"})
    assert load({}, env_file=other).timeout == 13


def test_env_file_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.env"
    message = error_of(env_file=missing)
    assert message.startswith(f"--env-file {missing}")
    assert "no such file" in message


def test_env_file_must_be_a_file(tmp_path: Path) -> None:
    assert "not a file" in error_of(env_file=tmp_path)


def test_env_file_values_are_literal_and_quotes_work(tmp_path: Path) -> None:
    secret = "abc$HOME${USER}def"
    env_file = tmp_path / "x.env"
    env_file.write_text(
        "# comment\n"
        "export LEARNWORLDS_API_URL='https://school.example.com'\n"
        'LEARNWORLDS_CLIENT_ID="cid"\n'
        f"LEARNWORLDS_CLIENT_SECRET='{secret}'\n"
        "LEARNWORLDS_ACCESS_TOKEN\n",
        encoding="utf-8",
    )
    s = load({}, env_file=env_file)
    assert s.client_secret is not None and s.client_secret.get_secret_value() == secret
    assert s.client_id == "cid" and s.access_token is None


def test_error_from_file_names_the_file(tmp_path: Path) -> None:
    env_file = write_env(tmp_path / "school.env", {**BASE_ENV, "LEARNWORLDS_TIMEOUT": "abc"})
    message = error_of({}, env_file=env_file)
    assert message.startswith(f"LEARNWORLDS_TIMEOUT (in {env_file}) is not a number")


def test_load_does_not_touch_os_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LEARNWORLDS_API_URL", "https://from-os-environ.example.com")
    env_file = write_env(tmp_path / "x.env", {"LEARNWORLDS_TIMEOUT": "9"})
    s = load(env_file=env_file)
    assert s.api_url == "https://school.example.com/admin/api"
    import os

    assert "LEARNWORLDS_TIMEOUT" not in os.environ


def test_unknown_variable_close_to_a_real_one_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="learnworlds_mcp.config"):
        load(LEARNWORLDS_ALLOW_WRITE="1", LEARNWORLDS_UNRELATED_THING="x")
    assert "LEARNWORLDS_ALLOW_WRITES" in caplog.text
    assert "UNRELATED" not in caplog.text


def test_environment_variables_table() -> None:
    assert ENVIRONMENT_VARIABLES == (
        "LEARNWORLDS_API_URL",
        "LEARNWORLDS_CLIENT_ID",
        "LEARNWORLDS_CLIENT_SECRET",
        "LEARNWORLDS_ACCESS_TOKEN",
        "LEARNWORLDS_ALLOW_WRITES",
        "LEARNWORLDS_ALLOW_DESTRUCTIVE",
        "LEARNWORLDS_TOOLSETS",
        "LEARNWORLDS_RATE_LIMIT",
        "LEARNWORLDS_TIMEOUT",
        "LEARNWORLDS_CONFIRM_DESTRUCTIVE",
        "LEARNWORLDS_TRANSPORT",
        "LEARNWORLDS_HOST",
        "LEARNWORLDS_PORT",
        "LEARNWORLDS_PUBLIC_URL",
        "LEARNWORLDS_MEMBERS_FILE",
        "LEARNWORLDS_AUDIT_LOG",
        "LEARNWORLDS_REDIS_URL",
        "LEARNWORLDS_STATE_KEY",
    )


# --- demo mode ---------------------------------------------------------------------------------


def test_demo_needs_no_credentials_and_overrides_them() -> None:
    s = load({}, flags={"demo": True}, demo=DEMO)
    assert s.demo is True
    assert s.api_url == DEMO.api_url and s.client_id == DEMO.client_id
    assert s.client_secret is not None
    assert s.client_secret.get_secret_value() == DEMO.client_secret
    assert s.auth_mode == "client credentials"

    s = load({**BASE_ENV, "LEARNWORLDS_ACCESS_TOKEN": TOKEN}, flags={"demo": True}, demo=DEMO)
    assert s.api_url == DEMO.api_url and s.access_token is None


def test_demo_ignores_a_broken_school_url() -> None:
    s = load({"LEARNWORLDS_API_URL": "ftp://nonsense"}, flags={"demo": True}, demo=DEMO)
    assert s.api_url == DEMO.api_url


def test_demo_still_reads_switches() -> None:
    s = load(
        {
            "LEARNWORLDS_ALLOW_WRITES": "1",
            "LEARNWORLDS_TOOLSETS": "users",
            "LEARNWORLDS_RATE_LIMIT": "10/1",
            "LEARNWORLDS_TIMEOUT": "5",
            "LEARNWORLDS_CONFIRM_DESTRUCTIVE": "off",
        },
        flags={"demo": True, "allow_destructive": True},
        demo=DEMO,
    )
    assert s.allow_writes and s.allow_destructive and s.toolsets == {"users"}
    assert s.rate_limit == RateLimit(10, 1) and s.timeout == 5 and s.confirm_destructive == "off"
    with pytest.raises(ConfigError, match="--allow-writes"):
        load({}, flags={"demo": True, "allow_destructive": True}, demo=DEMO)


def test_demo_without_sandbox_credentials_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="demo_credentials"):
        load({}, flags={"demo": True})


def test_demo_credentials_ignored_without_demo_flag() -> None:
    s = load(demo=DEMO)
    assert s.demo is False and s.api_url == "https://school.example.com/admin/api"


# --- secrets -----------------------------------------------------------------------------------


def test_secrets_not_in_repr_str_or_dump() -> None:
    s = load(LEARNWORLDS_ACCESS_TOKEN=TOKEN)
    for text in (repr(s), str(s), s.model_dump_json(), repr(s.model_dump())):
        assert SECRET not in text and TOKEN not in text
    assert SECRET not in repr(DemoCredentials("http://127.0.0.1:1", "id", SECRET))


def test_secret_pasted_into_another_variable_is_redacted() -> None:
    message = error_of(LEARNWORLDS_TIMEOUT=SECRET, LEARNWORLDS_ACCESS_TOKEN=TOKEN)
    assert message.startswith("LEARNWORLDS_TIMEOUT")
    message = error_of(LEARNWORLDS_CONFIRM_DESTRUCTIVE=TOKEN, LEARNWORLDS_ACCESS_TOKEN=TOKEN)
    assert message.startswith("LEARNWORLDS_CONFIRM_DESTRUCTIVE")


def test_every_error_is_one_line_and_secret_free() -> None:
    bad_cases: list[dict[str, str]] = [
        {"LEARNWORLDS_API_URL": "http://evil.example.com\nX"},
        {"LEARNWORLDS_ALLOW_WRITES": "ja\nnein"},
        {"LEARNWORLDS_TOOLSETS": "a\nb"},
        {"LEARNWORLDS_RATE_LIMIT": "1\n/2x"},
        {"LEARNWORLDS_TIMEOUT": "1\n0"},
        {"LEARNWORLDS_CONFIRM_DESTRUCTIVE": "maybe\n"},
        {"LEARNWORLDS_CLIENT_SECRET": SECRET + "\nmore"},
    ]
    for case in bad_cases:
        error_of(**case)


# --- direct construction -----------------------------------------------------------------------


def test_settings_direct_construction_validates() -> None:
    s = Settings(
        api_url="school.example.com",
        client_id="cid",
        client_secret=SecretStr("x"),
        toolsets=frozenset({"users"}),
        rate_limit=RateLimit(5, 1),
    )
    assert s.api_url == "https://school.example.com/admin/api"
    assert Settings(api_url="http://127.0.0.1:1", client_id="c", access_token="t").auth_mode == (
        "static access token"
    )
    with pytest.raises(ValidationError):
        Settings(api_url="http://school.example.com", client_id="c", client_secret="x")
    with pytest.raises(ValidationError):
        Settings(api_url="https://s.example.com", client_id="c")  # no secret, no token
    with pytest.raises(ValidationError):
        Settings(
            api_url="https://s.example.com",
            client_id="c",
            client_secret="x",
            allow_destructive=True,
        )
    with pytest.raises(ValidationError):
        Settings(api_url="https://s.example.com", client_id="c", client_secret="x", toolsets={"x"})
    with pytest.raises(ValidationError):
        Settings(api_url="https://s.example.com", client_id="c", client_secret="x", timeout=0)
    with pytest.raises(ValidationError):
        Settings(api_url="https://s.example.com", client_id="c", client_secret="x", bogus=1)


# --- the remote server (DESIGN §8, §9) -----------------------------------------------------------


def test_remote_defaults_are_stdio_on_loopback() -> None:
    s = load()
    assert (s.transport, s.host, s.port, s.public_url) == ("stdio", "127.0.0.1", 8000, None)
    assert s.members_file == Path("learnworlds-members.json")
    assert s.audit_log is None and s.redis_url is None and not s.no_auth
    assert s.effective_public_url == "http://127.0.0.1:8000"


def test_remote_settings_from_flags_and_environment() -> None:
    s = load(
        LEARNWORLDS_TRANSPORT="http",
        LEARNWORLDS_HOST="0.0.0.0",
        LEARNWORLDS_PORT="0",
        LEARNWORLDS_PUBLIC_URL="https://MCP.School.com/",
        LEARNWORLDS_MEMBERS_FILE="/srv/members.json",
        LEARNWORLDS_AUDIT_LOG="-",
        LEARNWORLDS_REDIS_URL="redis://:pw@redis:6379/0",
        LEARNWORLDS_STATE_KEY="k" * 40,
    )
    assert (s.transport, s.host, s.port) == ("http", "0.0.0.0", 0)
    assert s.public_url == "https://mcp.school.com" == s.effective_public_url
    assert s.members_file == Path("/srv/members.json") and s.audit_log == "-"
    assert s.redis_url is not None and "pw" not in repr(s)
    for written, origin in (
        ("https://mcp.school.com:443", "https://mcp.school.com"),
        ("https://MCP.school.com.:8443/", "https://mcp.school.com:8443"),
        ("http://localhost:80", "http://localhost"),
    ):
        assert load(LEARNWORLDS_PUBLIC_URL=written).public_url == origin
    flagged = load(flags={"transport": "http", "port": "9001", "host": "::1"})
    assert (flagged.transport, flagged.port, flagged.host) == ("http", 9001, "::1")
    assert flagged.effective_public_url == "http://[::1]:9001"


@pytest.mark.parametrize(
    ("extra", "flags", "needles"),
    [
        ({"LEARNWORLDS_TRANSPORT": "sse"}, {}, ["LEARNWORLDS_TRANSPORT", "stdio", "http"]),
        ({"LEARNWORLDS_PORT": "70000"}, {}, ["LEARNWORLDS_PORT", "65535"]),
        ({"LEARNWORLDS_PORT": "eighty"}, {}, ["LEARNWORLDS_PORT"]),
        ({"LEARNWORLDS_HOST": "0.0.0.0"}, {}, ["LEARNWORLDS_PUBLIC_URL", "not loopback"]),
        (
            {"LEARNWORLDS_HOST": "0.0.0.0", "LEARNWORLDS_PUBLIC_URL": "http://mcp.school.com"},
            {},
            ["LEARNWORLDS_PUBLIC_URL", "https"],
        ),
        ({"LEARNWORLDS_PUBLIC_URL": "https://mcp.school.com/x"}, {}, ["without a path"]),
        ({"LEARNWORLDS_PUBLIC_URL": "mcp.school.com"}, {}, ["https://"]),
        ({"LEARNWORLDS_HOST": "10.0.0.5"}, {"no_auth": True}, ["--no-auth", "loopback"]),
        (
            {
                "LEARNWORLDS_HOST": "0.0.0.0",
                "LEARNWORLDS_PUBLIC_URL": "https://mcp.school.com",
            },
            {"no_auth": True},
            ["--no-auth"],
        ),
        ({"LEARNWORLDS_REDIS_URL": "redis://r:6379"}, {}, ["LEARNWORLDS_STATE_KEY"]),
        (
            {"LEARNWORLDS_REDIS_URL": "redis://r:6379", "LEARNWORLDS_STATE_KEY": "short"},
            {},
            ["LEARNWORLDS_STATE_KEY", "32"],
        ),
        (
            {"LEARNWORLDS_REDIS_URL": "http://r:6379", "LEARNWORLDS_STATE_KEY": "k" * 40},
            {},
            ["LEARNWORLDS_REDIS_URL", "redis://"],
        ),
        (
            {"LEARNWORLDS_REDIS_URL": "redis://r:abc/0", "LEARNWORLDS_STATE_KEY": "k" * 40},
            {},
            ["LEARNWORLDS_REDIS_URL", "redis://"],
        ),
    ],
)
def test_remote_misconfiguration_is_one_clear_line(
    extra: dict[str, str], flags: dict[str, object], needles: list[str]
) -> None:
    message = error_of(flags=flags, **extra)
    for needle in needles:
        assert needle in message
    assert "pw" not in message and "k" * 40 not in message


def test_no_auth_is_accepted_on_loopback() -> None:
    assert load(flags={"no_auth": True, "transport": "http"}).no_auth
    assert load(flags={"no_auth": True}, LEARNWORLDS_HOST="localhost").no_auth


def test_a_short_secret_is_blanked_only_as_a_word_of_its_own() -> None:
    from learnworlds_mcp.config import redact

    assert redact("the key 'short' is shorter than 32", ["short"]) == (
        "the key '****' is shorter than 32"
    )
    long_secret = "s3cr3t-value-0123456789"
    assert redact(f"got x{long_secret}y", [long_secret]) == "got x****y"
    message = error_of(LEARNWORLDS_REDIS_URL="redis://r:6379", LEARNWORLDS_STATE_KEY="short")
    assert "shorter than 32" in message
