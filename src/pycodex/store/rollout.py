"""Rollout files: one JSONL file per thread, in the reference's format.

Layout: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<id>.jsonl`` (local
time at creation); archived ones live flat in ``$CODEX_HOME/archived_sessions/``. Each line
is ``{"timestamp", "ordinal", "type", "payload"}``; the first is ``session_meta``.

Writer: one per file, whole lines appended with one ``write`` each, flushed before
``append`` returns, ``fsync`` on :meth:`RolloutWriter.sync` (turn boundaries). A write that
fails part-way (full disk) is cut back to the last whole line and its lines are written
again by the next append. The file is
created lazily by the first append so a thread that never runs a turn leaves nothing.

Reader: streams line by line, never holds the whole file, and skips a BOM, a torn last
line or any undecodable line with a warning. It never raises on bad content. One typed
decode per line: the payloads of the kinds that only the model history or a fork needs
(``response_item``, ``compacted``) are kept as raw JSON and decoded on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import msgspec

logger = logging.getLogger(__name__)

SESSIONS_DIR = "sessions"
ARCHIVED_DIR = "archived_sessions"

_FILENAME = re.compile(
    r"^rollout-(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})-(?P<id>[0-9a-fA-F-]{36})\.jsonl$"
)
_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


class RolloutLine:
    """One decoded line: ``type`` is ``session_meta``, ``response_item``, ``event_msg``…

    ``payload`` of a line read from disk may still be raw JSON; it is decoded on first
    access (``None`` if it turns out not to be valid JSON)."""

    __slots__ = ("_payload", "_raw", "line_no", "ordinal", "timestamp", "type")

    def __init__(
        self,
        type: str,
        payload: Any = None,
        timestamp: str = "",
        ordinal: int | None = None,
        line_no: int = 0,
    ) -> None:
        self.type = type
        self._payload = payload
        self._raw: msgspec.Raw | None = None
        self.timestamp = timestamp
        self.ordinal = ordinal
        self.line_no = line_no

    @property
    def payload(self) -> Any:
        raw = self._raw
        if raw is not None:
            self._raw = None
            try:
                self._payload = _decoder.decode(raw)
            except (msgspec.DecodeError, UnicodeDecodeError):
                logger.warning("rollout line %d: unreadable %s payload", self.line_no, self.type)
                self._payload = None
        return self._payload

    @payload.setter
    def payload(self, value: Any) -> None:
        self._raw = None
        self._payload = value

    def __repr__(self) -> str:
        return (
            f"RolloutLine(type={self.type!r}, payload={self.payload!r}, "
            f"timestamp={self.timestamp!r}, ordinal={self.ordinal!r}, line_no={self.line_no!r})"
        )


def utc_timestamp(when: float | None = None) -> str:
    """RFC 3339 UTC with milliseconds, as the reference writes it."""
    when = time.time() if when is None else when
    stamp = dt.datetime.fromtimestamp(when, dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def parse_timestamp_ms(text: str) -> int | None:
    """Milliseconds since the epoch of an RFC 3339 timestamp, or ``None``."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)


def rollout_path(codex_home: Path, thread_id: str, created: float) -> Path:
    """Where a new thread's rollout goes (local time, like the reference)."""
    local = time.localtime(created)
    day = Path(time.strftime("%Y", local), time.strftime("%m", local), time.strftime("%d", local))
    name = f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', local)}-{thread_id}.jsonl"
    return codex_home / SESSIONS_DIR / day / name


def parse_filename(name: str) -> tuple[str, str] | None:
    """``(timestamp, thread id)`` from a rollout file name, or ``None``."""
    match = _FILENAME.match(name)
    if not match:
        return None
    return match["ts"], match["id"].lower()


def iter_rollout_files(root: Path) -> Iterator[Path]:
    """Every ``rollout-*.jsonl`` under ``root`` (recursively), in no particular order."""
    stack = [root]
    while stack:
        here = stack.pop()
        try:
            entries = list(os.scandir(here))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.name.startswith("rollout-") and entry.name.endswith(".jsonl"):
                    yield Path(entry.path)
            except OSError:
                continue


