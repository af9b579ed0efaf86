"""``threadSection/*`` and ``thread/section/move``: user-named groups of threads stored in
SQLite under ``CODEX_HOME``, with the built-in ``Pinned`` section."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import msgspec

from pycodex.api.context import AppState, RequestContext
from pycodex.api.keyset_pages import keyset_page
from pycodex.api.local_stores import require_thread, section_store
from pycodex.api.router import route
from pycodex.protocol.base import is_set
from pycodex.protocol.errors import invalid_params, invalid_request
from pycodex.protocol.types import sections as t
from pycodex.store.sections import Section, SectionError


def to_wire(section: Section) -> t.ThreadSection:
    appearance = section.appearance
    return t.ThreadSection(
        id=section.id, name=section.name,
        appearance=msgspec.convert(appearance, t.ThreadSectionAppearance)
        if appearance is not None else None)


@contextlib.contextmanager
def _section_errors() -> Iterator[None]:
    """A rejected section change answers ``-32602`` with its message."""
    try:
        yield
    except SectionError as exc:
        raise invalid_params(str(exc)) from None


def _appearance(value: t.ThreadSectionAppearance | None) -> dict[str, Any] | None:
    return msgspec.to_builtins(value) if value is not None else None


def section_fields(app: AppState, thread_id: str) -> dict[str, Any]:
    """``section`` and ``sectionEnteredAt`` of a ``Thread`` (for thread/read, thread/list)."""
    membership = app.get(section_store).membership(thread_id)
    if membership is None:
        return {"section": None, "sectionEnteredAt": None}
    return {"section": msgspec.to_builtins(to_wire(membership.section)),
            "sectionEnteredAt": membership.entered_at}


@route("threadSection/list")
async def section_list(
    ctx: RequestContext, params: t.ThreadSectionListParams
) -> t.ThreadSectionListResponse:
    page, cursor = keyset_page(ctx.app.get(section_store).all(), lambda s: s.id,
                               params.cursor, params.limit)
    return t.ThreadSectionListResponse(data=[to_wire(s) for s in page], next_cursor=cursor)


@route("threadSection/create")
async def section_create(
    ctx: RequestContext, params: t.ThreadSectionCreateParams
) -> t.ThreadSectionCreateResponse:
    with _section_errors():
        section = ctx.app.get(section_store).create(params.name, _appearance(params.appearance))
    return t.ThreadSectionCreateResponse(section=to_wire(section))


@route("threadSection/update")
async def section_update(
    ctx: RequestContext, params: t.ThreadSectionUpdateParams
) -> t.ThreadSectionUpdateResponse:
    appearance: Any = ...
    if is_set(params.appearance):
        appearance = _appearance(params.appearance)  # type: ignore[arg-type]
    with _section_errors():
        section = ctx.app.get(section_store).update(params.section_id, params.name, appearance)
    return t.ThreadSectionUpdateResponse(section=to_wire(section))


@route("threadSection/delete")
async def section_delete(
    ctx: RequestContext, params: t.ThreadSectionDeleteParams
) -> t.ThreadSectionDeleteResponse:
    with _section_errors():
        ctx.app.get(section_store).delete(params.section_id)
    return t.ThreadSectionDeleteResponse()


@route("thread/section/move")
async def section_move(
    ctx: RequestContext, params: t.ThreadSectionMoveParams
) -> t.ThreadSectionMoveResponse:
    thread = require_thread(ctx, params.thread_id)
    store = ctx.app.get(section_store)
    if params.section_id is not None and store.get(params.section_id) is None:
        raise invalid_request(f"section {params.section_id} does not exist")
    store.move(thread.id, params.section_id, params.before_thread_id)
    ctx.outgoing.notify("thread/section/changed", t.ThreadSectionChangedNotification(
        thread_id=thread.id, section_id=params.section_id))
    return t.ThreadSectionMoveResponse()
