"""JSONL over stdin/stdout. EOF on stdin closes the connection and ends the server. What was
read (and answered) before the event loop existed comes in as a :class:`StdioStart`."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable

from pycodex.rpc.server import RpcServer
from pycodex.transport.stdio_start import MAX_LINE, StdioStart, grow_stdout_pipe, write_all

logger = logging.getLogger(__name__)


async def _stdin_reader(start: StdioStart | None) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE)
    if start is not None:
        reader.feed_data(start.pending)
        if start.eof:
            reader.feed_eof()
            return reader
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    except (ValueError, OSError):
        # A regular file or something else epoll cannot watch: read it on a thread.
        def pump() -> None:
            fd = sys.stdin.fileno()
            while chunk := os.read(fd, 1 << 16):
                loop.call_soon_threadsafe(reader.feed_data, chunk)
            loop.call_soon_threadsafe(reader.feed_eof)

        threading.Thread(target=pump, name="stdin-pump", daemon=True).start()
    return reader


async def _stdout_sender() -> Callable[[bytes], Awaitable[None]]:
    grow_stdout_pipe()
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, sys.stdout
        )
        writer = asyncio.StreamWriter(transport, protocol, None, loop)

        async def send(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        return send
    except (ValueError, OSError):
        fd = sys.stdout.fileno()

        async def send_blocking(data: bytes) -> None:
            await loop.run_in_executor(None, write_all, fd, data)

        return send_blocking


async def serve_stdio(server: RpcServer, start: StdioStart | None = None) -> None:
    """Serve one connection on stdin/stdout until stdin reaches EOF."""
    reader = await _stdin_reader(start)
    send = await _stdout_sender()
    conn = server.open_connection(
        send, newline=True, state=start.state if start is not None else None)
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                await server.feed(conn, exc.partial)
            break
        except asyncio.LimitOverrunError:
            logger.error(
                "Failed to deserialize JSONRPCMessage: line longer than %d bytes", MAX_LINE
            )
            await _discard_line(reader)
            continue
        if line.strip():
            await server.feed(conn, line)
    logger.info("stdin closed; shutting down")
    await server.close_connection(conn)


async def _discard_line(reader: asyncio.StreamReader) -> None:
    while True:
        try:
            await reader.readuntil(b"\n")
            return
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(exc.consumed)
        except asyncio.IncompleteReadError:
            return
