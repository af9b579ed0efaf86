"""Thread sections: user-named groups of threads, each with an ordered list of members.
The built-in ``Pinned`` section has the same id in every ``CODEX_HOME``."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

import msgspec

from pycodex.store.ids import new_thread_id
from pycodex.store.sqlite_file import Transaction

PINNED_ID = "01984de2-8f74-7c91-a3b2-5c5e937cf318"
PINNED_NAME = "Pinned"

SCHEMA = """
CREATE TABLE IF NOT EXISTS thread_sections (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    appearance TEXT,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS thread_section_members (
    thread_id TEXT PRIMARY KEY,
    section_id TEXT NOT NULL,
    position REAL NOT NULL,
    entered_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS thread_section_members_by_section
    ON thread_section_members(section_id, position);
"""


class SectionError(Exception):
    """A rejected section change (answered as invalid params)."""


class Section(msgspec.Struct, frozen=True):
    id: str
    name: str
    appearance: dict[str, Any] | None


class Membership(msgspec.Struct, frozen=True):
    section: Section
    entered_at: int


def _section(row: tuple[Any, ...]) -> Section:
    return Section(row[0], row[1], json.loads(row[2]) if row[2] else None)


class SectionStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.execute(
            "INSERT OR IGNORE INTO thread_sections(id, name, appearance, position) "
            "VALUES (?, ?, NULL, 0)", (PINNED_ID, PINNED_NAME))

    def all(self) -> list[Section]:
        """Every section, ``Pinned`` first, then in creation order."""
        rows = self.conn.execute(
            "SELECT id, name, appearance FROM thread_sections ORDER BY position, id")
        return [_section(row) for row in rows]

    def get(self, section_id: str) -> Section | None:
        row = self.conn.execute(
            "SELECT id, name, appearance FROM thread_sections WHERE id = ?", (section_id,)
        ).fetchone()
        return _section(row) if row else None

    def create(self, name: str, appearance: dict[str, Any] | None) -> Section:
        _check_name(name)
        section = Section(new_thread_id(), name, appearance)
        with Transaction(self.conn) as conn:
            (last,) = conn.execute("SELECT COALESCE(MAX(position), 0) FROM thread_sections"
                                   ).fetchone()
            conn.execute(
                "INSERT INTO thread_sections(id, name, appearance, position) VALUES (?,?,?,?)",
                (section.id, name, _json(appearance), last + 1))
        return section

    def update(self, section_id: str, name: str, appearance: Any) -> Section:
        """Rename; ``appearance`` is replaced unless it is ``...`` (keep)."""
        current = self._existing(section_id)
        if section_id == PINNED_ID:
            raise SectionError("the built-in pinned section cannot be renamed")
        _check_name(name)
        new_appearance = current.appearance if appearance is ... else appearance
        self.conn.execute("UPDATE thread_sections SET name = ?, appearance = ? WHERE id = ?",
                          (name, _json(new_appearance), section_id))
        return Section(section_id, name, new_appearance)

    def delete(self, section_id: str) -> None:
        self._existing(section_id)
        if section_id == PINNED_ID:
            raise SectionError("the built-in pinned section cannot be deleted")
        with Transaction(self.conn) as conn:
            conn.execute("DELETE FROM thread_section_members WHERE section_id = ?", (section_id,))
            conn.execute("DELETE FROM thread_sections WHERE id = ?", (section_id,))

    def _existing(self, section_id: str) -> Section:
        section = self.get(section_id)
        if section is None:
            raise SectionError(f"thread section not found: {section_id}")
        return section

    # -- membership ----------------------------------------------------------------------------
    def move(self, thread_id: str, section_id: str | None, before: str | None) -> None:
        """Put ``thread_id`` into ``section_id`` before ``before`` (else last); ``None``
        takes it out of its section."""
        with Transaction(self.conn) as conn:
            if section_id is None:
                conn.execute("DELETE FROM thread_section_members WHERE thread_id = ?",
                             (thread_id,))
                return
            row = conn.execute(
                "SELECT section_id, entered_at FROM thread_section_members WHERE thread_id = ?",
                (thread_id,)).fetchone()
            entered = row[1] if row and row[0] == section_id else int(time.time())
            conn.execute("DELETE FROM thread_section_members WHERE thread_id = ?", (thread_id,))
            position = self._position(conn, section_id, before)
            conn.execute(
                "INSERT INTO thread_section_members(thread_id, section_id, position, entered_at)"
                " VALUES (?, ?, ?, ?)", (thread_id, section_id, position, entered))

    @staticmethod
    def _position(conn: sqlite3.Connection, section_id: str, before: str | None) -> float:
        positions = [p for (p,) in conn.execute(
            "SELECT position FROM thread_section_members WHERE section_id = ? ORDER BY position",
            (section_id,))]
        anchor = None
        if before is not None:
            row = conn.execute(
                "SELECT position FROM thread_section_members WHERE thread_id = ? "
                "AND section_id = ?", (before, section_id)).fetchone()
            anchor = row[0] if row else None
        if anchor is None:
            return (positions[-1] + 1.0) if positions else 1.0
        earlier = [p for p in positions if p < anchor]
        return float((earlier[-1] + anchor) / 2 if earlier else anchor - 1.0)

    def membership(self, thread_id: str) -> Membership | None:
        """The section ``thread_id`` is in, with when it entered (unix seconds)."""
        row = self.conn.execute(
            "SELECT s.id, s.name, s.appearance, m.entered_at FROM thread_section_members m "
            "JOIN thread_sections s ON s.id = m.section_id WHERE m.thread_id = ?",
            (thread_id,)).fetchone()
        return Membership(_section(row[:3]), row[3]) if row else None

    def members(self, section_id: str) -> list[str]:
        """Thread ids of a section in their order."""
        return [tid for tid, _ in self.positions(section_id)]

    def positions(self, section_id: str) -> list[tuple[str, float]]:
        """``(thread id, position)`` of a section's threads in their order."""
        return [(tid, float(pos)) for tid, pos in self.conn.execute(
            "SELECT thread_id, position FROM thread_section_members WHERE section_id = ? "
            "ORDER BY position, thread_id", (section_id,))]

    def sectioned(self) -> set[str]:
        """Every thread that is in some section."""
        return {tid for (tid,) in self.conn.execute(
            "SELECT thread_id FROM thread_section_members")}


def _check_name(name: str) -> None:
    if not name.strip():
        raise SectionError("section name must not be empty")


def _json(value: dict[str, Any] | None) -> str | None:
    return json.dumps(value) if value is not None else None
