"""The school's mutable state: records, indexes, look-ups and the writes the API can make.

Everything the HTTP handlers change goes through a method here, so indexes stay consistent and
tests can read the same state directly. Conflicts raise `ApiError` with the answer the API gives.
Decisions where the documentation is silent (also listed in the package docstring):

- Duplicate email on create/update → 400 `{"error": ...}`.
- `PUT /v2/users/{id}` with `tags` replaces the whole tag set; `fields` and `utms` are merged.
- Enrolling in a bundle or subscription plan also enrolls in each of its courses (recorded with
  `via`); unenrolling it removes those course enrollments again (not courses enrolled directly).
- A manual enrollment logs a `manual_enrollment` event (a paid one `purchase`); with a price > 0
  the user counts as paying.
- Group managers are stored on the group (`Group.manager_ids`); a user's
  `assigned_user_group_ids` is derived from them, and `PUT user-role` rewrites them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from learnworlds_mcp.sandbox.data import (
    ADMIN_ROLE_ID,
    DAY,
    USER_ROLE_ID,
    IdMaker,
    SchoolData,
    t,
)
from learnworlds_mcp.sandbox.errors import error, not_found
from learnworlds_mcp.sandbox.records import (
    ENROLLMENT_ACTIVITIES,
    UTM_KEYS,
    Bundle,
    Course,
    Enrollment,
    Event,
    Group,
    Progress,
    Role,
    SubscriptionPlan,
    UnitProgress,
    User,
)

Product = Course | Bundle | SubscriptionPlan


class SchoolState:
    """Indexed records of one school. `now()` gives the time stamped on writes."""

    def __init__(self, data: SchoolData, now: Callable[[], float], seed: int) -> None:
        self.now = now
        self.new_id = IdMaker(random.Random(seed * 7919 + 1))
        self.roles: dict[str, Role] = {r.id: r for r in data.roles}
        self.users: dict[str, User] = {u.id: u for u in data.users}
        self.new_id.seen.update(self.users)
        self._by_email: dict[str, User] = {u.email.lower(): u for u in data.users}
        self._newest_first: list[User] | None = None
        self.courses: dict[str, Course] = {c.id: c for c in data.courses}
        self.bundles: dict[str, Bundle] = {b.id: b for b in data.bundles}
        self.plans: dict[str, SubscriptionPlan] = {p.id: p for p in data.plans}
        self.groups: dict[str, Group] = {g.id: g for g in data.groups}
        self.new_id.seen.update(self.groups)
        self.members: dict[str, dict[str, None]] = {
            gid: dict.fromkeys(ids) for gid, ids in data.memberships.items()
        }
        self.enrollments: dict[str, dict[tuple[str, str], Enrollment]] = {}
        self.course_users: dict[str, dict[str, None]] = {c: {} for c in self.courses}
        for e in data.enrollments:
            self._store_enrollment(e)
        self.progress: dict[tuple[str, str], Progress] = {
            (p.user_id, p.course_id): p for p in data.progress
        }
        self.events: list[Event] = list(data.events)
        self.jobs: dict[str, dict[str, Any]] = {}

    # ----- look-ups -------------------------------------------------------------------------

    def find_user(self, ref: str) -> User | None:
        """The one id/email resolver: a 24-hex id, or an email matched case-insensitively."""
        return self.users.get(ref) or self._by_email.get(ref.strip().lower())

    def user_or_404(self, ref: str, *, include_suspended: bool = True) -> User:
        u = self.find_user(ref)
        if u is None or (u.is_suspended and not include_suspended):
            raise not_found()
        return u

    def group_or_404(self, group_id: str) -> Group:
        g = self.groups.get(group_id)
        if g is None:
            raise not_found()
        return g

    def course_or_404(self, course_id: str) -> Course:
        c = self.courses.get(course_id)
        if c is None:
            raise not_found()
        return c

    def role_of(self, u: User) -> Role:
        return self.roles[u.role_id]

    def users_newest_first(self) -> list[User]:
        """All users (suspended included), newest-created first; cached until a user is added."""
        if self._newest_first is None:
            self._newest_first = sorted(self.users.values(), key=lambda u: (-u.created, u.id))
        return self._newest_first

    def product(self, product_type: str, product_id: str) -> Product | None:
        if product_type == "course":
            return self.courses.get(product_id)
        if product_type == "bundle":
            return self.bundles.get(product_id)
        return self.plans.get(product_id)

    def product_titles(self) -> dict[str, str]:
        titles = {c.id: c.title for c in self.courses.values()}
        titles.update({b.id: b.title for b in self.bundles.values()})
        titles.update({p.id: p.title for p in self.plans.values()})
        return titles

    def is_paying(self, u: User) -> bool:
        return any(e.price > 0 for e in self.enrollments.get(u.id, {}).values())

    def user_enrollments(self, u: User, product_type: str | None = None) -> list[Enrollment]:
        """A user's enrollments, newest first."""
        items = [
            e
            for e in self.enrollments.get(u.id, {}).values()
            if product_type is None or e.product_type == product_type
        ]
        return sorted(items, key=lambda e: (-e.created, e.product_id))

    def is_enrolled(self, u: User, course_id: str) -> bool:
        return ("course", course_id) in self.enrollments.get(u.id, {})

    def group_ids_of(self, u: User) -> list[str]:
        """Groups the user is a member of, newest group first."""
        return [g.id for g in self.groups_newest_first() if u.id in self.members.get(g.id, {})]

    def managed_group_ids(self, u: User) -> list[str]:
        return [g.id for g in self.groups_newest_first() if u.id in g.manager_ids]

    def groups_newest_first(self) -> list[Group]:
        return sorted(self.groups.values(), key=lambda g: (-g.created, g.id))

    def managers_of(self, g: Group) -> list[User]:
        return [self.users[m] for m in g.manager_ids if m in self.users]

    def group_member_users(self, g: Group) -> list[User]:
        """Members, newest-created user first (as the API orders them)."""
        members = [self.users[i] for i in self.members.get(g.id, {}) if i in self.users]
        return sorted(members, key=lambda u: (-u.created, u.id))

    def course_member_users(self, c: Course) -> list[User]:
        users = [self.users[i] for i in self.course_users.get(c.id, {}) if i in self.users]
        return sorted(users, key=lambda u: (-u.created, u.id))

    # ----- users ------------------------------------------------------------------------------

    def create_user(self, body: dict[str, Any], field_keys: tuple[str, ...]) -> User:
        email = body["email"].strip()
        if email.lower() in self._by_email:
            raise error(400, "A user with this email already exists.")
        now = t(self.now())
        fields: dict[str, Any] = dict.fromkeys(field_keys)
        fields.update(body.get("fields") or {})
        u = User(
            id=self.new_id(),
            email=email,
            username=body["username"],
            first_name=body.get("first_name") or "",
            last_name=body.get("last_name") or "",
            role_id=ADMIN_ROLE_ID if body.get("is_admin") else USER_ROLE_ID,
            created=now,
            last_login=None,
            subscribed_for_marketing_emails=body.get("subscribed_for_marketing_emails"),
            fields=fields,
            tags=_unique(body.get("tags") or []),
        )
        u.utms.update(dict.fromkeys(UTM_KEYS))
        u.utms.update(body.get("utms") or {})
        self.users[u.id] = u
        self._by_email[email.lower()] = u
        self._newest_first = None
        self.log_event(u, "register", "registered to the school", "user")
        return u

    def update_user(self, u: User, body: dict[str, Any]) -> None:
        if "email" in body:
            email = body["email"].strip()
            other = self._by_email.get(email.lower())
            if other is not None and other is not u:
                raise error(400, "A user with this email already exists.")
            del self._by_email[u.email.lower()]
            u.email = email
            self._by_email[email.lower()] = u
        for key in ("username", "first_name", "last_name", "subscribed_for_marketing_emails"):
            if key in body:
                setattr(u, key, body[key])
        if "is_admin" in body:
            if body["is_admin"]:
                u.role_id = ADMIN_ROLE_ID
            elif self.role_of(u).access_level == "admin":
                u.role_id = USER_ROLE_ID
        if "fields" in body:
            u.fields.update(body["fields"])
        if "utms" in body:
            u.utms.update(body["utms"])
        if "tags" in body:
            u.tags = _unique(body["tags"])

    def change_tags(self, u: User, tags: list[str], action: str) -> None:
        if action == "attach":
            u.tags = _unique([*u.tags, *tags])
        else:
            drop = set(tags)
            u.tags = [x for x in u.tags if x not in drop]

    # ----- enrollments ---------------------------------------------------------------------

    def _store_enrollment(self, e: Enrollment) -> None:
        self.enrollments.setdefault(e.user_id, {})[(e.product_type, e.product_id)] = e
        if e.product_type == "course":
            self.course_users.setdefault(e.product_id, {})[e.user_id] = None

    def enroll(
        self,
        u: User,
        product: Product,
        product_type: str,
        price: float,
        justification: str | None,
        duration: tuple[str, int] | None = None,
    ) -> None:
        """Enroll `u` in `product` (already validated). 400 if already enrolled."""
        held = self.enrollments.setdefault(u.id, {})
        if (product_type, product.id) in held:
            raise error(400, "The user is already enrolled in this product.")
        now = t(self.now())
        expires = None
        if duration is not None:
            unit, count = duration
            expires = t(now + count * {"days": 1, "weeks": 7, "months": 30}[unit] * DAY)
        self._store_enrollment(
            Enrollment(u.id, product.id, product_type, now, expires, price, justification)
        )
        if isinstance(product, Course):
            self._start_progress(u, product.id)
        else:
            for cid in product.course_ids:
                if ("course", cid) not in held:
                    self._store_enrollment(
                        Enrollment(u.id, cid, "course", now, expires, 0, justification, product.id)
                    )
                self._start_progress(u, cid)
        info = {
            "product_id": product.id,
            "product_type": product_type,
            "price": price,
            "justification": justification,
            "is_manual": True,
        }
        if price > 0:
            self.log_event(u, "purchase", f"purchased {product.title}", "purchase", info)
        else:
            self.log_event(u, "manual_enrollment", f"was enrolled in {product.title}", "user", info)

    def _start_progress(self, u: User, course_id: str) -> None:
        course = self.courses[course_id]
        if (u.id, course_id) not in self.progress:
            self.progress[(u.id, course_id)] = Progress(
                u.id, course_id, {unit.id: UnitProgress(False, 0, None) for _, unit in course.units}
            )

    def unenroll(self, u: User, product_type: str, product_id: str) -> None:
        held = self.enrollments.get(u.id, {})
        if held.pop((product_type, product_id), None) is None:
            raise error(400, "The user is not enrolled in this product.")
        if product_type == "course":
            self.course_users.get(product_id, {}).pop(u.id, None)
        else:
            for key, e in list(held.items()):
                if e.via == product_id:
                    del held[key]
                    self.course_users.get(e.product_id, {}).pop(u.id, None)

    # ----- groups ---------------------------------------------------------------------------

    def add_member(self, g: Group, u: User) -> None:
        members = self.members.setdefault(g.id, {})
        if u.id in members:
            raise error(400, "The user already belongs to this group.")
        if g.max_number_of_users is not None and len(members) >= g.max_number_of_users:
            raise error(400, "The group has reached its maximum number of users.")
        members[u.id] = None
        u.tags = _unique([*u.tags, *g.tags])
        if g.enroll_users_on_courses:
            for cid in g.course_ids:
                course = self.courses.get(cid)
                if course is not None and not self.is_enrolled(u, cid):
                    self.enroll(u, course, "course", 0, f"Added via user group {g.title}")

    def remove_member(self, g: Group, u: User) -> None:
        members = self.members.get(g.id, {})
        if u.id not in members:
            raise error(400, "The user does not belong to this group.")
        del members[u.id]

    def create_group(self, body: dict[str, Any]) -> Group:
        now = t(self.now())
        g = Group(
            id=self.new_id(),
            title=body["title"],
            description=body.get("description") or "",
            course_ids=list(body["products"]["courses"]),
            max_number_of_users=body.get("max_number_of_users"),
            enroll_users_on_courses=bool(body.get("enroll_users_on_courses", False)),
            manager_ids=list(body.get("group_managers") or []),
            tags=_unique(body.get("tags") or []),
            created=now,
            modified=now,
        )
        self.groups[g.id] = g
        self.members[g.id] = {}
        return g

    def update_group(self, g: Group, body: dict[str, Any]) -> None:
        for key in ("title", "description", "max_number_of_users", "enroll_users_on_courses"):
            if key in body:
                setattr(g, key, body[key])
        if "products" in body:
            g.course_ids = list(body["products"]["courses"])
        if "group_managers" in body:
            g.manager_ids = list(body["group_managers"])
        if "tags" in body:
            g.tags = _unique(body["tags"])
        g.modified = t(self.now())

    def delete_group(self, g: Group) -> str:
        """Delete at once; return the id of the (already completed) async job."""
        del self.groups[g.id]
        self.members.pop(g.id, None)
        job_id = self.new_id()
        self.jobs[job_id] = {
            "action": "delete-user-group",
            "state": "completed",
            "errors": [],
            "results": {"user_group_id": g.id},
        }
        return job_id

    def set_managed_groups(self, u: User, group_ids: list[str]) -> None:
        wanted = set(group_ids)
        for g in self.groups.values():
            if g.id in wanted and u.id not in g.manager_ids:
                g.manager_ids.append(u.id)
            elif g.id not in wanted and u.id in g.manager_ids:
                g.manager_ids.remove(u.id)

    # ----- events ---------------------------------------------------------------------------

    def log_event(
        self,
        u: User,
        activity: str,
        what: str,
        kind: str | None,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.events.append(
            Event(u.id, u.username, t(self.now()), activity, f"{u.username} {what}", kind, info)
        )

    def find_events(
        self,
        user: User | None,
        activity: str | None,
        after: float | None,
        before: float | None,
        descending: bool,
    ) -> list[Event]:
        if activity == "enrollment":
            wanted: frozenset[str] | None = ENROLLMENT_ACTIVITIES
        else:
            wanted = None if activity is None else frozenset({activity})
        out = [
            e
            for e in self.events
            if (user is None or e.user_id == user.id)
            and (wanted is None or e.activity in wanted)
            and (after is None or e.created >= after)
            and (before is None or e.created <= before)
        ]
        out.sort(key=lambda e: e.created, reverse=descending)
        return out


def _unique(items: list[str]) -> list[str]:
    """Tags in first-seen order, without duplicates or blanks."""
    return list(dict.fromkeys(x.strip() for x in items if isinstance(x, str) and x.strip()))
