"""What the server does on its own when a turn reports progress: a thread's goal counts
the turn's tokens and time and becomes ``budgetLimited`` or ``blocked``
(``thread/goal/updated``), and an active goal's next turn starts when one completes.
Called by the thread host for every notification a turn emits."""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from pycodex.api.context import AppState
from pycodex.store import goals

logger = logging.getLogger(__name__)

#: The methods :func:`turn_event` reacts to (the host skips the call for any other).
WATCHED = frozenset(("thread/tokenUsage/updated", "error", "turn/started", "turn/completed"))
#: Reported after the server's own reaction (a goal blocked by a failed turn is announced
#: before the turn's ``error``, as the reference orders them).
REACT_FIRST = frozenset({"error"})


async def turn_event(app: AppState, thread_id: str, method: str, notification: Any) -> None:
    """React to one turn notification (cheap for the methods nothing watches)."""
    if method not in WATCHED or not (app.options.codex_home / goals.FILE_NAME).exists():
        return
    from pycodex.api.goals import account_turn

    try:
        await account_turn(app, thread_id, method, msgspec.to_builtins(notification))
    except Exception:  # goal bookkeeping never fails the turn that reported progress
        logger.exception("could not account the turn's progress to the goal of %s", thread_id)
