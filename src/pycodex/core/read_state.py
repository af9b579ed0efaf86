"""A thread's read state: the first turn the user has not seen yet, under an opaque revision
that changes with every change (``thread/readState/*``). Kept while the thread is loaded."""

from __future__ import annotations

import uuid

import msgspec

from pycodex.core.errors import Conflict
from pycodex.protocol.types.thread_controls import (
    ThreadReadState,
    ThreadStartThreadUnreadPosition,
    ThreadUnreadPosition,
    TurnThreadUnreadPosition,
)


class ReadStateConflict(Conflict):
    """``expectedRevision`` is not the current revision: the state changed meanwhile."""

    def __init__(self, current: ThreadReadState) -> None:
        super().__init__("read state changed")
        self.current = current


class ReadState(msgspec.Struct):
    first_unread: ThreadUnreadPosition | None = None
    revision: str = msgspec.field(default_factory=lambda: str(uuid.uuid4()))

    def wire(self) -> ThreadReadState:
        return ThreadReadState(first_unread=self.first_unread, revision=self.revision)

    def turn_finished(self, turn_id: str) -> ThreadReadState:
        """A turn ended: unread from that turn on, unless something already is."""
        if self.first_unread is None:
            self.first_unread = TurnThreadUnreadPosition(turn_id=turn_id)
        self.revision = str(uuid.uuid4())
        return self.wire()

    def update(self, unread: bool, expected_revision: str) -> ThreadReadState:
        """Mark the thread read (or all unread); :class:`ReadStateConflict` when
        ``expected_revision`` is stale."""
        if expected_revision != self.revision:
            raise ReadStateConflict(self.wire())
        self.first_unread = ThreadStartThreadUnreadPosition() if unread else None
        self.revision = str(uuid.uuid4())
        return self.wire()
