"""The ``thread/read`` and ``thread/list`` answers with read receipts (0.171's
``readState`` / ``readStates``), over the hand-written thread answers and the generated
``ThreadReadState``."""

from __future__ import annotations

from pycodex.protocol.types.thread_controls import ThreadReadState
from pycodex.protocol.types.threads import ThreadListResponse, ThreadResponse


class ThreadResponseWithReadState(ThreadResponse, kw_only=True):
    """``thread/read``: the thread and its read receipt (``null``: none kept)."""

    read_state: ThreadReadState | None = None


class ThreadListResponseWithReadStates(ThreadListResponse, kw_only=True):
    """``thread/list``: the page and the read receipts of its threads that have one."""

    read_states: dict[str, ThreadReadState] | None = None
