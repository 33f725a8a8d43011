"""Access tokens: the client-credentials token endpoint's parsing and the token store.

The token endpoint accepts the three body styles seen in clients: a form field `data` holding
JSON (the documented one), a JSON object, and plain form fields. It requires
`grant_type=client_credentials` and the right `client_id`/`client_secret`; a `Lw-Client` header is
optional but must equal the client id when sent. Failures use the auth-layer error family with
the `league/oauth2-server` contexts: `invalid_request` (unreadable body or missing field),
`unsupported_grant_type`, and `access_denied` (wrong credentials or `Lw-Client`), all 400.
"""

from __future__ import annotations

import json
import random
import string
import threading
from typing import Any
from urllib.parse import parse_qsl

from learnworlds_mcp.clock import Clock
from learnworlds_mcp.sandbox.errors import ApiError, access_denied, auth_error

TOKEN_ALPHABET = string.ascii_letters + string.digits
INVALID_REQUEST = (
    "The request is missing a required parameter, includes an invalid parameter value, "
    "includes a parameter more than once, or is otherwise malformed."
)
UNSUPPORTED_GRANT = "The authorization grant type is not supported by the authorization server."


class TokenStore:
    """Minted tokens with their expiry on `clock`, plus the static admin-page token."""

    def __init__(self, clock: Clock, ttl: int, static_token: str | None, seed: int) -> None:
        self._clock = clock
        self._ttl = ttl
        self._static = static_token
        self._static_valid = static_token is not None
        self._tokens: dict[str, float] = {}
        self._rng = random.Random(seed * 104729 + 3)
        self._lock = threading.Lock()

    def mint(self) -> str:
        with self._lock:
            token = "".join(self._rng.choices(TOKEN_ALPHABET, k=40))
            self._tokens[token] = self._clock.monotonic() + self._ttl
            return token

    def is_valid(self, token: str) -> bool:
        with self._lock:
            if self._static_valid and token == self._static:
                return True
            expires = self._tokens.get(token)
            return expires is not None and self._clock.monotonic() < expires

    def expire_all(self, include_static: bool = True) -> None:
        with self._lock:
            self._tokens.clear()
            if include_static:
                self._static_valid = False

    def restore_static(self) -> None:
        with self._lock:
            self._static_valid = self._static is not None

    @property
    def ttl(self) -> int:
        return self._ttl


def parse_token_body(content_type: str, body: bytes) -> dict[str, Any]:
    """The credentials from any of the three body styles; 400 `invalid_request` if unreadable."""
    text = body.decode("utf-8", errors="replace")
    try:
        if "json" in content_type or (not content_type and text.lstrip().startswith("{")):
            parsed = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            parsed = json.loads(form["data"]) if "data" in form else form
    except (ValueError, KeyError):
        raise auth_error(400, "invalid_request", INVALID_REQUEST) from None
    if not isinstance(parsed, dict):
        raise auth_error(400, "invalid_request", INVALID_REQUEST)
    return parsed


def check_token_request(
    creds: dict[str, Any], lw_client: str | None, client_id: str, client_secret: str
) -> None:
    """Raise the documented error unless these are good client credentials."""
    if not creds.get("grant_type") or not creds.get("client_id"):
        raise auth_error(400, "invalid_request", INVALID_REQUEST)
    if creds["grant_type"] != "client_credentials":
        raise auth_error(400, "unsupported_grant_type", UNSUPPORTED_GRANT)
    if (
        creds.get("client_id") != client_id
        or creds.get("client_secret") != client_secret
        or (lw_client is not None and lw_client != client_id)
    ):
        raise access_denied(400)


def token_payload(token: str, ttl: int) -> dict[str, Any]:
    return {
        "tokenData": {"access_token": token, "token_type": "Bearer", "expires_in": ttl},
        "errors": [],
        "success": True,
    }


__all__ = ["ApiError", "TokenStore", "check_token_request", "parse_token_body", "token_payload"]
