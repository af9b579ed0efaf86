"""``thread/list`` pages read straight from the rollout files, for the time before the
SQLite index is ready (the reference answers a cold first page the same way).

The walk visits ``sessions/YYYY/MM/DD`` newest first (or the flat ``archived_sessions/``)
and a directory's files in descending name order, and reads file heads only until the page
is settled. A file name carries the local time the thread was created, to the second; its
``session_meta`` timestamp (the index's ``created_at``) comes from the same moment. So every
unread file was created no later than the name of the next file in the walk allows, and the
walk can stop as soon as the page's last row is newer than that: the rows, their order and
the cursor are then exactly what the index returns.

Files that are not rollouts (:mod:`pycodex.store.rollout_check`) are skipped: they are
never threads. Anything else that breaks that reasoning makes :func:`scan_page` answer
``None`` and the caller waits for the index instead: a file whose timestamp is off from its
name, a rollout name in the wrong day or an unexpected directory, an id seen twice, a sort
other than ``created_at`` descending, or the read budget running out.

A ``searchTerm`` page would decode every head; instead each file's first block is searched
for the term's bytes first, and only the files that may match are decoded (see
:func:`term_forms`), so a cold search over tens of thousands of threads costs about one read
per file.
"""

from __future__ import annotations

import bisect
import calendar
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from pycodex.store.history import IMAGE_PREVIEW
from pycodex.store.names import METADATA_FILE, NAMES_FILE, read_git_infos, read_names
from pycodex.store.rollout import ARCHIVED_DIR, SESSIONS_DIR, parse_filename
from pycodex.store.rollout_check import (
    HEAD_BLOCK,
    accepted_head_summary,
    reject,
)
from pycodex.store.summary import ThreadSummary

#: How far a file's ``session_meta`` timestamp may lie from the time in its name.
SLACK_MS = 5_000
#: Heads one cold page may decode before it gives up and waits for the index (a count,
#: not a time, so that the same home always gets the same answer; ~50 ms when quiet).
DEFAULT_MAX_HEADS = 1_000
#: Files a cold search may read to look for its term before it gives up the same way.
DEFAULT_MAX_FILES = 250_000
#: Named threads a search may match by name and still read only the blocks of the others.
_MAX_NAMED = 64

GitInfos = dict[str, tuple[str | None, str | None, str | None]]
T = TypeVar("T")


class ListQuery(msgspec.Struct, frozen=True):
    """One ``thread/list`` page request, as both the index and the file walk take it."""

    archived: bool = False
    sort_key: str = "created_at"
    descending: bool = True
    after: tuple[int, str] | None = None
    #: Rows wanted (the handler asks for one more than the page to learn if more follow).
    limit: int = 26
    model_providers: Sequence[str] | None = None
    source_kinds: Sequence[str] | None = None
    cwds: Sequence[str] | None = None
    search_term: str | None = None
    #: Only these thread ids (``thread/list.includedThreadIds``); ``None`` = no restriction.
    thread_ids: Sequence[str] | None = None

    def index_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :meth:`pycodex.store.index.ThreadIndex.list`."""
        return {
            "archived": self.archived,
            "sort_key": self.sort_key,
            "descending": self.descending,
            "after": self.after,
            "limit": self.limit,
            "model_providers": self.model_providers,
            "source_kinds": self.source_kinds,
            "cwds": self.cwds,
            "search_term": self.search_term,
            "thread_ids": self.thread_ids,
        }


def decorate(summary: ThreadSummary, names: dict[str, str], gits: GitInfos) -> ThreadSummary:
    """Attach the name (``session_index.jsonl``) and git overrides, as the index stores them."""
    summary.name = names.get(summary.id, summary.name)
    if summary.id in gits:
        summary.git_sha, summary.git_branch, summary.git_origin_url = gits[summary.id]
    return summary


def matches(summary: ThreadSummary, query: ListQuery) -> bool:
    """The index's ``WHERE`` clause (without the archived flag and the cursor)."""
    if query.model_providers and summary.model_provider not in query.model_providers:
        return False
    if query.source_kinds and summary.source_kind not in query.source_kinds:
        return False
    if query.cwds and summary.cwd not in query.cwds:
        return False
    if query.thread_ids is not None and summary.id not in query.thread_ids:
        return False
    term = query.search_term
    return not term or term in summary.preview or term in (summary.name or "")


