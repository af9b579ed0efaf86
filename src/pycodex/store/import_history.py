"""External-agent import history: one row per completed import, with what succeeded and
what failed per item type."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from typing import Any

import msgspec

SCHEMA = """
CREATE TABLE IF NOT EXISTS external_agent_import_history (
    import_id TEXT PRIMARY KEY,
    provider_id TEXT,
    completed_at_ms INTEGER NOT NULL,
    successes TEXT NOT NULL,
    failures TEXT NOT NULL
);
"""


class ImportRecord(msgspec.Struct, frozen=True, kw_only=True):
    import_id: str
    provider_id: str | None
    completed_at_ms: int
    successes: list[dict[str, Any]]
    failures: list[dict[str, Any]]


class ImportHistoryStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def record(self, provider_id: str, successes: list[dict[str, Any]],
               failures: list[dict[str, Any]]) -> ImportRecord:
        record = ImportRecord(import_id=str(uuid.uuid4()), provider_id=provider_id,
                              completed_at_ms=time.time_ns() // 1_000_000,
                              successes=successes, failures=failures)
        self.conn.execute(
            "INSERT INTO external_agent_import_history VALUES (?, ?, ?, ?, ?)",
            (record.import_id, provider_id, record.completed_at_ms, json.dumps(successes),
             json.dumps(failures)))
        return record

    def all(self) -> list[ImportRecord]:
        rows = self.conn.execute(
            "SELECT import_id, provider_id, completed_at_ms, successes, failures "
            "FROM external_agent_import_history ORDER BY completed_at_ms, rowid")
        return [ImportRecord(import_id=r[0], provider_id=r[1], completed_at_ms=r[2],
                             successes=json.loads(r[3]), failures=json.loads(r[4]))
                for r in rows]
