"""History changes of a loaded thread (rollback, revert): recorded in the rollout, then the
engine's model history is rebuilt from it, so the model and ``thread/read`` never diverge."""

from __future__ import annotations

import asyncio
from typing import Any

from pycodex.core.errors import InvalidInput, Unavailable
from pycodex.core.threads import LoadedThread, ThreadManager
from pycodex.protocol.types.items import Turn
from pycodex.store import events
from pycodex.store.history import TurnBuilder, model_history
from pycodex.store.rollout import RolloutLine


def turns_of(thread: LoadedThread, lines: list[RolloutLine]) -> list[Turn]:
    return TurnBuilder(thread.id).feed_all(lines).finish(thread.active_turn_id)


async def current_turns(thread: LoadedThread) -> list[Turn]:
    """The thread's turns rebuilt from its rollout on a worker thread (a running turn stays
    ``inProgress``)."""
    return await asyncio.to_thread(lambda: turns_of(thread, list(thread.lines())))


def _rebuild(thread: LoadedThread) -> tuple[list[Turn], list[dict[str, Any]]]:
    lines = list(thread.lines())
    history = [item for item in model_history(lines) if isinstance(item, dict)]
    return turns_of(thread, lines), history


async def rollback(manager: ThreadManager, thread: LoadedThread, num_turns: int) -> list[Turn]:
    """Drop the last ``num_turns`` turns; returns the turns that remain."""
    if thread.running:
        raise InvalidInput("rollback already in progress for this thread")
    try:
        return await _drop_turns(manager, thread, num_turns)
    except OSError as exc:
        raise InvalidInput(f"thread rollback failed: {exc}") from None


async def revert(manager: ThreadManager, thread: LoadedThread, before_turn_id: str
                 ) -> list[Turn]:
    """Drop turn ``before_turn_id`` and every later one; returns the turns that remain."""
    if thread.running:
        raise InvalidInput("rollback already in progress for this thread")
    turns = await current_turns(thread) if thread.materialized or thread.ephemeral else []
    at = next((i for i, turn in enumerate(turns) if turn.id == before_turn_id), None)
    if at is None:
        raise InvalidInput(f"turn not found: {before_turn_id}")
    try:
        return await _drop_turns(manager, thread, len(turns) - at)
    except OSError as exc:
        raise Unavailable(f"thread revert failed: {exc}") from None


async def _drop_turns(manager: ThreadManager, thread: LoadedThread, count: int) -> list[Turn]:
    await thread.writer.append([events.thread_rolled_back(count)])
    await thread.writer.sync()
    turns, history = await asyncio.to_thread(_rebuild, thread)
    if thread.engine is not None:
        thread.engine.replace_history(history)
    manager.refresh_index(thread)
    return turns
