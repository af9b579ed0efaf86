"""Thread goals (``goals_pycodex.sqlite``): one standing objective per thread with its status,
token budget and the tokens and time spent on it."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import msgspec

from pycodex.store.sqlite_file import Transaction

FILE_NAME = "goals_pycodex.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS thread_goals (
    thread_id TEXT PRIMARY KEY,
    objective TEXT NOT NULL,
    status TEXT NOT NULL,
    token_budget INTEGER,
    tokens_used INTEGER NOT NULL DEFAULT 0,
    time_used_seconds INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
"""


class Goal(msgspec.Struct, frozen=True, kw_only=True):
    thread_id: str
    objective: str
    status: str
    token_budget: int | None
    tokens_used: int
    time_used_seconds: int
    created_at: int
    updated_at: int


_COLUMNS = ("thread_id, objective, status, token_budget, tokens_used, time_used_seconds, "
            "created_at, updated_at")
KEEP: Any = ...
"""Marks a field of :meth:`GoalStore.set` the caller did not send."""


def _goal(row: tuple[Any, ...]) -> Goal:
    return Goal(thread_id=row[0], objective=row[1], status=row[2], token_budget=row[3],
                tokens_used=row[4], time_used_seconds=row[5], created_at=row[6],
                updated_at=row[7])


class NoGoal(Exception):
    """An update of a thread that has no goal."""


class UnfinishedGoal(Exception):
    """A new goal for a thread whose goal is not complete yet."""


def _fresh(thread_id: str, objective: str, status: str, token_budget: int | None,
           now: int) -> Goal:
    return Goal(thread_id=thread_id, objective=objective, status=status,
                token_budget=token_budget, tokens_used=0, time_used_seconds=0,
                created_at=now, updated_at=now)


def _write(conn: sqlite3.Connection, goal: Goal) -> None:
    conn.execute(f"INSERT OR REPLACE INTO thread_goals({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                 msgspec.structs.astuple(goal))


class GoalStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get(self, thread_id: str) -> Goal | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM thread_goals WHERE thread_id = ?",
                                (thread_id,)).fetchone()
        return _goal(row) if row else None

    def set(self, thread_id: str, *, objective: str | None, status: str | None,
            token_budget: Any = KEEP) -> Goal:
        """Create the goal (status ``active`` unless given) or change the fields given;
        an existing goal keeps its counters and creation time, as the reference's does."""
        now = int(time.time())
        with Transaction(self.conn) as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM thread_goals WHERE thread_id = ?",
                               (thread_id,)).fetchone()
            current = _goal(row) if row else None
            if current is None:
                if objective is None:
                    raise NoGoal(thread_id)
                goal = _fresh(thread_id, objective, status or "active",
                              None if token_budget is KEEP else token_budget, now)
            else:
                goal = msgspec.structs.replace(
                    current, objective=objective or current.objective,
                    status=status or current.status, updated_at=now,
                    token_budget=current.token_budget if token_budget is KEEP else token_budget)
            _write(conn, goal)
            return goal

    def create(self, thread_id: str, objective: str, token_budget: int | None) -> Goal:
        """A fresh active goal (the model's ``create_goal``); only when the thread has none
        or its goal is complete, else :class:`UnfinishedGoal`."""
        with Transaction(self.conn) as conn:
            row = conn.execute("SELECT status FROM thread_goals WHERE thread_id = ?",
                               (thread_id,)).fetchone()
            if row is not None and row[0] != "complete":
                raise UnfinishedGoal(thread_id)
            goal = _fresh(thread_id, objective, "active", token_budget, int(time.time()))
            _write(conn, goal)
            return goal

    def add_usage(self, thread_id: str, tokens: int, seconds: int) -> Goal | None:
        """Count ``tokens`` and ``seconds`` against an active goal; past its token budget it
        becomes ``budgetLimited``. ``None`` when the thread has no active goal."""
        with Transaction(self.conn) as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM thread_goals WHERE thread_id = ?",
                               (thread_id,)).fetchone()
            if row is None or row[2] != "active":
                return None
            goal = _goal(row)
            used = goal.tokens_used + max(tokens, 0)
            over = goal.token_budget is not None and used >= goal.token_budget
            goal = msgspec.structs.replace(
                goal, tokens_used=used, updated_at=int(time.time()),
                time_used_seconds=goal.time_used_seconds + max(seconds, 0),
                status="budgetLimited" if over else goal.status)
            conn.execute("UPDATE thread_goals SET tokens_used = ?, time_used_seconds = ?, "
                         "status = ?, updated_at = ? WHERE thread_id = ?",
                         (goal.tokens_used, goal.time_used_seconds, goal.status,
                          goal.updated_at, thread_id))
            return goal

    def stop(self, thread_id: str, status: str) -> Goal | None:
        """Give an active goal ``status`` (``blocked``, ``usageLimited``: its turn failed);
        ``None`` when there is none."""
        now = int(time.time())
        cursor = self.conn.execute(
            "UPDATE thread_goals SET status = ?, updated_at = ? "
            "WHERE thread_id = ? AND status = 'active'", (status, now, thread_id))
        return self.get(thread_id) if cursor.rowcount else None

    def clear(self, thread_id: str) -> bool:
        cursor = self.conn.execute("DELETE FROM thread_goals WHERE thread_id = ?", (thread_id,))
        return cursor.rowcount > 0
