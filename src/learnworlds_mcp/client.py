"""LearnWorldsClient: the one way this server talks to a school.

It owns one `httpx2.AsyncClient` for its lifetime and gives the tools parsed JSON or a typed
`LearnWorldsError` — never an HTTP status. It mints access tokens lazily and re-mints them,
keeps every request (token requests too) inside the rate-limit budget, retries what is safe to
retry, and never sends a write twice once it may have reached the school.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import anyio
import httpx2

from learnworlds_mcp import __version__
from learnworlds_mcp.clock import Clock, SystemClock
from learnworlds_mcp.config import Settings
from learnworlds_mcp.errors import (
    AuthenticationError,
    InvalidRequestError,
    LearnWorldsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SchoolUnreachableError,
    ServerError,
    UnexpectedResponseError,
    WriteOutcomeUnknownError,
    WriteReplyUnreadableError,
)
from learnworlds_mcp.observe import note_not_sent, note_sending, note_write
from learnworlds_mcp.state.budget import InProcessBudget, RateBudget

logger = logging.getLogger(__name__)

Method = Literal["GET", "POST", "PUT", "DELETE"]
TOKEN_PATH = "/oauth2/access_token"
# Longest a single API request may spend waiting (rate-limit queue, 429 and retry back-off)
# before the tool answers "retry after N s": well inside the 60 s most hosts allow a tool call.
DEFAULT_MAX_WAIT_SECONDS = 40.0
# How many extra attempts a GET gets after a 5xx, a timeout or a dropped connection.
GET_RETRIES = 2
RETRY_BACKOFF_SECONDS = (0.5, 2.0)
# A write is not started with less time than this left (or than LEARNWORLDS_TIMEOUT, if
# smaller): it could not get its answer before the call's time runs out.
MIN_WRITE_ATTEMPT_SECONDS = 10.0
# No attempt gets less than this, even at the very end of a call's time.
MIN_ATTEMPT_SECONDS = 1.0
# Back-off after a 429 that carries no Retry-After: doubles per consecutive 429.
FIRST_429_BACKOFF_SECONDS = 1.0


class _AttemptTimedOut(Exception):
    """One HTTP attempt ran out of its time (LEARNWORLDS_TIMEOUT, or what was left of the call's)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


@dataclass
class _Token:
    value: str
    expires_at: float | None  # monotonic time; None for a static token (expiry unknown)
    minted: bool


class LearnWorldsClient:
    """Async client for one school's REST API v2. Use as ``async with LearnWorldsClient(...)``."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        max_wait: float = DEFAULT_MAX_WAIT_SECONDS,
        budget: RateBudget | None = None,
    ) -> None:
        """`budget` is the school's request budget (default: one in this process, from
        `settings.rate_limit`); several replicas pass one shared budget (`state.redis_budget`)."""
        self._settings = settings
        self._clock: Clock = clock or SystemClock()
        self._max_wait = max_wait
        self._timeout = settings.timeout
        self.budget: RateBudget = budget or InProcessBudget(
            settings.rate_limit.requests, settings.rate_limit.seconds, self._clock
        )
        self._transport = transport
        self._http: httpx2.AsyncClient | None = None  # made on first use: start-up stays cheap
        self._closed = False
        self._token: _Token | None = None
        if settings.access_token is not None:
            self._token = _Token(settings.access_token.get_secret_value(), None, minted=False)
        self._mint_lock = anyio.Lock()
        self.requests_sent = 0  # every HTTP request, token requests included (for benchmarks)

    async def __aenter__(self) -> LearnWorldsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        if self._http is not None:
            await self._http.aclose()

    def _http_client(self) -> httpx2.AsyncClient:
        """The one HTTP client of this instance, created on the first request."""
        if self._closed:
            raise RuntimeError("the LearnWorlds client is closed")
        if self._http is None:
            self._http = httpx2.AsyncClient(
                base_url=self._settings.api_url,
                transport=self._transport,
                timeout=self._settings.timeout,
                headers={
                    "Lw-Client": self._settings.client_id,
                    "Accept": "application/json",
                    "User-Agent": f"learnworlds-mcp/{__version__}",
                },
            )
        return self._http

    # ------------------------------------------------------------------ public API

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET `path` (built by `paths.api_path`) and return the parsed JSON."""
        return await self.request("GET", path, params=params)

    async def post(self, path: str, json_body: Any = None) -> Any:
        return await self.request("POST", path, json_body=json_body)

    async def put(self, path: str, json_body: Any = None) -> Any:
        return await self.request("PUT", path, json_body=json_body)

    async def delete(self, path: str, json_body: Any = None) -> Any:
        return await self.request("DELETE", path, json_body=json_body)

    async def authenticate(self) -> str:
        """Make sure a usable token is at hand (mints one if needed); return the auth mode."""
        await self._current_token(self._clock.monotonic() + self._max_wait)
        return "minted token" if self._token and self._token.minted else "static access token"

    async def request(
        self,
        method: Method,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> Any:
        """Send one API request with auth, pacing and the retry rules; return parsed JSON.

        Returns None for an empty (204) reply. Raises a `LearnWorldsError` subclass otherwise.
        """
        query = {k: v for k, v in (params or {}).items() if v is not None}
        deadline = self._clock.monotonic() + self._max_wait
        if method != "GET":
            note_sending(method, path)
        try:
            response = await self._exchange(method, path, deadline, params=query, json=json_body)
        except WriteOutcomeUnknownError:
            note_write(method, path, None)
            raise
        except Exception:  # not cancellation: a write cancelled on its way stays "sending"
            note_not_sent()
            raise
        if method != "GET":
            note_write(method, path, response.status_code)
        if response.status_code >= 400:
            raise _client_error(response)
        return self._parse(response, method, path)

    # ------------------------------------------------------------------ sending

    async def _exchange(
        self,
        method: str,
        path: str,
        deadline: float,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx2.Response:
        """The one request loop: pacing, auth re-minting, and the rules of what is resent.

        A 429 or an auth rejection was not processed, so it is resent for any method. A request
        that never connected was not sent. Anything else that may have reached the school —
        a timeout, a dropped connection, a 5xx — is retried only when resending is harmless:
        for a GET, and for a token request (`authenticated=False`). Returns the first reply
        that is none of these (a 2xx, or a 4xx the caller turns into an error).
        """
        resend_safe = method == "GET" or not authenticated
        retries_left = GET_RETRIES if resend_safe else 0
        auth_retried = False
        consecutive_429 = 0
        while True:
            headers: dict[str, str] = {}
            token = None
            if authenticated:
                token = await self._current_token(deadline)
                headers["Authorization"] = f"Bearer {token.value}"
            try:
                response = await self._send(
                    method, path, deadline, params=params, json=json, data=data,
                    headers=headers, resend_safe=resend_safe,
                )  # fmt: skip
            except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
                if retries_left:  # never connected, so nothing was sent
                    retries_left -= 1
                    await self._backoff(retries_left, deadline, method, path, "unreachable")
                    continue
                raise SchoolUnreachableError(
                    f"Could not connect to the school at {self._settings.api_url}: check "
                    "LEARNWORLDS_API_URL and your network. Nothing was changed."
                ) from exc
            except (httpx2.TimeoutException, _AttemptTimedOut, httpx2.TransportError) as exc:
                if retries_left:
                    retries_left -= 1
                    why = (
                        "connection lost" if isinstance(exc, httpx2.TransportError) else "timed out"
                    )
                    await self._backoff(retries_left, deadline, method, path, why)
                    continue
                raise self._transport_failure(method, path, exc, resend_safe) from exc

            status = response.status_code
            if status == 429:
                consecutive_429 += 1
                await self._wait_out_429(response, consecutive_429, deadline, method, path)
                continue
            if token is not None and _is_auth_rejection(response):
                if not auth_retried and self._can_remint():
                    auth_retried = True
                    self._drop_token(token)
                    continue
                if auth_retried and token.minted:
                    # The credentials work (the school just issued this token) and it was
                    # refused all the same: tokens were revoked again in the meantime.
                    self._drop_token(token)
                    raise AuthenticationError(
                        "LearnWorlds refused a token it had just issued (tokens were revoked "
                        "twice in a row). Nothing was changed; try again. If it persists, run "
                        "`learnworlds-mcp --check`."
                    )
                raise self._auth_error()
            if status >= 500:
                if retries_left:
                    retries_left -= 1
                    await self._backoff(retries_left, deadline, method, path, f"HTTP {status}")
                    continue
                if not resend_safe:
                    raise self._unknown_outcome(method, path, f"answered HTTP {status}")
                raise ServerError(
                    f"The school answered HTTP {status} ({_api_message(response) or 'server error'}) "
                    "on every attempt. Try again in a minute.",
                    status=status,
                )
            return response

    async def _wait_out_429(
        self, response: httpx2.Response, consecutive: int, deadline: float, method: str, path: str
    ) -> None:
        """Hold every request for `Retry-After`, or a back-off of 1 s doubling on repeats."""
        retry_after = _retry_after_seconds(response)
        if retry_after is not None:
            wait = retry_after
        else:
            # Our own queue already keeps our pace; the school counted someone else's requests
            # too. Back off 1 s, doubling on repeats, at most one window (not the whole queue).
            wait = min(
                FIRST_429_BACKOFF_SECONDS * 2 ** (consecutive - 1),
                self._settings.rate_limit.seconds,
            )
        if self._clock.monotonic() + wait > deadline:
            raise RateLimitedError(
                "LearnWorlds is rate limiting this school's API "
                f"({self._settings.rate_limit} requests/seconds); retry after "
                f"{max(1, round(wait))} s.",
                retry_after=wait,
            )
        logger.warning("%s %s: rate limited; retrying in %.1f s", method, path, wait)
        await self.budget.pause(wait)

    async def _send(
        self,
        method: str,
        path: str,
        deadline: float,
        *,
        params: dict[str, Any] | None,
        json: Any,
        data: dict[str, str] | None,
        headers: dict[str, str],
        resend_safe: bool,
    ) -> httpx2.Response:
        """One HTTP attempt, after a rate-limit slot, within what is left of the call's time."""
        await self.budget.acquire(deadline)
        left = deadline - self._clock.monotonic()
        if not resend_safe and left < min(self._timeout, MIN_WRITE_ATTEMPT_SECONDS):
            # Too little time left for a write to get an answer before the host gives up:
            # better not to send it at all than to leave its outcome unknown.
            free = await self.budget.seconds_until_free()
            raise RateLimitedError(
                f"The rate-limit wait used up this call's time; nothing was sent. Retry after "
                f"{max(1, round(free))} s.",
                retry_after=free,
                status=None,
            )
        self.requests_sent += 1
        # httpx's own timeouts do not apply to in-process transports; this one always does.
        limit = min(self._timeout, max(left, MIN_ATTEMPT_SECONDS))
        try:
            with anyio.fail_after(limit):
                return await self._http_client().request(
                    method, path, params=params, json=json, data=data, headers=headers
                )
        except TimeoutError:
            raise _AttemptTimedOut(limit) from None

    async def _backoff(
        self, retries_left: int, deadline: float, method: str, path: str, why: str
    ) -> None:
        delay = RETRY_BACKOFF_SECONDS[min(GET_RETRIES - retries_left - 1, 1)]
        if self._clock.monotonic() + delay > deadline:
            raise SchoolUnreachableError(
                f"The school kept failing ({why}) and the time allowed for one call ran out. "
                "Try again in a minute."
            )
        logger.warning("%s %s: %s; retrying in %.1f s", method, path, why, delay)
        await self._clock.sleep(delay)

    def _transport_failure(
        self, method: str, path: str, exc: Exception, resend_safe: bool
    ) -> LearnWorldsError:
        if isinstance(exc, _AttemptTimedOut) and exc.seconds < self._timeout:
            what = f"did not answer within the {exc.seconds:.1f} s left of this call's time"
        elif isinstance(exc, _AttemptTimedOut | httpx2.TimeoutException):
            what = f"did not answer within {self._timeout:g} s (LEARNWORLDS_TIMEOUT)"
        else:
            what = "dropped the connection"
        if not resend_safe:
            return self._unknown_outcome(method, path, what)
        return SchoolUnreachableError(
            f"The school at {self._settings.api_url} {what}, also on retry. Try again shortly."
        )

    @staticmethod
    def _unknown_outcome(method: str, path: str, what: str) -> WriteOutcomeUnknownError:
        return WriteOutcomeUnknownError(f"The school {what} while handling {method} {path}")

    def _parse(self, response: httpx2.Response, method: str, path: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            if method == "GET":
                raise UnexpectedResponseError(
                    f"The school answered {method} {path} with something that is not JSON "
                    f"(HTTP {response.status_code}). Try again; if it persists, check "
                    "LEARNWORLDS_API_URL points at https://<school>/admin/api.",
                    status=response.status_code,
                ) from None
            raise WriteReplyUnreadableError(
                f"the school's reply to {method} {path} (HTTP {response.status_code}) was not JSON"
            ) from None

    # ------------------------------------------------------------------ auth

    def _can_remint(self) -> bool:
        return self._settings.client_secret is not None

    def _drop_token(self, token: _Token) -> None:
        if self._token is token:
            self._token = None

    def _auth_error(self) -> AuthenticationError:
        if self._settings.client_secret is not None:
            return AuthenticationError(
                "LearnWorlds rejected the credentials: check LEARNWORLDS_CLIENT_ID and "
                "LEARNWORLDS_CLIENT_SECRET (Settings → Developers → API in the school's admin), "
                "and that LEARNWORLDS_API_URL is this school's. Run `learnworlds-mcp --check`."
            )
        return AuthenticationError(
            "LearnWorlds rejected the access token in LEARNWORLDS_ACCESS_TOKEN: it may have "
            "expired or belong to another school. Generate a new one in the admin's API "
            "settings, or set LEARNWORLDS_CLIENT_SECRET so the server mints tokens itself. "
            "Run `learnworlds-mcp --check`."
        )

    async def _current_token(self, deadline: float) -> _Token:
        token = self._token
        if token is not None and not self._expiring(token):
            return token
        if self._settings.client_secret is None:
            if token is None:  # the static token was rejected and nothing can replace it
                raise self._auth_error()
            return token
        async with self._mint_lock:  # concurrent calls share one mint
            token = self._token
            if token is None or self._expiring(token):
                token = await self._mint(deadline)
                self._token = token
            return token

    def _expiring(self, token: _Token) -> bool:
        return token.expires_at is not None and self._clock.monotonic() >= token.expires_at

    async def _mint(self, deadline: float) -> _Token:
        secret = self._settings.client_secret
        assert secret is not None
        payload = json.dumps(
            {
                "client_id": self._settings.client_id,
                "client_secret": secret.get_secret_value(),
                "grant_type": "client_credentials",
            }
        )
        try:
            response = await self._exchange(
                "POST", TOKEN_PATH, deadline, data={"data": payload}, authenticated=False
            )
        except (SchoolUnreachableError, ServerError) as error:
            raise SchoolUnreachableError(
                f"Could not get an access token from {self._settings.api_url}: {error}"
            ) from error
        if response.status_code in (400, 401, 403):
            raise AuthenticationError(
                "LearnWorlds refused to issue an access token: check LEARNWORLDS_CLIENT_ID "
                "and LEARNWORLDS_CLIENT_SECRET (Settings → Developers → API) and that "
                "LEARNWORLDS_API_URL is this school's. Run `learnworlds-mcp --check`.",
                status=response.status_code,
            )
        if response.status_code >= 300:
            raise UnexpectedResponseError(
                f"The token endpoint answered HTTP {response.status_code}; check "
                "LEARNWORLDS_API_URL (it should end in /admin/api).",
                status=response.status_code,
            )
        return self._token_from(response)

    def _token_from(self, response: httpx2.Response) -> _Token:
        try:
            data = response.json()["tokenData"]
            value = data["access_token"]
            expires_in = float(data.get("expires_in") or 0)
        except (ValueError, KeyError, TypeError):
            raise UnexpectedResponseError(
                "The token endpoint's reply had no tokenData.access_token; check that "
                "LEARNWORLDS_API_URL is https://<school>/admin/api."
            ) from None
        if not isinstance(value, str) or not value:
            raise UnexpectedResponseError("The token endpoint returned an empty access token.")
        expires_at = None
        if expires_in > 0:
            # Re-mint a little before expiry (a quarter of the lifetime, at most 10 minutes).
            expires_at = self._clock.monotonic() + expires_in - min(600.0, expires_in / 4)
        return _Token(value, expires_at, minted=True)


# ---------------------------------------------------------------------- reply helpers


def _retry_after_seconds(response: httpx2.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP date: rare enough to fall back to our own back-off


def _json_or_none(response: httpx2.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _api_message(response: httpx2.Response) -> str | None:
    """The API's own error text, from either of its two error body families."""
    body = _json_or_none(response)
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = errors[0].get("message")
            if isinstance(message, str):
                return message
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return None


def _is_auth_rejection(response: httpx2.Response) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code != 400:
        return False
    body = _json_or_none(response)
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return any(
            isinstance(e, dict) and e.get("context") == "access_denied" for e in body["errors"]
        )
    return False


def _client_error(response: httpx2.Response) -> LearnWorldsError:
    status = response.status_code
    message = _api_message(response)
    if status == 403:
        return PermissionDeniedError(
            "LearnWorlds refused access (HTTP 403): the school's plan may not include API "
            "access, or these credentials may not reach this resource. "
            + (f"The school said: {message}" if message else ""),
            status=status,
            api_message=message,
        )
    if status == 404:
        return NotFoundError(message or "Not found.", status=status, api_message=message)
    return InvalidRequestError(
        f"The school rejected the request (HTTP {status}): {message or 'no reason given'}",
        status=status,
        api_message=message,
    )
