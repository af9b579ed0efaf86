"""Thread lifecycle for the ``thread/*`` handlers: locate a stored thread, read it, restore
a resumed one, copy a fork, archive, unarchive and delete.

Every file scan, rollout read and index lookup runs on a worker thread
(``asyncio.to_thread``), so a big rollout never holds up the requests of other
connections. Failures raise :mod:`pycodex.core.errors` errors with the reference's text
(``InvalidInput``: the request was wrong; ``Unavailable``: a server-side failure).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from pycodex import PROTOCOL_VERSION
from pycodex.core.errors import InvalidInput, Unavailable
from pycodex.core.git_info import collect_git_info
from pycodex.core.thread_config import recorded
from pycodex.core.thread_history import current_turns
from pycodex.core.threads import LoadedThread, ThreadManager
from pycodex.core.token_usage import TokenLedger
from pycodex.core.turn_context import (
    PersistedSettings,
    applied_settings,
    follow_settings_line,
    persisted_settings,
)
from pycodex.protocol.types.items import Turn
from pycodex.protocol.types.threads import GitInfo, HistoryMode
from pycodex.store.archive import ArchiveError, archive_rollout, unarchive_rollout
from pycodex.store.history import StoredThread, read_thread, turn_preview
from pycodex.store.rollout import (
    MemoryRolloutWriter,
    RolloutItem,
    RolloutLine,
    RolloutWriter,
    find_rollout,
    iter_rollout,
    parse_timestamp_ms,
    read_session_meta,
    rollout_path,
    utc_timestamp,
)
from pycodex.store.rollout_check import located_summary
from pycodex.store.summary import ThreadSummary, source_to_wire
from pycodex.store.tail import Tail, count_next_ordinal, read_tail

SESSION_SOURCE = "vscode"

__all__ = ["SESSION_SOURCE", "archive", "delete", "locate", "unarchive"]


def no_rollout(thread_id: str) -> InvalidInput:
    return InvalidInput(f"no rollout found for thread id {thread_id}")


# -- locate ---------------------------------------------------------------------------


def _locate(
    mgr: ThreadManager, thread_id: str, archived: bool | None
) -> ThreadSummary | None:
    summary = mgr.index.get(thread_id)
    if summary is not None and Path(summary.path).exists():
        if archived is None or summary.archived == archived:
            return summary
        return None
    for is_archived in (False, True) if archived is None else (archived,):
        path = find_rollout(mgr.codex_home, thread_id, archived=is_archived)
        if path is None:
            continue
        found = located_summary(path, archived=is_archived)
        if found is not None and found.id == thread_id:
            if summary is not None:
                found.name, found.git_sha = summary.name, summary.git_sha
                found.git_branch, found.git_origin_url = summary.git_branch, summary.git_origin_url
            mgr.index.upsert(found)
            return found
    if summary is not None:
        mgr.index.delete(thread_id)
    return None


async def locate(
    mgr: ThreadManager, thread_id: str, *, archived: bool | None = None
) -> ThreadSummary | None:
    """The stored thread ``thread_id`` (index first, then its file by name)."""
    return await asyncio.to_thread(_locate, mgr, thread_id, archived)


# -- new threads ----------------------------------------------------------------------


def session_meta(
    thread: LoadedThread, created: float, *, forked_from: str | None = None
) -> dict[str, Any]:
    """The ``session_meta`` payload of a new thread's rollout."""
    s = thread.settings
    meta: dict[str, Any] = {
        "id": thread.id,
        "session_id": thread.id,
        "timestamp": utc_timestamp(created),
        "cwd": s.cwd,
        "originator": thread.originator,
        "cli_version": PROTOCOL_VERSION,
        "source": SESSION_SOURCE,
        "model_provider": s.model_provider,
        "base_instructions": {"text": s.base_instructions} if s.base_instructions else None,
        "history_mode": thread.history_mode,
    }
    if forked_from:
        meta["forked_from_id"] = forked_from
    if s.dynamic_tools:
        meta["dynamic_tools"] = s.dynamic_tools
    return meta


