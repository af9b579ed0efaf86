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
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec

from pycodex.protocol.errors import internal_error, invalid_request
from pycodex.store.rollout import iter_rollout, parse_filename
from pycodex.store.summary import (
    ThreadSummary,
    fast_block_summary,
    summarize,
    summarize_block,
    valid_id,
)

__all__ = [
    "accepted_head_summary",
    "accepted_summary",
    "is_rollout_name",
    "iter_rollouts",
    "located_summary",
    "reject",
    "rollout_problem",
]

logger = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"
#: How much of a line is read to check its encoding (base instructions live in the
#: session_meta line, so it can be long).
_LINE_LIMIT = 8 * 1024 * 1024
#: Records read to find the ``session_meta`` (as :func:`pycodex.store.summary.summarize`).
_HEAD_RECORDS = 10
_NO_META = "does not start with session metadata"

_warned: dict[str, tuple[int, int] | None] = {}
_warned_lock = threading.Lock()


def is_rollout_name(name: str) -> bool:
    """True for the canonical ``rollout-<local time>-<uuid>.jsonl`` name."""
    return parse_filename(name) is not None


def _looks_like_rollout(name: str) -> bool:
    return name.startswith("rollout-") and name.endswith(".jsonl")


def iter_rollouts(root: Path) -> Iterator[str]:
    """Paths of the files under ``root`` with a canonical rollout name; look-alikes (other
    names, directories) are rejected with a warning."""
    for here, dirs, files in os.walk(root):
        for name in dirs:
            if _looks_like_rollout(name):
                reject(Path(here, name), "Is a directory (os error 21)")
        for name in files:
            if not _looks_like_rollout(name):
                continue
            if is_rollout_name(name):
                yield os.path.join(here, name)
            else:
                reject(Path(here, name), "not a canonical rollout filename")


class _MetaId(msgspec.Struct):
    id: str = ""


class _MetaHead(msgspec.Struct):
    type: str = ""
    payload: _MetaId | None = None


_meta_head = msgspec.json.Decoder(_MetaHead)


def _is_meta_line(line: bytes) -> bool:
    """True when ``line`` is a whole ``session_meta`` record with a thread id."""
    try:
        head = _meta_head.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError):  # ValidationError is a DecodeError
        return False
    return head.type == "session_meta" and head.payload is not None \
        and valid_id(head.payload.id)


def _head_problem(path: Path) -> str | None:
    """``None`` when a ``session_meta`` with a thread id heads the file (within its first
    records, like the reference); otherwise the reference's reason."""
    other_records = False
    for line in iter_rollout(path, limit=_HEAD_RECORDS):
        if line.type != "session_meta":
            other_records = True
            continue
        payload = line.payload
        if isinstance(payload, dict) and valid_id(payload.get("id")):
            return None
        # a session_meta without a usable id does not parse for the reference: skipped
    return f"rollout at {path} {_NO_META if other_records else 'is empty'}"


def rollout_problem(path: Path) -> str | None:
    """Why ``path`` is not a rollout (the reference's words), or ``None``."""
    if not is_rollout_name(path.name):
        return f"paginated rollout path `{path}` does not have a canonical rollout filename"
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            return "Is a directory (os error 21)"
        if not stat.S_ISREG(mode):  # a FIFO would block the reader forever
            return f"rollout at {path} is not a regular file"
        with open(path, "rb") as fh:
            if fh.read(len(_BOM)) == _BOM:
                return f"rollout at {path} {_NO_META}"
            fh.seek(0)
            first = fh.readline(_LINE_LIMIT)
            if _is_meta_line(first):
                return None  # the usual case: one read, one decode
            fh.seek(0)
            for _ in range(_HEAD_RECORDS):  # the reference reads text up to the meta
                line = fh.readline(_LINE_LIMIT)
                line.decode("utf-8")
                if not line or b'"session_meta"' in line:
                    break
        return _head_problem(path)
    except UnicodeDecodeError:
        return "stream did not contain valid UTF-8"
    except OSError as exc:
        return f"{exc.strerror} (os error {exc.errno})" if exc.errno else str(exc)


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
        reject(path, problem or f"rollout at {path} {_NO_META}")
    return summary


#: Bytes read at once for an index row: the head of a typical rollout, meta line included.
HEAD_BLOCK = 64 * 1024


def accepted_head_summary(path: Path | str, *, archived: bool = False
                          ) -> ThreadSummary | None:
    """:func:`accepted_summary` with one open and one read in the usual case (a regular
    file whose first line is a whole ``session_meta``); anything else takes the full path."""
    if is_rollout_name(os.path.basename(path)):
        block = read_head_block(path)
        if block is not None:
            data, size, mtime_ns = block
            fast = fast_block_summary(data, path, archived=archived, size=size,
                                      mtime_ns=mtime_ns)
            if fast is not None:
                return fast
            end = data.find(b"\n")
            if end > 0 and _is_meta_line(data[: end + 1]):
                return summarize_block(data, Path(path), archived=archived, size=size,
                                       mtime_ns=mtime_ns)
    return accepted_summary(Path(path), archived=archived)


def read_head_block(path: Path | str) -> tuple[bytes, int, int] | None:
    """The first :data:`HEAD_BLOCK` bytes of a regular file with its size and mtime (one
    open, one ``fstat``, one read); ``None`` when it cannot be read so."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        return os.read(fd, HEAD_BLOCK), st.st_size, st.st_mtime_ns
    except OSError:
        return None
    finally:
        os.close(fd)


def located_summary(path: Path, *, archived: bool = False) -> ThreadSummary | None:
    """:func:`accepted_summary` for a file found by thread id: one that is no rollout is
    an error, with the reference's code and text (``RpcError``)."""
    problem = rollout_problem(path)
    if problem is None:
        return accepted_summary(path, archived=archived)
    reject(path, problem)
    if not is_rollout_name(path.name):
        raise invalid_request(problem)
    raise internal_error(
        "failed to read thread: thread-store internal error: "
        f"failed to read session metadata {path}: {problem}"
    )
