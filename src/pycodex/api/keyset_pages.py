"""Pages over a small ordered list whose cursor is the id of the last item returned (the
reference's paging of sections and attachments): an unknown cursor is an empty page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def keyset_page(
    items: Sequence[T], key: Callable[[T], str], cursor: str | None, limit: int | None
) -> tuple[list[T], str | None]:
    """``(page, next_cursor)``; ``limit`` 0 counts as 1, ``None`` means everything."""
    start = 0
    if cursor is not None:
        keys = [key(item) for item in items]
        if cursor not in keys:
            return [], None
        start = keys.index(cursor) + 1
    end = len(items) if limit is None else min(len(items), start + max(limit, 1))
    page = list(items[start:end])
    return page, (key(page[-1]) if page and end < len(items) else None)