def find_rollout(codex_home: Path, thread_id: str, *, archived: bool = False) -> Path | None:
    """The rollout file of ``thread_id`` by name, looking in sessions/ or archived_sessions/."""
    root = codex_home / (ARCHIVED_DIR if archived else SESSIONS_DIR)
    suffix = f"-{thread_id}.jsonl"
    if archived:
        try:
            for entry in os.scandir(root):
                if entry.name.startswith("rollout-") and entry.name.endswith(suffix):
                    return Path(entry.path)
        except OSError:
            return None
        return None
    for path in iter_rollout_files(root):
        if path.name.endswith(suffix):
            return path
    return None


# -- reading --------------------------------------------------------------------------


class ReadStats:
    """What a read skipped (for logs and tests)."""

    def __init__(self) -> None:
        self.bad_lines = 0
        self.torn_tail = False


_NULL = msgspec.Raw(b"null")
_BOM = b"\xef\xbb\xbf"


class _Line(msgspec.Struct, tag_field="type"):
    """A line whose payload is decoded right away."""

    timestamp: Any = ""
    ordinal: Any = None
    payload: Any = None
    kind: ClassVar[str]


class _LazyLine(msgspec.Struct, tag_field="type"):
    """A line whose payload stays raw JSON until someone reads it."""

    timestamp: Any = ""
    ordinal: Any = None
    payload: msgspec.Raw = _NULL
    kind: ClassVar[str]


class _SessionMeta(_Line, tag="session_meta"):
    kind = "session_meta"


class _EventMsg(_Line, tag="event_msg"):
    kind = "event_msg"


class _TurnContext(_Line, tag="turn_context"):
    kind = "turn_context"


class _ResponseItem(_LazyLine, tag="response_item"):
    kind = "response_item"


class _Compacted(_LazyLine, tag="compacted"):
    kind = "compacted"


#: The known kinds in one pass; any other line goes through the generic decoder.
_typed_decoder = msgspec.json.Decoder(
    _SessionMeta | _EventMsg | _TurnContext | _ResponseItem | _Compacted
)
_LAZY = (_ResponseItem, _Compacted)
#: Read buffer: 64 KiB reads cost a fraction of the decoding, even for a 20 MB rollout, and
#: a head-only read (the index) never reads much more than it needs.
_READ_BUFFER = 64 * 1024


def _decode_line(body: bytes, line_no: int) -> RolloutLine | None:
    """``body`` (one line) as a :class:`RolloutLine`, or ``None`` when it is not one."""
    try:
        rec = _typed_decoder.decode(body)
    except msgspec.ValidationError:
        pass  # another kind, duplicate keys, not an object...: the generic path decides
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    else:
        stamp, ordinal = rec.timestamp, rec.ordinal
        line = RolloutLine(
            rec.kind,
            None if isinstance(rec, _LAZY) else rec.payload,
            stamp if isinstance(stamp, str) else "",
            ordinal if isinstance(ordinal, int) else None,
            line_no,
        )
        if isinstance(rec, _LAZY):
            line._raw = rec.payload
        return line
    try:
        obj = _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        return None
    ordinal = obj.get("ordinal")
    stamp = obj.get("timestamp")
    return RolloutLine(
        obj["type"],
        obj.get("payload"),
        stamp if isinstance(stamp, str) else "",
        ordinal if isinstance(ordinal, int) else None,
        line_no,
    )


def iter_rollout(
    path: Path,
    *,
    stats: ReadStats | None = None,
    limit: int | None = None,
) -> Iterator[RolloutLine]:
    """Decode ``path`` line by line. Bad lines are logged and skipped; never raises on content.

    Raises ``OSError`` only when the file cannot be opened.
    """
    with open(path, "rb", buffering=_READ_BUFFER) as fh:
        yield from decode_rollout_lines(fh, path, stats=stats, limit=limit)


