"""Request-body and query validation: each failure is a 422 `{"error": "<what is wrong>"}`."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from learnworlds_mcp.sandbox.errors import error

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OBJECT_ID_RE = re.compile(r"^[0-9a-f]{24}$")


def json_body(raw: bytes, *, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object ({} when empty and not required)."""
    if not raw.strip():
        if required:
            raise error(422, "The request body must be a JSON object.")
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise error(422, "The request body must be valid JSON.") from None
    if not isinstance(body, dict):
        raise error(422, "The request body must be a JSON object.")
    return body


def enum_param(query: Mapping[str, str], name: str, allowed: Collection[str]) -> str | None:
    """An enumerated query value; 422 naming the allowed values (as the API words it)."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise bad_enum(name, allowed)
    return raw


def bad_enum(name: str, allowed: Collection[str]) -> Exception:
    values = ", ".join(f"'{v}'" for v in allowed)
    return error(422, f"You need to provide a valid {name} value: {values}")


def csv_param(query: Mapping[str, str], name: str) -> list[str]:
    """A comma-separated query value as a list of non-blank items."""
    return [x.strip() for x in (query.get(name) or "").split(",") if x.strip()]


def req_str(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise error(422, f"The {key} field is required.")
    return value


def opt_str(body: Mapping[str, Any], key: str) -> None:
    if key in body and body[key] is not None and not isinstance(body[key], str):
        raise error(422, f"The {key} field must be a string.")


def opt_bool(body: Mapping[str, Any], key: str) -> None:
    if key in body and body[key] is not None and not isinstance(body[key], bool):
        raise error(422, f"The {key} field must be true or false.")


def str_list(body: Mapping[str, Any], key: str, *, required: bool = False) -> list[str] | None:
    """A list of strings at `key` (None when absent and optional)."""
    if key not in body or body[key] is None:
        if required:
            raise error(422, f"The {key} field is required.")
        return None
    value = body[key]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise error(422, f"The {key} field must be an array of strings.")
    return value


def email(body: Mapping[str, Any], key: str = "email") -> str:
    value = req_str(body, key)
    if not EMAIL_RE.match(value.strip()):
        raise error(422, f"The {key} field must be a valid email address.")
    return value


def string_map(body: Mapping[str, Any], key: str, allowed: Collection[str] | None) -> None:
    """An object of string-or-null values whose keys are `allowed` (or `cf_*` custom fields)."""
    if key not in body:
        return
    value = body[key]
    if not isinstance(value, dict):
        raise error(422, f"The {key} field must be an object.")
    for k, v in value.items():
        if allowed is not None and k not in allowed and not k.startswith("cf_"):
            raise error(422, f"Unknown {key} key: {k}")
        if v is not None and not isinstance(v, str | int | float | bool):
            raise error(422, f"The {key}.{k} value must be a string.")


def number(body: Mapping[str, Any], key: str, *, minimum: float | None = None) -> float | None:
    if key not in body or body[key] is None:
        return None
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error(422, f"The {key} field must be a number.")
    if minimum is not None and value < minimum:
        raise error(422, f"The {key} field must be at least {minimum:g}.")
    return float(value)


def is_object_id(value: str) -> bool:
    return bool(OBJECT_ID_RE.match(value))
