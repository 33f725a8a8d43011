"""Records → the exact JSON objects the API returns (key order follows the spec examples)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from learnworlds_mcp.sandbox.records import (
    Bundle,
    Course,
    Event,
    Group,
    Progress,
    Role,
    SubscriptionPlan,
    User,
)


def user_json(u: User, role: Role) -> dict[str, Any]:
    """The User object (§5.1). `is_admin`/`is_instructor`/`is_reporter` follow the role level."""
    return {
        "id": u.id,
        "email": u.email,
        "username": u.username,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "subscribed_for_marketing_emails": u.subscribed_for_marketing_emails,
        "eu_customer": u.eu_customer,
        "is_admin": role.access_level == "admin",
        "is_instructor": role.access_level == "instructor",
        "is_suspended": u.is_suspended,
        "is_reporter": role.access_level == "reporter",
        "role": {"level": role.access_level, "name": role.title},
        "is_affiliate": u.is_affiliate,
        "referrer_id": u.referrer_id,
        "created": u.created,
        "last_login": u.last_login,
        "signup_approval_status": u.signup_approval_status,
        "fields": dict(u.fields),
        "tags": list(u.tags),
        "utms": dict(u.utms),
        "billing_info": None if u.billing_info is None else dict(u.billing_info),
        "nps_score": u.nps_score,
        "nps_comment": u.nps_comment,
    }


def role_json(r: Role) -> dict[str, Any]:
    return {
        "id": r.id,
        "title": r.title,
        "description": r.description,
        "access_level": r.access_level,
        "custom_role": r.custom_role,
    }


def user_role_json(u: User, role: Role, group_ids: list[str]) -> dict[str, Any]:
    """UserRoleUserResponse (§5.4), S2 flavour (with `assigned_licenses_ids`)."""
    return {
        "id": u.id,
        "email": u.email,
        "username": u.username,
        "role_id": role.id,
        "user_role": {"id": role.id, "access_level": role.access_level, "name": role.title},
        "assigned_courses": [
            {"course_id": a.course_id, "revenue_share_percentage": a.revenue_share_percentage}
            for a in u.assigned_courses
        ],
        "assigned_seat_offering_ids": list(u.assigned_seat_offering_ids),
        "assigned_user_group_ids": list(group_ids),
        "assigned_segment_id": u.assigned_segment_id,
        "assigned_licenses_ids": list(u.assigned_licenses_ids),
    }


def group_json(g: Group, managers: Iterable[User]) -> dict[str, Any]:
    """UserGroupResponse (§5.2); `managers` are the users named by `g.manager_ids`."""
    return {
        "id": g.id,
        "title": g.title,
        "description": g.description,
        "products": {"courses": list(g.course_ids)},
        "max_number_of_users": g.max_number_of_users,
        "enroll_users_on_courses": g.enroll_users_on_courses,
        "group_managers": [
            {"id": m.id, "username": m.username, "email": m.email, "role_id": m.role_id}
            for m in managers
        ],
        "tags": list(g.tags),
        "created": g.created,
        "modified": g.modified,
    }


def course_json(c: Course) -> dict[str, Any]:
    """The Course object (§5.5)."""
    return {
        "id": c.id,
        "title": c.title,
        "expires": c.expires,
        "expiresType": c.expires_type,
        "afterPurchase": {"type": "course", "settings": {"page": None, "url": None}},
        "categories": list(c.categories),
        "description": c.description,
        "label": c.label,
        "author": None if c.author_name is None else {"name": c.author_name, "image": None},
        "courseImage": None,
        "original_price": c.original_price,
        "discount_price": c.discount_price,
        "final_price": c.final_price,
        "dripFeed": c.drip_feed,
        "identifiers": {
            "google_store_id": c.id.replace("-", "_"),
            "apple_store_id": c.id.replace("-", "_"),
            "slug": c.id,
        },
        "access": c.access,
        "created": c.created,
        "modified": c.modified,
    }


def course_contents_json(c: Course) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "sections": [
            {
                "id": s.id,
                "title": s.title,
                "description": None,
                "access": s.access,
                "drip": None,
                "learningUnits": [
                    {"type": u.type, "id": u.id, "icon": u.type, "title": u.title, "subtitle": None}
                    for u in s.units
                ],
            }
            for s in c.sections
        ],
    }


def bundle_json(b: Bundle) -> dict[str, Any]:
    return {
        "id": b.id,
        "title": b.title,
        "products": {"courses": list(b.course_ids)},
        "image": None,
        "description": b.description,
        "access": b.access,
        "created": b.created,
        "modified": b.modified,
        "afterPurchase": {"type": "course", "settings": {"page": None, "url": None}},
        "price": b.price,
        "paymentPlans": [],
    }


def plan_json(p: SubscriptionPlan) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "stripePlanId": f"price_{p.id.replace('-', '_')}",
        "description": p.description,
        "products": {"courses": list(p.course_ids)},
        "image": None,
        "interval": p.interval,
        "interval_type": p.interval_type,
        "trial_period_days": p.trial_period_days,
        "afterPurchase": {"type": "course", "settings": {"page": None, "url": None}},
        "access": p.access,
        "created": p.created,
        "modified": p.modified,
        "price": p.price,
    }


def progress_json(p: Progress, c: Course, *, with_course: bool) -> dict[str, Any]:
    """UserProgress (§5.7); with `course_id` first when `with_course` (UserProgressWithCourse)."""
    units = [(s, u, p.units[u.id]) for s, u in c.units if u.id in p.units]
    total = len(units)
    done = sum(1 for _, _, x in units if x.completed)
    scores = [x.score for _, _, x in units if x.score is not None]
    if done == 0:
        status = "not_started"
    elif done == total:
        status = "completed"
    else:
        status = "not_completed"
    body: dict[str, Any] = {"course_id": c.id} if with_course else {}
    body.update(
        {
            "status": status,
            "progress_rate": round(100 * done / total) if total else 0,
            "average_score_rate": round(sum(scores) / len(scores), 2) if scores else 0,
            "time_on_course": sum(x.time_on_unit for _, _, x in units),
            "total_units": total,
            "completed_units": done,
            "completed_at": p.completed_at,
            "progress_per_section_unit": [
                {
                    "section_id": s.id,
                    "units": [
                        {
                            "unit_section_name": s.title,
                            "unit_id": u.id,
                            "unit_name": u.title,
                            "unit_type": u.type,
                            "unit_status": "completed" if x.completed else "not_completed",
                            "unit_duration": u.duration,
                            "time_on_unit": x.time_on_unit,
                            "score_on_unit": x.score,
                            "unit_progress_rate": 100 if x.completed else 0,
                        }
                        for s2, u, x in units
                        if s2 is s
                    ],
                }
                for s in c.sections
            ],
        }
    )
    return body


def event_json(e: Event) -> dict[str, Any]:
    return {
        "user": {"id": e.user_id, "username": e.username},
        "created": e.created,
        "activity": e.activity,
        "description": e.description,
        "type": e.type,
        "additional_info": None if e.additional_info is None else dict(e.additional_info),
    }


def product_json(product_id: str, product_type: str, titles: Mapping[str, str]) -> dict[str, Any]:
    return {"id": product_id, "title": titles.get(product_id, product_id), "type": product_type}