def decode_rollout_lines(
    raws: Iterable[bytes],
    path: Path,
    *,
    stats: ReadStats | None = None,
    limit: int | None = None,
    first_line_no: int = 1,
) -> Iterator[RolloutLine]:
    """Decode raw rollout lines (each with its ``\n``, the last one maybe without), from
    line ``first_line_no`` of the file ``path`` on, as :func:`iter_rollout` does."""
    stats = stats if stats is not None else ReadStats()
    count = 0
    line_no = first_line_no - 1
    for raw in raws:
        line_no += 1
        if line_no == 1 and raw.startswith(_BOM):
            raw = raw[3:]
        line = _decode_line(raw, line_no)
        if line is None:
            body = raw.strip()  # bytes.strip() takes more than JSON whitespace
            if not body:
                continue
            line = _decode_line(body, line_no)
        if line is None:
            if not raw.endswith(b"\n"):
                stats.torn_tail = True
                logger.warning(
                    "rollout %s: ignoring torn last line %d (%d bytes)", path, line_no, len(raw)
                )
            else:
                stats.bad_lines += 1
                logger.warning("rollout %s: skipping unreadable line %d", path, line_no)
            continue
        yield line
        count += 1
        if limit is not None and count >= limit:
            return


def read_session_meta(path: Path) -> dict[str, Any] | None:
    """The ``session_meta`` payload among the first 10 records, or ``None``."""
    try:
        for line in iter_rollout(path, limit=10):
            if line.type == "session_meta" and isinstance(line.payload, dict):
                return line.payload
    except OSError:
        return None
    return None


# -- writing --------------------------------------------------------------------------


def encode_line(kind: str, payload: Any, ordinal: int, when: float | None = None) -> bytes:
    return (
        _encoder.encode(
            {"timestamp": utc_timestamp(when), "ordinal": ordinal, "type": kind, "payload": payload}
        )
        + b"\n"
    )


RolloutItem = tuple[str, Any]
"""``(type, payload)``: e.g. ``("event_msg", {"type": "task_started", ...})``."""


class RolloutWriteError(OSError):
    """Lines could not be appended to a rollout (the text says which file and why)."""

    def __str__(self) -> str:
        return str(self.args[1]) if len(self.args) > 1 else super().__str__()


