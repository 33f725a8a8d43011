"""Pages: the list envelope every list tool returns, and the helpers that walk the API's pages.

The API answers a paginated list as ``{"data": [...], "meta": {"page", "totalItems",
"totalPages", "itemsPerPage"}}`` and, asked for a page past the end, quietly returns the last
page. Tools instead say so: a page past the end is an error that names the last page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer

from learnworlds_mcp.errors import InvalidRequestError, UnexpectedResponseError

ItemT = TypeVar("ItemT")


class ListPage(BaseModel, Generic[ItemT]):
    """One page of a list. Call again with `page` = `next_page` until `next_page` is null.

    `next_page` is required and always sent, as null on the last page: it is the stop signal.
    """

    items: list[ItemT]
    page: int
    total_pages: int
    total_items: int
    next_page: int | None

    @model_serializer(mode="wrap")
    def _always_next_page(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        data.setdefault("next_page", None)  # survives exclude_none: it is the stop signal
        return data


class FullList(BaseModel, Generic[ItemT]):
    """A list the API does not page: everything at once, `next_page` always null."""

    items: list[ItemT]
    total_items: int
    next_page: None = None

    @model_serializer(mode="wrap")
    def _always_next_page(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        data["next_page"] = None
        return data


class Envelope(BaseModel):
    """A decoded API list reply: its items and what its `meta` says."""

    data: list[dict[str, Any]]
    page: int
    total_pages: int
    total_items: int


def read_envelope(payload: Any, *, requested_page: int = 1) -> Envelope:
    """Decode ``{data, meta}``, or a bare list / meta-less ``{data}`` as a single page."""
    if isinstance(payload, list):
        data, meta = payload, None
    elif isinstance(payload, dict) and isinstance(payload.get("data"), list):
        data, meta = payload["data"], payload.get("meta")
    else:
        raise UnexpectedResponseError("The school's list reply had no `data` list.")
    if not all(isinstance(item, dict) for item in data):
        raise UnexpectedResponseError("The school's list reply held items that are not objects.")
    if not isinstance(meta, dict):
        return Envelope(data=data, page=1, total_pages=1, total_items=len(data))
    try:
        total_items = int(meta.get("totalItems", len(data)))
        total_pages = int(meta.get("totalPages", 1))
        page = int(meta.get("page", requested_page))
    except (TypeError, ValueError):
        raise UnexpectedResponseError("The school's list reply had an unreadable `meta`.") from None
    return Envelope(data=data, page=page, total_pages=total_pages, total_items=total_items)


def check_page_exists(envelope: Envelope, requested_page: int, what: str) -> None:
    """Raise a clear error if `requested_page` lies past the end of the list."""
    last = max(1, envelope.total_pages)
    if requested_page > last:
        raise InvalidRequestError(
            f"There is no page {requested_page}: the {what} list has {last} "
            f"page{'s' if last != 1 else ''} ({envelope.total_items} items). "
            f"Ask for a page from 1 to {last}."
        )


def next_page_of(envelope: Envelope, requested_page: int) -> int | None:
    return requested_page + 1 if requested_page < envelope.total_pages else None


FetchPage = Callable[[int], Awaitable[Any]]
ProgressFn = Callable[[int, int | None], Awaitable[None]]


class Walk(BaseModel):
    """The result of walking several pages: the items gathered and whether the walk finished."""

    items: list[dict[str, Any]]
    pages_read: int
    total_pages: int
    total_items: int
    complete: bool
    next_page: int | None = None


async def walk_pages(
    fetch: FetchPage,
    *,
    start_page: int = 1,
    max_pages: int,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    progress: ProgressFn | None = None,
) -> Walk:
    """Read pages from `start_page` until the last one or `max_pages` pages, whichever first.

    `keep` filters items as they arrive (so memory holds only matches); `progress` is told
    (pages read, total pages) after each page. The result says whether the walk was complete
    and, if not, the page to continue from.
    """
    items: list[dict[str, Any]] = []
    page = start_page
    pages_read = 0
    total_pages = 1
    total_items = 0
    while True:
        envelope = read_envelope(await fetch(page), requested_page=page)
        pages_read += 1
        total_pages, total_items = envelope.total_pages, envelope.total_items
        items.extend(item for item in envelope.data if keep is None or keep(item))
        if progress is not None:
            await progress(pages_read, max(0, total_pages - start_page + 1))
        if page >= total_pages or not envelope.data:
            return Walk(
                items=items,
                pages_read=pages_read,
                total_pages=total_pages,
                total_items=total_items,
                complete=True,
            )
        if pages_read >= max_pages:
            return Walk(
                items=items,
                pages_read=pages_read,
                total_pages=total_pages,
                total_items=total_items,
                complete=False,
                next_page=page + 1,
            )
        page += 1
