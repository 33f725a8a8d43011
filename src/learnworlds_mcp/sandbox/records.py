"""The sandbox school's stored records and the vocabularies the API enumerates.

Records are plain mutable dataclasses: the school keeps them in memory and changes them in place
when a write arrives. All times are Unix floats (seconds, rounded to microseconds), as the API
sends them. What the API *derives* (a user's `is_admin`, a group's `group_managers` objects, a
progress's rates) is computed by the serializers from these records, so it can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLE_LEVELS = ("admin", "instructor", "reporter", "seat_manager", "license_reporter", "user")
"""Every `access_level` a role can have (S2)."""

USER_ROLE_FILTERS = ("user", "admin", "instructor", "reporter", "license_reporter")
"""The values `GET /v2/users?role=` accepts (S2)."""

USER_STATUSES = ("paying", "non_paying", "suspended", "never_logged_in")
"""The values `GET /v2/users?status=` accepts."""

COURSE_ACCESS = ("paid", "free", "coming_soon", "enrollment_closed", "private", "draft")
PRODUCT_TYPES = ("course", "bundle", "subscription")
DURATION_TYPES = ("months", "weeks", "days")

DEFAULT_FIELD_KEYS = (
    "bio",
    "location",
    "url",
    "fb",
    "twitter",
    "instagram",
    "linkedin",
    "skype",
    "behance",
    "dribbble",
    "github",
    "phone",
    "address",
    "country",
    "birthday",
    "company",
    "company_size",
    "university",
    "graduation_year",
)
"""The 19 default sign-up fields every user carries (null when empty)."""

CUSTOM_FIELD_KEYS = ("cf_employee_code", "cf_department")
"""The school's custom sign-up fields (filterable as `cf_<name>=` on the users list)."""

UTM_KEYS = tuple(
    f"{prefix}_{name}"
    for prefix in ("fc", "lc")
    for name in (
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "landing",
        "referrer",
        "country",
    )
)
"""The 16 first-/last-click attribution keys of `utms`."""

BILLING_KEYS = ("bf_name", "bf_address", "bf_city", "bf_postalcode", "bf_country", "bf_taxid")

ACTIVITIES = (
    "register",
    "login",
    "logout",
    "purchase",
    "manual_enrollment",
    "drip_feed_section_unlocked",
    "subscription_signup",
    "subscription_trial",
    "subscription_trial_expired",
    "subscription_changed",
    "subscription_renewal",
    "subscription_cancelled",
    "subscription_scheduled_cancellation",
    "subscription_reactivated",
    "failed_purchase",
    "new_affiliate",
    "new_affiliate_manual",
    "affiliate_deactivated",
    "affiliate_payout",
    "follow",
    "post",
    "post_comment",
    "post_like",
    "award_certificate",
    "visit_course",
    "complete_course",
    "installment_paid",
    "payment_plan_completed",
    "payment_plan_canceled",
    "payment_failed",
    "sca_related_events",
    "session_scheduled",
    "session_attended",
    "session_manually_attended",
    "group_session_scheduled",
    "group_session_attended",
    "group_session_manually_attended",
    "enrollment",
)
"""Every value the event-logs `activity` filter accepts (S1 list plus S2's `enrollment`)."""

ENROLLMENT_ACTIVITIES = frozenset({"manual_enrollment", "purchase", "enrollment"})
"""What `activity=enrollment` matches: S2 defines it as "all enrollment events"."""


@dataclass
class Role:
    id: str
    title: str
    description: str
    access_level: str
    custom_role: bool


@dataclass
class AssignedCourse:
    course_id: str
    revenue_share_percentage: float


@dataclass
class User:
    id: str
    email: str
    username: str
    first_name: str
    last_name: str
    role_id: str
    created: float
    last_login: float | None
    is_suspended: bool = False
    subscribed_for_marketing_emails: bool | None = None
    eu_customer: bool | None = None
    is_affiliate: bool = False
    referrer_id: str | None = None
    signup_approval_status: str | None = "passed"
    fields: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    utms: dict[str, str | None] = field(default_factory=dict)
    billing_info: dict[str, str | None] | None = None
    nps_score: int | None = None
    nps_comment: str | None = None
    # Role assignments (GET/PUT /v2/users/{id}/user-role). Group-manager assignments live on the
    # groups (`Group.manager_ids`), the single source of truth for both directions.
    assigned_courses: list[AssignedCourse] = field(default_factory=list)
    assigned_seat_offering_ids: list[str] = field(default_factory=list)
    assigned_segment_id: str = ""
    assigned_licenses_ids: list[str] = field(default_factory=list)


@dataclass
class Unit:
    id: str
    title: str
    type: str
    duration: int | None


@dataclass
class Section:
    id: str
    title: str
    access: str
    units: list[Unit]


@dataclass
class Course:
    id: str
    title: str
    access: str
    categories: list[str]
    description: str | None
    label: str | None
    author_name: str | None
    original_price: float
    discount_price: float
    final_price: float
    drip_feed: str
    expires: int | None
    expires_type: str
    created: float
    modified: float
    sections: list[Section] = field(default_factory=list)

    @property
    def units(self) -> list[tuple[Section, Unit]]:
        return [(s, u) for s in self.sections for u in s.units]


@dataclass
class Bundle:
    id: str
    title: str
    description: str
    course_ids: list[str]
    price: float
    access: str
    created: float
    modified: float


@dataclass
class SubscriptionPlan:
    id: str
    title: str
    description: str
    course_ids: list[str]
    price: float
    interval: int
    interval_type: str
    trial_period_days: int
    access: str
    created: float
    modified: float


@dataclass
class Enrollment:
    """A user holding a product. Course enrollments made through a bundle or plan name it in `via`."""

    user_id: str
    product_id: str
    product_type: str
    created: float
    expires: float | None
    price: float
    justification: str | None
    via: str | None = None


@dataclass
class UnitProgress:
    completed: bool
    time_on_unit: int
    score: float | None


@dataclass
class Progress:
    user_id: str
    course_id: str
    units: dict[str, UnitProgress]
    completed_at: float | None = None


@dataclass
class Group:
    id: str
    title: str
    description: str
    course_ids: list[str]
    max_number_of_users: int | None
    enroll_users_on_courses: bool
    manager_ids: list[str]
    tags: list[str]
    created: float
    modified: float


@dataclass
class Event:
    user_id: str
    username: str
    created: float
    activity: str
    description: str
    type: str | None
    additional_info: dict[str, Any] | None
