"""A thread item's life as events: the ``item/started`` / ``item/completed`` notification
structs and the rollout line recording a finished item. Shared by the turn engine and the
tools, so both stamp and record items the same way."""

from __future__ import annotations

from typing import Any

from pycodex.core.ids import now_ms
from pycodex.protocol.types.items import (
    ItemCompletedNotification,
    ItemStartedNotification,
    ThreadItem,
)
from pycodex.store import events

RolloutLine = tuple[str, dict[str, Any]]


def stamp(item: ThreadItem, key: str) -> int:
    """The item's own ``startedAtMs``/``completedAtMs`` when it has one, else now."""
    value = getattr(item, "started_at_ms" if key == "startedAtMs" else "completed_at_ms", None)
    return value if isinstance(value, int) else now_ms()


def started(thread_id: str, turn_id: str, item: ThreadItem,
            at_ms: int | None = None) -> ItemStartedNotification:
    return ItemStartedNotification(
        item=item, thread_id=thread_id, turn_id=turn_id,
        started_at_ms=stamp(item, "startedAtMs") if at_ms is None else at_ms)


def completed(thread_id: str, turn_id: str, item: ThreadItem,
              at_ms: int | None = None) -> ItemCompletedNotification:
    return ItemCompletedNotification(
        item=item, thread_id=thread_id, turn_id=turn_id, content_token_count=None,
        completed_at_ms=stamp(item, "completedAtMs") if at_ms is None else at_ms)


def item_lines(thread_id: str, turn_id: str, item: ThreadItem, started_ms: int | None,
               completed_ms: int | None) -> list[RolloutLine]:
    """Rollout lines recording a finished item (none for kinds not persisted)."""
    line = events.item_completed(thread_id, turn_id, item,
                                 started_at_ms=started_ms, completed_at_ms=completed_ms)
    return [] if line is None else [line]
