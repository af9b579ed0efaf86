"""Incremental Server-Sent Events decoder (the text/event-stream format, WHATWG rules).

Feed it byte chunks as they arrive, split anywhere (even inside a UTF-8 sequence or a
CRLF pair); it returns the complete events. Comment lines (``:``) are skipped, several
``data:`` lines are joined with ``\\n``, one leading space after the colon is dropped, and
an event with no data is not dispatched.

Lines are split on bytes (the line ends are ASCII, so a split never lands inside a UTF-8
sequence) and only field values are decoded. :meth:`SseDecoder.feed_data` hands back the
data payloads as bytes, for a JSON decoder that reads bytes directly; that is the
per-delta path of a model stream.
"""

from __future__ import annotations

import re

import msgspec

_BOM = b"\xef\xbb\xbf"
#: Complete events of the plain shape, ``[event: <name>\\n]data: <payload>\\n\\n``, back to back.
_PLAIN_EVENTS = re.compile(rb"(?:(?:event:[^\n]*\n)?data: [^\n]*\n\n)*")
#: One such event; the group is its payload.
_PLAIN_EVENT = re.compile(rb"(?:event:[^\n]*\n)?data: ([^\n]*)\n\n")


class SseEvent(msgspec.Struct, frozen=True):
    data: str
    event: str = "message"
    id: str | None = None


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


class SseDecoder:
    """Turns a byte stream into :class:`SseEvent` objects (or bare data payloads)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._pending_cr = False
        self._started = False
        self._data: list[bytes] = []
        self._event = b""
        self._id: bytes | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """The events completed by ``chunk``."""
        events: list[SseEvent] = []
        for line in self._lines(chunk):
            if line:
                self._field(line)
            elif self._data:
                events.append(SseEvent(
                    data=_text(b"\n".join(self._data)),
                    event=_text(self._event) if self._event else "message",
                    id=None if self._id is None else _text(self._id),
                ))
                self._data = []
                self._event = b""
            else:
                self._event = b""
        return events

    def feed_data(self, chunk: bytes) -> list[bytes]:
        """The data payloads (undecoded UTF-8) of the events completed by ``chunk``.

        Same parsing as :meth:`feed`, but nothing is parsed before its event is complete
        (the incomplete tail waits in the buffer): a run of plain ``event:``/``data:``
        events, a model stream's every delta, is matched by one regular expression; any
        other shape goes line by line. Event names and ids are not returned. Use either
        this or :meth:`feed` on one decoder, not both.
        """
        buf = self._normalized(chunk)
        end = buf.rfind(b"\n\n") + 2
        if end < 2:
            self._buffer = buf
            return []
        self._buffer = buf[end:]
        body = buf[:end] if end < len(buf) else buf
        if _PLAIN_EVENTS.fullmatch(body):
            return _PLAIN_EVENT.findall(body)
        payloads: list[bytes] = []
        data: list[bytes] = []
        for line in body.split(b"\n"):
            if not line:
                if data:
                    payloads.append(data[0] if len(data) == 1 else b"\n".join(data))
                    data.clear()
            else:
                name, _, value = line.partition(b":")
                if name == b"data":
                    data.append(value[1:] if value.startswith(b" ") else value)
                elif name:  # (an empty name is a comment)
                    self._field(line)
        return payloads

    def close(self) -> list[SseEvent]:
        """End of stream: a trailing event without its blank line is discarded (per spec)."""
        self._buffer = b""
        self._data = []
        return []

    def _lines(self, chunk: bytes) -> list[bytes]:
        """The complete lines in ``chunk`` (after what was buffered), without line ends."""
        lines = self._normalized(chunk).split(b"\n")
        self._buffer = lines.pop()
        return lines

    def _normalized(self, chunk: bytes) -> bytes:
        """What was buffered followed by ``chunk``: line ends made ``\\n``, the BOM gone.
        The caller stores back what it leaves unparsed."""
        if self._pending_cr:
            self._pending_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        buf = self._buffer + chunk if self._buffer else chunk
        if not self._started:
            if len(buf) < len(_BOM) and _BOM.startswith(buf):
                return buf
            self._started = True
            if buf.startswith(_BOM):
                buf = buf[len(_BOM):]
        if b"\r" in buf:
            self._pending_cr = buf.endswith(b"\r")
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return buf

    def _field(self, line: bytes) -> None:
        if line.startswith(b":"):
            return
        name, sep, value = line.partition(b":")
        if sep and value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value
        elif name == b"id" and b"\0" not in value:
            self._id = value
