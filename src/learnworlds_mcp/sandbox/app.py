"""The Starlette app: every LearnWorlds v2 route the sandbox serves, under `/admin/api`.

Authentication, rate limiting, faults and the request log happen before this app is reached
(see `gateway.py`); handlers here parse and validate a request, call `SchoolState`, and answer
with the documented shapes. Single objects are bare; lists use `{data, meta}` (see `paging.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from learnworlds_mcp.sandbox import serialize as ser
from learnworlds_mcp.sandbox import validate as v
from learnworlds_mcp.sandbox.auth import (
    TokenStore,
    check_token_request,
    parse_token_body,
    token_payload,
)
from learnworlds_mcp.sandbox.errors import ApiError, error, json_response, not_found
from learnworlds_mcp.sandbox.options import SandboxOptions
from learnworlds_mcp.sandbox.paging import (
    bool_param,
    envelope,
    number_param,
    page_params,
    paginate,
)
from learnworlds_mcp.sandbox.records import (
    ACTIVITIES,
    COURSE_ACCESS,
    CUSTOM_FIELD_KEYS,
    DEFAULT_FIELD_KEYS,
    DURATION_TYPES,
    PRODUCT_TYPES,
    ROLE_LEVELS,
    USER_ROLE_FILTERS,
    USER_STATUSES,
    UTM_KEYS,
    AssignedCourse,
    Group,
    User,
)
from learnworlds_mcp.sandbox.state import SchoolState

BASE_PATH = "/admin/api"
FIELD_KEYS = DEFAULT_FIELD_KEYS + CUSTOM_FIELD_KEYS
PRODUCT_TYPE_MESSAGE = (
    "You need to provide a valid product_type query parameters value: "
    "'course', 'bundle', 'subscription'"
)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class SandboxApi:
    """Route handlers bound to one school's state."""

    def __init__(self, state: SchoolState, options: SandboxOptions, tokens: TokenStore) -> None:
        self.state = state
        self.options = options
        self.tokens = tokens

    # ----- helpers ---------------------------------------------------------------------------

    def _pages(self, request: Request, default: int, *, sized: bool) -> tuple[int, int]:
        return page_params(
            request.query_params,
            default,
            sized=sized,
            strict_size=self.options.reject_out_of_range_page_size,
        )

    def _user(self, request: Request, key: str = "user_id") -> User:
        return self.state.user_or_404(request.path_params[key])

    def _user_json(self, u: User) -> dict[str, Any]:
        return ser.user_json(u, self.state.role_of(u))

    def _group_json(self, g: Group) -> dict[str, Any]:
        return ser.group_json(g, self.state.managers_of(g))

    def _member_list(self, request: Request, users: list[User]) -> list[User]:
        """Group members / course users as `member_lists_include_suspended` says."""
        if self.options.member_lists_include_suspended == "ignore":
            return users
        if bool_param(request.query_params, "include_suspended"):
            return users
        return [u for u in users if not u.is_suspended]

    def _users_page(
        self, request: Request, users: list[User], default: int, sized: bool
    ) -> Response:
        page, size = self._pages(request, default, sized=sized)
        users = self._member_list(request, users)
        chunk, meta = paginate(users, page, size)
        return json_response(envelope([self._user_json(u) for u in chunk], meta))

    # ----- token ---------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        creds = parse_token_body(request.headers.get("content-type", ""), await request.body())
        opts = self.options
        check_token_request(
            creds, request.headers.get("lw-client"), opts.client_id, opts.client_secret
        )
        return json_response(token_payload(self.tokens.mint(), self.tokens.ttl))

    # ----- users -----------------------------------------------------------------------------

    async def list_users(self, request: Request) -> Response:
        q = request.query_params
        page, size = self._pages(request, 20, sized=True)
        status = v.enum_param(q, "status", USER_STATUSES)
        role = v.enum_param(q, "role", USER_ROLE_FILTERS)
        tags = set(v.csv_param(q, "tags"))
        after = number_param(q, "registration_after")
        before = number_param(q, "registration_before")
        show_suspended = bool_param(q, "include_suspended") or status == "suspended"
        custom = {k: val for k, val in q.items() if k.startswith("cf_")}
        state = self.state

        def keep(u: User) -> bool:
            if u.is_suspended and not show_suspended:
                return False
            if status == "suspended" and not u.is_suspended:
                return False
            if status == "never_logged_in" and u.last_login is not None:
                return False
            if status in ("paying", "non_paying") and state.is_paying(u) != (status == "paying"):
                return False
            if role is not None and state.role_of(u).access_level != role:
                return False
            if tags and not tags.issubset(u.tags):
                return False
            if after is not None and u.created < after:
                return False
            if before is not None and u.created > before:
                return False
            return all(str(u.fields.get(k)) == val for k, val in custom.items())

        chunk, meta = paginate([u for u in state.users_newest_first() if keep(u)], page, size)
        return json_response(envelope([self._user_json(u) for u in chunk], meta))

    def _check_user_body(self, body: dict[str, Any], *, create: bool) -> None:
        if create or "email" in body:
            v.email(body)
        if create or "username" in body:
            v.req_str(body, "username")
        for key in ("first_name", "last_name", "password"):
            v.opt_str(body, key)
        for key in (
            "is_admin",
            "subscribed_for_marketing_emails",
            "send_registration_email",
            "signup_validation_rules",
        ):
            v.opt_bool(body, key)
        v.str_list(body, "tags")
        v.string_map(body, "fields", FIELD_KEYS)
        v.string_map(body, "utms", UTM_KEYS)

    async def create_user(self, request: Request) -> Response:
        body = v.json_body(await request.body())
        self._check_user_body(body, create=True)
        u = self.state.create_user(body, FIELD_KEYS)
        return json_response(self._user_json(u), 201)

    async def get_user(self, request: Request) -> Response:
        show = bool_param(request.query_params, "include_suspended")
        u = self.state.user_or_404(request.path_params["user_id"], include_suspended=show)
        return json_response(self._user_json(u))

    async def update_user(self, request: Request) -> Response:
        u = self._user(request)
        body = v.json_body(await request.body())
        self._check_user_body(body, create=False)
        self.state.update_user(u, body)
        return json_response(self._user_json(u))

    async def user_tags(self, request: Request) -> Response:
        u = self._user(request)
        body = v.json_body(await request.body())
        tags = v.str_list(body, "tags", required=True) or []
        action = body.get("action")
        if action not in ("attach", "detach"):
            raise v.bad_enum("action", ("attach", "detach"))
        self.state.change_tags(u, tags, action)
        return json_response(self._user_json(u))

    async def suspend(self, request: Request) -> Response:
        u = self._user(request)
        u.is_suspended = True
        return json_response(self._user_json(u))

    async def unsuspend(self, request: Request) -> Response:
        u = self._user(request)
        u.is_suspended = False
        return json_response(self._user_json(u))

    async def user_courses(self, request: Request) -> Response:
        u = self._user(request)
        page, size = self._pages(request, 50, sized=False)
        chunk, meta = paginate(self.state.user_enrollments(u, "course"), page, size)
        data = [
            {
                "created": e.created,
                "expires": e.expires,
                "course": ser.course_json(self.state.courses[e.product_id]),
            }
            for e in chunk
        ]
        return json_response(envelope(data, meta))

    async def user_products(self, request: Request) -> Response:
        u = self._user(request)
        titles = self.state.product_titles()
        data = [
            ser.product_json(e.product_id, e.product_type, titles)
            for e in self.state.user_enrollments(u)
        ]
        return json_response({"data": data})

    async def user_progress(self, request: Request) -> Response:
        u = self._user(request)
        page, size = self._pages(request, 20, sized=True)
        items = [
            (self.state.progress[(u.id, e.product_id)], self.state.courses[e.product_id])
            for e in self.state.user_enrollments(u, "course")
            if (u.id, e.product_id) in self.state.progress
        ]
        chunk, meta = paginate(items, page, size, past_end="empty")
        data = [ser.progress_json(p, c, with_course=True) for p, c in chunk]
        return json_response(envelope(data, meta))

    async def user_course_progress(self, request: Request) -> Response:
        u = self._user(request)
        course = self.state.course_or_404(request.path_params["course_id"])
        p = self.state.progress.get((u.id, course.id))
        if p is None or not self.state.is_enrolled(u, course.id):
            raise not_found("The user is not enrolled in this course.")
        return json_response(ser.progress_json(p, course, with_course=False))

    def _product_from(self, body: dict[str, Any]) -> tuple[str, Any]:
        product_id = v.req_str(body, "productId")
        product_type = body.get("productType")
        if product_type not in PRODUCT_TYPES:
            raise error(422, PRODUCT_TYPE_MESSAGE)
        product = self.state.product(product_type, product_id)
        if product is None:
            raise not_found()
        return product_type, product

    async def enroll(self, request: Request) -> Response:
        u = self._user(request)
        body = v.json_body(await request.body())
        product_type, product = self._product_from(body)
        if "price" not in body:
            raise error(422, "The price field is required.")
        price = v.number(body, "price", minimum=0) or 0.0
        v.opt_str(body, "justification")
        v.opt_bool(body, "send_enrollment_email")
        duration = None
        if product_type == "subscription" and ("duration_type" in body or "duration" in body):
            unit = body.get("duration_type")
            count = body.get("duration")
            if unit not in DURATION_TYPES:
                raise v.bad_enum("duration_type", DURATION_TYPES)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise error(422, "The duration field must be an integer of at least 1.")
            duration = (unit, count)
        price_value = int(price) if price == int(price) else price
        self.state.enroll(
            u, product, product_type, price_value, body.get("justification"), duration
        )
        return json_response({"success": True})

    async def unenroll(self, request: Request) -> Response:
        u = self._user(request)
        body = v.json_body(await request.body())
        product_type, product = self._product_from(body)
        self.state.unenroll(u, product_type, product.id)
        return Response(status_code=204)

    async def get_user_role(self, request: Request) -> Response:
        u = self._user(request)
        return json_response(self._user_role_json(u))

    def _user_role_json(self, u: User) -> dict[str, Any]:
        return ser.user_role_json(u, self.state.role_of(u), self.state.managed_group_ids(u))

    async def put_user_role(self, request: Request) -> Response:
        u = self._user(request)
        body = v.json_body(await request.body())
        role_id = v.req_str(body, "role_id")
        if role_id not in self.state.roles:
            raise not_found("The role does not exist.")
        courses = body.get("assigned_courses") or []
        if not isinstance(courses, list):
            raise error(422, "The assigned_courses field must be an array.")
        assigned: list[AssignedCourse] = []
        for item in courses:
            if not isinstance(item, dict) or not isinstance(item.get("course_id"), str):
                raise error(422, "Each assigned course needs a course_id.")
            if item["course_id"] not in self.state.courses:
                raise error(422, f"Unknown course: {item['course_id']}")
            share = v.number(item, "revenue_share_percentage", minimum=0) or 0
            if share > 100:
                raise error(422, "The revenue_share_percentage must be between 0 and 100.")
            assigned.append(
                AssignedCourse(item["course_id"], int(share) if share == int(share) else share)
            )
        group_ids = v.str_list(body, "assigned_user_group_ids") or []
        for gid in group_ids:
            if gid not in self.state.groups:
                raise error(422, f"Unknown user group: {gid}")
        seats = v.str_list(body, "assigned_seat_offering_ids") or []
        licenses = v.str_list(body, "assigned_licenses_ids") or []
        v.opt_str(body, "assigned_segment_id")
        u.role_id = role_id
        u.assigned_courses = assigned
        u.assigned_seat_offering_ids = seats
        u.assigned_licenses_ids = licenses
        u.assigned_segment_id = body.get("assigned_segment_id") or ""
        self.state.set_managed_groups(u, group_ids)
        return json_response(self._user_role_json(u))

    async def user_groups_of_user(self, request: Request) -> Response:
        u = self._user(request)
        items = [
            {"id": gid, "title": self.state.groups[gid].title} for gid in self.state.group_ids_of(u)
        ]
        if self.options.s1_shapes:
            return json_response(items)
        return json_response({"data": {"user_groups": items}})

    # ----- groups ----------------------------------------------------------------------------

    async def list_groups(self, request: Request) -> Response:
        page, size = self._pages(request, 20, sized=False)
        chunk, meta = paginate(self.state.groups_newest_first(), page, size)
        return json_response(envelope([self._group_json(g) for g in chunk], meta))

    def _check_group_body(self, body: dict[str, Any], *, create: bool) -> None:
        if create or "title" in body:
            v.req_str(body, "title")
        v.opt_str(body, "description")
        v.opt_bool(body, "enroll_users_on_courses")
        if create or "products" in body:
            products = body.get("products")
            if not isinstance(products, dict):
                raise error(422, 'The products field is required: {"courses": [course ids]}.')
            for cid in v.str_list(products, "courses", required=True) or []:
                if cid not in self.state.courses:
                    raise error(422, f"Unknown course: {cid}")
        if body.get("max_number_of_users") is not None:
            n = body["max_number_of_users"]
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise error(422, "The max_number_of_users field must be a positive integer.")
        for uid in v.str_list(body, "group_managers") or []:
            if uid not in self.state.users:
                raise error(422, f"Unknown group manager: {uid}")
        v.str_list(body, "tags")

    async def create_group(self, request: Request) -> Response:
        body = v.json_body(await request.body())
        self._check_group_body(body, create=True)
        return json_response(self._group_json(self.state.create_group(body)), 201)

    async def get_group(self, request: Request) -> Response:
        return json_response(
            self._group_json(self.state.group_or_404(request.path_params["group_id"]))
        )

    async def update_group(self, request: Request) -> Response:
        g = self.state.group_or_404(request.path_params["group_id"])
        body = v.json_body(await request.body())
        self._check_group_body(body, create=False)
        self.state.update_group(g, body)
        return json_response(self._group_json(g))

    async def delete_group(self, request: Request) -> Response:
        g = self.state.group_or_404(request.path_params["group_id"])
        return json_response({"async": True, "job_id": self.state.delete_group(g)}, 202)

    async def group_users(self, request: Request) -> Response:
        g = self.state.group_or_404(request.path_params["group_id"])
        users = self._member_list(request, self.state.group_member_users(g))
        if self.options.s1_shapes:
            page, size = self._pages(request, 20, sized=False)
            chunk, _ = paginate(users, page, size)
            return json_response([self._user_json(u) for u in chunk])
        if not users:
            raise not_found("Users not found")
        page, size = self._pages(request, 20, sized=False)
        chunk, meta = paginate(users, page, size)
        return json_response(envelope([self._user_json(u) for u in chunk], meta))

    async def add_group_user(self, request: Request) -> Response:
        g = self.state.group_or_404(request.path_params["group_id"])
        self.state.add_member(g, self._user(request))
        return json_response({"success": True})

    async def remove_group_user(self, request: Request) -> Response:
        g = self.state.group_or_404(request.path_params["group_id"])
        self.state.remove_member(g, self._user(request))
        return Response(status_code=204)

    async def async_action(self, request: Request) -> Response:
        job = self.state.jobs.get(request.path_params["job_id"])
        if job is None:
            raise not_found()
        return json_response(job)

    # ----- roles -----------------------------------------------------------------------------

    async def list_roles(self, request: Request) -> Response:
        q = request.query_params
        ids = set(v.csv_param(q, "role_id"))
        levels = set(v.csv_param(q, "access_level"))
        if not levels.issubset(ROLE_LEVELS):
            raise v.bad_enum("access_level", ROLE_LEVELS)
        roles = sorted(self.state.roles.values(), key=lambda r: (r.title.lower(), r.id))
        data = [
            ser.role_json(r)
            for r in roles
            if (not ids or r.id in ids) and (not levels or r.access_level in levels)
        ]
        return json_response({"data": data})

    # ----- courses and other products ----------------------------------------------------------

    async def list_courses(self, request: Request) -> Response:
        q = request.query_params
        page, size = self._pages(request, 50, sized=False)
        categories = set(v.csv_param(q, "categories"))
        access = {
            a.strip()
            for key in ("access", "access[]")
            for raw in q.getlist(key)
            for a in raw.split(",")
            if a.strip()
        }
        if not access.issubset(COURSE_ACCESS):
            raise v.bad_enum("access", COURSE_ACCESS)
        courses = sorted(self.state.courses.values(), key=lambda c: (-c.created, c.id))
        courses = [
            c
            for c in courses
            if (not categories or categories.intersection(c.categories))
            and (not access or c.access in access)
        ]
        chunk, meta = paginate(courses, page, size)
        return json_response(envelope([ser.course_json(c) for c in chunk], meta))

    async def get_course(self, request: Request) -> Response:
        return json_response(
            ser.course_json(self.state.course_or_404(request.path_params["course_id"]))
        )

    async def course_contents(self, request: Request) -> Response:
        course = self.state.course_or_404(request.path_params["course_id"])
        return json_response(ser.course_contents_json(course))

    async def course_users(self, request: Request) -> Response:
        course = self.state.course_or_404(request.path_params["course_id"])
        return self._users_page(request, self.state.course_member_users(course), 20, sized=True)

    async def list_bundles(self, request: Request) -> Response:
        page, size = self._pages(request, 20, sized=False)
        items = sorted(self.state.bundles.values(), key=lambda b: (-b.created, b.id))
        chunk, meta = paginate(items, page, size)
        return json_response(envelope([ser.bundle_json(b) for b in chunk], meta))

    async def get_bundle(self, request: Request) -> Response:
        b = self.state.bundles.get(request.path_params["bundle_id"])
        if b is None:
            raise not_found()
        return json_response(ser.bundle_json(b))

    async def list_plans(self, request: Request) -> Response:
        page, size = self._pages(request, 50, sized=False)
        items = sorted(self.state.plans.values(), key=lambda p: (-p.created, p.id))
        chunk, meta = paginate(items, page, size)
        return json_response(envelope([ser.plan_json(p) for p in chunk], meta))

    async def get_plan(self, request: Request) -> Response:
        p = self.state.plans.get(request.path_params["plan_id"])
        if p is None:
            raise not_found()
        return json_response(ser.plan_json(p))

    # ----- event logs --------------------------------------------------------------------------

    async def event_logs(self, request: Request) -> Response:
        q = request.query_params
        page, size = self._pages(request, 50, sized=False)
        activity = v.enum_param(q, "activity", ACTIVITIES)
        order = v.enum_param(q, "sort", ("asc", "desc")) or "desc"
        user = self.state.user_or_404(q["user_id"]) if q.get("user_id") else None
        events = self.state.find_events(
            user,
            activity,
            number_param(q, "created_after"),
            number_param(q, "created_before"),
            descending=order == "desc",
        )
        chunk, meta = paginate(events, page, size)
        return json_response(envelope([ser.event_json(e) for e in chunk], meta))

    # ----- wiring ------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        u = "/v2/users/{user_id}"
        g = "/v2/user_groups/{group_id}"
        table: list[tuple[str, Handler, list[str]]] = [
            ("/oauth2/access_token", self.token, ["POST"]),
            ("/v2/users", self.list_users, ["GET"]),
            ("/v2/users", self.create_user, ["POST"]),
            (u, self.get_user, ["GET"]),
            (u, self.update_user, ["PUT"]),
            (u + "/tags", self.user_tags, ["PUT"]),
            (u + "/suspend", self.suspend, ["PUT"]),
            (u + "/unsuspend", self.unsuspend, ["PUT"]),
            (u + "/courses", self.user_courses, ["GET"]),
            (u + "/products", self.user_products, ["GET"]),
            (u + "/progress", self.user_progress, ["GET"]),
            (u + "/courses/{course_id}/progress", self.user_course_progress, ["GET"]),
            (u + "/enrollment", self.enroll, ["POST"]),
            (u + "/enrollment", self.unenroll, ["DELETE"]),
            (u + "/user-role", self.get_user_role, ["GET"]),
            (u + "/user-role", self.put_user_role, ["PUT"]),
            (u + "/user-groups", self.user_groups_of_user, ["GET"]),
            ("/v2/user_groups", self.list_groups, ["GET"]),
            ("/v2/user_groups", self.create_group, ["POST"]),
            (g, self.get_group, ["GET"]),
            (g, self.update_group, ["PUT"]),
            (g, self.delete_group, ["DELETE"]),
            (g + "/users", self.group_users, ["GET"]),
            (g + "/users/{user_id}", self.add_group_user, ["POST"]),
            (g + "/users/{user_id}", self.remove_group_user, ["DELETE"]),
            ("/v2/async-actions/{job_id}", self.async_action, ["GET"]),
            ("/v2/user-roles", self.list_roles, ["GET"]),
            ("/v2/courses", self.list_courses, ["GET"]),
            ("/v2/courses/{course_id}", self.get_course, ["GET"]),
            ("/v2/courses/{course_id}/contents", self.course_contents, ["GET"]),
            ("/v2/courses/{course_id}/users", self.course_users, ["GET"]),
            ("/v2/bundles", self.list_bundles, ["GET"]),
            ("/v2/bundles/{bundle_id}", self.get_bundle, ["GET"]),
            ("/v2/subscription-plans", self.list_plans, ["GET"]),
            ("/v2/subscription-plans/{plan_id}", self.get_plan, ["GET"]),
            ("/v2/event-logs", self.event_logs, ["GET"]),
        ]
        return [Route(path, handler, methods=methods) for path, handler, methods in table]


def build_app(api: SandboxApi) -> Starlette:
    """The Starlette app; ApiError and unknown routes/methods become the documented bodies."""

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def on_http_error(request: Request, exc: Exception) -> Response:
        return not_found().response()

    return Starlette(
        routes=[Mount(BASE_PATH, routes=api.routes())],
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_error},
    )
