"""A thread item's life as events: the ``item/started`` / ``item/completed`` notification
structs and the rollout line recording a finished item. Shared by the turn engine and the
tools, so both stamp and record items the same way.

Items are ``ThreadItem`` structs; tools that build an item step by step may pass its wire
dict, which is checked into the struct here (a malformed item is a bug: it raises)."""

from __future__ import annotations

from typing import Any

import msgspec

from pycodex.core.ids import now_ms
from pycodex.protocol.types.items import (
    ItemCompletedNotification,
    ItemStartedNotification,
    ThreadItem,
)
from pycodex.store import events

RolloutLine = tuple[str, dict[str, Any]]
AnyItem = ThreadItem | dict[str, Any]


def as_item(item: AnyItem) -> ThreadItem:
    """The item as a ``ThreadItem`` struct."""
    if isinstance(item, dict):
        typed: ThreadItem = msgspec.convert(item, ThreadItem)
        return typed
    return item


def stamp(item: AnyItem, key: str) -> int:
    """The item's own ``startedAtMs``/``completedAtMs`` when it has one, else now."""
    if isinstance(item, dict):
        value = item.get(key)
    else:
        value = getattr(item, "started_at_ms" if key == "startedAtMs" else "completed_at_ms",
                        None)
    return value if isinstance(value, int) else now_ms()


def started(thread_id: str, turn_id: str, item: AnyItem,
            at_ms: int | None = None) -> ItemStartedNotification:
    return ItemStartedNotification(
        item=as_item(item), thread_id=thread_id, turn_id=turn_id,
        started_at_ms=stamp(item, "startedAtMs") if at_ms is None else at_ms)


def completed(thread_id: str, turn_id: str, item: AnyItem,
              at_ms: int | None = None) -> ItemCompletedNotification:
    return ItemCompletedNotification(
        item=as_item(item), thread_id=thread_id, turn_id=turn_id, content_token_count=None,
        completed_at_ms=stamp(item, "completedAtMs") if at_ms is None else at_ms)


def item_lines(thread_id: str, turn_id: str, item: AnyItem, started_ms: int | None,
               completed_ms: int | None) -> list[RolloutLine]:
    """Rollout lines recording a finished item (none for kinds not persisted)."""
    line = events.item_completed(thread_id, turn_id, as_item(item),
                                 started_at_ms=started_ms, completed_at_ms=completed_ms)
    return [] if line is None else [line]
