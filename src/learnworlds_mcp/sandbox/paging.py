"""Query parsing and the one pagination helper shared by every list endpoint.

Decisions where the API documentation is silent:

- `meta.totalItems` is the grand total over all pages (what examples and clients assume).
- `meta.totalPages` is `max(1, ceil(totalItems / itemsPerPage))`: an empty list is one empty
  page (`{"page": 1, "totalItems": 0, "totalPages": 1, ...}`).
- A page past the end returns the last page, and `meta.page` says which page that is. The
  endpoints documented with "no results" (user progress) return empty `data` instead, with
  `meta.page` echoing the page asked for.
- `page` that is not an integer ≥ 1 → 422. `items_per_page` that is not an integer → 422; outside
  1–200 it is clamped (or 422 with `SandboxOptions.reject_out_of_range_page_size`).
  Endpoints that do not document `items_per_page` ignore it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

from learnworlds_mcp.sandbox.errors import error

T = TypeVar("T")

MAX_PAGE_SIZE = 200


def int_param(query: Mapping[str, str], name: str, default: int) -> int:
    """An integer query parameter; 422 if present and not an integer."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise error(422, f"The {name} parameter must be an integer.") from None


def number_param(query: Mapping[str, str], name: str) -> float | None:
    """A Unix-time (or other numeric) query parameter; 422 if present and not a number."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise error(422, f"The {name} parameter must be a number.") from None
    if not math.isfinite(value):
        raise error(422, f"The {name} parameter must be a number.")
    return value


def bool_param(query: Mapping[str, str], name: str) -> bool:
    """A `"true"`/`"false"` query parameter (S1's typo `"flase"` accepted); 422 otherwise."""
    raw = query.get(name)
    if raw is None or raw == "":
        return False
    value = raw.lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "flase", "0"):
        return False
    raise error(422, f"The {name} parameter must be 'true' or 'false'.")


def page_params(
    query: Mapping[str, str], default_size: int, *, sized: bool, strict_size: bool
) -> tuple[int, int]:
    """`(page, items_per_page)` from the query, validated as the module docstring says."""
    page = int_param(query, "page", 1)
    if page < 1:
        raise error(422, "The page parameter must be an integer greater than or equal to 1.")
    size = default_size
    if sized:
        size = int_param(query, "items_per_page", default_size)
        if not 1 <= size <= MAX_PAGE_SIZE:
            if strict_size:
                raise error(422, "The items_per_page parameter must be between 1 and 200.")
            size = min(MAX_PAGE_SIZE, max(1, size))
    return page, size


def paginate(
    items: Sequence[T],
    page: int,
    size: int,
    *,
    past_end: Literal["last", "empty"] = "last",
) -> tuple[list[T], dict[str, int]]:
    """One page of `items` and its `meta`, following the rules in the module docstring."""
    total = len(items)
    pages = max(1, math.ceil(total / size))
    if page > pages and past_end == "last":
        page = pages
    start = (page - 1) * size
    chunk = list(items[start : start + size])
    return chunk, {"page": page, "totalItems": total, "totalPages": pages, "itemsPerPage": size}


def envelope(data: list[Any], meta: dict[str, int]) -> dict[str, Any]:
    return {"data": data, "meta": meta}
