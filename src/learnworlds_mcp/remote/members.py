"""Members: the people (or agents) who may use a remote server, each with a key and gates.

The members file is JSON, written only by the ``learnworlds-mcp members`` commands
(:class:`MembersFile`), atomically and with mode 0600. It keeps, per member, the name, a hash of
the key (never the key), the gates and the creation time::

    {"version": 1,
     "members": {"anna": {"key_hash": "sha256:…", "allow_writes": true,
                          "allow_destructive": false, "toolsets": "all",
                          "created": "2026-01-31T09:00:00Z"}}}

A running server reads it through :class:`MemberDirectory`, which notices a changed file within
half a second of the next lookup, so ``remove`` and ``rotate`` take effect at once.

Keys are ``lwm_`` followed by 256 random bits (URL-safe base64). Being high-entropy, a plain
SHA-256 is the right hash for them (a slow password hash would only slow every request down).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from learnworlds_mcp.config import TOOLSETS, tool_kinds
from learnworlds_mcp.config import _parse_toolsets as parse_toolsets

__all__ = [
    "KEY_PREFIX",
    "Member",
    "MemberDirectory",
    "MembersError",
    "MembersFile",
    "generate_key",
    "hash_key",
    "is_member_key",
]

logger = logging.getLogger(__name__)

KEY_PREFIX = "lwm_"
"""Every member key starts with this, so a key is recognisable (and secret scanners can find it)."""

_HASH_PREFIX = "sha256:"
_MAX_KEY_LENGTH = 200
_FILE_VERSION = 1
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_NAME_RULE = "use 1-64 letters, digits and . _ - @ + (no spaces), starting with a letter or digit"
_HASH_RE = re.compile(r"sha256:[0-9a-f]{64}")


class MembersError(Exception):
    """A problem with the members file or a ``members`` command; ``str(error)`` is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@dataclass(frozen=True)
class Member:
    """One member: who they are, the hash of their key, and what they may do."""

    name: str
    key_hash: str
    allow_writes: bool
    allow_destructive: bool
    toolsets: frozenset[str]
    created: str
    """When the member was added (or their key last rotated), ISO 8601 UTC."""

    @property
    def tool_kinds(self) -> tuple[str, ...]:
        """The tool kinds the member may use: ``read`` always, then ``write``, ``destructive``."""
        return tool_kinds(self.allow_writes, self.allow_destructive)

    @property
    def gates(self) -> str:
        """The member's gates in words, for people (``members list``, the sign-in page)."""
        if self.allow_destructive:
            kind = "reads, writes and destructive changes"
        elif self.allow_writes:
            kind = "reads and writes"
        else:
            kind = "read-only"
        return kind


def generate_key() -> str:
    """A new member key: ``lwm_`` and 256 random bits."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The stored form of a key: ``sha256:`` and the hex digest."""
    return _HASH_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()


def is_member_key(token: str) -> bool:
    """Whether a bearer token is meant as a member key (rather than an OAuth access token)."""
    return token.startswith(KEY_PREFIX)


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid member name; raise :class:`MembersError` otherwise."""
    if not _NAME_RE.fullmatch(name):
        shown = (
            name
            if len(name) <= 40 and name.isprintable()
            else name[:40].encode("unicode_escape").decode()
        )
        raise MembersError(f"member name {shown!r} is not valid: {_NAME_RULE}")
    return name


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------
# The file format
# --------------------------------------------------------------------------------------------


def _parse(text: str, label: str) -> dict[str, Member]:
    """Parse the file's text into members; raise :class:`MembersError` naming what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MembersError(
            f"the members file {label} is not valid JSON (line {exc.lineno}); fix it or restore it"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("members"), dict):
        raise MembersError(
            f'the members file {label} is not a members file (expected {{"version": 1, '
            '"members": {...}}})'
        )
    version = data.get("version", _FILE_VERSION)
    if version != _FILE_VERSION:
        raise MembersError(
            f"the members file {label} has version {str(version)[:10]!r}; this version of "
            f"learnworlds-mcp reads version {_FILE_VERSION}"
        )
    members: dict[str, Member] = {}
    for name, entry in data["members"].items():
        members[name] = _parse_entry(name, entry, label)
    return members


