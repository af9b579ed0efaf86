"""The SQLite stores of thread sections, attachments, goals and import history (built on
first use, one connection per file), and how handlers find the thread they name."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec

from pycodex.api.context import AppState, RequestContext
from pycodex.protocol.errors import INVALID_REQUEST, RpcError
from pycodex.store import goals
from pycodex.store.attachments import SCHEMA as ATTACHMENTS_SCHEMA
from pycodex.store.attachments import AttachmentStore
from pycodex.store.goals import GoalStore
from pycodex.store.ids import InvalidId, parse_thread_id
from pycodex.store.import_history import SCHEMA as IMPORTS_SCHEMA
from pycodex.store.import_history import ImportHistoryStore
from pycodex.store.read_receipts import SCHEMA as READ_RECEIPTS_SCHEMA
from pycodex.store.read_receipts import ReadReceiptStore
from pycodex.store.sections import SCHEMA as SECTIONS_SCHEMA
from pycodex.store.sections import SectionStore
from pycodex.store.sqlite_file import open_sqlite

#: Sections, attachments, import history and read receipts share one file; goals have
#: their own.
EXTRAS_FILE = "thread_extras_pycodex.sqlite"


def _extras_db(app: AppState) -> sqlite3.Connection:
    schema = SECTIONS_SCHEMA + ATTACHMENTS_SCHEMA + IMPORTS_SCHEMA + READ_RECEIPTS_SCHEMA
    conn = open_sqlite(app.options.codex_home / EXTRAS_FILE, schema)
    app.shutdown_hooks.append(conn.close)
    return conn


def section_store(app: AppState) -> SectionStore:
    return SectionStore(app.get(_extras_db))


def attachment_store(app: AppState) -> AttachmentStore:
    return AttachmentStore(app.get(_extras_db))


def import_history_store(app: AppState) -> ImportHistoryStore:
    return ImportHistoryStore(app.get(_extras_db))


def read_receipt_store(app: AppState) -> ReadReceiptStore:
    return ReadReceiptStore(app.get(_extras_db))


def goal_store(app: AppState) -> GoalStore:
    conn = open_sqlite(app.options.codex_home / goals.FILE_NAME, goals.SCHEMA)
    app.shutdown_hooks.append(conn.close)
    return GoalStore(conn)


class ThreadRef(msgspec.Struct, frozen=True):
    id: str
    archived: bool
    path: Path | None = None
    """Its rollout file, once it has one."""


def find_thread(ctx: RequestContext, thread_id: str) -> ThreadRef | None:
    """A loaded thread, or a stored one (index first, then its rollout file by name)."""
    from pycodex.api.threads import thread_manager
    from pycodex.store.rollout import find_rollout

    manager = ctx.app.get(thread_manager)
    loaded = manager.get(thread_id)
    if loaded is not None:
        return ThreadRef(thread_id, False, loaded.path)
    summary = manager.index.get(thread_id)
    if summary is not None:
        return ThreadRef(thread_id, summary.archived, Path(summary.path))
    for archived in (False, True):
        path = find_rollout(manager.codex_home, thread_id, archived=archived)
        if path is not None:
            return ThreadRef(thread_id, archived, path)
    return None


def parse_id(text: str, *, code: int = INVALID_REQUEST) -> str:
    """The canonical thread id, else ``invalid thread id: …`` with ``code``."""
    try:
        return parse_thread_id(text)
    except InvalidId as exc:
        raise RpcError(code, f"invalid thread id: {exc}") from None


def require_thread(ctx: RequestContext, text: str, *, code: int = INVALID_REQUEST) -> ThreadRef:
    """The named thread, else ``invalid thread id: …`` / ``thread not found: <id>``."""
    thread_id = parse_id(text, code=code)
    found = find_thread(ctx, thread_id)
    if found is None:
        raise RpcError(code, f"thread not found: {thread_id}")
    return found
