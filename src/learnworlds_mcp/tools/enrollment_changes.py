"""Enrollments: give a user a course, bundle or subscription, or take it away."""

from typing import Annotated, Any, Literal

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Resolve
from mcp_types import CallToolResult
from pydantic import Field

from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import InvalidRequestError, NotFoundError
from learnworlds_mcp.models.changes import EnrollmentChange, Person, Product
from learnworlds_mcp.pagination import read_envelope
from learnworlds_mcp.paths import api_path
from learnworlds_mcp.tools.changes import (
    Confirm,
    DryRun,
    Outcome,
    Plan,
    as_tool_errors,
    carry_out,
    confirmation,
    fetch_user,
    read_back,
    who,
)
from learnworlds_mcp.tools.common import UserRef, client_of, compact_result
from learnworlds_mcp.tools.registry import tool

ProductType = Literal["course", "bundle", "subscription"]
ProductId = Annotated[str, Field(description="Course slug, bundle or plan id.", min_length=1)]
TypeOfProduct = ProductType

_PRODUCT_PATHS = {
    "course": "/v2/courses/{product_id}",
    "bundle": "/v2/bundles/{product_id}",
    "subscription": "/v2/subscription-plans/{product_id}",
}
_WHAT = {"course": "course", "bundle": "bundle", "subscription": "subscription plan"}


async def held_products(client: LearnWorldsClient, user_id: str) -> list[dict[str, Any]]:
    """Every product the user holds, as `{id, title, type}` (one read; the API does not page)."""
    reply = await client.get(api_path("/v2/users/{user_id}/products", user_id=user_id))
    return read_envelope(reply).data


def _holding(products: list[dict[str, Any]], product_id: str, product_type: str) -> dict | None:
    return next(
        (p for p in products if p.get("id") == product_id and p.get("type") == product_type), None
    )


def _result(
    plan: Plan, outcome: Outcome, user: dict[str, Any], product: dict[str, Any], enrolled: bool
) -> CallToolResult:
    return compact_result(
        EnrollmentChange(
            **outcome.fields(plan),
            user=Person.model_validate(user),
            product=Product.model_validate(product),
            enrolled=enrolled,
        )
    )


def _check_with(tool_name: str) -> str:
    return f"{tool_name} with dry_run=true (it says whether the user holds the product)"


@tool(toolset="enrollments", kind="write", title="Enroll a user", idempotent=True)
async def enroll_a_learnworlds_user(
    ctx: Context,
    user_id: UserRef,
    product_id: ProductId,
    product_type: TypeOfProduct = "course",
    price: Annotated[float, Field(ge=0, description="Paid; 0: a free grant.")] = 0,
    justification: Annotated[str | None, Field(max_length=500)] = None,
    duration_type: Annotated[
        Literal["days", "weeks", "months"] | None, Field(description="Subscriptions only.")
    ] = None,
    duration: Annotated[int | None, Field(ge=1, description="Subscriptions only.")] = None,
    send_enrollment_email: bool | None = None,
    dry_run: DryRun = False,
) -> Annotated[CallToolResult, EnrollmentChange]:
    """Enroll a user in a course, bundle (its courses) or subscription plan; a price above 0
    is recorded as a sale. Fails if already held."""
    client = client_of(ctx)
    if (duration_type is None) != (duration is None):
        raise InvalidRequestError("Give duration_type and duration together, or neither.")
    if duration is not None and product_type != "subscription":
        raise InvalidRequestError(
            "duration and duration_type apply to subscriptions only; leave them out for a "
            f"{product_type}. Nothing was sent."
        )
    user = await fetch_user(client, user_id)
    products = await held_products(client, user["id"])
    slug = product_id.strip()
    held = _holding(products, slug, product_type)
    if held is not None:
        raise InvalidRequestError(
            f"{who(user)} is already enrolled in {_WHAT[product_type]} "
            f"{held.get('title') or slug!r}. Nothing was sent."
        )
    try:
        product = await client.get(api_path(_PRODUCT_PATHS[product_type], product_id=slug))
    except NotFoundError:
        raise NotFoundError(
            f"No {_WHAT[product_type]} {slug!r} in this school (courses are named by their "
            "slug, e.g. sales-101; bundles and plans by id). Check product_type too. "
            "Nothing was sent."
        ) from None
    body: dict[str, Any] = {"productId": slug, "productType": product_type, "price": price}
    if justification is not None:
        body["justification"] = justification
    if duration is not None:
        body["duration_type"], body["duration"] = duration_type, duration
    if send_enrollment_email is not None:
        body["send_enrollment_email"] = send_enrollment_email
    plan = Plan(
        "POST",
        api_path("/v2/users/{user_id}/enrollment", user_id=user["id"]),
        body,
        f"Enroll {who(user)} in {_WHAT[product_type]} {slug!r}?",
        _check_with("enroll_a_learnworlds_user"),
    )
    title = product.get("title") if isinstance(product, dict) else None
    about = {"id": slug, "title": title, "type": product_type}
    outcome = await carry_out(client, plan, dry_run=dry_run)
    enrolled = False
    if outcome.done:
        after = await read_back(plan, held_products(client, user["id"]))
        enrolled = _holding(after, slug, product_type) is not None
    return _result(plan, outcome, user, about, enrolled)


@as_tool_errors
async def _plan_unenroll(ctx: Context, user_id: str, product_id: str, product_type: str) -> Plan:
    client = client_of(ctx)
    user = await fetch_user(client, user_id)
    products = await held_products(client, user["id"])
    slug = product_id.strip()
    held = _holding(products, slug, product_type)
    if held is None:
        mine = ", ".join(f"{p.get('type')} {p.get('id')}" for p in products[:10]) or "nothing"
        raise InvalidRequestError(
            f"{who(user)} is not enrolled in {_WHAT[product_type]} {slug!r}; they hold: "
            f"{mine}{' …' if len(products) > 10 else ''}. Nothing was sent."
        )
    name = held.get("title") or slug
    also = "" if product_type == "course" else ", with the courses it gave them,"
    return Plan(
        "DELETE",
        api_path("/v2/users/{user_id}/enrollment", user_id=user["id"]),
        {"productId": slug, "productType": product_type},
        f"Unenroll {who(user)} from {_WHAT[product_type]} {name!r}? They lose access to it"
        f"{also} at once; enrolling them again may not bring back their progress.",
        _check_with("unenroll_a_learnworlds_user"),
        reads={"user": user, "product": {**held, "id": slug, "type": product_type}},
    )


@tool(toolset="enrollments", kind="destructive", title="Unenroll a user", idempotent=True)
async def unenroll_a_learnworlds_user(
    ctx: Context,
    plan: Annotated[Plan, Resolve(_plan_unenroll)],
    answer: Annotated[ElicitationResult[Confirm], Resolve(confirmation(_plan_unenroll))],
    user_id: UserRef,
    product_id: ProductId,
    product_type: TypeOfProduct = "course",
    dry_run: DryRun = False,
) -> Annotated[CallToolResult, EnrollmentChange]:
    """Take a course, bundle or plan away from a user: access ends at once; re-enrolling may
    not restore progress. Fails if not held."""
    client = client_of(ctx)
    user, product = plan.reads["user"], plan.reads["product"]
    outcome = await carry_out(client, plan, dry_run=dry_run, answer=answer)
    enrolled = True
    if outcome.done:
        after = await read_back(plan, held_products(client, user["id"]))
        enrolled = _holding(after, product["id"], product["type"]) is not None
    return _result(plan, outcome, user, product, enrolled)
