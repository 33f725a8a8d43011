"""`SandboxOptions`: everything about a sandbox school that is fixed when it is built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from learnworlds_mcp.clock import Clock

DEFAULT_CLIENT_ID = "5f1e9a3c7b2d4e6f80a1b2c3"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"
DEFAULT_STATIC_TOKEN = "SandboxStaticAdminToken00000000000000042"  # 40 chars, alphanumeric


@dataclass(frozen=True)
class SandboxOptions:
    """How the sandbox school is generated and how strict it is.

    `seed` and `users` decide the generated data (same seed and size and `now` → same school).
    `now` anchors every relative time (default: `time.time()` when the school is built); `clock`
    (anything with `.monotonic()`, default `SystemClock`) drives token expiry, the rate-limit
    window, request-log timestamps and the time stamped on writes, so tests can share one
    `FakeClock` with the client and pass windows in virtual time.
    """

    seed: int = 7
    users: int = 3000
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    static_token: str | None = DEFAULT_STATIC_TOKEN
    """The "token generated on the admin page": always valid until `faults.expire_tokens()`."""
    token_ttl: int = 8000
    """`expires_in` of minted tokens, in seconds of `clock`."""
    auth_error_status: int = 400
    """Status for a missing/unknown/expired bearer: 400 (access_denied) or 401."""
    rate_limit: tuple[int, float] | None = (30, 10.0)
    """At most N requests per rolling S seconds per client id; None = unlimited."""
    count_token_requests: bool = True
    """Whether `POST /oauth2/access_token` counts against (and is subject to) the rate limit."""
    retry_after_header: bool = False
    """Send `Retry-After` (whole seconds) on the school's own 429s."""
    api_access: bool = True
    """False = the plan has no API access: every /v2 call answers 403."""
    s1_shapes: bool = False
    """Serve the 2025 (S1) bare-array shapes of the two group-membership endpoints."""
    member_lists_include_suspended: Literal["honour", "ignore"] = "honour"
    """Group members and course users, whose spec declares no `include_suspended`: "honour"
    hides suspended users unless `include_suspended=true` (as the users list does); "ignore"
    lists every user, suspended ones included, whatever the query says."""
    reject_out_of_range_page_size: bool = False
    """`items_per_page` outside 1–200: 422 instead of clamping."""
    now: float | None = None
    clock: Clock | None = None

    def __post_init__(self) -> None:
        if self.auth_error_status not in (400, 401):
            raise ValueError("auth_error_status must be 400 or 401")
        if self.member_lists_include_suspended not in ("honour", "ignore"):
            raise ValueError('member_lists_include_suspended must be "honour" or "ignore"')
        if self.users < 0:
            raise ValueError("users must be >= 0")
