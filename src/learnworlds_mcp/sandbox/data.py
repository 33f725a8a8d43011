"""The deterministic generated school.

`generate_school(seed, users, now)` builds every record from one `random.Random(seed)` and
offsets from `now` — no other randomness — so the same seed, size and `now` always give the same
school (ids do not depend on `now`, only times do). The shape of the school:

- roles: the built-in ones (ids `61bb42d5e07e2027000000NN`) plus three custom ones
  ("Regional reporter", "Group manager", "Teaching assistant");
- users: realistic names and emails (company domains, personal domains, dots and `+` tags),
  created over ~3 years; a few dozen staff (admins, instructors, reporters, …) created long ago,
  some of whom have not logged in for 100–400 days, and one invited license reporter who never
  logged in; ~12 % of learners never logged in; ~2 % suspended;
- 26 courses with sections and units (access paid/free/private/draft/coming_soon/…), 3 bundles,
  2 subscription plans;
- enrollments and progress consistent with each course's units; purchases make a user "paying";
- 15 user groups: one large cohort (a few hundred members at full size, enrolled in the
  group's courses), one nearly full group,
  one empty group, managers holding the custom "Group manager" role; members carry group tags;
- event logs over the last year (registrations, logins, course visits, completions, enrollments,
  purchases, certificates, community posts).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from learnworlds_mcp.sandbox import vocab
from learnworlds_mcp.sandbox.records import (
    BILLING_KEYS,
    CUSTOM_FIELD_KEYS,
    DEFAULT_FIELD_KEYS,
    UTM_KEYS,
    AssignedCourse,
    Bundle,
    Course,
    Enrollment,
    Event,
    Group,
    Progress,
    Role,
    Section,
    SubscriptionPlan,
    Unit,
    UnitProgress,
    User,
)

DAY = 86_400.0
YEAR = 365 * DAY

BUILTIN_ROLE_PREFIX = "61bb42d5e07e2027000000"
ADMIN_ROLE_ID = BUILTIN_ROLE_PREFIX + "01"
USER_ROLE_ID = BUILTIN_ROLE_PREFIX + "02"
INSTRUCTOR_ROLE_ID = BUILTIN_ROLE_PREFIX + "04"
REPORTER_ROLE_ID = BUILTIN_ROLE_PREFIX + "05"
COURSE_CREATOR_ROLE_ID = BUILTIN_ROLE_PREFIX + "08"
SEAT_MANAGER_ROLE_ID = BUILTIN_ROLE_PREFIX + "10"
LICENSE_REPORTER_ROLE_ID = BUILTIN_ROLE_PREFIX + "12"

# Custom roles get generated ids; these are their titles.
GROUP_MANAGER_TITLE = "Group manager"
REGIONAL_REPORTER_TITLE = "Regional reporter"
TEACHING_ASSISTANT_TITLE = "Teaching assistant"


@dataclass
class SchoolData:
    """Everything generated, in generation order (the school indexes and sorts it)."""

    roles: list[Role] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    bundles: list[Bundle] = field(default_factory=list)
    plans: list[SubscriptionPlan] = field(default_factory=list)
    enrollments: list[Enrollment] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    memberships: dict[str, list[str]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


def t(x: float) -> float:
    """A time as the API sends it: a Unix float rounded to microseconds."""
    return round(x, 6)


def money(x: float) -> float:
    """A price: integral values become ints (the API drops a zero fractional part)."""
    x = round(x, 2)
    return int(x) if x == int(x) else x


class IdMaker:
    """24-hex ObjectId-like ids from the generator's rng, never repeated."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def __call__(self) -> str:
        while True:
            value = f"{self.rng.getrandbits(96):024x}"
            if value not in self.seen:
                self.seen.add(value)
                return value


def generate_school(seed: int, users: int, now: float) -> SchoolData:
    """Build the whole school from `seed`, with `users` users, times relative to `now`."""
    rng = random.Random(seed)
    new_id = IdMaker(rng)
    data = SchoolData()
    data.roles = _roles(new_id)
    roles_by_title = {r.title: r for r in data.roles}
    data.users = _users(rng, new_id, users, now)
    _assign_roles(rng, data.users, roles_by_title, now)
    staff_names = [
        u.username for u in data.users if u.role_id in (INSTRUCTOR_ROLE_ID, COURSE_CREATOR_ROLE_ID)
    ]
    data.courses = _courses(rng, new_id, staff_names, now)
    data.bundles, data.plans = _bundles_and_plans(data.courses, now)
    _assign_instructor_courses(rng, data.users, data.courses)
    data.enrollments = _enrollments(rng, data.users, data.courses, data.bundles, data.plans, now)
    data.groups, data.memberships = _groups(rng, new_id, data, roles_by_title, now)
    data.progress = _progress(rng, data.enrollments, {c.id: c for c in data.courses}, now)
    _billing(rng, data.users, data.enrollments)
    data.events = _events(rng, data, now)
    return data