async def attach_writer(
    mgr: ThreadManager, thread: LoadedThread, created: float, forked_from: str | None = None
) -> None:
    """Give a new thread its rollout writer (the file appears with its first turn)."""
    meta = session_meta(thread, created, forked_from=forked_from)
    git = await asyncio.to_thread(collect_git_info, Path(thread.settings.cwd))
    if git is not None:  # in a repository (an unborn one records an empty table)
        meta["git"] = git
    if git:
        thread.git_info = GitInfo(sha=git.get("commit_hash"), branch=git.get("branch"),
                                  origin_url=git.get("repository_url"))
    if thread.ephemeral:
        thread.writer = MemoryRolloutWriter(meta)
    else:
        thread.writer = RolloutWriter(
            rollout_path(mgr.codex_home, thread.id, created),
            session_meta=meta,
            on_append=mgr.on_append(thread),
        )


# -- resume ---------------------------------------------------------------------------


def _read_stored_end(path: Path, thread_id: str) -> StoredThread:
    """Meta, last turns (down to the one holding the last item) and last turn context of
    ``path`` read from its two ends when they settle them (``next_ordinal`` then ``-1``:
    learnt on the first append); otherwise the whole file."""
    tail = _tail(path, thread_id, None, 1, 1, with_context=True)
    if tail is not None:
        meta = read_session_meta(path)
        if meta is not None:
            return StoredThread(meta, tail.turns, tail.context or {}, -1, tail.applied)
    return read_thread(path, thread_id)


async def read_stored(path: Path, thread_id: str, *, last_turn_only: bool = False
                      ) -> StoredThread:
    """One pass over a stored rollout (meta, turns, last turn context) off the loop; with
    ``last_turn_only`` the turns may be just the last ones (down to the one holding the
    last item: all that the cursors of a resume without turns need), read from the end of
    the file."""
    read = _read_stored_end if last_turn_only else read_thread
    try:
        stored = await asyncio.to_thread(read, path, thread_id)
    except OSError as exc:
        raise InvalidInput(f"failed to load rollout `{path}`: {exc}") from None
    if not stored.meta:
        raise InvalidInput(f"failed to load rollout `{path}`: missing session metadata")
    return stored


def recorded_settings(stored: StoredThread) -> PersistedSettings:
    """The settings the stored thread last ran with (cwd from its meta when no turn ran)."""
    persisted = persisted_settings(stored.context)
    if stored.applied is not None:  # thread/settings/update after the last turn
        persisted = applied_settings(stored.applied, persisted)
    if persisted.cwd is None and isinstance(stored.meta.get("cwd"), str):
        persisted.cwd = stored.meta["cwd"]
    return persisted


def _text(meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) else None


def history_mode(meta: dict[str, Any]) -> HistoryMode:
    """Only a rollout whose ``session_meta`` says so pages its history; older ones (and
    those of other writers) are read whole, as the reference reads them."""
    return "paginated" if meta.get("history_mode") == "paginated" else "legacy"


async def last_token_usage(path: Path) -> tuple[TokenLedger, str] | None:
    """The usage a stored rollout last counted and the turn it was counted in (read from
    the file's end, off the loop); ``None`` when none was counted in a known turn."""
    from pycodex.store.tail import last_token_usage as read_last

    counted = await asyncio.to_thread(read_last, path)
    if counted is None or counted[1] is None:
        return None
    return TokenLedger.from_rollout(counted[0]), counted[1]


async def stored_history_mode(path: Path) -> HistoryMode:
    """The history mode a stored rollout records (its first lines only)."""
    meta = await asyncio.to_thread(read_session_meta, path)
    return history_mode(meta or {})


