"""``thread/search``: threads whose user or assistant messages contain a term (the TUI's
``@`` mentions), newest first as ``thread/list`` pages them, each with the snippet around
its first match (:mod:`pycodex.store.content_search`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pycodex.api.context import RequestContext
from pycodex.api.router import route
from pycodex.api.threads import thread_list, thread_manager
from pycodex.protocol.types.thread_search import (
    ThreadSearchParams,
    ThreadSearchResponse,
    ThreadSearchResult,
)
from pycodex.protocol.types.threads import Thread, ThreadListParams
from pycodex.store.content_search import first_match
from pycodex.store.rollout import utc_timestamp

#: results of one answer when the client names no limit
DEFAULT_LIMIT = 25


def _matches(threads: list[Thread], term: str) -> list[ThreadSearchResult]:
    """The threads (in order) whose rollout has a message containing ``term``."""
    found = []
    for thread in threads:
        snippet = first_match(Path(thread.path), term) if thread.path else None
        if snippet is not None:
            found.append(ThreadSearchResult(snippet=snippet, thread=thread))
    return found


@route("thread/search")
async def thread_search(ctx: RequestContext, params: ThreadSearchParams) -> ThreadSearchResponse:
    term = params.search_term.strip()
    wanted = max(params.limit if params.limit is not None else DEFAULT_LIMIT, 1)
    found: list[ThreadSearchResult] = []
    cursor = params.cursor
    while term:
        # pages as big as what is still missing: every thread of a page is looked at, so
        # the next page's cursor loses nothing
        page = await thread_list(ctx, ThreadListParams(
            cursor=cursor, limit=wanted - len(found),
            sort_key="updated_at" if params.sort_key == "updated_at" else None,
            sort_direction=params.sort_direction, source_kinds=params.source_kinds,
            archived=params.archived))
        found += await asyncio.to_thread(_matches, page.data, term)
        cursor = page.next_cursor
        if cursor is None or len(found) >= wanted:
            break
    back = None
    if found:
        back = backwards_cursor(await _sort_time_ms(ctx, found[0].thread, params),
                                params.sort_direction != "asc")
    return ThreadSearchResponse(data=found, next_cursor=cursor if term else None,
                                backwards_cursor=back)


async def _sort_time_ms(ctx: RequestContext, thread: Thread, params: ThreadSearchParams
                        ) -> int:
    """The first result's sort time as the reference keeps it: its creation in whole
    seconds, its last update in milliseconds (the index's, which ``thread/list`` sorts on)."""
    if params.sort_key == "updated_at":
        summary = await asyncio.to_thread(ctx.app.get(thread_manager).index.get, thread.id)
        return summary.updated_at_ms if summary is not None else thread.updated_at * 1000
    return thread.created_at * 1000


def backwards_cursor(first_ms: int, descending: bool) -> str:
    """The reference's cursor back from a page whose first result sorts at ``first_ms``: a
    bare timestamp a millisecond before (descending) or after (ascending) it, so the page
    read from it in the other direction starts with that result."""
    return utc_timestamp((first_ms + (-1 if descending else 1)) / 1000)
