"""The read receipts ``thread/read`` and ``thread/list`` report: a loaded thread's live
read state, else the one stored for it."""

from __future__ import annotations

from collections.abc import Iterable

from pycodex.api.context import AppState
from pycodex.api.local_stores import read_receipt_store
from pycodex.core.read_state import wire_state
from pycodex.protocol.types.thread_controls import ThreadReadState


def _live(app: AppState, thread_id: str) -> ThreadReadState | None:
    from pycodex.api.threads import thread_manager

    loaded = app.get(thread_manager).get(thread_id)
    engine = loaded.engine if loaded is not None else None
    return None if engine is None else engine.read_state.wire()


def read_state_of(app: AppState, thread_id: str) -> ThreadReadState | None:
    """The thread's read receipt, ``None`` when none is kept."""
    live = _live(app, thread_id)
    if live is not None:
        return live
    receipt = read_receipt_store(app).get(thread_id)
    return None if receipt is None else wire_state(receipt)


def read_states_of(app: AppState, thread_ids: Iterable[str]) -> dict[str, ThreadReadState]:
    """The read receipts of those of ``thread_ids`` that have one."""
    ids = list(thread_ids)
    states = {thread_id: wire_state(receipt)
              for thread_id, receipt in read_receipt_store(app).get_many(ids).items()}
    for thread_id in ids:
        live = _live(app, thread_id)
        if live is not None:
            states[thread_id] = live
    return states
