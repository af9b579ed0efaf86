"""Thread read receipts (``thread/readState/*``): per thread, the first position the user
has not seen (JSON, ``NULL`` when all is read) under an opaque revision. Kept in SQLite so
they survive a restart, as the reference keeps them in its state database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import msgspec

SCHEMA = """
CREATE TABLE IF NOT EXISTS thread_read_receipts (
    thread_id TEXT PRIMARY KEY NOT NULL,
    first_unread TEXT,
    revision TEXT NOT NULL
);
"""


class ReadReceipt(msgspec.Struct, frozen=True):
    #: the first unread position as JSON text, ``None`` when the thread is read
    first_unread: str | None
    revision: str


class ReadReceiptStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get(self, thread_id: str) -> ReadReceipt | None:
        row = self.conn.execute(
            "SELECT first_unread, revision FROM thread_read_receipts WHERE thread_id = ?",
            (thread_id,)).fetchone()
        return None if row is None else ReadReceipt(row[0], row[1])

    def get_many(self, thread_ids: Iterable[str]) -> dict[str, ReadReceipt]:
        ids = list(thread_ids)
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = self.conn.execute(
            "SELECT thread_id, first_unread, revision FROM thread_read_receipts "
            f"WHERE thread_id IN ({marks})", ids).fetchall()
        return {row[0]: ReadReceipt(row[1], row[2]) for row in rows}

    def put(self, thread_id: str, receipt: ReadReceipt) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO thread_read_receipts(thread_id, first_unread, revision) "
            "VALUES (?, ?, ?)", (thread_id, receipt.first_unread, receipt.revision))

    def delete(self, thread_id: str) -> None:
        self.conn.execute("DELETE FROM thread_read_receipts WHERE thread_id = ?", (thread_id,))
