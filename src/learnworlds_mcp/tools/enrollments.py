"""Enrollments: who is enrolled in a course, what a user is enrolled in, and their progress."""

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import LearnWorldsError, NotFoundError
from learnworlds_mcp.models.enrollments import (
    CourseProgress,
    Enrollment,
    EnrollmentList,
    ProgressList,
)
from learnworlds_mcp.models.users import UserList, UserSummary
from learnworlds_mcp.pagination import read_envelope, to_list_page
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.common import (
    ItemsPerPage,
    Page,
    UserRef,
    client_of,
    compact_result,
)
from learnworlds_mcp.tools.courses import CourseId, course_not_found
from learnworlds_mcp.tools.groups import without_suspended
from learnworlds_mcp.tools.registry import tool
from learnworlds_mcp.tools.users import user_not_found

# The progress endpoint's largest page (items_per_page 1-200).
PROGRESS_PAGE_SIZE = 200


@tool(toolset="enrollments", kind="read", title="List a course's users")
async def list_all_learnworlds_course_users(
    ctx: Context,
    course_id: CourseId,
    page: Page = 1,
    items_per_page: ItemsPerPage = 20,
    include_suspended: bool = False,
) -> Annotated[CallToolResult, UserList]:
    """Users enrolled in a course, newest first, paged: repeat with page = next_page until
    null. Suspended users only with include_suspended."""
    path = api_path("/v2/courses/{course_id}/users", course_id=course_id)
    # `include_suspended` is not a parameter of this endpoint in the official spec: never sent.
    # A school may list suspended users here or not; without the flag they are dropped.
    try:
        payload = await client_of(ctx).get(path, {"page": page, "items_per_page": items_per_page})
    except NotFoundError:
        raise course_not_found(course_id) from None
    envelope = read_envelope(payload, requested_page=page)
    if not include_suspended:
        envelope.data = without_suspended(envelope.data)
    return compact_result(
        to_list_page(UserList, envelope, page, "course user", UserSummary.from_api)
    )


@tool(toolset="enrollments", kind="read", title="List a user's enrollments")
async def list_all_learnworlds_user_enrollments(
    ctx: Context, user_id: UserRef, page: Page = 1
) -> Annotated[CallToolResult, EnrollmentList]:
    """A user's courses with enrollment and expiry dates, newest first, 50 a page: repeat
    with page = next_page until null."""
    path = api_path("/v2/users/{user_id}/courses", user_id=user_id)
    try:
        payload = await client_of(ctx).get(path, {"page": page})
    except NotFoundError:
        raise user_not_found(user_id) from None
    envelope = read_envelope(payload, requested_page=page)
    return compact_result(
        to_list_page(EnrollmentList, envelope, page, "enrollment", Enrollment.from_api)
    )


@tool(toolset="enrollments", kind="read", title="Get a user's progress")
async def get_single_learnworlds_user_progress_by_id(
    ctx: Context,
    user_id: UserRef,
    course_id: Annotated[str | None, Field()] = None,
    page: Page = 1,
    items_per_page: ItemsPerPage = 20,
) -> Annotated[CallToolResult, ProgressList]:
    """A user's progress in one course (course_id, with units) or in all, paged: repeat with
    page = next_page until null."""
    client = client_of(ctx)
    if course_id is not None:
        return compact_result(await _one_course(client, user_id, course_id))
    path = api_path("/v2/users/{user_id}/progress", user_id=user_id)
    try:
        payload = await client.get(path, {"page": page, "items_per_page": items_per_page})
    except NotFoundError:
        raise user_not_found(user_id) from None
    envelope = read_envelope(payload, requested_page=page)
    return compact_result(
        to_list_page(ProgressList, envelope, page, "progress", CourseProgress.from_api)
    )


async def _one_course(client: LearnWorldsClient, user_id: str, course_id: str) -> ProgressList:
    path = api_path(
        "/v2/users/{user_id}/courses/{course_id}/progress", user_id=user_id, course_id=course_id
    )
    try:
        data = await client.get(path)
    except NotFoundError:
        raise await _why_no_progress(client, user_id, course_id) from None
    item = CourseProgress.from_api(data, course_id=course_id, units=True)
    return ProgressList(items=[item], page=1, total_pages=1, total_items=1, next_page=None)


async def _why_no_progress(client: LearnWorldsClient, user_id: str, course_id: str) -> Exception:
    """The API answers 404 alike for an unknown user, an unknown course and no enrollment."""
    try:
        await client.get(api_path("/v2/courses/{course_id}", course_id=course_id))
    except NotFoundError:
        return course_not_found(course_id)
    try:
        await client.get(
            api_path("/v2/users/{user_id}", user_id=user_id), {"include_suspended": "true"}
        )
    except NotFoundError:
        return user_not_found(user_id)
    except LearnWorldsError as error:
        return error
    return NotFoundError(
        f"User {user_id!r} is not enrolled in course {course_id!r}. "
        "list_all_learnworlds_user_enrollments lists the courses they are enrolled in."
    )
