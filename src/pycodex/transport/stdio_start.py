"""The start of a stdio server, before the event loop exists: read up to the first message on
stdin and, when it is a request answered without a loop (``initialize``), write its answer at
once. ``asyncio`` and the rest of the server are imported only after that answer is out;
:func:`pycodex.transport.stdio.serve_stdio` then carries on with what was read."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from pycodex.rpc.before_loop import answer_before_loop

if TYPE_CHECKING:
    from pycodex.api.context import ConnectionState
    from pycodex.api.dispatch import ApiDispatcher

#: Longest accepted line; a longer one is dropped with an error log.
MAX_LINE = 64 * 1024 * 1024

#: Pipe buffer asked for stdout, so large answers (a resumed thread) need fewer wake-ups.
STDOUT_PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = 1031  # Linux fcntl


@dataclass
class StdioStart:
    """What happened on stdin/stdout before the event loop existed."""

    #: the connection's state (initialized when its first request was answered)
    state: ConnectionState
    #: bytes read from stdin and not handled yet
    pending: bytes
    #: stdin reached end of file
    eof: bool


class StopBeforeLoop(Exception):
    """A stop signal (SIGTERM, SIGHUP) arrived before the event loop existed."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise StopBeforeLoop(signal.Signals(signum).name)


def grow_stdout_pipe() -> None:
    try:
        import fcntl

        fcntl.fcntl(sys.stdout.fileno(), _F_SETPIPE_SZ, STDOUT_PIPE_SIZE)
    except (OSError, ValueError, ImportError):
        pass  # not a pipe, not Linux, or over the system limit: keep the default


def write_all(fd: int, data: bytes) -> None:
    """Write ``data`` to the blocking file descriptor ``fd``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def start_stdio(dispatcher: ApiDispatcher, stop_signals: tuple[signal.Signals, ...]) -> StdioStart:
    """Read stdin up to its first message and answer it when it needs no event loop. A stop
    signal meanwhile raises :class:`StopBeforeLoop`."""
    previous = {sig: signal.signal(sig, _stop) for sig in stop_signals}
    try:
        return _start(dispatcher, dispatcher.new_connection())
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start(dispatcher: ApiDispatcher, state: ConnectionState) -> StdioStart:
    buffer = bytearray()
    scanned = 0  # bytes of ``buffer`` known to hold no newline
    try:
        fd = sys.stdin.fileno()
        while True:
            end = buffer.find(b"\n", scanned)
            if end >= 0:
                if buffer[:end].strip():
                    break
                del buffer[: end + 1]  # a blank line: the server skips those
                scanned = 0
                continue
            scanned = len(buffer)
            if scanned > MAX_LINE:
                return StdioStart(state, bytes(buffer), eof=False)
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return StdioStart(state, bytes(buffer), eof=True)
            buffer += chunk
    except (OSError, ValueError):  # stdin is unreadable here: the event loop's reader decides
        return StdioStart(state, bytes(buffer), eof=False)
    answer = answer_before_loop(dispatcher, state, bytes(buffer[: end + 1]))
    if answer is None:
        return StdioStart(state, bytes(buffer), eof=False)
    grow_stdout_pipe()
    # A client that stopped reading: the event loop's writer meets that on its next write.
    with contextlib.suppress(OSError, ValueError):
        write_all(sys.stdout.fileno(), answer + b"\n")
    return StdioStart(state, bytes(buffer[end + 1 :]), eof=False)
