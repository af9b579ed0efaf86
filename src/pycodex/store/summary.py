"""What the index keeps about one rollout, read from the head of its file."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from pycodex.store.history import user_message_preview
from pycodex.store.rollout import (
    RolloutLine,
    decode_rollout_lines,
    iter_rollout,
    parse_filename,
    parse_timestamp_ms,
)

#: Records read past session_meta to find the first user message (like the reference).
HEAD_RECORDS = 200
PREVIEW_LIMIT = 10_000

INTERACTIVE_SOURCES = ("cli", "vscode")


class ThreadSummary(msgspec.Struct):
    """Index row: everything ``thread/list`` needs without opening the file."""

    id: str
    path: str
    created_at_ms: int
    updated_at_ms: int
    cwd: str = ""
    model_provider: str = "openai"
    source: Any = "vscode"
    cli_version: str = ""
    originator: str | None = None
    preview: str = ""
    model: str | None = None
    reasoning_effort: str | None = None
    git_sha: str | None = None
    git_branch: str | None = None
    git_origin_url: str | None = None
    forked_from_id: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    archived: bool = False
    name: str | None = None
    file_size: int = 0
    file_mtime_ns: int = 0
    #: ``paginated`` when the rollout's session meta says so (0.171 writes it), else legacy
    history_mode: str = "legacy"
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def source_kind(self) -> str:
        return source_kind(self.source)


def source_to_wire(raw: Any) -> Any:
    """A rollout ``source`` (core serde) → the v2 ``SessionSource`` value."""
    if isinstance(raw, str):
        low = raw.lower()
        if low in ("cli", "vscode", "exec", "unknown"):
            return low
        if low in ("mcp", "appserver", "app_server"):
            return "appServer"
        return "unknown"
    if isinstance(raw, dict) and len(raw) == 1:
        key, value = next(iter(raw.items()))
        if key in ("subagent", "sub_agent", "subAgent"):
            return {"subAgent": value}
        if key == "custom" and isinstance(value, str):
            return {"custom": value}
    return "unknown"


def source_kind(wire: Any) -> str:
    """The ``ThreadSourceKind`` filter value of a v2 ``SessionSource``."""
    if isinstance(wire, str):
        return wire
    if isinstance(wire, dict) and "subAgent" in wire:
        sub = wire["subAgent"]
        if sub == "review":
            return "subAgentReview"
        if sub == "compact":
            return "subAgentCompact"
        if isinstance(sub, dict) and "thread_spawn" in sub:
            return "subAgentThreadSpawn"
        return "subAgentOther"
    return "unknown"


def summarize(path: Path, *, archived: bool = False) -> ThreadSummary | None:
    """Read the head of ``path``; ``None`` when it has no ``session_meta`` (not a thread)."""
    try:
        stat = path.stat()
        summary = _summary_from_head(iter_rollout(path), path, archived=archived,
                                     size=stat.st_size, mtime_ns=stat.st_mtime_ns)
    except OSError:
        return None
    return None if isinstance(summary, _Undecided) else summary  # a whole file settles it


def summarize_block(
    block: bytes, path: Path, *, archived: bool, size: int, mtime_ns: int
) -> ThreadSummary | None:
    """:func:`summarize` from the first ``block`` bytes of ``path`` (read with its ``size``
    and ``mtime_ns``); reads the file itself only when the block ends before the head has
    been seen."""
    whole = len(block) >= size
    lines = block.splitlines(keepends=True)
    if not whole and lines and not lines[-1].endswith(b"\n"):
        lines.pop()  # cut by the block's end, not the file's
    try:
        summary = _summary_from_head(decode_rollout_lines(lines, path), path, archived=archived,
                                     size=size, mtime_ns=mtime_ns, whole=whole)
    except OSError:
        return None
    return summarize(path, archived=archived) if isinstance(summary, _Undecided) else summary


class _HeadLine(msgspec.Struct):
    """A head line with its payload left raw: only its kind is decoded at first."""

    type: Any = None
    payload: msgspec.Raw = msgspec.Raw(b"null")


class _EventKind(msgspec.Struct):
    type: Any = None


class _ContextHead(msgspec.Struct):
    model: Any = None
    effort: Any = None


_head_line = msgspec.json.Decoder(_HeadLine)
_event_kind = msgspec.json.Decoder(_EventKind)
_context_head = msgspec.json.Decoder(_ContextHead)
_plain = msgspec.json.Decoder()
#: Event kinds that can carry the preview (see ``user_message_preview``).
_PREVIEW_EVENTS = ("user_message", "item_completed")
_VALIDATION_ERRORS = (msgspec.DecodeError, UnicodeDecodeError)  # ValidationError included


_CANONICAL_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def valid_id(value: object) -> bool:
    """Whether ``value`` is a thread id (any form ``uuid.UUID`` reads)."""
    if not isinstance(value, str):
        return False
    if _CANONICAL_ID.fullmatch(value):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def fast_block_summary(
    block: bytes, path: Path | str, *, archived: bool, size: int, mtime_ns: int
) -> ThreadSummary | None:
    """The usual head (a ``session_meta`` line, then well-formed records) summarized with
    one narrow decode per line and no per-line objects: only the payloads of
    ``turn_context`` and of user-message events are decoded. ``None`` whenever the block
    holds anything else (a bad or torn line, a payload that is not an object, a head the
    block cuts short): the general path then decides, so rows never differ."""
    end = block.find(b"\n")
    if end < 0:
        return None
    try:
        first = _plain.decode(block[:end])
    except _VALIDATION_ERRORS:
        return None
    if not isinstance(first, dict) or first.get("type") != "session_meta":
        return None
    meta = first.get("payload")
    if not isinstance(meta, dict) or not valid_id(meta.get("id")):
        return None
    whole = len(block) >= size
    preview: str | None = None
    model: str | None = None
    effort: str | None = None
    seen = 0
    settled = False
    start = end + 1
    length = len(block)
    while start < length:
        end = block.find(b"\n", start)
        if end < 0:
            if not whole:
                return None  # the block's end cut this line
            end = length
        body = block[start:end]
        start = end + 1
        if not body.strip():
            continue
        try:
            line = _head_line.decode(body)
            kind = line.type
            if kind == "turn_context":
                context = _context_head.decode(line.payload)
                if model is None and isinstance(context.model, str):
                    model = context.model
                if effort is None and isinstance(context.effort, str):
                    effort = context.effort
            elif kind == "event_msg" and preview is None:
                event = _event_kind.decode(line.payload)
                if event.type in _PREVIEW_EVENTS:
                    preview = user_message_preview(
                        RolloutLine("event_msg", _plain.decode(line.payload)))
            elif not isinstance(kind, str):
                return None
        except _VALIDATION_ERRORS:
            return None
        seen += 1
        if (preview is not None and model is not None) or seen >= HEAD_RECORDS:
            settled = True
            break
    if not settled and not whole:
        return None
    return summary_from_meta(meta, path=path, archived=archived, preview=preview or "",
                             model=model, reasoning_effort=effort, size=size,
                             mtime_ns=mtime_ns)


class _Undecided:
    """The head was cut short before it was settled."""


_UNDECIDED = _Undecided()


def _summary_from_head(
    lines: Iterator[RolloutLine],
    path: Path,
    *,
    archived: bool,
    size: int,
    mtime_ns: int,
    whole: bool = True,
) -> ThreadSummary | _Undecided | None:
    """The summary of a rollout from its first lines; ``None`` when they show it has no
    ``session_meta``; ``_UNDECIDED`` when ``lines`` (not the ``whole`` file) ran out first."""
    meta: dict[str, Any] | None = None
    preview: str | None = None
    model: str | None = None
    effort: str | None = None
    seen_after_meta = 0
    settled = False
    for line in lines:
        if meta is None:
            if line.type == "session_meta" and isinstance(line.payload, dict):
                meta = line.payload
            elif line.line_no > 10:
                return None
            continue
        seen_after_meta += 1
        if line.type == "turn_context" and isinstance(line.payload, dict):
            if model is None and isinstance(line.payload.get("model"), str):
                model = line.payload["model"]
            if effort is None and isinstance(line.payload.get("effort"), str):
                effort = line.payload["effort"]
        if preview is None:
            preview = user_message_preview(line)
        if (preview is not None and model is not None) or seen_after_meta >= HEAD_RECORDS:
            settled = True
            break
    if not settled and not whole:
        return _UNDECIDED
    if meta is None:
        return None
    return summary_from_meta(
        meta,
        path=path,
        archived=archived,
        preview=preview or "",
        model=model,
        reasoning_effort=effort,
        size=size,
        mtime_ns=mtime_ns,
    )


def summary_from_meta(
    meta: dict[str, Any],
    *,
    path: Path | str,
    archived: bool = False,
    preview: str = "",
    model: str | None = None,
    reasoning_effort: str | None = None,
    size: int = 0,
    mtime_ns: int = 0,
) -> ThreadSummary | None:
    get = meta.get
    thread_id = get("id")
    if not isinstance(thread_id, str):
        parsed = parse_filename(os.path.basename(path))
        if parsed is None:
            return None
        thread_id = parsed[1]
    stamp = get("timestamp")
    created = parse_timestamp_ms(get("timestamp", "")) if stamp else None
    if created is None:
        created = mtime_ns // 1_000_000
    git = get("git")
    git_get = git.get if isinstance(git, dict) else {}.get
    return ThreadSummary(
        id=thread_id.lower(),
        path=os.fspath(path),
        created_at_ms=created,
        updated_at_ms=max(mtime_ns // 1_000_000, created),
        cwd=_text(get("cwd")) or "",
        model_provider=_text(get("model_provider")) or "openai",
        source=source_to_wire(get("source", "vscode")),
        cli_version=_text(get("cli_version")) or "",
        originator=_text(get("originator")),
        preview=preview[:PREVIEW_LIMIT],
        model=model,
        reasoning_effort=reasoning_effort,
        git_sha=_text(git_get("commit_hash")),
        git_branch=_text(git_get("branch")),
        git_origin_url=_text(git_get("repository_url")),
        forked_from_id=_text(get("forked_from_id")),
        agent_nickname=_text(get("agent_nickname")),
        agent_role=_text(get("agent_role")),
        archived=archived,
        file_size=size,
        file_mtime_ns=mtime_ns,
        history_mode="paginated" if get("history_mode") == "paginated" else "legacy",
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def file_signature(path: Path | str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns
