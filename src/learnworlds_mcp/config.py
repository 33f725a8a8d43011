"""The one frozen settings object, and how it is read.

Configuration is read once, by the CLI, from three layers — command-line flag > process
environment > ``.env`` file — into a frozen :class:`Settings`. Nothing here reads the process
environment on its own: :func:`load_settings` is handed the flags, the environment mapping and the
``.env`` path, so tests (and embedders) stay hermetic.

Every problem is reported as a :class:`ConfigError` whose message is the one line shown on stderr:
it names the variable (and the flag, where there is one) and says how to fix it. No message ever
contains the client secret or an access token.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator

__all__ = [
    "DEFAULT_MEMBERS_FILE",
    "DEFAULT_PORT",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_TIMEOUT",
    "ENVIRONMENT_VARIABLES",
    "MAX_TIMEOUT",
    "REMOTE_ONLY_VARIABLES",
    "TOOLSETS",
    "ConfigError",
    "DemoCredentials",
    "RateLimit",
    "Settings",
    "is_loopback_host",
    "load_settings",
    "normalize_api_url",
    "normalize_public_url",
    "tool_kinds",
]

logger = logging.getLogger(__name__)

TOOLSETS: tuple[str, ...] = ("users", "roles", "groups", "courses", "enrollments", "activity")
"""Every toolset, in display order. ``all`` in configuration means all of these."""

DEFAULT_TIMEOUT = 30.0
"""Seconds per HTTP attempt when ``LEARNWORLDS_TIMEOUT`` is not set."""

MAX_TIMEOUT = 300.0
"""The largest accepted ``LEARNWORLDS_TIMEOUT``."""

DEFAULT_PORT = 8000
"""The HTTP transport's port when ``LEARNWORLDS_PORT`` is not set."""

DEFAULT_MEMBERS_FILE = Path("learnworlds-members.json")
"""The members file when ``LEARNWORLDS_MEMBERS_FILE`` is not set (in the working directory)."""

_API_PATH = "/admin/api"
_ADMIN_PAGE = "Settings → Developers → API"
_URL_EXAMPLE = "https://myschool.learnworlds.com/admin/api"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_CONFIRM_VALUES: tuple[str, ...] = ("auto", "off")


class ConfigError(Exception):
    """Invalid or missing configuration.

    ``str(error)`` is the single line the CLI prints on stderr (it never spans lines): it names
    the variable and flag concerned and says how to fix the problem, and never contains a secret.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        """The one-line message."""
        return str(self.args[0])


# --------------------------------------------------------------------------------------------
# Value types and parsers (shared by load_settings and the Settings validators)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A client-side request budget: at most ``requests`` requests in any ``seconds`` window."""

    requests: int
    seconds: float

    def __post_init__(self) -> None:
        if isinstance(self.requests, bool) or not isinstance(self.requests, int):
            raise ValueError("the request count must be a whole number")
        if self.requests <= 0:
            raise ValueError("the request count must be positive")
        seconds = float(self.seconds)
        if not math.isfinite(seconds) or seconds <= 0:
            raise ValueError("the window must be a positive number of seconds")
        object.__setattr__(self, "seconds", seconds)

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Parse ``"<requests>/<seconds>"``, e.g. ``"30/10"``; raise ``ValueError`` if malformed."""
        requests_text, sep, seconds_text = text.strip().partition("/")
        if not sep:
            raise ValueError("expected <requests>/<seconds>")
        try:
            requests = int(requests_text.strip())
            seconds = float(seconds_text.strip())
        except ValueError:
            raise ValueError("expected <requests>/<seconds>") from None
        return cls(requests, seconds)

    def __str__(self) -> str:
        seconds = int(self.seconds) if self.seconds.is_integer() else self.seconds
        return f"{self.requests}/{seconds}"


DEFAULT_RATE_LIMIT = RateLimit(30, 10.0)
"""The API's published limit: 30 requests per 10 seconds."""


def tool_kinds(allow_writes: bool, allow_destructive: bool) -> tuple[str, ...]:
    """The tool kinds two switches allow: ``read`` always, then ``write``, ``destructive``
    (destructive only together with writes) — for the server's gates and a member's alike."""
    kinds = ["read"]
    if allow_writes:
        kinds.append("write")
        if allow_destructive:
            kinds.append("destructive")
    return tuple(kinds)