def _roles(new_id: IdMaker) -> list[Role]:
    return [
        Role(ADMIN_ROLE_ID, "Admin", "Full access to the school.", "admin", False),
        Role(USER_ROLE_ID, "User", "A learner.", "user", False),
        Role(
            INSTRUCTOR_ROLE_ID,
            "Instructor",
            "Teaches assigned courses and sees their learners.",
            "instructor",
            False,
        ),
        Role(REPORTER_ROLE_ID, "Reporter", "Reads reports and analytics.", "reporter", False),
        Role(
            COURSE_CREATOR_ROLE_ID,
            "Course creator",
            "Instructor who may create and publish own courses.",
            "instructor",
            False,
        ),
        Role(
            SEAT_MANAGER_ROLE_ID,
            "Seat manager",
            "Manages the seats of a multiple-seat offering.",
            "seat_manager",
            False,
        ),
        Role(
            LICENSE_REPORTER_ROLE_ID,
            "License reporter",
            "Reads reports for the licenses assigned to them.",
            "license_reporter",
            False,
        ),
        Role(new_id(), REGIONAL_REPORTER_TITLE, "Reads reports for one segment.", "reporter", True),
        Role(
            new_id(), GROUP_MANAGER_TITLE, "Manages the members of assigned groups.", "user", True
        ),
        Role(
            new_id(),
            TEACHING_ASSISTANT_TITLE,
            "Helps instructors grade assignments.",
            "instructor",
            True,
        ),
    ]


def _email(rng: random.Random, first: str, last: str, taken: set[str]) -> tuple[str, str | None]:
    """An email in one of the usual shapes, and the company it belongs to (if any)."""
    f = _ascii(first).lower()
    last_part = _ascii(last).lower().replace(" ", "").replace("'", "")
    company: tuple[str, str, str] | None = None
    if rng.random() < 0.55:
        company = rng.choice(vocab.COMPANY_DOMAINS)
        domain = company[0]
    else:
        domain = rng.choice(vocab.PERSONAL_DOMAINS)
    shape = rng.random()
    if shape < 0.45:
        local = f"{f}.{last_part}"
    elif shape < 0.6:
        local = f"{f}.{last_part[:1]}+lw"
    elif shape < 0.7:
        local = f"{f}+{rng.choice(('courses', 'learn', 'school', 'news'))}"
    elif shape < 0.85:
        local = f"{f[:1]}{last_part}"
    else:
        local = f"{f}_{last_part}{rng.randint(1, 99)}"
    email = f"{local}@{domain}"
    n = 2
    while email.lower() in taken:
        email = f"{local}{n}@{domain}"
        n += 1
    taken.add(email.lower())
    return email, company[1] if company else None


def _ascii(text: str) -> str:
    table = str.maketrans(
        "ãáàâäçéèêëíìîïñóòôöõúùûüýşğıłńśźżćčšžřůőű",
        "aaaaaceeeeiiiinooooouuuuysgilnszzccszruou",
    )
    return text.lower().translate(table).replace("ß", "ss")


