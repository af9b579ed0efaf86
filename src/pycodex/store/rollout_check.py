"""Which files under ``sessions/`` are rollouts, i.e. threads (the rest is skipped).

A rollout has the canonical name ``rollout-YYYY-MM-DDThh-mm-ss-<uuid>.jsonl``, is a regular
file, and its head holds a ``session_meta`` record whose payload carries the thread id. Like
the reference, a file starting with a byte-order mark, an empty file, random bytes, or JSON
without that record is not a thread. Every file turned away is logged once (per content:
a file that changes is judged again) and never stops a listing.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import msgspec

from pycodex.store.rollout import parse_filename, read_session_meta
from pycodex.store.summary import ThreadSummary, summarize

__all__ = ["accepted_summary", "is_rollout_name", "iter_rollouts", "reject", "rollout_problem"]

logger = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"
#: How much of a first line is read to find its ``session_meta`` (base instructions live
#: there, so it can be long).
_FIRST_LINE_LIMIT = 8 * 1024 * 1024
_NO_META = "does not start with session metadata"

_warned: dict[str, tuple[int, int] | None] = {}
_warned_lock = threading.Lock()


class _Head(msgspec.Struct):
    type: str = ""
    payload: msgspec.Raw = msgspec.Raw(b"null")


class _Meta(msgspec.Struct):
    id: str = ""


def is_rollout_name(name: str) -> bool:
    """True for the canonical ``rollout-<local time>-<uuid>.jsonl`` name."""
    return parse_filename(name) is not None


def _looks_like_rollout(name: str) -> bool:
    return name.startswith("rollout-") and name.endswith(".jsonl")


def iter_rollouts(root: Path) -> Iterator[Path]:
    """Files under ``root`` with a canonical rollout name; look-alikes (other names,
    directories) are rejected with a warning."""
    for here, dirs, files in os.walk(root):
        for name in dirs:
            if _looks_like_rollout(name):
                reject(Path(here, name), "Is a directory (os error 21)")
        for name in files:
            if not _looks_like_rollout(name):
                continue
            if is_rollout_name(name):
                yield Path(here, name)
            else:
                reject(Path(here, name), "does not have a canonical rollout filename")


def _valid_id(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _first_line_meta_id(line: bytes) -> object | None:
    """The id of a ``session_meta`` first line; ``None`` when the line is another record."""
    try:
        head = msgspec.json.decode(line, type=_Head)
        if head.type != "session_meta":
            return None
        return msgspec.json.decode(head.payload, type=_Meta).id
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None


def rollout_problem(path: Path) -> str | None:
    """Why ``path`` is not a rollout (the reference's words where it has them), or ``None``."""
    if not is_rollout_name(path.name):
        return "does not have a canonical rollout filename"
    try:
        with open(path, "rb") as fh:
            first = fh.readline(_FIRST_LINE_LIMIT)
    except OSError as exc:
        return f"{exc.strerror} (os error {exc.errno})" if exc.errno else str(exc)
    if not first.strip():
        return "is empty"
    if first.startswith(_BOM):
        return _NO_META
    try:
        first.decode("utf-8")
    except UnicodeDecodeError:
        return "stream did not contain valid UTF-8"
    meta_id = _first_line_meta_id(first)
    if meta_id is None:
        meta = read_session_meta(path)  # the reference also finds it a few records in
        meta_id = meta.get("id") if meta is not None else None
    return None if _valid_id(meta_id) else _NO_META


def reject(path: Path, reason: str) -> None:
    """Log that ``path`` is not a thread, once per content of the file."""
    try:
        st = os.stat(path)
        sig: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
    except OSError:
        sig = None
    key = str(path)
    with _warned_lock:
        if key in _warned and _warned[key] == sig:
            return
        _warned[key] = sig
    logger.warning("skipping %s: not a rollout (%s)", path, reason)


def accepted_summary(path: Path, *, archived: bool = False) -> ThreadSummary | None:
    """The index row of ``path`` when it is a rollout; otherwise ``None`` (logged once)."""
    problem = rollout_problem(path)
    summary = summarize(path, archived=archived) if problem is None else None
    if summary is None:
        reject(path, problem or _NO_META)
    return summary