def restore(
    mgr: ThreadManager,
    thread: LoadedThread,
    stored: StoredThread,
    path: Path,
    summary: ThreadSummary | None,
) -> None:
    """Turn a freshly built ``thread`` into the stored one: identity, metadata, writer."""
    meta = stored.meta
    created_ms = parse_timestamp_ms(str(meta.get("timestamp", ""))) or int(time.time() * 1000)
    thread.created_at = created_ms // 1000
    thread.source = source_to_wire(meta.get("source", SESSION_SOURCE))
    thread.cli_version = str(meta.get("cli_version", ""))
    thread.originator = _text(meta, "originator")
    thread.forked_from_id = _text(meta, "forked_from_id")
    thread.history_mode = history_mode(meta)
    thread.preview = (summary.preview if summary and summary.preview
                      else turn_preview(stored.turns))
    thread.name = summary.name if summary else None
    if summary and (summary.git_sha or summary.git_branch or summary.git_origin_url):
        thread.git_info = GitInfo(
            sha=summary.git_sha, branch=summary.git_branch, origin_url=summary.git_origin_url
        )
    try:
        thread.updated_at = int(path.stat().st_mtime)
    except OSError:
        thread.updated_at = thread.created_at
    ordinal: int | Callable[[], int] = stored.next_ordinal
    if stored.next_ordinal < 0:
        ordinal = _count_in_background(path)
    thread.writer = RolloutWriter(path, next_ordinal=ordinal, on_append=mgr.on_append(thread))


def _count_in_background(path: Path) -> Callable[[], int]:
    """The next ordinal of ``path``, counted on a worker thread from now on; the returned
    function waits for it (the writer asks on its first append, usually long after)."""
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(count_next_ordinal(path)),
                              name="rollout-ordinal", daemon=True)
    worker.start()

    def wait() -> int:
        worker.join()
        return result[0] if result else count_next_ordinal(path)

    return wait


# -- fork -----------------------------------------------------------------------------


class ForkSource(msgspec.Struct):
    """What a fork copies: the source's lines (no ``session_meta``), name and settings."""

    lines: list[RolloutLine]
    name: str | None
    persisted: PersistedSettings
    #: the source's running turn, recorded as interrupted in the copy
    running_turn_id: str | None = None


async def fork_source(mgr: ThreadManager, source_id: str, path: Path | None) -> ForkSource:
    """The thread to fork: loaded (live settings) or stored; ``path`` names its file."""
    source = mgr.get(source_id)
    lines: list[RolloutLine] | None = None
    name: str | None = None
    if path is None and source is not None:
        if source.ephemeral:
            lines = list(source.lines())
        elif source.materialized:
            path = source.writer.path
        name = source.name
    if lines is None and path is None:
        summary = await locate(mgr, source_id)
        if summary is None:
            raise no_rollout(source_id)
        path, name = Path(summary.path), summary.name
    if lines is None:
        assert path is not None
        try:
            lines = await asyncio.to_thread(lambda: list(iter_rollout(path)))
        except OSError as exc:
            raise InvalidInput(f"failed to load rollout `{path}`: {exc}") from None
    lines = [line for line in lines if line.type != "session_meta"]
    persisted = PersistedSettings()
    if source is not None:
        persisted = recorded(source.settings)
    else:
        for line in lines:
            persisted = follow_settings_line(persisted, line.type, line.payload)
    running = source.active_turn_id if source is not None else None
    return ForkSource(lines, name, persisted, running)


async def write_fork(
    mgr: ThreadManager, thread: LoadedThread, created: float, source_id: str, source: ForkSource
) -> list[Turn]:
    """Give the fork its rollout, a copy of the source's; returns the fork's turns."""
    thread.forked_from_id = source_id
    thread.session_start_source = "fork"  # what its first SessionStart hooks are told
    thread.name = source.name
    thread.history_mode = "paginated"  # a fork is a new thread, whatever its source
    items: list[RolloutItem] = [(line.type, line.payload) for line in source.lines]
    if source.running_turn_id is not None:
        items.append(("event_msg", {"type": "turn_aborted", "turn_id": source.running_turn_id,
                                    "reason": "interrupted"}))
    try:
        await attach_writer(mgr, thread, created, forked_from=source_id)
        await asyncio.to_thread(thread.writer.append_nowait, items)
    except OSError as exc:
        raise Unavailable(f"error creating thread: {exc}") from None
    turns = await current_turns(thread)
    thread.preview = thread.preview or turn_preview(turns)
    return turns


# -- read -----------------------------------------------------------------------------


