"""The sandbox school: a faithful, stateful simulator of the LearnWorlds REST API v2.

    school = SandboxSchool(users=200)                      # deterministic (seed 7)
    transport = httpx2.ASGITransport(app=school.app)       # in-process
    with serve_sandbox(school) as url: ...                 # or on a loopback port

It follows `learnworlds-api.md`. Where that document is unsure, the sandbox decides so:

- Token endpoint: form field `data` holding JSON, a JSON body, and plain form fields all work;
  bad credentials → 400 `access_denied` (errors family); missing fields → 400 `invalid_request`;
  another grant type → 400 `unsupported_grant_type`. `Lw-Client` optional there, must match.
- `/v2` auth: `Lw-Client` missing, malformed or not the client id → 401 "Invalid object ID"
  (checked first); bearer missing/unknown/expired → `auth_error_status` (400 default, or 401)
  with the `access_denied` errors body; plan without API access → 403 `{"error": ...}`.
- Rate limit: rolling window per client id, refused requests not counted, token requests
  counted (option); `Retry-After` (whole seconds, rounded up) only with `retry_after_header`.
- Envelopes: `totalItems` is the grand total; `totalPages = max(1, ceil(total / size))`; a page
  past the end returns the last page with `meta.page` = that page (user progress: empty `data`,
  `meta.page` = the page asked for); `page` < 1 or non-integer → 422; `items_per_page` clamped to
  1–200 (422 with `reject_out_of_range_page_size`); ignored where the API does not document it.
- Users list: `tags` is AND (a user must carry every listed tag; exact match); `cf_<name>=value`
  is an exact match on that field; `registration_after/before` are inclusive; `status=suspended`
  implies suspended users are shown; `role` filters by the role's access level; unknown enum
  values → 422 `{"error": ...}`.
- Suspended users: hidden from users lists, course users and group members unless
  `include_suspended=true` (course users and group members: `member_lists_include_suspended=
  "ignore"` lists them always, whatever the query says); `GET /v2/users/{id}` answers 404 for
  them unless `include_suspended=true`; every other user endpoint (PUT, tags, unsuspend,
  enrollment, …) finds them, so they can be managed.
- Writes: duplicate email → 400; `PUT /v2/users/{id}` replaces `tags`, merges `fields`/`utms`;
  enrollment: unknown product → 404, already enrolled / not enrolled → 400, bad `productType`,
  missing or negative `price`, bad duration → 422; a bundle/plan enrollment enrolls its courses.
- Groups: POST needs `title` and `products.courses` (unknown course slug, or a `group_managers`
  entry that is not a user id → 422); PUT takes
  partial bodies; DELETE → 202 `{"async": true, "job_id"}` (the group is gone at once; the job is
  readable at `/v2/async-actions/{id}`); members list 404 `{"error": "Users not found"}` when
  empty; adding: unknown user → 404, already a member or group full → 400; removing a
  non-member → 400. PUT user-role: unknown role → 404, unknown course/group → 422; returns the
  UserRoleUserResponse.
- Courses list: `categories` is OR (any listed category); `access` may be repeated, `access[]`,
  or comma-separated (OR). Event logs: unknown `user_id` → 404; `activity=enrollment` matches
  manual_enrollment and purchase events.
- Faults (see `faults.py`): by default they match every request, token endpoint included (use
  `path_contains="/v2/"` to spare it); a write delayed by `slow_next` is still applied after the
  delay even if the client gave up; chaos's token expiry spares the static token.
- Unknown route or wrong method → 404 `{"error": "Sorry the resource your trying to access does
  not exist."}`.

Where it follows `learnworlds-api.md` rather than the official OpenAPI file (the 2025 spec,
`learnworlds-openapi-v2.yaml`, which `tests/test_contract.py` holds the replies against):

- `POST /oauth2/access_token`: not in the spec at all; built from the document's §1 (the
  official SSO plugin, the v1 docs and the working clients).
- `GET /v2/user_groups/{id}/users` answers `{data, meta}` (404 "Users not found" when empty)
  and `GET /v2/users/{id}/user-groups` answers `{data: {user_groups}}`: the 2026 spec's shapes,
  what schools send today. `s1_shapes=True` serves the spec's bare arrays.
- `include_suspended` on course users and group members: the spec declares it on the users
  list and the single user only. The document says lists hide suspended users unless asked,
  so by default these two honour it; `member_lists_include_suspended="ignore"` plays a school
  that does not (the product never sends it there).
- The 2026 additions: the `license_reporter` access level (roles, the users `role` filter,
  the roles `access_level` filter), event logs' `activity=enrollment`, users' `first_name` and
  `last_name`, `DELETE /v2/user_groups/{id}` (202, async) and `GET /v2/async-actions/{id}`.
- A bundle's `products.courses` is a list of course slugs, as the spec's own example and the
  document have it (the schema says objects); subscription plans alike.
- Null where a schema declares only a type (a user's empty `fields`, `signup_approval_status`,
  a unit's `subtitle`): the spec's examples answer null there; its schemas never say nullable.
- `PUT /v2/users/{id}/user-role` answers the UserRoleUserResponse (the spec points at the group
  reply, which the document's §9 calls a slip).
"""

from learnworlds_mcp.sandbox.faults import Fault, Faults
from learnworlds_mcp.sandbox.gateway import LoggedRequest
from learnworlds_mcp.sandbox.options import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_STATIC_TOKEN,
    SandboxOptions,
)
from learnworlds_mcp.sandbox.school import SandboxSchool
from learnworlds_mcp.sandbox.serve import serve_sandbox, serve_sandbox_async

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_STATIC_TOKEN",
    "Fault",
    "Faults",
    "LoggedRequest",
    "SandboxOptions",
    "SandboxSchool",
    "serve_sandbox",
    "serve_sandbox_async",
]
