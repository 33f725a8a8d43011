"""Courses: the school's catalogue, found by category, access or title."""

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from learnworlds_mcp.errors import NotFoundError
from learnworlds_mcp.models.courses import Course, CourseList, CourseSummary
from learnworlds_mcp.pagination import page_or_title_scan
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.common import (
    Page,
    TitleContains,
    client_of,
    comma_list,
    compact_result,
    drop_none,
)
from learnworlds_mcp.tools.registry import tool

CourseId = Annotated[str, Field(description="Course slug.")]
CourseAccess = Literal["paid", "free", "coming_soon", "enrollment_closed", "private", "draft"]
# The course list is 50 a page; a title search reads at most this many pages per call.
MAX_COURSE_SCAN_PAGES = 20


def course_not_found(course_id: str) -> NotFoundError:
    return NotFoundError(
        f"No course {course_id!r}. course_id is the course's slug (e.g. sales-101): "
        "list_all_learnworlds_courses lists them, and its title_contains finds one by name."
    )


@tool(toolset="courses", kind="read", title="List courses")
async def list_all_learnworlds_courses(
    ctx: Context,
    page: Page = 1,
    categories: Annotated[list[str] | None, Field()] = None,
    access: list[CourseAccess] | None = None,
    title_contains: TitleContains = None,
) -> Annotated[CallToolResult, CourseList]:
    """Courses, newest first, 50 a page: repeat with page = next_page until null.
    title_contains scans up to 20 pages from `page`; next_page is where it stopped."""
    client = client_of(ctx)
    params = drop_none({"categories": comma_list(categories, "categories"), "access": access})

    async def fetch(n: int) -> object:
        return await client.get("/v2/courses", {**params, "page": n})

    return compact_result(
        await page_or_title_scan(
            CourseList,
            fetch,
            page=page,
            what="course",
            convert=CourseSummary.model_validate,
            title_contains=title_contains,
            max_pages=MAX_COURSE_SCAN_PAGES,
            report=ctx.report_progress,
        )
    )


@tool(toolset="courses", kind="read", title="Get a course")
async def get_single_learnworlds_course_by_id(
    ctx: Context, course_id: CourseId
) -> Annotated[CallToolResult, Course]:
    """A course's full record by slug: access, prices, categories, author, drip feed."""
    try:
        data = await client_of(ctx).get(api_path("/v2/courses/{course_id}", course_id=course_id))
    except NotFoundError:
        raise course_not_found(course_id) from None
    return compact_result(Course.from_api(data))
