"""The SQLite thread index (``$CODEX_HOME/state_pycodex.sqlite``, WAL).

It is only an index: rollout files are the truth. A missing or incomplete index is rebuilt
from the files before first use (on a background thread started at start-up; until it is
ready, ``thread/list`` pages are read from the files by :mod:`pycodex.store.scan`, which
pauses the rebuild meanwhile); an existing one is reconciled with the files in a
background thread (new, changed or vanished files).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pycodex.store.names import read_git_infos, read_names
from pycodex.store.rollout import ARCHIVED_DIR, SESSIONS_DIR
from pycodex.store.rollout_check import accepted_head_summary, iter_rollouts
from pycodex.store.scan import decorate
from pycodex.store.summary import ThreadSummary, file_signature

logger = logging.getLogger(__name__)

DB_FILE = "state_pycodex.sqlite"
#: "2": files that are not rollouts are no longer rows (older indexes are rebuilt).
SCHEMA_VERSION = "3"
#: Rows per transaction while the index is built.
REBUILD_BATCH = 2_000

_COLUMNS = (
    "id",
    "path",
    "created_at_ms",
    "updated_at_ms",
    "cwd",
    "model_provider",
    "source_json",
    "source_kind",
    "cli_version",
    "originator",
    "preview",
    "model",
    "reasoning_effort",
    "git_sha",
    "git_branch",
    "git_origin_url",
    "forked_from_id",
    "agent_nickname",
    "agent_role",
    "archived",
    "name",
    "file_size",
    "file_mtime_ns",
    "history_mode",
)
_SELECT = ", ".join(_COLUMNS)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS threads (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    cwd TEXT NOT NULL,
    model_provider TEXT NOT NULL,
    source_json TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    cli_version TEXT NOT NULL,
    originator TEXT,
    preview TEXT NOT NULL,
    model TEXT,
    reasoning_effort TEXT,
    git_sha TEXT,
    git_branch TEXT,
    git_origin_url TEXT,
    forked_from_id TEXT,
    agent_nickname TEXT,
    agent_role TEXT,
    archived INTEGER NOT NULL,
    name TEXT,
    file_size INTEGER NOT NULL,
    file_mtime_ns INTEGER NOT NULL,
    history_mode TEXT NOT NULL
);
"""
#: The secondary indexes: dropped while the table is rebuilt, created once it is full
#: (one sort each instead of an update per row).
_INDEXES = {
    "threads_by_created": "threads (archived, created_at_ms DESC, id DESC)",
    "threads_by_updated": "threads (archived, updated_at_ms DESC, id DESC)",
    "threads_by_path": "threads (path)",
}
_CREATE_INDEXES = tuple(f"CREATE INDEX IF NOT EXISTS {name} ON {on}"
                        for name, on in _INDEXES.items())
_DROP_INDEXES = tuple(f"DROP INDEX IF EXISTS {name}" for name in _INDEXES)


def _row_to_summary(row: Sequence[Any]) -> ThreadSummary:
    data = dict(zip(_COLUMNS, row, strict=True))
    source = json.loads(data.pop("source_json"))
    data.pop("source_kind")
    data["archived"] = bool(data["archived"])
    return ThreadSummary(source=source, **data)


def _summary_params(s: ThreadSummary) -> tuple[Any, ...]:
    return (
        s.id,
        s.path,
        s.created_at_ms,
        s.updated_at_ms,
        s.cwd,
        s.model_provider,
        json.dumps(s.source),
        s.source_kind,
        s.cli_version,
        s.originator,
        s.preview,
        s.model,
        s.reasoning_effort,
        s.git_sha,
        s.git_branch,
        s.git_origin_url,
        s.forked_from_id,
        s.agent_nickname,
        s.agent_role,
        int(s.archived),
        s.name,
        s.file_size,
        s.file_mtime_ns,
        s.history_mode,
    )


_UPSERT = f"INSERT OR REPLACE INTO threads ({_SELECT}) VALUES ({', '.join('?' for _ in _COLUMNS)})"

assert set(ThreadSummary.__struct_fields__) >= set(_COLUMNS) - {"source_json", "source_kind"}


