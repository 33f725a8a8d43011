"""`SandboxSchool`: one simulated LearnWorlds school — data, state, HTTP app and switches."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from learnworlds_mcp.clock import Clock, SystemClock
from learnworlds_mcp.sandbox import serialize as ser
from learnworlds_mcp.sandbox.app import SandboxApi, build_app
from learnworlds_mcp.sandbox.auth import TokenStore
from learnworlds_mcp.sandbox.data import generate_school
from learnworlds_mcp.sandbox.faults import Faults
from learnworlds_mcp.sandbox.gateway import BASE_PATH, Gateway, LoggedRequest
from learnworlds_mcp.sandbox.options import SandboxOptions
from learnworlds_mcp.sandbox.records import (
    Bundle,
    Course,
    Enrollment,
    Event,
    Group,
    Progress,
    Role,
    SubscriptionPlan,
    User,
)
from learnworlds_mcp.sandbox.state import SchoolState


class SandboxSchool:
    """A stateful, deterministic LearnWorlds school.

    `SandboxSchool(SandboxOptions(users=100))` or `SandboxSchool(users=100, seed=3)`. Serve
    `school.app` (an ASGI app) in-process with `httpx2.ASGITransport(app=school.app)` and base URL
    `http://<any-host>/admin/api`, or on a loopback port with `serve_sandbox(school)`.

    Tests flip `school.faults` switches, read `school.requests` (the request log), and check
    results against the data accessors below, which return the live records (mutating them
    changes the school) and the serializers that produce exactly what the API sends.
    """

    base_path = BASE_PATH

    def __init__(self, options: SandboxOptions | None = None, **overrides: Any) -> None:
        opts = options or SandboxOptions()
        if overrides:
            opts = dataclasses.replace(opts, **overrides)
        self.options = opts
        self.clock: Clock = opts.clock or SystemClock()
        self.started_at = round(opts.now if opts.now is not None else time.time(), 6)
        self._clock_zero = self.clock.monotonic()
        self.state = SchoolState(
            generate_school(opts.seed, opts.users, self.started_at), self.time, opts.seed
        )
        self.tokens = TokenStore(self.clock, opts.token_ttl, opts.static_token, opts.seed)
        self.faults = Faults(opts.auth_error_status, self.tokens)
        self.requests: list[LoggedRequest] = []
        routes = build_app(SandboxApi(self.state, opts, self.tokens))
        self.gateway = Gateway(routes, opts, self.clock, self.tokens, self.faults, self.requests)
        self.app = self.gateway

    # ----- time, tokens, log -----------------------------------------------------------------

    def time(self) -> float:
        """The school's current Unix time: `now` plus however far the clock has moved since."""
        return self.started_at + (self.clock.monotonic() - self._clock_zero)

    def mint_token(self) -> str:
        """A fresh valid access token, without a request (handy for direct HTTP tests)."""
        return self.tokens.mint()

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        """`Authorization` and `Lw-Client` headers for the static token (or `token`)."""
        bearer = token or self.options.static_token or self.mint_token()
        return {"Authorization": f"Bearer {bearer}", "Lw-Client": self.options.client_id}

    def clear_log(self) -> None:
        self.requests.clear()

    def reset_rate_limit(self) -> None:
        """Forget every request counted by the rate limiter."""
        if self.gateway.limiter is not None:
            self.gateway.limiter.reset()

    # ----- data accessors ----------------------------------------------------------------------

    @property
    def users(self) -> list[User]:
        """Every user, suspended included, newest-created first."""
        return list(self.state.users_newest_first())

    def user(self, id_or_email: str) -> User | None:
        """A user by id or (case-insensitive) email."""
        return self.state.find_user(id_or_email)

    @property
    def roles(self) -> list[Role]:
        """Every role, alphabetical by title (as `GET /v2/user-roles` lists them)."""
        return sorted(self.state.roles.values(), key=lambda r: (r.title.lower(), r.id))

    def role(self, role_id: str) -> Role | None:
        return self.state.roles.get(role_id)

    def role_by_title(self, title: str) -> Role | None:
        return next((r for r in self.state.roles.values() if r.title == title), None)

    @property
    def groups(self) -> list[Group]:
        """Every group, newest first."""
        return self.state.groups_newest_first()

    def group(self, group_id: str) -> Group | None:
        return self.state.groups.get(group_id)

    def group_members(self, group_id: str) -> list[User]:
        """Members of a group (suspended included), newest-created user first."""
        g = self.state.groups.get(group_id)
        return [] if g is None else self.state.group_member_users(g)

    def groups_of(self, user: User) -> list[Group]:
        return [self.state.groups[g] for g in self.state.group_ids_of(user)]

    @property
    def courses(self) -> list[Course]:
        """Every course, newest first."""
        return sorted(self.state.courses.values(), key=lambda c: (-c.created, c.id))

    def course(self, course_id: str) -> Course | None:
        return self.state.courses.get(course_id)

    @property
    def bundles(self) -> list[Bundle]:
        return list(self.state.bundles.values())

    @property
    def subscription_plans(self) -> list[SubscriptionPlan]:
        return list(self.state.plans.values())

    @property
    def enrollments(self) -> list[Enrollment]:
        """Every enrollment (courses, bundles, subscriptions) of every user."""
        return [e for held in self.state.enrollments.values() for e in held.values()]

    def enrollments_of(self, user: User, product_type: str | None = None) -> list[Enrollment]:
        """A user's enrollments, newest first."""
        return self.state.user_enrollments(user, product_type)

    def is_enrolled(self, user: User, course_id: str) -> bool:
        return self.state.is_enrolled(user, course_id)

    def course_users(self, course_id: str) -> list[User]:
        c = self.state.courses.get(course_id)
        return [] if c is None else self.state.course_member_users(c)

    @property
    def progress(self) -> dict[tuple[str, str], Progress]:
        """Progress keyed by (user id, course id)."""
        return self.state.progress

    @property
    def events(self) -> list[Event]:
        """Every event log entry, oldest first."""
        return self.state.events

    def is_paying(self, user: User) -> bool:
        return self.state.is_paying(user)

    # ----- serializers: exactly what the API returns -----------------------------------------

    def user_json(self, u: User) -> dict[str, Any]:
        return ser.user_json(u, self.state.role_of(u))

    def role_json(self, r: Role) -> dict[str, Any]:
        return ser.role_json(r)

    def user_role_json(self, u: User) -> dict[str, Any]:
        return ser.user_role_json(u, self.state.role_of(u), self.state.managed_group_ids(u))

    def group_json(self, g: Group) -> dict[str, Any]:
        return ser.group_json(g, self.state.managers_of(g))

    def course_json(self, c: Course) -> dict[str, Any]:
        return ser.course_json(c)

    def enrollment_json(self, e: Enrollment) -> dict[str, Any]:
        return {
            "created": e.created,
            "expires": e.expires,
            "course": ser.course_json(self.state.courses[e.product_id]),
        }

    def progress_json(self, p: Progress, *, with_course: bool = False) -> dict[str, Any]:
        return ser.progress_json(p, self.state.courses[p.course_id], with_course=with_course)

    def event_json(self, e: Event) -> dict[str, Any]:
        return ser.event_json(e)
