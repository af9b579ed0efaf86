"""``thread/search``: threads whose title matches a term (the TUI's ``@`` mentions), as a
``thread/list`` page with each thread's preview as the snippet."""

from __future__ import annotations

from pycodex.api.context import RequestContext
from pycodex.api.router import route
from pycodex.api.threads import thread_list
from pycodex.protocol.types.thread_search import (
    ThreadSearchParams,
    ThreadSearchResponse,
    ThreadSearchResult,
)
from pycodex.protocol.types.threads import ThreadListParams


@route("thread/search")
async def thread_search(ctx: RequestContext, params: ThreadSearchParams) -> ThreadSearchResponse:
    page = await thread_list(ctx, ThreadListParams(
        cursor=params.cursor, limit=params.limit, search_term=params.search_term,
        sort_key="updated_at" if params.sort_key == "updated_at" else None,
        sort_direction=params.sort_direction, source_kinds=params.source_kinds,
        archived=params.archived))
    return ThreadSearchResponse(
        data=[ThreadSearchResult(snippet=thread.preview, thread=thread) for thread in page.data],
        next_cursor=page.next_cursor, backwards_cursor=None)
