"""A thread item's life as events: the ``item/started`` / ``item/completed`` notification
structs and the rollout line recording a finished item. Shared by the turn engine and the
tools, so both stamp and record items the same way."""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from pycodex.core.ids import now_ms
from pycodex.protocol.types.items import (
    ItemCompletedNotification,
    ItemStartedNotification,
    ThreadItem,
)
from pycodex.store import events

logger = logging.getLogger(__name__)

RolloutLine = tuple[str, dict[str, Any]]


def stamp(item: dict[str, Any], key: str) -> int:
    """The item's own ``startedAtMs``/``completedAtMs`` when it has one, else now."""
    value = item.get(key)
    return value if isinstance(value, int) else now_ms()


def started(thread_id: str, turn_id: str, item: dict[str, Any],
            at_ms: int | None = None) -> ItemStartedNotification:
    return ItemStartedNotification(
        item=item, thread_id=thread_id, turn_id=turn_id,
        started_at_ms=stamp(item, "startedAtMs") if at_ms is None else at_ms)


def completed(thread_id: str, turn_id: str, item: dict[str, Any],
              at_ms: int | None = None) -> ItemCompletedNotification:
    return ItemCompletedNotification(
        item=item, thread_id=thread_id, turn_id=turn_id, content_token_count=None,
        completed_at_ms=stamp(item, "completedAtMs") if at_ms is None else at_ms)


def item_lines(thread_id: str, turn_id: str, item: dict[str, Any], started_ms: int | None,
               completed_ms: int | None) -> list[RolloutLine]:
    """Rollout lines recording a finished item (none for kinds not persisted)."""
    try:
        typed = msgspec.convert(item, ThreadItem)
    except msgspec.ValidationError:
        logger.warning("cannot persist item of type %s", item.get("type"))
        return []
    line = events.item_completed(thread_id, turn_id, typed,
                                 started_at_ms=started_ms, completed_at_ms=completed_ms)
    return [] if line is None else [line]
