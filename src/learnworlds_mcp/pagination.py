"""Pages: the list envelope every list tool returns, and the helpers that walk the API's pages.

The API answers a paginated list as ``{"data": [...], "meta": {"page", "totalItems",
"totalPages", "itemsPerPage"}}`` and, asked for a page past the end, quietly returns the last
page. Tools instead say so: a page past the end is an error that names the last page.

Some replies carry no `meta` (the 2025 spec's bare arrays for group members): `walk_pages`
still walks them, ending on an empty or short page or on one that repeats the last (a page past
the end answers with the last page again). Multi-call tools share one `CallBudget` per tool call,
so the number of API calls one call may make is stated and kept.
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
    """A decoded API list reply: its items and what its `meta` says.

    `paged` is False when the reply had no `meta` (a bare list, or `{data}` alone): then the
    page numbers and totals describe only this reply.
    """

    data: list[dict[str, Any]]
    page: int
    total_pages: int
    total_items: int
    paged: bool = True


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
        return Envelope(data=data, page=1, total_pages=1, total_items=len(data), paged=False)
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


def check_walk_reaches(walk: Walk, requested_page: int, what: str) -> None:
    """`check_page_exists` for a walk that started at `requested_page`."""
    check_page_exists(
        Envelope(data=[], page=1, total_pages=walk.total_pages, total_items=walk.total_items),
        requested_page,
        what,
    )


def next_page_of(envelope: Envelope, requested_page: int) -> int | None:
    return requested_page + 1 if requested_page < envelope.total_pages else None


FetchPage = Callable[[int], Awaitable[Any]]
ProgressFn = Callable[[int, int | None], Awaitable[None]]
PageFn = Callable[[list[dict[str, Any]]], Awaitable[None]]


class CallBudget:
    """The API calls one tool call may still make: every multi-call tool states its bound.

    `take()` spends one call if any is left and says whether it did; `used` is what the result
    reports as `api_calls`.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a call budget needs at least one call")
        self.limit = limit
        self.used = 0

    @property
    def left(self) -> int:
        return self.limit - self.used

    def take(self, calls: int = 1) -> bool:
        if calls > self.left:
            return False
        self.used += calls
        return True


class Walk(BaseModel):
    """The result of walking several pages: the items gathered and whether the walk finished.

    For replies without `meta`, `total_items` counts the distinct items seen and `total_pages`
    the pages that brought new ones.
    """

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
    budget: CallBudget | None = None,
    calls_per_page: int = 1,
    on_page: PageFn | None = None,
    page_size: int | None = None,
    key: str = "id",
) -> Walk:
    """Read pages from `start_page` until the last one or `max_pages` pages, whichever first.

    `keep` filters items as they arrive (so memory holds only matches); `on_page` is awaited
    with each page's kept items before the next page is read (to do per-item work as the walk
    goes); `progress` is told (pages read, total pages) after each page. With a `budget`, a
    page is read only while `calls_per_page` calls are left (the page itself plus what
    `on_page` spends on it); the page costs one call. The result says whether the walk was
    complete and, if not, the page to continue from.

    A reply without `meta` cannot say how many pages there are: the walk then stops at an empty
    page, a page shorter than `page_size` (the endpoint's documented size; else the first
    page's length), or a page holding nothing new by `key` (the API repeats the last page when
    asked past the end).
    """
    items: list[dict[str, Any]] = []
    page = start_page
    pages_read = 0
    total_pages = 1
    total_items = 0
    seen: set[Any] = set()  # keys of unpaged items, to spot a repeated last page
    unpaged_pages = 0
    expected_size = page_size

    def result(next_page: int | None) -> Walk:
        return Walk(
            items=items,
            pages_read=pages_read,
            total_pages=total_pages,
            total_items=total_items,
            complete=next_page is None,
            next_page=next_page,
        )

    while True:
        if budget is not None:
            if budget.left < calls_per_page:
                return result(page)  # nothing read from `page`: continue from it
            budget.take()
        envelope = read_envelope(await fetch(page), requested_page=page)
        pages_read += 1
        if envelope.paged:
            total_pages, total_items = envelope.total_pages, envelope.total_items
            kept = [item for item in envelope.data if keep is None or keep(item)]
            done = page >= total_pages or not envelope.data
        else:
            fresh = [item for item in envelope.data if item.get(key) not in seen]
            seen.update(item.get(key) for item in fresh)
            unpaged_pages += 1 if fresh else 0
            kept = [item for item in fresh if keep is None or keep(item)]
            if expected_size is None:
                expected_size = len(envelope.data)
            done = not fresh or len(envelope.data) < expected_size
            total_pages = max(1, unpaged_pages) + (0 if done else 1)  # more may follow
            total_items = len(seen)
        items.extend(kept)
        if on_page is not None:
            await on_page(kept)
        if progress is not None:
            await progress(pages_read, max(0, total_pages - start_page + 1))
        if done:
            return result(None)
        if pages_read >= max_pages:
            return result(page + 1)
        page += 1


ReportFn = Callable[[float, float | None, str | None], Awaitable[None]]


def page_reporter(report: ReportFn, what: str) -> ProgressFn:
    """A `walk_pages` progress callback that forwards to MCP progress (`ctx.report_progress`)."""

    async def progress(pages_read: int, total_pages: int | None) -> None:
        total = float(total_pages) if total_pages else None
        await report(float(pages_read), total, f"Read {pages_read} page(s) of {what}")

    return progress


def title_filter(needle: str | None) -> Callable[[dict[str, Any]], bool] | None:
    """`keep` for `walk_pages`: items whose `title` contains `needle`, ignoring case."""
    if needle is None or not needle.strip():
        return None
    wanted = needle.strip().casefold()
    return lambda item: wanted in str(item.get("title") or "").casefold()


PageT = TypeVar("PageT", bound=ListPage[Any])
Convert = Callable[[dict[str, Any]], Any]


def to_list_page(
    model: type[PageT], envelope: Envelope, page: int, what: str, convert: Convert
) -> PageT:
    """One API page as a tool's list model; a page past the end is an error naming the last."""
    check_page_exists(envelope, page, what)
    return model(
        items=[convert(item) for item in envelope.data],
        page=page,
        total_pages=envelope.total_pages,
        total_items=envelope.total_items,
        next_page=next_page_of(envelope, page),
    )


async def page_or_title_scan(
    model: type[PageT],
    fetch: FetchPage,
    *,
    page: int,
    what: str,
    convert: Convert,
    title_contains: str | None,
    max_pages: int,
    report: ReportFn,
) -> PageT:
    """Page `page` of a list — or, with `title_contains`, the matches of a server-side scan.

    The scan reads from `page` up to `max_pages` pages (paced by the client, reporting MCP
    progress); `total_items` is then the number of matches, and a non-null `next_page` says
    where the scan stopped.
    """
    keep = title_filter(title_contains)
    if keep is None:
        return to_list_page(
            model, read_envelope(await fetch(page), requested_page=page), page, what, convert
        )
    walk = await walk_pages(
        fetch,
        start_page=page,
        max_pages=max_pages,
        keep=keep,
        progress=page_reporter(report, f"{what}s"),
    )
    check_walk_reaches(walk, page, what)
    return model(
        items=[convert(item) for item in walk.items],
        page=page,
        total_pages=walk.total_pages,
        total_items=len(walk.items),
        next_page=walk.next_page,
    )
