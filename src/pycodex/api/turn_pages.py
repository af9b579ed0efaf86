"""Pages of a thread's turns for ``thread/turns/list``: views and anchor cursors.

A cursor names a turn (``{"turnId", "includeAnchor"}`` as JSON, as the reference encodes
it): ``nextCursor`` continues after the page's last turn, ``backwardsCursor`` (used with
the opposite ``sortDirection``) starts again at its first turn, so a client can catch up
with a turn that was still running.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from pycodex.protocol.errors import invalid_request
from pycodex.protocol.types.items import AgentMessageItem, Turn, UserMessageItem

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


class TurnPage(NamedTuple):
    turns: list[Turn]
    next_cursor: str | None
    backwards_cursor: str | None


def _cursor(turn_id: str, include_anchor: bool) -> str:
    return json.dumps({"turnId": turn_id, "includeAnchor": include_anchor},
                      separators=(",", ":"))


def anchor_cursor(turn_id: str) -> str:
    """A cursor whose page (in ``desc`` order) starts with ``turn_id`` itself."""
    return _cursor(turn_id, True)


def _parse_cursor(cursor: str) -> tuple[str, bool]:
    try:
        value = json.loads(cursor)
    except ValueError:
        value = None
    if (not isinstance(value, dict) or not isinstance(value.get("turnId"), str)
            or not isinstance(value.get("includeAnchor"), bool)):
        raise invalid_request(f"invalid cursor: {cursor}")
    return value["turnId"], value["includeAnchor"]


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


def paginate(turns: list[Turn], cursor: str | None, limit: int | None,
             direction: str) -> TurnPage:
    """One page of ``turns`` (oldest first) in ``direction`` (``asc``/``desc``)."""
    if not turns:
        return TurnPage([], None, None)
    size = min(max(DEFAULT_LIMIT if limit is None else limit, 1), MAX_LIMIT)
    indexed = list(enumerate(turns))
    if direction == "desc":
        indexed.reverse()
    if cursor is not None:
        anchor_id, include = _parse_cursor(cursor)
        at = next((i for i, turn in enumerate(turns) if turn.id == anchor_id), None)
        if at is None:
            raise invalid_request("invalid cursor: anchor turn is no longer present")
        if direction == "desc":
            indexed = [(i, t) for i, t in indexed if i < at or (include and i == at)]
        else:
            indexed = [(i, t) for i, t in indexed if i > at or (include and i == at)]
    more = len(indexed) > size
    page = [turn for _, turn in indexed[:size]]
    backwards = _cursor(page[0].id, True) if page else None
    following = _cursor(page[-1].id, False) if more and page else None
    return TurnPage(page, following, backwards)
