"""Pages of a thread's turns (``thread/turns/list``) and items (``thread/items/list``):
views and anchor cursors.

A cursor names a turn (``{"turnId", "includeAnchor"}`` as JSON, as the reference encodes
it): ``nextCursor`` continues after the page's last turn, ``backwardsCursor`` (used with
the opposite ``sortDirection``) starts again at its first turn, so a client can catch up
with a turn that was still running.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from pycodex.protocol.errors import RpcError, invalid_params, invalid_request
from pycodex.protocol.types.items import AgentMessageItem, Turn, UserMessageItem
from pycodex.protocol.types.threads import ThreadItemEntry, ThreadItemsListAnchor

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


class TurnPage(NamedTuple):
    turns: list[Turn]
    next_cursor: str | None
    backwards_cursor: str | None


def _encode(key: str, anchor_id: str, include_anchor: bool) -> str:
    return json.dumps({key: anchor_id, "includeAnchor": include_anchor}, separators=(",", ":"))


def _decode(key: str, cursor: str) -> tuple[str, bool]:
    """``(anchor id, include anchor)`` of a cursor naming its anchor under ``key``."""
    try:
        value = json.loads(cursor)
    except ValueError:
        value = None
    if (not isinstance(value, dict) or not isinstance(value.get(key), str)
            or not isinstance(value.get("includeAnchor"), bool)):
        raise invalid_request(f"invalid cursor: {cursor}")
    return value[key], value["includeAnchor"]


def _cursor(turn_id: str, include_anchor: bool) -> str:
    return _encode("turnId", turn_id, include_anchor)


def anchor_cursor(turn_id: str) -> str:
    """A cursor whose page (in ``desc`` order) starts with ``turn_id`` itself."""
    return _cursor(turn_id, True)


def _parse_cursor(cursor: str) -> tuple[str, bool]:
    return _decode("turnId", cursor)


def apply_view(turn: Turn, view: str) -> Turn:
    """``notLoaded``: no items; ``summary``: the first user message and the last agent
    message; ``full``: everything recorded."""
    if view == "full":
        turn.items_view = "full"
        return turn
    if view == "notLoaded":
        turn.items = []
        turn.items_view = "notLoaded"
        return turn
    first_user = next((i for i in turn.items if isinstance(i, UserMessageItem)), None)
    last_agent = next((i for i in reversed(turn.items) if isinstance(i, AgentMessageItem)),
                      None)
    turn.items = [item for item in (first_user, last_agent) if item is not None]
    turn.items_view = "summary"
    return turn


def page_size(limit: int | None) -> int:
    """How many entries a page of ``limit`` holds."""
    return min(max(DEFAULT_LIMIT if limit is None else limit, 1), MAX_LIMIT)


def _window(keys: list[str], anchor: tuple[str, bool] | None, limit: int | None,
            direction: str, missing: RpcError) -> tuple[list[int], bool]:
    """Indexes (into ``keys``, oldest first) of one page in ``direction``, after ``anchor``
    (``(key, include_anchor)``), and whether more follow."""
    size = page_size(limit)
    order = list(range(len(keys)))
    if direction == "desc":
        order.reverse()
    if anchor is not None:
        key, include = anchor
        at = next((i for i, k in enumerate(keys) if k == key), None)
        if at is None:
            raise missing
        if direction == "desc":
            order = [i for i in order if i < at or (include and i == at)]
        else:
            order = [i for i in order if i > at or (include and i == at)]
    return order[:size], len(order) > size


def paginate(turns: list[Turn], cursor: str | None, limit: int | None,
             direction: str) -> TurnPage:
    """One page of ``turns`` (oldest first) in ``direction`` (``asc``/``desc``)."""
    if not turns:
        return TurnPage([], None, None)
    anchor = _parse_cursor(cursor) if cursor is not None else None
    picked, more = _window(
        [turn.id for turn in turns], anchor, limit, direction,
        invalid_request("invalid cursor: anchor turn is no longer present"))
    page = [turns[i] for i in picked]
    backwards = _cursor(page[0].id, True) if page else None
    following = _cursor(page[-1].id, False) if more and page else None
    return TurnPage(page, following, backwards)


# -- items ----------------------------------------------------------------------------


class ItemPage(NamedTuple):
    entries: list[ThreadItemEntry]
    next_cursor: str | None
    backwards_cursor: str | None


def item_cursor(item_id: str, include_anchor: bool = True) -> str:
    """An item cursor (``desc`` with ``include_anchor``: the page starts with the item)."""
    return _encode("itemId", item_id, include_anchor)


def _item_anchor(cursor: str | ThreadItemsListAnchor, turn_id: str | None) -> tuple[str, bool]:
    if isinstance(cursor, ThreadItemsListAnchor):
        if not turn_id:
            raise invalid_params("turnId is required when cursor is an item anchor")
        return cursor.item_id, False  # exclusive
    return _decode("itemId", cursor)


def entries_of(turns: list[Turn], turn_id: str | None = None) -> list[ThreadItemEntry]:
    """Every item of ``turns`` (or of turn ``turn_id``) in order, with its turn."""
    return [
        ThreadItemEntry(turn_id=turn.id, item=item,
                        started_at_ms=getattr(item, "started_at_ms", None),
                        completed_at_ms=getattr(item, "completed_at_ms", None))
        for turn in turns if turn_id is None or turn.id == turn_id
        for item in turn.items
    ]


def paginate_items(entries: list[ThreadItemEntry], cursor: str | ThreadItemsListAnchor | None,
                   turn_id: str | None, limit: int | None, direction: str) -> ItemPage:
    """One page of ``entries`` (oldest first) in ``direction`` (``asc``/``desc``)."""
    anchor = _item_anchor(cursor, turn_id) if cursor is not None else None
    if not entries:
        return ItemPage([], None, None)
    picked, more = _window(
        [entry.item.id for entry in entries], anchor, limit, direction,
        invalid_params("cursor.itemId does not identify an item in the requested history scope"))
    page = [entries[i] for i in picked]
    backwards = item_cursor(page[0].item.id, True) if page else None
    following = item_cursor(page[-1].item.id, False) if more and page else None
    return ItemPage(page, following, backwards)
