"""Thread attachments: opaque payloads a client associates with a thread, unique per
thread by ``(attachment_type, identity_key)``."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

import msgspec

from pycodex.store.ids import new_thread_id
from pycodex.store.sqlite_file import Transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS thread_attachments (
    id TEXT PRIMARY KEY,
    thread_id TEXT NOT NULL,
    attachment_type TEXT NOT NULL,
    identity_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (thread_id, attachment_type, identity_key)
);
CREATE INDEX IF NOT EXISTS thread_attachments_by_identity
    ON thread_attachments(attachment_type, identity_key);
"""


class Attachment(msgspec.Struct, frozen=True):
    id: str
    thread_id: str
    attachment_type: str
    identity_key: str
    payload: Any
    created_at: int


_COLUMNS = "id, thread_id, attachment_type, identity_key, payload, created_at"


def _attachment(row: tuple[Any, ...]) -> Attachment:
    return Attachment(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5])


class AttachmentStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, thread_id: str, attachment_type: str, identity_key: str,
            payload: Any) -> tuple[Attachment, bool]:
        """The attachment and whether it was created (an existing one is kept as is)."""
        with Transaction(self.conn) as conn:
            existing = self._find(conn, thread_id, attachment_type, identity_key)
            if existing is not None:
                return existing, False
            attachment = Attachment(new_thread_id(), thread_id, attachment_type, identity_key,
                                    payload, int(time.time()))
            conn.execute(f"INSERT INTO thread_attachments({_COLUMNS}) VALUES (?,?,?,?,?,?)",
                         (attachment.id, thread_id, attachment_type, identity_key,
                          json.dumps(payload), attachment.created_at))
            return attachment, True

    def remove(self, thread_id: str, attachment_type: str, identity_key: str
               ) -> Attachment | None:
        """The removed attachment, or ``None`` when there was none."""
        with Transaction(self.conn) as conn:
            existing = self._find(conn, thread_id, attachment_type, identity_key)
            if existing is not None:
                conn.execute("DELETE FROM thread_attachments WHERE id = ?", (existing.id,))
            return existing

    def of_thread(self, thread_id: str) -> list[Attachment]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM thread_attachments WHERE thread_id = ? "
            "ORDER BY created_at, id", (thread_id,))
        return [_attachment(row) for row in rows]

    def owners(self, attachment_type: str, identity_key: str) -> list[str]:
        """Ids of the threads holding an attachment with this identity, oldest first."""
        rows = self.conn.execute(
            "SELECT thread_id FROM thread_attachments WHERE attachment_type = ? "
            "AND identity_key = ? ORDER BY created_at, id", (attachment_type, identity_key))
        return [tid for (tid,) in rows]

    @staticmethod
    def _find(conn: sqlite3.Connection, thread_id: str, attachment_type: str,
              identity_key: str) -> Attachment | None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM thread_attachments WHERE thread_id = ? "
            "AND attachment_type = ? AND identity_key = ?",
            (thread_id, attachment_type, identity_key)).fetchone()
        return _attachment(row) if row else None
