"""Incremental Server-Sent Events decoder (the text/event-stream format, WHATWG rules).

Feed it byte chunks as they arrive, split anywhere (even inside a UTF-8 sequence or a
CRLF pair); it returns the complete events. Comment lines (``:``) are skipped, several
``data:`` lines are joined with ``\\n``, one leading space after the colon is dropped, and
an event with no data is not dispatched.
"""

from __future__ import annotations

import codecs

import msgspec


class SseEvent(msgspec.Struct, frozen=True):
    data: str
    event: str = "message"
    id: str | None = None


class SseDecoder:
    """Turns a byte stream into :class:`SseEvent` objects."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._pending_cr = False
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._started = False

    def feed(self, chunk: bytes) -> list[SseEvent]:
        text = self._text.decode(chunk)
        if not self._started and text:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        return self._consume(text)

    def close(self) -> list[SseEvent]:
        """End of stream: a trailing event without its blank line is discarded (per spec)."""
        self._consume(self._text.decode(b"", final=True))
        return []

    def _consume(self, text: str) -> list[SseEvent]:
        events: list[SseEvent] = []
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]
        self._pending_cr = False
        buf = self._buffer + text
        start = 0
        length = len(buf)
        while True:
            cr = buf.find("\r", start)
            lf = buf.find("\n", start)
            if cr == -1 and lf == -1:
                break
            if cr == -1 or (lf != -1 and lf < cr):
                end, nxt = lf, lf + 1
            else:
                end = cr
                if cr + 1 < length:
                    nxt = cr + 2 if buf[cr + 1] == "\n" else cr + 1
                else:
                    nxt = cr + 1
                    self._pending_cr = True
            event = self._line(buf[start:end])
            if event is not None:
                events.append(event)
            start = nxt
        self._buffer = buf[start:]
        return events

    def _line(self, line: str) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> SseEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SseEvent(data="\n".join(self._data), event=self._event or "message", id=self._id)
        self._data = []
        self._event = ""
        return event