def _tail(path: Path, thread_id: str, running: str | None, turns: int, items: int, *,
          with_context: bool = False) -> Tail | None:
    """At least the last ``turns`` turns, holding at least the last ``items`` items, read
    from the end of the file (more turns while they hold too few items), or ``None`` when
    only a full read can tell."""
    while True:
        tail = read_tail(path, thread_id, turns, running, with_context=with_context)
        if tail is None or sum(len(turn.items) for turn in tail.turns) >= items:
            return tail
        turns = 2 * len(tail.turns)


def _last_turns(path: Path, thread_id: str, running: str | None, turns: int, items: int
                ) -> list[Turn]:
    tail = _tail(path, thread_id, running, turns, items)
    return tail.turns if tail is not None else read_thread(path, thread_id, running).turns


async def load_last_turns(path: Path, thread_id: str, running: str | None = None, *,
                          turns: int = 1, items: int = 0) -> list[Turn]:
    """The turns of a stored rollout, or just enough of its last ones: at least ``turns``
    turns holding at least ``items`` items (all of them when it has no more), off the
    loop."""
    try:
        return await asyncio.to_thread(_last_turns, path, thread_id, running, turns, items)
    except OSError as exc:
        raise Unavailable(f"failed to load rollout `{path}`: {exc}") from None


async def load_turns(path: Path, thread_id: str, running: str | None = None) -> list[Turn]:
    """The turns of a stored rollout, rebuilt off the loop."""
    try:
        stored = await asyncio.to_thread(read_thread, path, thread_id, running)
    except OSError as exc:
        raise Unavailable(f"failed to load rollout `{path}`: {exc}") from None
    return stored.turns


# -- archive / unarchive / delete -----------------------------------------------------


async def _stored_path(mgr: ThreadManager, thread_id: str) -> tuple[Path, LoadedThread | None]:
    """The rollout path of a non-archived thread, materializing a loaded one if needed."""
    loaded = mgr.get(thread_id)
    if loaded is not None and not loaded.ephemeral:
        await loaded.writer.materialize()
        mgr.refresh_index(loaded)
        return loaded.writer.path, loaded
    summary = await locate(mgr, thread_id, archived=False)
    if summary is None:
        raise no_rollout(thread_id)
    return Path(summary.path), loaded


async def archive(mgr: ThreadManager, thread_id: str) -> None:
    """Unload the thread and move its rollout under ``archived_sessions``."""
    path, loaded = await _stored_path(mgr, thread_id)
    if loaded is not None:
        mgr.unload(thread_id, closed_notification=False)
    try:
        new_path = await asyncio.to_thread(archive_rollout, mgr.codex_home, path)
    except ArchiveError as exc:
        raise Unavailable(str(exc)) from None
    mgr.index.update(thread_id, path=str(new_path), archived=1)


async def unarchive(mgr: ThreadManager, thread_id: str) -> ThreadSummary:
    """Move an archived rollout back under ``sessions``; returns its new summary."""
    summary = await locate(mgr, thread_id, archived=True)
    if summary is None:
        raise InvalidInput(f"no archived rollout found for thread id {thread_id}")
    try:
        new_path = await asyncio.to_thread(
            unarchive_rollout, mgr.codex_home, Path(summary.path), thread_id)
    except ArchiveError as exc:
        raise (Unavailable if exc.kind == "io" else InvalidInput)(str(exc)) from None
    st = new_path.stat()
    summary.path = str(new_path)
    summary.archived = False
    summary.updated_at_ms = st.st_mtime_ns // 1_000_000
    summary.file_size, summary.file_mtime_ns = st.st_size, st.st_mtime_ns
    mgr.index.upsert(summary)
    return summary


async def delete(mgr: ThreadManager, thread_id: str) -> None:
    """Unload the thread and remove its rollout and index row."""
    loaded = mgr.get(thread_id)
    path: Path | None = None
    if loaded is not None:
        path = loaded.writer.path if loaded.materialized else None
        mgr.unload(thread_id, closed_notification=False)
    else:
        summary = await locate(mgr, thread_id)
        if summary is None:
            raise no_rollout(thread_id)
        path = Path(summary.path)
    if path is not None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise Unavailable(f"failed to delete thread: {exc}") from None
    mgr.index.delete(thread_id)