def _users(rng: random.Random, new_id: IdMaker, count: int, now: float) -> list[User]:
    taken: set[str] = set()
    users: list[User] = []
    for _ in range(count):
        first = rng.choice(vocab.FIRST_NAMES)
        last = rng.choice(vocab.LAST_NAMES)
        email, company = _email(rng, first, last, taken)
        created = now - rng.uniform(0.2 * DAY, 3 * YEAR)
        never = rng.random() < 0.12
        # Logins lean recent: most active users logged in during the last weeks.
        last_login = None if never else now - min(now - created, rng.expovariate(1 / (20 * DAY)))
        name_mode = rng.random()
        if name_mode < 0.05:
            first_name, username = "", last
        elif name_mode < 0.15:
            first_name, username = first, f"{_ascii(first)[:1]}{_ascii(last).replace(' ', '')}"
        else:
            first_name, username = first, f"{first} {last}"
        fields: dict[str, object] = dict.fromkeys(DEFAULT_FIELD_KEYS)
        fields.update(dict.fromkeys(CUSTOM_FIELD_KEYS))
        city = rng.choice(vocab.CITIES)
        if rng.random() < 0.5:
            fields["location"], fields["country"] = city[0], city[1]
        if rng.random() < 0.3:
            fields["phone"] = (
                f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(100000, 999999)}"
            )
        if company:
            fields["company"] = company
            prefix = next(p for d, c, p in vocab.COMPANY_DOMAINS if c == company)
            fields["cf_employee_code"] = f"{prefix}-{rng.randint(1, 9999):04d}"
            fields["cf_department"] = rng.choice(vocab.DEPARTMENTS)
            fields["company_size"] = rng.choice(("51-200", "201-1000", "1000+"))
        if rng.random() < 0.1:
            fields["linkedin"] = (
                f"https://www.linkedin.com/in/{_ascii(first)}-{rng.randint(1000, 9999)}"
            )
        if rng.random() < 0.05:
            fields["bio"] = f"{rng.choice(vocab.DEPARTMENTS)} professional, lifelong learner."
        utms: dict[str, str | None] = dict.fromkeys(UTM_KEYS)
        if rng.random() < 0.35:
            source, medium, campaign = rng.choice(vocab.UTM_SOURCES)
            utms.update(
                fc_utm_source=source,
                fc_utm_medium=medium,
                fc_utm_campaign=campaign,
                fc_landing="/",
                lc_landing=rng.choice(("/courses", "/pricing", "/")),
                fc_country=city[1],
            )
        nps = rng.randint(1, 10) if rng.random() < 0.1 else None
        users.append(
            User(
                id=new_id(),
                email=email,
                username=username,
                first_name=first_name,
                last_name=last,
                role_id=USER_ROLE_ID,
                created=t(created),
                last_login=None if last_login is None else t(last_login),
                subscribed_for_marketing_emails=rng.choice((True, False, False, None)),
                eu_customer=rng.choice((True, False, None)),
                is_affiliate=rng.random() < 0.03,
                signup_approval_status=rng.choices(
                    ("passed", None, "pending", "failed"), (85, 10, 4, 1)
                )[0],
                fields=fields,
                tags=sorted(rng.sample(vocab.TAGS, rng.choice((0, 0, 1, 1, 2, 3)))),
                utms=utms,
                nps_score=nps,
                nps_comment=rng.choice(vocab.NPS_COMMENTS) if nps and rng.random() < 0.5 else None,
            )
        )
    affiliates = [u.id for u in users if u.is_affiliate]
    for u in users:
        if affiliates and rng.random() < 0.04:
            u.referrer_id = rng.choice(affiliates)
    return users


