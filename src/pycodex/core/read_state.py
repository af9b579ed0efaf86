"""A thread's read state: the first turn the user has not seen yet, under an opaque revision
that changes with every change (``thread/readState/*``). Each change is saved as the
thread's read receipt (:mod:`pycodex.store.read_receipts`), so it survives a restart."""

from __future__ import annotations

import logging
import uuid

import msgspec

from pycodex.core.errors import Conflict
from pycodex.protocol.types.thread_controls import (
    ThreadReadState,
    ThreadStartThreadUnreadPosition,
    ThreadUnreadPosition,
    TurnThreadUnreadPosition,
)
from pycodex.store.read_receipts import ReadReceipt, ReadReceiptStore

logger = logging.getLogger(__name__)


class ReadStateConflict(Conflict):
    """``expectedRevision`` is not the current revision: the state changed meanwhile."""

    def __init__(self, current: ThreadReadState) -> None:
        super().__init__("read state changed")
        self.current = current


def _new_revision() -> str:
    return str(uuid.uuid4())


def wire_state(receipt: ReadReceipt) -> ThreadReadState:
    """The wire read state a stored receipt records."""
    first: ThreadUnreadPosition | None = None
    if receipt.first_unread is not None:
        try:
            first = msgspec.json.decode(receipt.first_unread, type=ThreadUnreadPosition)
        except msgspec.DecodeError:
            first = None
    return ThreadReadState(first_unread=first, revision=receipt.revision)


class ReadState:
    """A loaded thread's read state; ``store`` (``None``: kept in memory only, as for an
    ephemeral thread) receives every change."""

    def __init__(self, store: ReadReceiptStore | None = None, thread_id: str = "") -> None:
        self._store = store
        self._thread_id = thread_id
        self.first_unread: ThreadUnreadPosition | None = None
        self.revision = _new_revision()
        if store is not None:
            receipt = store.get(thread_id)
            if receipt is not None:
                saved = wire_state(receipt)
                self.first_unread, self.revision = saved.first_unread, saved.revision

    def wire(self) -> ThreadReadState:
        return ThreadReadState(first_unread=self.first_unread, revision=self.revision)

    def _changed(self) -> ThreadReadState:
        self.revision = _new_revision()
        if self._store is not None:
            first = (None if self.first_unread is None
                     else msgspec.json.encode(self.first_unread).decode())
            try:
                self._store.put(self._thread_id, ReadReceipt(first, self.revision))
            except Exception:  # the state still holds in memory
                logger.exception("could not save the read state of %s", self._thread_id)
        return self.wire()

    def turn_finished(self, turn_id: str) -> ThreadReadState:
        """A turn ended: unread from that turn on, unless something already is."""
        if self.first_unread is None:
            self.first_unread = TurnThreadUnreadPosition(turn_id=turn_id)
        return self._changed()

    def update(self, unread: bool, expected_revision: str) -> ThreadReadState:
        """Mark the thread read (or all unread); :class:`ReadStateConflict` when
        ``expected_revision`` is stale."""
        if expected_revision != self.revision:
            raise ReadStateConflict(self.wire())
        self.first_unread = ThreadStartThreadUnreadPosition() if unread else None
        return self._changed()
