"""Sections in ``thread/list`` and in the ``Thread`` objects of thread/list, thread/read and
thread/resume, as the reference 0.171 answers: ``sectionId`` filters (omitted: every thread,
``null``: threads in no section, an id: that section's threads, none for an unknown id), the
``section_position`` sort needs a section filter and follows the section's own order
(either direction), and every thread carries ``section`` / ``sectionEnteredAt``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from pycodex.api.context import AppState, RequestContext
from pycodex.protocol.base import is_set
from pycodex.protocol.errors import invalid_request
from pycodex.protocol.types.threads import Thread, ThreadListParams, ThreadListResponse
from pycodex.store.scan import ListQuery
from pycodex.store.sections import SectionStore
from pycodex.store.summary import ThreadSummary

SECTION_SORT = "section_position"


def _store(app: AppState) -> SectionStore | None:
    """The section store, or None while no section was ever made (nothing to open)."""
    from pycodex.api.local_stores import EXTRAS_FILE, section_store

    if not (app.options.codex_home / EXTRAS_FILE).exists():
        return None
    return app.get(section_store)


def with_sections(app: AppState, threads: Iterable[Thread]) -> None:
    """Fill ``section`` and ``sectionEnteredAt`` of each thread."""
    store = _store(app)
    if store is None:
        return
    from pycodex.api.sections import to_wire

    for thread in threads:
        membership = store.membership(thread.id)
        if membership is not None:
            thread.section = to_wire(membership.section)
            thread.section_entered_at = membership.entered_at


def by_section(params: ThreadListParams) -> bool:
    """Whether the page depends on sections (a ``sectionId`` or the section sort)."""
    if params.sort_key == SECTION_SORT and not isinstance(params.section_id, str):
        raise invalid_request("section-position sorting requires a section filter")
    return is_set(params.section_id)


async def section_page(ctx: RequestContext, params: ThreadListParams) -> ThreadListResponse:
    """A ``thread/list`` page with a ``sectionId`` filter."""
    from pycodex.api import threads

    store = _store(ctx.app)
    mgr = ctx.app.get(threads.thread_manager)
    if params.sort_key == SECTION_SORT:
        query = threads.list_query(ctx, msgspec.structs.replace(params, cursor=None,
                                                                sort_key=None))
        rows, cursor = await _positional(mgr, store, str(params.section_id), query,
                                         params.cursor)
    else:
        query = threads.list_query(ctx, params)
        if params.section_id is None:
            hidden = store.sectioned() if store is not None else set()
            rows = await _without(mgr, query, hidden)
        else:
            members = store.members(str(params.section_id)) if store is not None else []
            query = msgspec.structs.replace(query, thread_ids=_within(query, members))
            rows = await threads.list_rows(mgr, query)
        rows, cursor = threads.page_of(rows, query)
    return threads.list_response(ctx, rows, cursor)


def _within(query: ListQuery, members: list[str]) -> list[str]:
    if query.thread_ids is None:
        return members
    allowed = set(query.thread_ids)
    return [tid for tid in members if tid in allowed]


async def _without(mgr: Any, query: ListQuery, hidden: set[str]) -> list[ThreadSummary]:
    """Rows of ``query`` (one more than its page) skipping the ``hidden`` threads."""
    from pycodex.api import threads

    if not hidden:
        return await threads.list_rows(mgr, query)
    wanted = query.limit
    rows: list[ThreadSummary] = []
    while len(rows) < wanted:
        batch = await threads.list_rows(mgr, query)
        rows += [row for row in batch if row.id not in hidden]
        if len(batch) < query.limit:
            break
        query = msgspec.structs.replace(query, after=threads.row_key(batch[-1], query))
    return rows[:wanted]


async def _positional(mgr: Any, store: SectionStore | None, section_id: str, query: ListQuery,
                      cursor: str | None) -> tuple[list[ThreadSummary], str | None]:
    """The section's threads in the section's order, paged by position."""
    from pycodex.api import threads

    positions = store.positions(section_id) if store is not None else []
    if cursor is not None:
        after = _parse_position(cursor)
        positions = [(tid, pos) for tid, pos in positions if (pos, tid) > after]
    limit = query.limit - 1
    ids = _within(query, [tid for tid, _ in positions])
    found = await threads.list_rows(mgr, msgspec.structs.replace(
        query, thread_ids=ids, limit=len(ids) + 1, after=None))
    by_id = {row.id: row for row in found}
    ordered = [(by_id[tid], pos) for tid, pos in positions if tid in by_id]
    page = ordered[:limit]
    next_cursor = None
    if len(ordered) > limit and page:
        last, pos = page[-1]
        next_cursor = f"{pos!r}|{last.id}"
    return [row for row, _ in page], next_cursor


def _parse_position(cursor: str) -> tuple[float, str]:
    position, sep, thread_id = cursor.partition("|")
    try:
        if not sep:
            raise ValueError(cursor)
        return float(position), thread_id
    except ValueError:
        raise invalid_request(f"invalid cursor: {cursor}") from None