def _parse_entry(name: str, entry: object, label: str) -> Member:
    where = f"the members file {label}"
    try:
        check_name(name)
    except MembersError as exc:
        raise MembersError(f"{where}: {exc}") from None
    if not isinstance(entry, dict):
        raise MembersError(f"{where}: member {name!r} is not an object")
    key_hash = entry.get("key_hash")
    if not isinstance(key_hash, str) or not _HASH_RE.fullmatch(key_hash):
        raise MembersError(f"{where}: member {name!r} has no valid key_hash")
    writes = entry.get("allow_writes", False)
    destructive = entry.get("allow_destructive", False)
    if not isinstance(writes, bool) or not isinstance(destructive, bool):
        raise MembersError(
            f"{where}: member {name!r}: allow_writes and allow_destructive must be true or false"
        )
    if destructive and not writes:
        raise MembersError(f"{where}: member {name!r} has allow_destructive without allow_writes")
    raw_toolsets = entry.get("toolsets", "all")
    try:
        toolsets = _toolsets_from(raw_toolsets)
    except ValueError as exc:
        raise MembersError(f"{where}: member {name!r}: toolsets {exc}") from None
    created = entry.get("created", "")
    if not isinstance(created, str):
        raise MembersError(f"{where}: member {name!r}: created must be a string")
    return Member(
        name=name,
        key_hash=key_hash,
        allow_writes=writes,
        allow_destructive=destructive,
        toolsets=toolsets,
        created=created,
    )