class ThreadIndex:
    """All index reads and writes. Use from one thread (the event loop); the background
    reconcile opens its own connection."""

    def __init__(self, codex_home: Path, db_path: Path | None = None) -> None:
        self.codex_home = codex_home
        self.db_path = db_path or codex_home / DB_FILE
        self._conn: sqlite3.Connection | None = None
        self._reconciler: threading.Thread | None = None
        self.reconciled = threading.Event()
        self._open_lock = threading.Lock()
        self._ready = threading.Event()
        # Set once opening knows whether it must rebuild (``_building``).
        self._decided = threading.Event()
        self._building = False
        self._warm_up: threading.Thread | None = None
        # The rebuild runs while this is set; cold ``thread/list`` pages clear it so that
        # they do not fight the rebuild for the GIL.
        self._run = threading.Event()
        self._run.set()
        self._pauses = 0
        self._pause_lock = threading.Lock()

    # -- connection -----------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.db_path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(_SCHEMA)
        for sql in _CREATE_INDEXES:
            conn.execute(sql)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            with self._open_lock:  # the start-up warm-up may be opening it right now
                if self._conn is None:
                    try:
                        self._conn = self._open()
                    finally:
                        self._decided.set()
                    self._ready.set()
        return self._conn

    def is_ready(self) -> bool:
        """Whether :attr:`conn` answers without waiting (opened, and built if it had to be)."""
        return self._ready.is_set()

    def building(self) -> bool:
        """Whether the index is being built from the files, or will be as there is no
        database yet: until it is ready, listing should read the files."""
        if self._ready.is_set():
            return False
        return self._building or not self.db_path.exists()

    def wait_decided(self) -> None:
        """Block until opening knows whether it rebuilds (see :meth:`building`)."""
        self._decided.wait()

    def wait_ready(self) -> None:
        """Block until the index is open and built (run it on a worker thread)."""
        self.conn  # noqa: B018 - opening is the point

    def warm_up_in_background(self) -> None:
        """Open (and if needed rebuild) the index on a thread, off the request path. Only the
        first call starts one."""
        with self._pause_lock:
            if self._warm_up is not None or self._ready.is_set():
                return
            self._warm_up = threading.Thread(
                target=self._warm_up_body, name="index-warm-up", daemon=True
            )
        self._warm_up.start()

    def _warm_up_body(self) -> None:
        try:
            self.wait_ready()
        except Exception:
            logger.exception("opening the thread index failed")

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold a running rebuild between two files while the block runs."""
        with self._pause_lock:
            self._pauses += 1
            self._run.clear()
        try:
            yield
        finally:
            with self._pause_lock:
                self._pauses -= 1
                if self._pauses == 0:
                    self._run.set()

    def _open(self) -> sqlite3.Connection:
        try:
            conn = self._connect()
            row = conn.execute("SELECT value FROM meta WHERE key='backfill'").fetchone()
        except sqlite3.DatabaseError:
            logger.warning("thread index %s is unreadable; rebuilding it", self.db_path)
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.db_path) + suffix).unlink(missing_ok=True)
            conn = self._connect()
            row = None
        if row is not None and row[0] != SCHEMA_VERSION:  # columns changed: a new table
            conn.executescript("DROP TABLE IF EXISTS threads;" + _SCHEMA)
            row = None
        if row is None or row[0] != SCHEMA_VERSION:
            self._building = True
            self._decided.set()
            started = time.perf_counter()
            count = self._rebuild(conn)
            logger.info(
                "thread index built from %d rollouts in %.0f ms",
                count,
                (time.perf_counter() - started) * 1000,
            )
            self.reconciled.set()
        else:
            self._reconciler = threading.Thread(
                target=self._reconcile_in_background, name="thread-index-reconcile", daemon=True
            )
            self._reconciler.start()
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- rebuild / reconcile --------------------------------------------------------
    def _scan(self) -> Iterator[tuple[str, bool]]:
        """Every rollout with whether it is archived, as the walk finds it."""
        for path in iter_rollouts(self.codex_home / SESSIONS_DIR):
            yield path, False
        for path in iter_rollouts(self.codex_home / ARCHIVED_DIR):
            yield path, True

    def _rebuild(self, conn: sqlite3.Connection) -> int:
        """Fill the table from the files, committing every :data:`REBUILD_BATCH` rows so
        that memory stays bounded; the index counts as built only once the ``backfill``
        mark is written at the end (an interrupted build is redone on the next start)."""
        names = read_names(self.codex_home)
        gits = read_git_infos(self.codex_home)
        self._write(conn, "DELETE FROM meta WHERE key='backfill'", "DELETE FROM threads",
                    *_DROP_INDEXES)
        count = 0
        rows = []
        for path, archived in self._scan():
            self._run.wait()
            summary = accepted_head_summary(path, archived=archived)
            if summary is not None:
                rows.append(_summary_params(decorate(summary, names, gits)))
            if len(rows) >= REBUILD_BATCH:
                self._write(conn, rows=rows)
                count += len(rows)
                rows = []
        count += len(rows)
        self._write(conn, rows=rows)
        self._write(
            conn,
            *_CREATE_INDEXES,
            f"INSERT OR REPLACE INTO meta (key, value) VALUES ('backfill', '{SCHEMA_VERSION}')",
        )
        return count

    @staticmethod
    def _write(conn: sqlite3.Connection, *statements: str,
               rows: Sequence[tuple[Any, ...]] = ()) -> None:
        """One transaction: ``statements`` (constant SQL), then ``rows`` upserted."""
        conn.execute("BEGIN")
        try:
            for sql in statements:
                conn.execute(sql)
            conn.executemany(_UPSERT, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _reconcile_in_background(self) -> None:
        try:
            conn = self._connect()
            try:
                changed = self.reconcile(conn)
                if changed:
                    logger.info("thread index: reconciled %d changed rollouts", changed)
            finally:
                conn.close()
        except Exception:
            logger.exception("thread index reconcile failed")
        finally:
            self.reconciled.set()

    def reconcile(self, conn: sqlite3.Connection | None = None) -> int:
        """Bring the index in line with the files; returns how many rows changed."""
        conn = conn or self.conn
        known = {
            row[0]: (row[1], row[2], row[3])
            for row in conn.execute("SELECT path, id, file_size, file_mtime_ns FROM threads")
        }
        names: dict[str, str] | None = None
        gits: dict[str, tuple[str | None, str | None, str | None]] | None = None
        updates = []
        seen: set[str] = set()
        for path, archived in self._scan():
            key = path
            seen.add(key)
            sig = file_signature(path)
            if sig is None:
                continue
            old = known.get(key)
            if old is not None and (old[1], old[2]) == sig:
                continue
            summary = accepted_head_summary(path, archived=archived)
            if summary is None:
                continue
            if names is None or gits is None:
                names = read_names(self.codex_home)
                gits = read_git_infos(self.codex_home)
            updates.append(_summary_params(decorate(summary, names, gits)))
        gone = [(path,) for path in known if path not in seen]
        if not updates and not gone:
            return 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("DELETE FROM threads WHERE path = ?", gone)
            conn.executemany(_UPSERT, updates)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(updates) + len(gone)

    # -- rows -----------------------------------------------------------------------
    def upsert(self, summary: ThreadSummary) -> None:
        self.conn.execute(_UPSERT, _summary_params(summary))

    def get(self, thread_id: str) -> ThreadSummary | None:
        row = self.conn.execute(
            f"SELECT {_SELECT} FROM threads WHERE id = ?", (thread_id,)
        ).fetchone()
        return _row_to_summary(row) if row else None

    def delete(self, thread_id: str) -> None:
        self.conn.execute("DELETE FROM threads WHERE id = ?", (thread_id,))

    def update(self, thread_id: str, **values: Any) -> None:
        if not values:
            return
        sets = ", ".join(f"{key} = ?" for key in values)
        self.conn.execute(f"UPDATE threads SET {sets} WHERE id = ?", (*values.values(), thread_id))

    def list(
        self,
        *,
        archived: bool,
        sort_key: str,
        descending: bool,
        after: tuple[int, str] | None,
        limit: int,
        model_providers: Sequence[str] | None = None,
        source_kinds: Sequence[str] | None = None,
        cwds: Sequence[str] | None = None,
        search_term: str | None = None,
        thread_ids: Sequence[str] | None = None,
    ) -> list[ThreadSummary]:
        """One page (``limit`` rows) in sort order, starting after ``after`` (only the
        ``thread_ids`` rows when given: an empty list matches nothing)."""
        if thread_ids is not None and not thread_ids:
            return []
        column = "updated_at_ms" if sort_key == "updated_at" else "created_at_ms"
        where = ["archived = ?"]
        args: list[Any] = [int(archived)]
        for name, values in (
            ("model_provider", model_providers),
            ("source_kind", source_kinds),
            ("cwd", cwds),
            ("id", thread_ids),
        ):
            if values:
                where.append(f"{name} IN ({', '.join('?' for _ in values)})")
                args.extend(values)
        if search_term:
            where.append("(instr(preview, ?) > 0 OR instr(coalesce(name, ''), ?) > 0)")
            args.extend([search_term, search_term])
        if after is not None:
            op = "<" if descending else ">"
            where.append(f"({column} {op} ? OR ({column} = ? AND id {op} ?))")
            args.extend([after[0], after[0], after[1]])
        order = "DESC" if descending else "ASC"
        sql = (
            f"SELECT {_SELECT} FROM threads WHERE {' AND '.join(where)} "
            f"ORDER BY {column} {order}, id {order} LIMIT ?"
        )
        args.append(limit)
        return [_row_to_summary(row) for row in self.conn.execute(sql, args)]
