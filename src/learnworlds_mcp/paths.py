"""The one place where request paths are built: every id stays inside its own path segment."""

from __future__ import annotations

import re
import string
from urllib.parse import quote

from learnworlds_mcp.errors import InvalidIdError

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Characters no LearnWorlds id, course slug or real-world email contains, and which would
# change the meaning of a URL if they ever escaped their segment.
_FORBIDDEN = set("/\\?#% ") | {chr(c) for c in range(32)} | {"\x7f"}
_MAX_ID_LENGTH = 320  # the longest valid email address

assert not _FORBIDDEN & set(string.ascii_letters + string.digits + "@.+-_")


def check_id(value: str, name: str = "id") -> str:
    """Return `value` stripped, or raise `InvalidIdError` saying why it cannot be an id."""
    cleaned = value.strip() if isinstance(value, str) else ""
    if not cleaned:
        raise InvalidIdError(f"{name} is empty: give the record's id (or, for a user, the email).")
    if cleaned in {".", ".."}:
        raise InvalidIdError(f"{name} {cleaned!r} is not an id.")
    if len(cleaned) > _MAX_ID_LENGTH:
        raise InvalidIdError(f"{name} is {len(cleaned)} characters long; no id is that long.")
    bad = sorted({c for c in cleaned if c in _FORBIDDEN or c.isspace()})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise InvalidIdError(
            f"{name} {cleaned!r} contains {shown}, which no LearnWorlds id, course slug or "
            "email contains. Pass the id exactly as a list tool returned it."
        )
    return cleaned


def api_path(template: str, **ids: str) -> str:
    """Fill `template` (e.g. ``"/v2/users/{user_id}/tags"``) with checked, percent-encoded ids.

    Each id is validated by `check_id` (its keyword is the name used in error messages) and
    encoded with nothing left safe, so ``a/b`` becomes ``a%2Fb`` and ``jo+x@acme.com`` becomes
    ``jo%2Bx%40acme.com``: one segment, whatever it holds.
    """
    names = _PLACEHOLDER.findall(template)
    if set(names) != set(ids):
        raise ValueError(f"template {template!r} needs {sorted(names)}, got {sorted(ids)}")
    return _PLACEHOLDER.sub(
        lambda m: quote(check_id(ids[m.group(1)], m.group(1)), safe=""), template
    )