def normalize_api_url(value: str) -> str:
    """Return the school's API base URL, ``https://<school-domain>/admin/api``.

    Accepts the URL as the admin page shows it (with or without a trailing slash), the bare school
    URL (``https://<school-domain>``, completed with ``/admin/api``), a URL without a scheme
    (``https`` is assumed), and the API URL with a trailing ``/v2``. Plain ``http`` is accepted
    only for loopback hosts (the sandbox school). Raises ``ValueError`` with a short reason
    otherwise; the reason never repeats the whole value.
    """
    text = value.strip()
    if not text:
        raise ValueError("is empty")
    if any(ch.isspace() for ch in text):
        raise ValueError("contains spaces")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"must start with https:// (not {scheme[:20]}://)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain a user name or password")
    if parts.query or parts.fragment:
        raise ValueError("must not contain a query (?…) or fragment (#…)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError("has no host name")
    loopback = _is_loopback(host)
    if scheme == "http" and not loopback:
        raise ValueError(
            "must use https:// (plain http:// is accepted only for a loopback sandbox such as "
            "http://127.0.0.1:8000/admin/api)"
        )
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is None:
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("has an invalid host name") from None
        label = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
        if not re.fullmatch(rf"{label}(?:\.{label})*", ascii_host):
            raise ValueError("has an invalid host name")
        netloc_host = host.lower()
    else:
        netloc_host = f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    path = parts.path.rstrip("/")
    if path.lower().endswith("/v2"):
        path = path[: -len("/v2")]
    if path.lower() in ("", _API_PATH):
        path = _API_PATH
    else:
        raise ValueError(f"must end in {_API_PATH} (got the path {path[:60]!r})")
    netloc = netloc_host if port is None else f"{netloc_host}:{port}"
    return f"{scheme}://{netloc}{path}"


def is_loopback_host(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 with or without brackets) is this machine only."""
    host = host.strip().strip("[]").rstrip(".")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_is_loopback = is_loopback_host


def normalize_public_url(value: str) -> str:
    """Return the URL people's hosts reach the server at: ``scheme://host[:port]``, no slash.

    ``https`` is required unless the host is loopback (the SDK refuses a plain-http OAuth issuer
    elsewhere). Paths are refused: the server answers at ``/mcp`` of its own origin.
    """
    text = value.strip()
    if not text:
        raise ValueError("is empty")
    if "://" not in text:
        raise ValueError("must start with https://")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError("is not a valid URL") from None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in ("http", "https") or not host:
        raise ValueError("must be an https:// URL with a host name")
    if scheme == "http" and not is_loopback_host(host):
        raise ValueError("must use https:// (plain http:// only for a loopback host)")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValueError("must not contain a user name, password, query or fragment")
    if parts.path.rstrip("/") not in ("", "/mcp"):
        raise ValueError(
            "must be the server's origin, without a path (e.g. https://mcp.school.com)"
        )
    # The origin exactly as browsers send it: no default port, no trailing dot (the sign-in
    # form's Origin check and the Host/Origin allow-lists compare with it).
    host = host.rstrip(".").lower()
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None and parts.port != {"http": 80, "https": 443}[scheme]:
        netloc = f"{netloc}:{parts.port}"
    return f"{scheme}://{netloc}"


def _parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("not a boolean")


def _parse_toolsets(value: str | Iterable[str]) -> frozenset[str]:
    """Parse ``"users,groups"`` (or an iterable of names) into toolset names; ``all`` = every one.

    Raises ``ValueError`` naming the first unknown toolset.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [item.strip().lower() for item in items if item.strip()]
    if not names:
        raise ValueError("names no toolset")
    for name in names:
        if name != "all" and name not in TOOLSETS:
            raise ValueError(f"unknown toolset {name[:40]!r}")
    if "all" in names:
        return frozenset(TOOLSETS)
    return frozenset(names)


def _parse_timeout(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            raise ValueError("not a number") from None
    else:
        raise ValueError("not a number")
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_TIMEOUT:
        raise ValueError("out of range")
    return seconds


def _clean_header_value(text: str, *, strip_bearer: bool = False) -> str:
    """Strip whitespace (and a pasted ``Bearer`` prefix); reject what a header cannot hold."""
    value = text.strip()
    if strip_bearer and value[:7].lower() == "bearer ":
        value = value[7:].strip()
    if not value:
        raise ValueError("is empty")
    if any(ch.isspace() for ch in value) or not value.isascii() or not value.isprintable():
        raise ValueError("contains spaces, line breaks or non-ASCII characters")
    return value


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


class Settings(BaseModel, frozen=True):
    """Everything the server needs to know, read once at start-up. Frozen; secrets are hidden.

    Construct it with :func:`load_settings` (which reports problems as one-line
    :class:`ConfigError` s); constructing it directly, e.g. in tests, validates the same rules and
    raises pydantic's ``ValidationError``.
    """

    model_config = ConfigDict(extra="forbid")

    api_url: str
    """The school's API base, normalised to ``https://<school-domain>/admin/api``."""
    client_id: str
    """The API client id, sent as ``Lw-Client`` on every request."""
    client_secret: SecretStr | None = None
    """The client secret for the client-credentials grant, if configured."""
    access_token: SecretStr | None = None
    """A static access token generated on the admin page, if configured."""
    allow_writes: bool = False
    """Register the additive write tools."""
    allow_destructive: bool = False
    """Register the destructive tools as well (requires ``allow_writes``)."""
    toolsets: frozenset[str] = frozenset(TOOLSETS)
    """The selected toolsets (a subset of :data:`TOOLSETS`)."""
    rate_limit: RateLimit = DEFAULT_RATE_LIMIT
    """The client-side request budget."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds per HTTP attempt, in (0, 300]."""
    confirm_destructive: Literal["auto", "off"] = "auto"
    """``auto``: ask the person through elicitation before a destructive change; ``off``: never."""
    demo: bool = False
    """True when the server talks to the built-in sandbox school (``--demo``)."""
    transport: Literal["stdio", "http"] = "stdio"
    """How MCP is served: ``stdio`` (a host starts this process) or ``http`` (remote, §8)."""
    host: str = "127.0.0.1"
    """The interface the HTTP transport binds."""
    port: int = DEFAULT_PORT
    """The HTTP transport's port; 0 picks a free one."""
    public_url: str | None = None
    """The origin people's hosts reach the HTTP server at; required off loopback."""
    members_file: Path = DEFAULT_MEMBERS_FILE
    """The members file (names, hashed keys, gates) of the HTTP server."""
    audit_log: str | None = None
    """Where change-tool calls are recorded as JSON Lines: a path, ``-`` for stderr, or off."""
    redis_url: SecretStr | None = None
    """Shared state for several replicas (§9); may hold a password, so it is a secret."""
    state_key: SecretStr | None = None
    """The secret every replica signs paused calls' state with (with ``redis_url``)."""
    no_auth: bool = False
    """Serve HTTP without credentials (loopback hosts only)."""

    @field_validator("api_url", mode="before")
    @classmethod
    def _normalize_api_url(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return normalize_api_url(value)
            except ValueError as exc:
                raise ValueError(f"LEARNWORLDS_API_URL {exc}") from None
        return value

    @field_validator("client_id")
    @classmethod
    def _check_client_id(cls, value: str) -> str:
        try:
            return _clean_header_value(value)
        except ValueError as exc:
            raise ValueError(f"LEARNWORLDS_CLIENT_ID {exc}") from None

    @field_validator("client_secret", "access_token")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            return SecretStr(_clean_header_value(value.get_secret_value(), strip_bearer=True))
        except ValueError as exc:
            raise ValueError(f"the value {exc}") from None

    @field_validator("toolsets", mode="before")
    @classmethod
    def _parse_toolsets(cls, value: object) -> object:
        if isinstance(value, str | list | tuple | set | frozenset):
            return _parse_toolsets(value)
        return value

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _parse_rate_limit(cls, value: object) -> object:
        if isinstance(value, str):
            return RateLimit.parse(value)
        return value

    @field_validator("timeout", mode="before")
    @classmethod
    def _check_timeout(cls, value: object) -> float:
        try:
            return _parse_timeout(value)
        except ValueError:
            raise ValueError(
                f"LEARNWORLDS_TIMEOUT must be a number of seconds above 0 and at most "
                f"{MAX_TIMEOUT:g}"
            ) from None

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        if self.client_secret is None and self.access_token is None:
            raise ValueError("one of client_secret or access_token is required")
        if self.allow_destructive and not self.allow_writes:
            raise ValueError("allow_destructive needs allow_writes as well")
        problem = _remote_problem(
            self.host, self.public_url, self.no_auth, self.redis_url, self.state_key
        )
        if problem is not None:
            raise ValueError(problem)
        return self

    @property
    def effective_public_url(self) -> str:
        """The origin hosts reach: the public URL, or the loopback address served."""
        if self.public_url is not None:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def auth_mode(self) -> str:
        """How requests are authorised, in words for people (``--check``, logs)."""
        if self.access_token is not None and self.client_secret is not None:
            return "static access token, with client credentials as fallback"
        if self.access_token is not None:
            return "static access token"
        return "client credentials"

    @property
    def tool_kinds(self) -> tuple[str, ...]:
        """The tool kinds that are registered: ``read`` always, then ``write``, ``destructive``."""
        return tool_kinds(self.allow_writes, self.allow_destructive)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    """Where the sandbox school runs and the credentials it accepts (passed in by ``--demo``)."""

    api_url: str
    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"DemoCredentials(api_url={self.api_url!r}, client_id={self.client_id!r}, ...)"


@dataclass(frozen=True, slots=True)
class _Variable:
    field: str
    env: str
    flag: str | None = None


_VARIABLES: tuple[_Variable, ...] = (
    _Variable("api_url", "LEARNWORLDS_API_URL"),
    _Variable("client_id", "LEARNWORLDS_CLIENT_ID"),
    _Variable("client_secret", "LEARNWORLDS_CLIENT_SECRET"),
    _Variable("access_token", "LEARNWORLDS_ACCESS_TOKEN"),
    _Variable("allow_writes", "LEARNWORLDS_ALLOW_WRITES", "--allow-writes"),
    _Variable("allow_destructive", "LEARNWORLDS_ALLOW_DESTRUCTIVE", "--allow-destructive"),
    _Variable("toolsets", "LEARNWORLDS_TOOLSETS", "--toolsets"),
    _Variable("rate_limit", "LEARNWORLDS_RATE_LIMIT"),
    _Variable("timeout", "LEARNWORLDS_TIMEOUT"),
    _Variable("confirm_destructive", "LEARNWORLDS_CONFIRM_DESTRUCTIVE"),
    _Variable("transport", "LEARNWORLDS_TRANSPORT", "--transport"),
    _Variable("host", "LEARNWORLDS_HOST", "--host"),
    _Variable("port", "LEARNWORLDS_PORT", "--port"),
    _Variable("public_url", "LEARNWORLDS_PUBLIC_URL", "--public-url"),
    _Variable("members_file", "LEARNWORLDS_MEMBERS_FILE", "--members-file"),
    _Variable("audit_log", "LEARNWORLDS_AUDIT_LOG", "--audit-log"),
    _Variable("redis_url", "LEARNWORLDS_REDIS_URL", "--redis-url"),
    _Variable("state_key", "LEARNWORLDS_STATE_KEY"),
)
_BY_FIELD = {var.field: var for var in _VARIABLES}
ENVIRONMENT_VARIABLES: tuple[str, ...] = tuple(var.env for var in _VARIABLES)
"""The names of every environment variable the server reads."""

REMOTE_ONLY_VARIABLES: tuple[str, ...] = (
    "LEARNWORLDS_TRANSPORT",
    "LEARNWORLDS_HOST",
    "LEARNWORLDS_PORT",
    "LEARNWORLDS_PUBLIC_URL",
    "LEARNWORLDS_MEMBERS_FILE",
    "LEARNWORLDS_REDIS_URL",
    "LEARNWORLDS_STATE_KEY",
)
"""The variables that matter only to the remote (HTTP) server; a stdio host passes the rest."""

_FLAG_KEYS = frozenset(_BY_FIELD) | {"demo", "no_auth"}


@dataclass(frozen=True, slots=True)
class _Raw:
    """One configured value and where it came from."""

    value: object
    origin: str  # "flag", "env" or the .env file's path


def load_settings(
    *,
    flags: Mapping[str, object],
    environ: Mapping[str, str],
    env_file: Path | None,
    demo_credentials: DemoCredentials | None = None,
) -> Settings:
    """Read the settings: command-line flag > process environment > ``.env`` file.

    ``flags`` is keyed by :class:`Settings` field name (``allow_writes``, ``allow_destructive``,
    ``toolsets``, ``demo``; any other field may be given too, for programmatic use); a value of
    ``None`` means "not given". ``environ`` is the process environment (pass ``os.environ``).
    ``env_file`` is a ``.env`` file that must exist (``--env-file``); ``None`` means ``./.env``
    in the working directory, if there is one. Blank values count as not set, at every layer.

    With ``flags["demo"]`` the API URL, client id and secret come from ``demo_credentials`` (the
    running sandbox school) and override whatever the environment says; every switch is still read
    normally.

    Raises :class:`ConfigError` with a one-line message on the first problem found.
    """
    unknown = set(flags) - _FLAG_KEYS
    if unknown:
        raise TypeError(f"unknown flag keys: {', '.join(sorted(unknown))}")
    demo = bool(flags.get("demo"))
    if demo and demo_credentials is None:
        raise ValueError("demo mode needs demo_credentials (the running sandbox school)")

    file_values, file_label = _read_env_file(env_file)
    _warn_about_unknown_variables(environ, file_values, file_label)

    def lookup(field: str) -> _Raw | None:
        var = _BY_FIELD[field]
        flag_value = flags.get(field)
        if flag_value is not None and not (isinstance(flag_value, str) and not flag_value.strip()):
            return _Raw(flag_value, "flag")
        for source, origin in ((environ, "env"), (file_values, file_label)):
            text = source.get(var.env)
            if text is not None and text.strip():
                return _Raw(text, origin)
        return None

    secrets = [
        raw.value
        for field in ("client_secret", "access_token", "redis_url", "state_key")
        if (raw := lookup(field)) is not None and isinstance(raw.value, str)
    ]
    if demo_credentials is not None and demo:
        secrets.append(demo_credentials.client_secret)

    try:
        values = _read_values(lookup, demo, demo_credentials)
        values.update(_read_remote_values(lookup, no_auth=bool(flags.get("no_auth"))))
    except ConfigError as exc:
        raise ConfigError(redact(exc.message, secrets)) from None
    try:
        return Settings.model_validate(values)
    except ValueError as exc:  # pragma: no cover - _read_values checks every rule first
        raise ConfigError(redact(f"invalid configuration: {exc}", secrets)) from None


def _read_values(
    lookup: Callable[[str], _Raw | None], demo: bool, demo_credentials: DemoCredentials | None
) -> dict[str, object]:
    """Check each value in turn and return the keyword arguments for :class:`Settings`."""
    values: dict[str, object] = {"demo": demo}

    # Where the school is and who we are.
    if demo and demo_credentials is not None:
        values["api_url"] = normalize_api_url(demo_credentials.api_url)
        values["client_id"] = demo_credentials.client_id
        values["client_secret"] = SecretStr(demo_credentials.client_secret)
        values["access_token"] = None
    else:
        raw_url = lookup("api_url")
        if raw_url is None:
            raise ConfigError(
                "LEARNWORLDS_API_URL is not set: set it to your school's API URL as shown in "
                f"{_ADMIN_PAGE}, e.g. {_URL_EXAMPLE} (or run with --demo to try the built-in "
                "sandbox school)"
            )
        try:
            values["api_url"] = normalize_api_url(_as_text(raw_url.value))
        except ValueError as exc:
            raise ConfigError(
                f"LEARNWORLDS_API_URL{_where(raw_url)} {exc}: set it to your school's API URL as "
                f"shown in {_ADMIN_PAGE}, e.g. {_URL_EXAMPLE}"
            ) from None

        raw_id = lookup("client_id")
        if raw_id is None:
            raise ConfigError(
                f"LEARNWORLDS_CLIENT_ID is not set: set it to the Client ID shown in {_ADMIN_PAGE} "
                "(or run with --demo to try the built-in sandbox school)"
            )
        try:
            values["client_id"] = _clean_header_value(_as_text(raw_id.value))
        except ValueError as exc:
            raise ConfigError(
                f"LEARNWORLDS_CLIENT_ID{_where(raw_id)} {exc}: copy the Client ID exactly as "
                f"shown in {_ADMIN_PAGE}"
            ) from None

        for field, what in (("client_secret", "Client Secret"), ("access_token", "access token")):
            raw = lookup(field)
            if raw is None:
                values[field] = None
                continue
            try:
                cleaned = _clean_header_value(_as_text(raw.value), strip_bearer=True)
            except ValueError as exc:
                raise ConfigError(
                    f"{_BY_FIELD[field].env}{_where(raw)} {exc}: copy the {what} exactly as shown "
                    f"in {_ADMIN_PAGE}"
                ) from None
            values[field] = SecretStr(cleaned)
        if values["client_secret"] is None and values["access_token"] is None:
            raise ConfigError(
                "Neither LEARNWORLDS_CLIENT_SECRET nor LEARNWORLDS_ACCESS_TOKEN is set: set "
                f"LEARNWORLDS_CLIENT_SECRET to the Client Secret shown in {_ADMIN_PAGE} (or "
                "LEARNWORLDS_ACCESS_TOKEN to an access token generated there)"
            )

    # What the server may do.
    for field in ("allow_writes", "allow_destructive"):
        raw = lookup(field)
        values[field] = False if raw is None else _read_bool(field, raw)
    if values["allow_destructive"] and not values["allow_writes"]:
        raw = lookup("allow_destructive")
        assert raw is not None
        raise ConfigError(
            f"LEARNWORLDS_ALLOW_DESTRUCTIVE (--allow-destructive){_where(raw)} is on but writes "
            "are off: destructive tools need --allow-writes / LEARNWORLDS_ALLOW_WRITES as well"
        )

    raw = lookup("toolsets")
    if raw is None:
        values["toolsets"] = frozenset(TOOLSETS)
    else:
        try:
            value = raw.value
            if not isinstance(value, str) and isinstance(value, Iterable):
                values["toolsets"] = _parse_toolsets([_as_text(item) for item in value])
            else:
                values["toolsets"] = _parse_toolsets(_as_text(value))
        except ValueError as exc:
            raise ConfigError(
                f"LEARNWORLDS_TOOLSETS (--toolsets){_where(raw)} {exc}: use a comma-separated "
                f"list of {', '.join(TOOLSETS)}, or all"
            ) from None

    # How it talks to the school.
    raw = lookup("rate_limit")
    if raw is None:
        values["rate_limit"] = DEFAULT_RATE_LIMIT
    elif isinstance(raw.value, RateLimit):
        values["rate_limit"] = raw.value
    else:
        try:
            values["rate_limit"] = RateLimit.parse(_as_text(raw.value))
        except ValueError:
            raise ConfigError(
                f"LEARNWORLDS_RATE_LIMIT{_where(raw)} is {_show(raw.value)}: write it as "
                f"<requests>/<seconds>, both positive, e.g. {DEFAULT_RATE_LIMIT} (the API's "
                "published limit)"
            ) from None

    raw = lookup("timeout")
    if raw is None:
        values["timeout"] = DEFAULT_TIMEOUT
    else:
        try:
            values["timeout"] = _parse_timeout(raw.value)
        except ValueError as exc:
            problem = "is not a number" if str(exc) == "not a number" else "is out of range"
            raise ConfigError(
                f"LEARNWORLDS_TIMEOUT{_where(raw)} {problem} ({_show(raw.value)}): set it to the "
                f"seconds to wait for each HTTP attempt, above 0 and at most {MAX_TIMEOUT:g}, "
                f"e.g. {DEFAULT_TIMEOUT:g}"
            ) from None

    raw = lookup("confirm_destructive")
    if raw is None:
        values["confirm_destructive"] = "auto"
    else:
        word = _as_text(raw.value).strip().lower()
        if word not in _CONFIRM_VALUES:
            raise ConfigError(
                f"LEARNWORLDS_CONFIRM_DESTRUCTIVE{_where(raw)} is {_show(raw.value)}: set it to "
                "auto (ask the person before a destructive change, when the client can) or off "
                "(never ask)"
            )
        values["confirm_destructive"] = word
    return values


def _read_remote_values(
    lookup: Callable[[str], _Raw | None], *, no_auth: bool
) -> dict[str, object]:
    """The remote server's settings (§8, §9): transport, where to listen, members, audit, Redis."""
    values: dict[str, object] = {"no_auth": no_auth}
    raw = lookup("transport")
    word = "stdio" if raw is None else _as_text(raw.value).strip().lower()
    if word not in ("stdio", "http"):
        assert raw is not None
        raise ConfigError(
            f"LEARNWORLDS_TRANSPORT (--transport){_where(raw)} is {_show(raw.value)}: use stdio "
            "(a host starts the server) or http (serve it at a URL)"
        )
    values["transport"] = word

    raw = lookup("host")
    host = "127.0.0.1" if raw is None else _as_text(raw.value).strip()
    if raw is not None and (not host or not host.isprintable() or " " in host or "/" in host):
        raise ConfigError(
            f"LEARNWORLDS_HOST (--host){_where(raw)} is {_show(raw.value)}: give the interface to "
            "bind, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
        )
    host = host.strip("[]")
    values["host"] = host

    raw = lookup("port")
    if raw is None:
        values["port"] = DEFAULT_PORT
    else:
        text = _as_text(raw.value).strip()
        if not text.isdigit() or int(text) > 65535:
            raise ConfigError(
                f"LEARNWORLDS_PORT (--port){_where(raw)} is {_show(raw.value)}: give a port "
                f"number from 0 to 65535 (0 picks a free one), default {DEFAULT_PORT}"
            )
        values["port"] = int(text)

    raw = lookup("public_url")
    values["public_url"] = None
    if raw is not None:
        try:
            values["public_url"] = normalize_public_url(_as_text(raw.value))
        except ValueError as exc:
            raise ConfigError(
                f"LEARNWORLDS_PUBLIC_URL (--public-url){_where(raw)} {exc}: give the https URL "
                "people's hosts reach this server at, e.g. https://mcp.myschool.com"
            ) from None

    raw = lookup("members_file")
    values["members_file"] = (
        DEFAULT_MEMBERS_FILE if raw is None else Path(_as_text(raw.value).strip()).expanduser()
    )
    raw = lookup("audit_log")
    values["audit_log"] = None if raw is None else _as_text(raw.value).strip()

    raw_redis, raw_key = lookup("redis_url"), lookup("state_key")
    redis_url = None if raw_redis is None else SecretStr(_as_text(raw_redis.value).strip())
    state_key = None if raw_key is None else SecretStr(_as_text(raw_key.value).strip())
    if redis_url is not None:
        try:
            parsed = urlsplit(redis_url.get_secret_value())
            parsed.port  # noqa: B018 - raises on a port that is not a number
            scheme = parsed.scheme.lower()
        except ValueError:
            scheme = ""
        if scheme not in ("redis", "rediss", "unix"):
            raise ConfigError(
                "LEARNWORLDS_REDIS_URL (--redis-url) must be a Redis URL such as "
                "redis://redis:6379/0 (or rediss:// for TLS)"
            )
        import importlib.util

        if importlib.util.find_spec("redis") is None:
            raise ConfigError(
                "LEARNWORLDS_REDIS_URL (--redis-url) is set but the redis package is not "
                "installed: install learnworlds-mcp[redis] (uvx --from 'learnworlds-mcp[redis]' "
                "learnworlds-mcp), or unset it to keep state in this process"
            )
    values["redis_url"], values["state_key"] = redis_url, state_key
    public_url = values["public_url"]
    problem = _remote_problem(
        host, public_url if isinstance(public_url, str) else None, no_auth, redis_url, state_key
    )
    if problem is not None:
        raise ConfigError(problem)
    return values


def _remote_problem(
    host: str,
    public_url: str | None,
    no_auth: bool,
    redis_url: SecretStr | None,
    state_key: SecretStr | None,
) -> str | None:
    """The one rule set for serving off this machine: what is unsafe or cannot work, or None."""
    loopback = is_loopback_host(host)
    if no_auth and not loopback:
        return (
            f"--no-auth with --host {host}: serving without credentials is only allowed on a "
            "loopback host (127.0.0.1); add members (learnworlds-mcp members add NAME) instead"
        )
    if not loopback and public_url is None:
        return (
            f"LEARNWORLDS_PUBLIC_URL (--public-url) is not set but --host {host} is not loopback: "
            "give the https URL people's hosts reach this server at, e.g. https://mcp.myschool.com"
        )
    if not loopback and public_url is not None and not public_url.startswith("https://"):
        return (
            "LEARNWORLDS_PUBLIC_URL (--public-url) must use https:// when the host is not loopback"
        )
    if redis_url is not None and (state_key is None or len(state_key.get_secret_value()) < 32):
        return (
            "LEARNWORLDS_STATE_KEY is not set (or shorter than 32 characters) but "
            "LEARNWORLDS_REDIS_URL is: give every replica the same random secret, e.g. the "
            'output of python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    return None


def _read_bool(field: str, raw: _Raw) -> bool:
    if isinstance(raw.value, bool):
        return raw.value
    var = _BY_FIELD[field]
    try:
        return _parse_bool(_as_text(raw.value))
    except ValueError:
        raise ConfigError(
            f"{var.env}{_where(raw)} is {_show(raw.value)}: set it to 1/true/yes/on or "
            f"0/false/no/off (or pass {var.flag})"
        ) from None


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _show(value: object) -> str:
    """A short, quoted rendering of a (non-secret) value for a message."""
    text = str(value).strip()
    if len(text) > 40:
        text = text[:37] + "..."
    return repr(text)


def _where(raw: _Raw) -> str:
    """Say where a value came from, when that helps: the flag, or the ``.env`` file."""
    if raw.origin == "flag":
        return " (as given on the command line)"
    if raw.origin == "env":
        return ""
    return f" (in {raw.origin})"


def redact(message: str, secrets: Iterable[object]) -> str:
    """Belt and braces: blank out any secret that found its way into a message.

    A short value (under 12 characters, e.g. a mistyped state key) is blanked only where it
    stands as a word of its own, so an ordinary word that contains it ("shorter") stays
    readable; a longer one wherever it appears.
    """
    for secret in secrets:
        if isinstance(secret, str):
            for candidate in {secret, secret.strip()}:
                if len(candidate) >= 12:
                    message = message.replace(candidate, "****")
                elif len(candidate) >= 4:
                    message = re.sub(rf"(?<!\w){re.escape(candidate)}(?!\w)", "****", message)
    return message


def _read_env_file(env_file: Path | None) -> tuple[dict[str, str], str]:
    """Return the ``.env`` file's values (``{}`` if there is none) and a label for messages."""
    from dotenv import dotenv_values

    if env_file is None:
        path = Path.cwd() / ".env"
        if not path.is_file():
            return {}, ".env"
    else:
        path = Path(env_file).expanduser()
        if not path.exists():
            raise ConfigError(
                f"--env-file {path}: no such file: give the path of an existing .env file, or "
                "leave --env-file out to read ./.env (if any) and the process environment"
            )
        if not path.is_file():
            raise ConfigError(f"--env-file {path}: not a file: give the path of a .env file")
    try:
        # interpolate=False: values are taken literally (a secret with a "$" stays intact) and the
        # process environment is not consulted behind our back.
        raw = dotenv_values(path, interpolate=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ConfigError(
            f"--env-file {path}: cannot be read ({reason}): fix the file or its permissions"
        ) from None
    return {key: value for key, value in raw.items() if value is not None}, str(path)


def _warn_about_unknown_variables(
    environ: Mapping[str, str], file_values: Mapping[str, str], file_label: str
) -> None:
    """Warn (without values) about ``LEARNWORLDS_*`` names that look like typos of ours."""
    known = set(ENVIRONMENT_VARIABLES)
    for source, where in ((environ, "the environment"), (file_values, file_label)):
        for name in source:
            if not name.startswith("LEARNWORLDS_") or name in known:
                continue
            close = difflib.get_close_matches(name, ENVIRONMENT_VARIABLES, n=1, cutoff=0.8)
            if close:
                logger.warning(
                    "%s in %s is not a setting and is ignored; did you mean %s?",
                    name,
                    where,
                    close[0],
                )
