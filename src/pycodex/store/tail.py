"""The last turns of a rollout, read from the end of its file (``thread/turns/list``'s first
page, ``thread/resume`` with ``excludeTurns``), so that their cost is that of the turns
asked for, not of the whole history.

The file is read backwards in blocks, line by line, up to the start of the oldest turn
needed (a ``task_started``/``turn_started`` line: a turn never depends on the lines before
its start). Those lines are then rebuilt forwards by the same :class:`TurnBuilder` as a full
read. Whenever the result could differ from a full read's, the answer is ``None`` and the
caller reads the whole file: a line that needed the lines before the window (an id counted
from the file's start, as older rollouts and reasoning summaries get; a turn id the window
does not hold; a deeper rollback), or a window that reaches the file's start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from pycodex.protocol.types.items import Turn
from pycodex.store.events import token_count_info
from pycodex.store.history import TurnBuilder
from pycodex.store.rollout import decode_rollout_lines

#: Bytes read at once, from the end backwards.
BLOCK = 256 * 1024
_TURN_STARTS = ("task_started", "turn_started")


class Tail(msgspec.Struct):
    """What the end of a rollout holds: its last turns (oldest first, at least as many as
    asked for) and its last settings (``turn_context`` payload, later applied settings)
    when they were asked for."""

    turns: list[Turn]
    context: dict[str, Any] | None = None
    #: the ``thread_settings`` of the last ``thread_settings_applied`` event after that
    #: ``turn_context`` (a ``thread/settings/update`` since the last turn), when asked for
    applied: dict[str, Any] | None = None


def reverse_lines(fh: IO[bytes], block: int = BLOCK) -> Iterator[bytes]:
    """The lines of ``fh`` from the last to the first, each with its ``\n`` (the last one
    maybe without); memory is about one block plus the longest line (a block that ends no
    line doubles the next one, so a huge line is not copied over and over)."""
    pos = fh.seek(0, os.SEEK_END)
    rest = b""  # the start of the line that continues past the current block
    while pos > 0:
        start = max(0, pos - block)
        fh.seek(start)
        data = fh.read(pos - start) + rest
        pos = start
        end = len(data)
        while True:
            at = data.rfind(b"\n", 0, end - 1)
            if at < 0:
                break
            yield data[at + 1 : end]
            end = at + 1
        if end == len(data):
            block *= 2
        rest = data[:end]
    if rest:
        yield rest


def read_tail(
    path: Path,
    thread_id: str,
    count: int,
    running_turn_id: str | None = None,
    *,
    with_context: bool = False,
) -> Tail | None:
    """At least the last ``count`` turns of ``path`` exactly as a full read rebuilds them
    (and its last ``turn_context`` with ``with_context``), or ``None`` when only a full read
    can tell (see the module doc). Raises ``OSError`` when the file cannot be read."""
    window: list[bytes] = []
    starts = dropped = 0
    context: dict[str, Any] | None = None
    applied: dict[str, Any] | None = None
    found_start = False
    with open(path, "rb") as fh:
        for raw in reverse_lines(fh):
            window.append(raw)
            kind = _turn_line_kind(raw)
            if kind is None:
                continue
            line, event = kind
            if line == "turn_context":
                if with_context and context is None:
                    context = _payload(raw)
                continue
            if event == "thread_settings_applied":
                if with_context and context is None and applied is None:
                    settings = (_payload(raw) or {}).get("thread_settings")
                    applied = settings if isinstance(settings, dict) else None
            elif event == "thread_rolled_back":
                payload = _payload(raw)
                num = payload.get("num_turns") if payload else None
                if isinstance(num, int) and not isinstance(num, bool) and num > 0:
                    dropped += num
            elif event in _TURN_STARTS:
                starts += 1
                if starts >= count + dropped and (context is not None or not with_context):
                    found_start = True
                    break
    if not found_start:
        return None  # the window is the whole file: a full read numbers its lines right
    window.reverse()
    builder = TurnBuilder(thread_id)
    builder.feed_all(decode_rollout_lines(window, path, first_line_no=2))
    if builder.needs_prefix:
        return None
    turns = builder.finish(running_turn_id)
    if len(turns) < count:
        return None
    return Tail(turns, context, applied)


class _Kind(msgspec.Struct):
    type: Any = None


class _Head(msgspec.Struct):
    type: Any = None
    payload: msgspec.Raw = msgspec.Raw(b"null")


_head = msgspec.json.Decoder(_Head)
_kind = msgspec.json.Decoder(_Kind)
_plain = msgspec.json.Decoder()
_ERRORS = (msgspec.DecodeError, UnicodeDecodeError)  # ValidationError included


def _turn_line_kind(raw: bytes) -> tuple[str, Any] | None:
    """``("turn_context", None)`` or ``("event_msg", event type)`` for the lines that shape
    the window, else ``None`` (unreadable lines included: the forward decode skips them)."""
    if b"turn_context" not in raw and b"event_msg" not in raw:
        return None
    try:
        head = _head.decode(raw)
        if head.type == "turn_context":
            return "turn_context", None
        if head.type == "event_msg":
            return "event_msg", _kind.decode(head.payload).type
    except _ERRORS:
        return None
    return None


def _payload(raw: bytes) -> dict[str, Any] | None:
    try:
        value = _plain.decode(raw)
    except _ERRORS:
        return None
    payload = value.get("payload") if isinstance(value, dict) else None
    return payload if isinstance(payload, dict) else None


class _Ordinal(msgspec.Struct):
    ordinal: Any = None


_ordinal = msgspec.json.Decoder(_Ordinal)
_COUNT_BLOCK = 4 * 1024 * 1024
#: Lines looked at from the end for the last ordinal (files of older writers have none).
ORDINAL_LOOKBACK = 64


def count_next_ordinal(path: Path) -> int:
    """:func:`pycodex.store.rollout.next_ordinal` without decoding the file: its lines are
    counted on bytes (unreadable ones too, so it may be larger, never smaller) and only
    the last ordinal among the last :data:`ORDINAL_LOOKBACK` lines is decoded (ordinals
    grow line by line). ``0`` when the file cannot be read."""
    try:
        with open(path, "rb") as fh:
            last = -1
            for seen, raw in enumerate(reverse_lines(fh)):
                if seen >= ORDINAL_LOOKBACK:
                    break
                try:
                    value = _ordinal.decode(raw).ordinal
                except _ERRORS:
                    continue
                if isinstance(value, int) and not isinstance(value, bool):
                    last = value
                    break
            fh.seek(0)
            lines = 0
            tail = b"\n"
            while chunk := fh.read(_COUNT_BLOCK):
                lines += chunk.count(b"\n")
                tail = chunk
            if not tail.endswith(b"\n") and tail.strip():
                lines += 1
    except OSError:
        return 0
    return max(last + 1, lines)


def last_token_usage(path: Path) -> tuple[dict[str, Any], str | None] | None:
    """The rollout's last ``token_count`` info and the id of the turn it was counted in
    (the nearest turn start or turn context before it), read from the end of the file;
    ``None`` when the thread never counted tokens."""
    info: dict[str, Any] | None = None
    with open(path, "rb") as fh:
        for raw in reverse_lines(fh):
            if info is None:
                if b'"token_count"' not in raw:
                    continue
                if _turn_line_kind(raw) == ("event_msg", "token_count"):
                    info = token_count_info(_payload(raw))
                continue
            kind = _turn_line_kind(raw)
            if kind is None or (kind[0] == "event_msg" and kind[1] not in _TURN_STARTS):
                continue
            payload = _payload(raw) or {}
            turn_id = payload.get("turn_id")
            return info, turn_id if isinstance(turn_id, str) else None
    return None if info is None else (info, None)