def servable(query: ListQuery) -> bool:
    """Whether the file order can serve ``query`` (newest ``created_at`` first)."""
    return query.sort_key == "created_at" and query.descending and query.limit > 0


# -- side files, cached by signature ----------------------------------------------------

_side_cache: dict[Path, tuple[tuple[int, int] | None, Any]] = {}


def _cached(path: Path, read: Callable[[], T]) -> T:
    try:
        st = os.stat(path)
        sig: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
    except OSError:
        sig = None
    hit = _side_cache.get(path)
    if hit is not None and hit[0] == sig and sig is not None:
        value: T = hit[1]
        return value
    value = read()
    _side_cache[path] = (sig, value)
    return value


def side_files(codex_home: Path) -> tuple[dict[str, str], GitInfos]:
    """Thread names and git overrides (re-read only when their file changed)."""
    names = _cached(codex_home / NAMES_FILE, lambda: read_names(codex_home))
    gits = _cached(codex_home / METADATA_FILE, lambda: read_git_infos(codex_home))
    return names, gits


# -- the walk -------------------------------------------------------------------------


class _Irregular(Exception):
    """The tree holds something the name order cannot place."""


def _is_rollout_name(name: str) -> bool:
    return name.startswith("rollout-") and name.endswith(".jsonl")


def _entries(path: Path) -> list[os.DirEntry[str]]:
    try:
        return list(os.scandir(path))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise _Irregular(str(exc)) from None


def _date_dirs(path: Path, width: int) -> list[tuple[str, Path]]:
    """Sub-directories named by ``width`` digits, newest first; anything else that could
    hold a rollout is irregular."""
    out = []
    for entry in _entries(path):
        if entry.is_dir(follow_symlinks=False):
            if len(entry.name) != width or not entry.name.isdigit():
                raise _Irregular(entry.path)
            out.append((entry.name, Path(entry.path)))
        elif _is_rollout_name(entry.name):
            raise _Irregular(entry.path)
    out.sort(reverse=True)
    return out


_NAME_LENGTH = len("rollout-2026-01-01T00-00-00-01234567-89ab-cdef-0123-456789abcdef.jsonl")


def _files(path: Path, day: str | None) -> Iterator[tuple[str, str]]:
    """``(name timestamp, path)`` of the rollouts in ``path``, newest name first. Every name
    must have the right length and date prefix."""
    prefix = "rollout-" if day is None else f"rollout-{day}T"
    names = []
    for entry in _entries(path):
        name = entry.name
        if not _is_rollout_name(name):
            if entry.is_dir(follow_symlinks=False):
                raise _Irregular(entry.path)
            continue
        parsed = parse_filename(name)
        if parsed is None:
            reject(Path(entry.path), "not a canonical rollout filename")
            continue
        if entry.is_dir(follow_symlinks=False):
            reject(Path(entry.path), "Is a directory (os error 21)")
            continue
        if len(name) != _NAME_LENGTH or not name.startswith(prefix):
            raise _Irregular(entry.path)
        names.append((parsed[0], entry.path))
    names.sort(reverse=True)
    yield from names


def _walk(codex_home: Path, archived: bool) -> Iterator[tuple[str, str]]:
    if archived:
        yield from _files(codex_home / ARCHIVED_DIR, None)
        return
    for year, year_dir in _date_dirs(codex_home / SESSIONS_DIR, 4):
        for month, month_dir in _date_dirs(year_dir, 2):
            for day, day_dir in _date_dirs(month_dir, 2):
                yield from _files(day_dir, f"{year}-{month}-{day}")


def _utc_offset(when: int) -> int:
    return time.localtime(when).tm_gmtoff


def name_bounds(stamp: str) -> tuple[int, int]:
    """``(lowest, highest)`` ``created_at`` in ms that a file named with local time ``stamp``
    (``YYYY-MM-DDThh-mm-ss``) may carry. Both readings of a wall time repeated by a DST
    change count; a wall time that never existed here is irregular."""
    try:
        wall = calendar.timegm(
            (
                int(stamp[0:4]),
                int(stamp[5:7]),
                int(stamp[8:10]),
                int(stamp[11:13]),
                int(stamp[14:16]),
                int(stamp[17:19]),
                0,
                0,
                0,
            )
        )
    except (ValueError, OverflowError):
        raise _Irregular(stamp) from None
    readings = set()
    try:
        # Every UTC offset in force around that wall time; a reading is real when the
        # offset at the instant it names is the one it assumed.
        for probe in (wall - 86_400, wall, wall + 86_400):
            offset = _utc_offset(probe)
            if _utc_offset(wall - offset) == offset:
                readings.add(wall - offset)
    except (ValueError, OverflowError, OSError):
        raise _Irregular(stamp) from None
    if not readings:
        raise _Irregular(stamp)
    return min(readings) * 1000 - SLACK_MS, max(readings) * 1000 + 999 + SLACK_MS