def _assign_roles(
    rng: random.Random, users: list[User], roles: dict[str, Role], now: float
) -> None:
    """Give a few dozen long-standing users staff roles; suspend ~2 % of the learners."""
    n = len(users)
    plan = [
        (ADMIN_ROLE_ID, max(2, n // 150)),
        (INSTRUCTOR_ROLE_ID, max(1, n // 250)),
        (COURSE_CREATOR_ROLE_ID, max(1, n // 250)),
        (REPORTER_ROLE_ID, max(1, n // 200)),
        (SEAT_MANAGER_ROLE_ID, max(1, n // 600)),
        (LICENSE_REPORTER_ROLE_ID, max(1, n // 1000)),
        (roles[REGIONAL_REPORTER_TITLE].id, max(1, n // 500)),
        (roles[TEACHING_ASSISTANT_TITLE].id, max(1, n // 500)),
        (roles[GROUP_MANAGER_TITLE].id, max(3, min(10, n // 200))),
    ]
    order = sorted(range(n), key=lambda i: users[i].created)  # oldest first
    pool = order[: max(1, int(n * 0.6))]
    rng.shuffle(pool)
    staff: set[int] = set()
    invited = False
    for role_id, count in plan:
        for _ in range(count):
            if not pool:
                break
            i = pool.pop()
            staff.add(i)
            u = users[i]
            u.role_id = role_id
            # Staff were created long ago; some have not logged in for 100–400 days.
            u.created = t(min(u.created, now - rng.uniform(1.3 * YEAR, 3 * YEAR)))
            if rng.random() < 0.3:
                u.last_login = t(now - rng.uniform(100 * DAY, 400 * DAY))
            elif u.last_login is None:
                u.last_login = t(now - rng.uniform(0.1 * DAY, 30 * DAY))
            if role_id == LICENSE_REPORTER_ROLE_ID and not invited:
                u.last_login = None  # invited as a license reporter, never logged in
                invited = True
    if order:
        owner = users[order[0]]  # the oldest account is the owner: an admin
        owner.role_id = ADMIN_ROLE_ID
        staff.add(order[0])
    learners = [i for i in range(n) if i not in staff]
    for i in rng.sample(learners, min(len(learners), max(2, n // 50)) if n >= 10 else 0):
        users[i].is_suspended = True


def _courses(rng: random.Random, new_id: IdMaker, authors: list[str], now: float) -> list[Course]:
    courses: list[Course] = []
    for slug, title, categories, access in vocab.COURSES:
        created = now - rng.uniform(30 * DAY, 3 * YEAR)
        if access == "paid":
            original = float(rng.choice((49, 79, 99, 149, 199, 249, 499)))
            discount = round(original * rng.choice((1, 1, 0.8, 0.66)), 0)
        else:
            original = discount = 0.0
        sections: list[Section] = []
        for s in range(rng.randint(2, 4)):
            units: list[Unit] = []
            for _ in range(rng.randint(2, 5)):
                kind = rng.choice(vocab.UNIT_TYPES)
                duration = rng.randint(120, 1800) if kind in ("ivideo", "video", "audio") else None
                units.append(Unit(new_id(), f"{title} – lesson {len(units) + 1}", kind, duration))
            sections.append(Section(new_id(), f"Part {s + 1}", "public", units))
        courses.append(
            Course(
                id=slug,
                title=title,
                access=access,
                categories=list(categories),
                description=f"{title}: a practical course for busy professionals."
                if rng.random() < 0.8
                else None,
                label=rng.choice((None, None, "new", "bestseller")),
                author_name=rng.choice(authors) if authors and rng.random() < 0.85 else None,
                original_price=money(original),
                discount_price=money(discount),
                final_price=money(discount if discount else original),
                drip_feed=rng.choice(("none", "none", "days", "date")),
                expires=rng.choice((None, None, None, 12, 52)),
                expires_type=rng.choice(("days", "weeks", "months")),
                created=t(created),
                modified=t(created + rng.uniform(0, now - created)),
                sections=sections,
            )
        )
    return courses


def _bundles_and_plans(
    courses: list[Course], now: float
) -> tuple[list[Bundle], list[SubscriptionPlan]]:
    bundles = [
        Bundle(
            slug,
            title,
            f"{title} bundle.",
            list(ids),
            money(199 + 100 * i),
            "public",  # the spec's bundle access values: draft, public
            t(now - (400 - 50 * i) * DAY),
            t(now - (40 - 5 * i) * DAY),
        )
        for i, (slug, title, ids) in enumerate(vocab.BUNDLES)
    ]
    paid = [c.id for c in courses if c.access == "paid"]
    plans = [
        SubscriptionPlan(
            slug,
            title,
            "Every paid course while subscribed.",
            paid,
            money(price),
            interval,
            interval_type,
            14 if interval_type == "month" else 0,
            "public",  # the spec's plan access values: private, public, soon, view-locked
            t(now - (500 - 20 * i) * DAY),
            t(now - (60 - 10 * i) * DAY),
        )
        for i, (slug, title, interval, interval_type, price) in enumerate(vocab.PLANS)
    ]
    return bundles, plans


def _assign_instructor_courses(
    rng: random.Random, users: list[User], courses: list[Course]
) -> None:
    for u in users:
        if u.role_id in (INSTRUCTOR_ROLE_ID, COURSE_CREATOR_ROLE_ID):
            for c in rng.sample(courses, rng.randint(1, 3)):
                share = float(rng.choice((0, 10, 20, 30)))
                u.assigned_courses.append(AssignedCourse(c.id, money(share)))


def _enroll(
    enrollments: list[Enrollment],
    seen: set[tuple[str, str, str]],
    e: Enrollment,
) -> None:
    key = (e.user_id, e.product_type, e.product_id)
    if key not in seen:
        seen.add(key)
        enrollments.append(e)


def _enrollments(
    rng: random.Random,
    users: list[User],
    courses: list[Course],
    bundles: list[Bundle],
    plans: list[SubscriptionPlan],
    now: float,
) -> list[Enrollment]:
    out: list[Enrollment] = []
    seen: set[tuple[str, str, str]] = set()
    open_courses = [c for c in courses if c.access not in ("draft", "coming_soon")]
    weights = [4 if c.access == "free" else 2 if c.access == "paid" else 1 for c in open_courses]
    for u in users:
        for course in {
            c.id: c
            for c in rng.choices(open_courses, weights, k=rng.choice((0, 1, 1, 2, 2, 3, 4, 5)))
        }.values():
            created = t(rng.uniform(u.created, now))
            bought = course.access == "paid" and rng.random() < 0.7
            expires = t(created + rng.choice((180, 365)) * DAY) if rng.random() < 0.1 else None
            _enroll(
                out,
                seen,
                Enrollment(
                    u.id,
                    course.id,
                    "course",
                    created,
                    expires,
                    course.final_price if bought else 0,
                    None if bought else rng.choice(("Added by admin", "Scholarship", None)),
                ),
            )
        extra = rng.random()
        product: Bundle | SubscriptionPlan | None = None
        if extra < 0.03:
            product = rng.choice(bundles)
            kind = "bundle"
        elif extra < 0.06:
            product = rng.choice(plans)
            kind = "subscription"
        if product is not None:
            created = t(rng.uniform(u.created, now))
            expires = t(created + 30 * DAY) if kind == "subscription" else None
            _enroll(
                out, seen, Enrollment(u.id, product.id, kind, created, expires, product.price, None)
            )
            for cid in product.course_ids:
                _enroll(
                    out,
                    seen,
                    Enrollment(u.id, cid, "course", created, expires, 0, None, via=product.id),
                )
    return out


def _groups(
    rng: random.Random,
    new_id: IdMaker,
    data: SchoolData,
    roles: dict[str, Role],
    now: float,
) -> tuple[list[Group], dict[str, list[str]]]:
    managers = [u for u in data.users if u.role_id == roles[GROUP_MANAGER_TITLE].id]
    learners = [
        u for u in data.users if u.role_id == USER_ROLE_ID and not u.is_suspended
    ] or data.users
    n = len(data.users)
    groups: list[Group] = []
    members: dict[str, list[str]] = {}
    enrolled = {(e.user_id, e.product_id) for e in data.enrollments if e.product_type == "course"}
    course_ids = [c.id for c in data.courses if c.access not in ("draft", "coming_soon")]
    for i, (title, description, tags) in enumerate(vocab.GROUPS):
        if i == 0:
            size = min(300, max(5, n // 8))  # the big cohort
        elif title.startswith("Archived"):
            size = 0  # the empty group
        else:
            size = min(len(learners), rng.randint(3, max(4, min(40, n // 20))))
        size = min(size, len(learners))
        capacity: int | None = rng.choice((None, None, size + rng.randint(5, 50)))
        if title.startswith("Wayne"):
            capacity = size + 1  # nearly full: one seat left
        created = t(now - rng.uniform(20 * DAY, 2.5 * YEAR))
        group = Group(
            id=new_id(),
            title=title,
            description=description,
            course_ids=rng.sample(course_ids, rng.randint(1, 3)),
            max_number_of_users=capacity,
            # The big cohort enrolls its members in its courses (the roll is kept for the seed).
            enroll_users_on_courses=rng.random() < 0.6 or i == 0,
            manager_ids=[
                m.id for m in rng.sample(managers, min(len(managers), rng.choice((0, 1, 1, 2))))
            ],
            tags=list(tags),
            created=created,
            modified=t(created + rng.uniform(0, now - created)),
        )
        chosen = rng.sample(learners, size)
        members[group.id] = [u.id for u in chosen]
        for u in chosen:
            u.tags = sorted(set(u.tags) | set(group.tags))
            if group.enroll_users_on_courses:
                for cid in group.course_ids:
                    if (u.id, cid) not in enrolled:
                        enrolled.add((u.id, cid))
                        data.enrollments.append(
                            Enrollment(
                                u.id,
                                cid,
                                "course",
                                t(max(u.created, created)),
                                None,
                                0,
                                f"Added via user group {title}",
                            )
                        )
        groups.append(group)
    return groups, members


def _progress(
    rng: random.Random,
    enrollments: list[Enrollment],
    courses: dict[str, Course],
    now: float,
) -> list[Progress]:
    out: list[Progress] = []
    for e in enrollments:
        if e.product_type != "course":
            continue
        course = courses[e.product_id]
        units = course.units
        roll = rng.random()
        done = 0 if roll < 0.25 else len(units) if roll > 0.75 else rng.randint(1, len(units) - 1)
        per_unit: dict[str, UnitProgress] = {}
        for k, (_section, unit) in enumerate(units):
            completed = k < done
            time_on = rng.randint(60, (unit.duration or 600) * 2) if completed else 0
            score = float(rng.randint(40, 100)) if completed and unit.type == "assessment" else None
            per_unit[unit.id] = UnitProgress(completed, time_on, score)
        completed_at = t(rng.uniform(e.created, now)) if done == len(units) else None
        out.append(Progress(e.user_id, course.id, per_unit, completed_at))
    return out


def _billing(rng: random.Random, users: list[User], enrollments: list[Enrollment]) -> None:
    paying = {e.user_id for e in enrollments if e.price > 0}
    for u in users:
        if u.id in paying:
            city, country, postal = rng.choice(vocab.CITIES)
            info: dict[str, str | None] = dict.fromkeys(BILLING_KEYS)
            info.update(
                bf_name=f"{u.first_name} {u.last_name}".strip(),
                bf_address=f"{rng.randint(1, 200)} Main Street",
                bf_city=city,
                bf_postalcode=postal,
                bf_country=country,
                bf_taxid=f"{country}{rng.randint(100000000, 999999999)}"
                if rng.random() < 0.3
                else None,
            )
            u.billing_info = info


def _events(rng: random.Random, data: SchoolData, now: float) -> list[Event]:
    since = now - YEAR
    users = {u.id: u for u in data.users}
    courses = {c.id: c for c in data.courses}
    titles = {c.id: c.title for c in data.courses}
    titles.update({b.id: b.title for b in data.bundles})
    titles.update({p.id: p.title for p in data.plans})
    out: list[Event] = []

    def add(
        u: User,
        when: float,
        activity: str,
        what: str,
        kind: str | None,
        info: dict[str, object] | None = None,
    ) -> None:
        if since <= when <= now:
            out.append(
                Event(u.id, u.username, t(when), activity, f"{u.username} {what}", kind, info)
            )

    for u in data.users:
        add(u, u.created, "register", "registered to the school", "user")
        if u.last_login is not None:
            for k in range(rng.randint(1, 4)):
                when = u.last_login if k == 0 else rng.uniform(max(u.created, since), u.last_login)
                add(u, when, "login", "logged in", "user")
            if rng.random() < 0.2:
                add(u, u.last_login + rng.uniform(60, 7200), "logout", "logged out", "user")
        if rng.random() < 0.05:
            what = rng.choice(("post", "post_comment", "post_like", "follow"))
            add(
                u,
                rng.uniform(max(u.created, since), now),
                what,
                f"did a community {what}",
                "social",
            )
    for e in data.enrollments:
        u = users[e.user_id]
        info = {
            "product_id": e.product_id,
            "product_type": e.product_type,
            "price": e.price,
            "justification": e.justification,
            "is_manual": e.price == 0,
        }
        if e.via is None:
            if e.price > 0:
                add(u, e.created, "purchase", f"purchased {titles[e.product_id]}", "purchase", info)
            else:
                add(
                    u,
                    e.created,
                    "manual_enrollment",
                    f"was enrolled in {titles[e.product_id]}",
                    "user",
                    info,
                )
    for p in data.progress:
        u = users[p.user_id]
        course = courses[p.course_id]
        info = {"course_id": course.id, "course_title": course.title}
        if any(x.completed for x in p.units.values()):
            add(
                u,
                rng.uniform(max(u.created, since), now),
                "visit_course",
                f"visited {course.title}",
                "user",
                info,
            )
        if p.completed_at is not None:
            add(u, p.completed_at, "complete_course", f"completed {course.title}", "award", info)
            if rng.random() < 0.5:
                add(
                    u,
                    p.completed_at + 5,
                    "award_certificate",
                    f"was awarded a certificate for {course.title}",
                    "award",
                    info,
                )
    out.sort(key=lambda ev: ev.created)
    return out