class RolloutWriter:
    """Appends whole lines to one rollout file. One writer per thread.

    ``session_meta`` (when given) is written as the first line of a new file on the first
    append. ``on_append`` is called (synchronously) with the items after each write so the
    index can follow along.
    """

    def __init__(
        self,
        path: Path,
        *,
        session_meta: dict[str, Any] | None = None,
        next_ordinal: int | Callable[[], int] = 0,
        on_append: Callable[[RolloutWriter, list[RolloutItem]], None] | None = None,
    ) -> None:
        self._path = path
        self._pending_meta = session_meta
        #: the ordinal of the next line, or how to learn it (asked on the first append)
        self._ordinal_source = next_ordinal
        self._ordinal = next_ordinal if isinstance(next_ordinal, int) else -1
        self._fd: int | None = None
        #: Encoded lines a failed write left unwritten; they go first on the next append.
        self._unwritten = b""
        #: Size of the file up to its last whole line, when a failed write left a fragment
        #: after it that could not be cut off yet.
        self._torn_at: int | None = None
        self.on_append = on_append
        self._lock = asyncio.Lock()
        self.closed = False

    @property
    def path(self) -> Path:
        return self._path

    @property
    def materialized(self) -> bool:
        """True once the file exists on disk."""
        return self._pending_meta is None or self._fd is not None

    def relocate(self, path: Path) -> None:
        """The file moved (archive/unarchive): reopen at the new place on the next write."""
        self._close_fd()
        self._path = path

    def _open(self) -> int:
        if self._fd is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            size = os.fstat(fd).st_size
            if size and self._pending_meta is None and _last_byte(self._path) != b"\n":
                # A torn tail from a crash: start our lines on a fresh line.
                os.write(fd, b"\n")
            self._fd = fd
        return self._fd

    def _encode(self, items: Iterable[RolloutItem]) -> bytes:
        if self._ordinal < 0 and callable(self._ordinal_source):
            self._ordinal = self._ordinal_source()
        now = time.time()
        out = bytearray(self._unwritten)
        if self._pending_meta is not None and not self._unwritten:
            out += encode_line("session_meta", self._pending_meta, self._ordinal, now)
            self._ordinal += 1
        for kind, payload in items:
            out += encode_line(kind, payload, self._ordinal, now)
            self._ordinal += 1
        return bytes(out)

    def _write_whole(self, fd: int, data: bytes) -> None:
        """Append ``data`` (whole lines) or nothing: a write that stops part-way (a full
        disk) is cut back to the last whole line, so no later line is glued to a fragment."""
        if self._torn_at is not None:
            os.ftruncate(fd, self._torn_at)
            self._torn_at = None
        start = os.fstat(fd).st_size
        view = memoryview(data)
        try:
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError:
            try:
                os.ftruncate(fd, start)
            except OSError:
                self._torn_at = start
            raise

    def append_nowait(self, items: Iterable[RolloutItem]) -> None:
        """Write ``items`` now (one ``write`` call). Raises ``OSError`` on failure.

        Lines that could not be written are kept and written first by the next append,
        so a record the client saw is not lost once the disk has room again."""
        if self.closed:
            raise OSError(f"rollout writer for {self._path} is closed")
        items = list(items)
        data = self._encode(items)
        self._unwritten = data
        try:
            self._write_whole(self._open(), data)
        except OSError as exc:
            reason = f"{exc.strerror} (os error {exc.errno})" if exc.strerror else str(exc)
            raise RolloutWriteError(
                exc.errno, f"failed to write the rollout {self._path}: {reason}"
            ) from exc
        self._unwritten = b""
        self._pending_meta = None
        if self.on_append is not None:
            try:
                self.on_append(self, items)
            except Exception:
                logger.exception("rollout on_append hook failed")

    async def append(self, items: Iterable[RolloutItem]) -> None:
        """Append whole lines; they are in the kernel's page cache when this returns."""
        async with self._lock:
            self.append_nowait(items)

    async def materialize(self) -> None:
        """Create the file (with its session_meta) if it does not exist yet."""
        async with self._lock:
            if not self.materialized:
                self.append_nowait([])

    async def sync(self) -> None:
        """``fsync`` the file (call at turn boundaries)."""
        async with self._lock:
            if self._fd is not None:
                fd = self._fd
                await asyncio.to_thread(os.fsync, fd)

    def _close_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    async def close(self) -> None:
        async with self._lock:
            self._close_fd()
            self.closed = True

    def close_nowait(self) -> None:
        self._close_fd()
        self.closed = True


def _last_byte(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1)
    except OSError:
        return b""


def next_ordinal(path: Path) -> int:
    """The ordinal to use for the next line appended to an existing rollout."""
    last = -1
    count = 0
    try:
        for line in iter_rollout(path):
            count += 1
            if line.ordinal is not None:
                last = max(last, line.ordinal)
    except OSError:
        return 0
    return max(last + 1, count)


class MemoryRolloutWriter(RolloutWriter):
    """The writer of an ephemeral thread: same API, lines kept in memory, nothing on disk."""

    def __init__(self, session_meta: dict[str, Any] | None = None) -> None:
        super().__init__(Path("/nonexistent"), session_meta=None)
        self.lines: list[RolloutLine] = []
        if session_meta is not None:
            self.lines.append(RolloutLine("session_meta", session_meta, utc_timestamp(), 0, 1))

    @property
    def materialized(self) -> bool:
        return False

    def append_nowait(self, items: Iterable[RolloutItem]) -> None:
        stamp = utc_timestamp()
        for kind, payload in items:
            n = len(self.lines)
            self.lines.append(RolloutLine(kind, payload, stamp, n, n + 1))

    async def sync(self) -> None:
        return None

    def close_nowait(self) -> None:
        self.closed = True

    async def close(self) -> None:
        self.closed = True