def term_forms(term: str) -> tuple[bytes, ...]:
    """Every way a JSON string holding ``term`` may spell it in a file: the canonical
    escapes of ``"``, ``\\`` and control characters, other characters as UTF-8 (Rust's
    serde_json, msgspec) or as ``\\uXXXX`` (Python's ``json`` with ``ensure_ascii``), and
    ``/`` as such or escaped. A line whose decoded text contains ``term`` holds one."""
    forms = {msgspec.json.encode(term)[1:-1]}
    if not term.isascii():
        escaped = json.dumps(term)[1:-1]
        forms |= {escaped.encode(), re.sub(r"\\u[0-9a-f]{4}", lambda m: m[0].upper()
                                           .replace("\\U", "\\u"), escaped).encode()}
    if "/" in term:
        forms |= {form.replace(b"/", b"\\/") for form in forms}
    return tuple(sorted(forms))


def _may_match(path: str, needles: tuple[bytes, ...]) -> bool:
    """False only when ``path`` holds less than one block and that holds none of
    ``needles`` (one open, one read: a short read is the end of a regular file; anything
    else that is no rollout is no row either)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block
    except OSError:
        return True
    try:
        block = os.read(fd, HEAD_BLOCK)
    except OSError:
        return True
    finally:
        os.close(fd)
    return len(block) >= HEAD_BLOCK or any(needle in block for needle in needles)


def scan_page(
    codex_home: Path,
    query: ListQuery,
    *,
    max_heads: int = DEFAULT_MAX_HEADS,
    max_files: int = DEFAULT_MAX_FILES,
    on_read: Callable[[], None] | None = None,
) -> list[ThreadSummary] | None:
    """The first ``query.limit`` rows of ``query`` read from the files, exactly as the index
    would return them, or ``None`` when the files cannot settle it (see the module doc) or
    it would take decoding more than ``max_heads`` heads (searching more than
    ``max_files`` files)."""
    if not servable(query):
        return None
    names, gits = side_files(codex_home)
    after = query.after
    term = query.search_term
    needles: tuple[bytes, ...] = ()
    # not in the bytes: the "[Image]" preview, the newline joining a message's text parts
    if term and "\n" not in term and term not in IMAGE_PREVIEW:
        # a thread whose name matches may hold no term: its id (in its first line) tells
        named = [form.encode() for tid, name in names.items() if term in name
                 for form in (tid.lower(), tid.upper())]
        needles = (*term_forms(term), *named) if len(named) <= _MAX_NAMED else ()
    best: list[ThreadSummary] = []  # ascending (created_at_ms, id); at most query.limit
    seen: set[str] = set()
    bounds: dict[str, tuple[int, int]] = {}

    def bounds_of(stamp: str) -> tuple[int, int]:
        if stamp not in bounds:
            bounds[stamp] = name_bounds(stamp)
        return bounds[stamp]

    heads = files = 0
    try:
        for stamp, path in _walk(codex_home, query.archived):
            if len(best) == query.limit and best[0].created_at_ms > bounds_of(stamp)[1]:
                break  # nothing left in the walk can be newer than the page's last row
            if needles:
                files += 1
                if files > max_files:
                    return None
                if not _may_match(path, needles):
                    continue  # neither its preview nor its name can hold the term
            low, high = bounds_of(stamp)
            if after is not None and low > after[0]:
                continue  # certainly newer than the cursor
            heads += 1
            if heads > max_heads:
                return None
            if on_read is not None:
                on_read()
            summary = accepted_head_summary(path, archived=query.archived)
            if summary is None:
                continue
            if not low <= summary.created_at_ms <= high or summary.id in seen:
                return None
            seen.add(summary.id)
            key = (summary.created_at_ms, summary.id)
            if after is not None and key >= after:
                continue
            if not matches(decorate(summary, names, gits), query):
                continue
            bisect.insort(best, summary, key=lambda s: (s.created_at_ms, s.id))
            if len(best) > query.limit:
                best.pop(0)
    except _Irregular:
        return None
    best.reverse()
    return best