def _toolsets_from(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return parse_toolsets(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return parse_toolsets(value)
    raise ValueError("must be a list of toolset names or 'all'")


def _toolsets_to_json(toolsets: frozenset[str]) -> str | list[str]:
    if toolsets >= frozenset(TOOLSETS):
        return "all"
    return [name for name in TOOLSETS if name in toolsets]


def _dump(members: Mapping[str, Member]) -> str:
    body: dict[str, Any] = {
        "version": _FILE_VERSION,
        "members": {
            m.name: {
                "key_hash": m.key_hash,
                "allow_writes": m.allow_writes,
                "allow_destructive": m.allow_destructive,
                "toolsets": _toolsets_to_json(m.toolsets),
                "created": m.created,
            }
            for m in members.values()
        },
    }
    return json.dumps(body, indent=2) + "\n"


def _read(path: Path) -> str | None:
    """The file's text, or ``None`` when there is no file; :class:`MembersError` if unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise MembersError(f"the members file {path} is a directory; give a file path") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise MembersError(f"cannot read the members file {path}: {reason}") from None


# --------------------------------------------------------------------------------------------
# The members commands' side
# --------------------------------------------------------------------------------------------


class MembersFile:
    """The members file as the ``members`` commands see it: read, change, write back atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Member]:
        """Every member, by name; an absent file has none. Raises :class:`MembersError`."""
        text = _read(self.path)
        return {} if text is None else _parse(text, str(self.path))

    def add(
        self,
        name: str,
        *,
        allow_writes: bool = False,
        allow_destructive: bool = False,
        toolsets: str | Iterable[str] = "all",
    ) -> str:
        """Add a member and return their new key (the only time it exists in clear)."""
        check_name(name)
        if allow_destructive and not allow_writes:
            raise MembersError(
                "--allow-destructive needs --allow-writes as well (a member who may overwrite, remove or suspend must "
                "also be allowed to write)"
            )
        try:
            parsed = parse_toolsets(toolsets)
        except ValueError as exc:
            raise MembersError(
                f"--toolsets {exc}; choose from {', '.join(TOOLSETS)} or all"
            ) from None
        members = self.load()
        for existing in members:
            if existing.lower() == name.lower():
                raise MembersError(
                    f"a member named {existing!r} already exists in {self.path}; choose another "
                    f"name, or give them a new key with: learnworlds-mcp members rotate {existing}"
                )
        key = generate_key()
        members[name] = Member(
            name=name,
            key_hash=hash_key(key),
            allow_writes=allow_writes,
            allow_destructive=allow_destructive,
            toolsets=parsed,
            created=_now_iso(),
        )
        self._write(members)
        return key

    def remove(self, name: str) -> Member:
        """Remove a member (their key and OAuth tokens stop working); return the removed entry."""
        members = self.load()
        member = members.pop(self._find(members, name))
        self._write(members)
        return member

    def rotate(self, name: str) -> str:
        """Give a member a new key and return it; the old key and their OAuth tokens stop working."""
        members = self.load()
        found = self._find(members, name)
        key = generate_key()
        old = members[found]
        members[found] = Member(
            name=old.name,
            key_hash=hash_key(key),
            allow_writes=old.allow_writes,
            allow_destructive=old.allow_destructive,
            toolsets=old.toolsets,
            created=old.created,
        )
        self._write(members)
        return key

    def _find(self, members: Mapping[str, Member], name: str) -> str:
        if name in members:
            return name
        for existing in members:
            if existing.lower() == name.lower():
                return existing
        shown = name[:64] if name.isprintable() else name[:64].encode("unicode_escape").decode()
        raise MembersError(
            f"no member named {shown!r} in {self.path} (see: learnworlds-mcp members list)"
        )

    def _write(self, members: Mapping[str, Member]) -> None:
        """Write atomically: a 0600 temp file in the same directory, then ``os.replace``."""
        directory = self.path.parent
        try:
            fd, temp = tempfile.mkstemp(
                dir=directory, prefix=f".{self.path.name}.", suffix=".tmp", text=True
            )
        except OSError as exc:
            raise MembersError(
                f"cannot write the members file {self.path}: {exc.strerror or 'not writable'}"
            ) from None
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(_dump(members))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise MembersError(
                f"cannot write the members file {self.path}: {exc.strerror or 'write failed'}"
            ) from None
        with contextlib.suppress(OSError):  # make the rename itself durable, where possible
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


# --------------------------------------------------------------------------------------------
# The running server's side
# --------------------------------------------------------------------------------------------


class MemberDirectory:
    """The running server's read-only view of the members file, kept current.

    Every lookup first checks (at most every ``recheck_seconds``) whether the file changed — its
    modification time, size or inode — and re-reads it if so. A missing file means no members. A
    file that turns unreadable or corrupt while serving keeps the last good members and logs one
    warning (per change of the file), never key material. At construction, a corrupt file raises
    :class:`MembersError` (the one-line start-up error).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        recheck_seconds: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._members: dict[str, Member] = {}
        self._signature: tuple[int, int, int] | None = None
        self._checked_at = monotonic()
        signature = self._stat()
        text = _read(self.path) if signature is not None else None
        self._members = {} if text is None else _parse(text, str(self.path))
        self._signature = signature
        self._warn_if_others_may_write()

    def _warn_if_others_may_write(self) -> None:
        try:
            mode = os.stat(self.path).st_mode
        except OSError:
            return
        if mode & 0o022:
            logger.warning(
                "the members file %s can be changed by other users (mode %o): anyone who can "
                "write it can add members; run: chmod 600 %s",
                self.path,
                mode & 0o777,
                self.path,
            )

    def authenticate(self, key: str) -> Member | None:
        """The member whose key this is, or ``None``."""
        if not is_member_key(key) or len(key) > _MAX_KEY_LENGTH:
            return None
        self._refresh()
        digest = hash_key(key)
        found: Member | None = None
        for member in self._members.values():
            if hmac.compare_digest(member.key_hash, digest):
                found = member
        return found

    def get(self, name: str) -> Member | None:
        """The current entry for ``name``, or ``None`` if there is no such member (any more)."""
        self._refresh()
        return self._members.get(name)

    def count(self) -> int:
        """How many members there are now."""
        self._refresh()
        return len(self._members)

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError:
            return (-1, -1, -1)  # unreadable: a signature of its own, so it is reported once
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _refresh(self) -> None:
        now = self._monotonic()
        if now - self._checked_at < self._recheck:
            return
        self._checked_at = now
        signature = self._stat()
        if signature == self._signature:
            return
        self._signature = signature
        if signature is None:
            if self._members:
                logger.info("members file %s is gone: no members now", self.path)
            self._members = {}
            return
        try:
            text = _read(self.path)
            members = {} if text is None else _parse(text, str(self.path))
        except MembersError as exc:
            logger.warning("%s; keeping the %d members read before", exc, len(self._members))
            return
        self._members = members
