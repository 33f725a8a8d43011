"""Activity: the school's event logs (logins, enrollments, purchases, completions, …)."""

import time
from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from learnworlds_mcp.errors import InvalidRequestError, NotFoundError
from learnworlds_mcp.models.activity import Event, EventList
from learnworlds_mcp.pagination import read_envelope, to_list_page
from learnworlds_mcp.tools.common import (
    IsoDate,
    Page,
    client_of,
    compact_result,
    drop_none,
    unix_seconds,
)
from learnworlds_mcp.tools.registry import tool
from learnworlds_mcp.tools.users import user_not_found

Activity = Literal[
    "register",
    "login",
    "logout",
    "enrollment",
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
]
"""The documented `activity` values; `enrollment` (2026) matches every enrollment event."""

# `enrollment` is the 2026 spec's; the 2025 one lists only these. A school that ignores the
# value answers with every event, so the events are also filtered by what they say they are.
ENROLLMENT_ACTIVITIES = frozenset({"enrollment", "manual_enrollment", "purchase"})

# A date up to a day ahead of this machine's clock is accepted (time zones).
FUTURE_SLACK_SECONDS = 86_400


def past_moment(value: str | None, name: str) -> int | None:
    """`unix_seconds` that also refuses a start in the future (nothing can have happened)."""
    moment = unix_seconds(value, name)
    if moment is not None and moment > time.time() + FUTURE_SLACK_SECONDS:
        raise InvalidRequestError(
            f"{name} {value!r} is in the future, so no event can match. Give a past date."
        )
    return moment


@tool(toolset="activity", kind="read", title="List event logs")
async def list_all_learnworlds_event_logs(
    ctx: Context,
    page: Page = 1,
    user_id: Annotated[str | None, Field(description="Id or email.")] = None,
    activity: Activity | None = None,
    created_after: IsoDate = None,
    created_before: IsoDate = None,
    sort: Literal["desc", "asc"] = "desc",
) -> Annotated[CallToolResult, EventList]:
    """Event logs, newest first unless sort=asc, 50 a page: repeat with page = next_page
    until null."""
    after = past_moment(created_after, "created_after")
    before = unix_seconds(created_before, "created_before", end_of_day=True)
    if after is not None and before is not None and after > before:
        raise InvalidRequestError("created_after is later than created_before: swap them.")
    params = drop_none(
        {
            "page": page,
            "user_id": user_id.strip() if user_id and user_id.strip() else None,
            "activity": activity,
            "created_after": after,
            "created_before": before,
            "sort": sort,
        }
    )
    try:
        payload = await client_of(ctx).get("/v2/event-logs", params)
    except NotFoundError:
        if user_id:
            raise user_not_found(user_id) from None
        raise
    envelope = read_envelope(payload, requested_page=page)
    if activity == "enrollment":
        envelope.data = [e for e in envelope.data if e.get("activity") in ENROLLMENT_ACTIVITIES]
    return compact_result(to_list_page(EventList, envelope, page, "event", Event.from_api))
