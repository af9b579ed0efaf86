"""A connection to a server running in the same process: JSON messages in, JSON messages out,
through the same :meth:`RpcServer.open_connection` / :meth:`RpcServer.feed` path as stdio and
websocket (handshake, gating, opt-outs, backpressure all apply)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pycodex.api.bootstrap import create_app
from pycodex.api.context import ServerOptions
from pycodex.rpc.outgoing import OutgoingSender
from pycodex.rpc.server import Connection, RpcServer

#: Messages the server may queue for an in-process client that is not reading.
OUTBOX_CAPACITY = 1024


def start_server(
    codex_home: Path,
    *,
    cli_overrides: list[tuple[str, Any]] | None = None,
    cwd: Path | None = None,
) -> RpcServer:
    """Build the app state and an :class:`RpcServer` for ``codex_home`` (no transport)."""
    sender = OutgoingSender()
    options = ServerOptions(codex_home=codex_home, cli_overrides=list(cli_overrides or ()))
    if cwd is not None:
        options.cwd = cwd
    return RpcServer(create_app(options, sender), sender)


class InProcessConnection:
    """One client connection: :meth:`send` feeds a message, :meth:`receive` yields the next
    one the server sent (``None`` once the connection is closed)."""

    def __init__(self, server: RpcServer) -> None:
        self.server = server
        self._outbox: asyncio.Queue[bytes | None] = asyncio.Queue(OUTBOX_CAPACITY)
        self._conn: Connection = server.open_connection(self._deliver, newline=False)

    @property
    def connection_id(self) -> int:
        return self._conn.id

    async def _deliver(self, frame: bytes) -> None:
        await self._outbox.put(frame)

    async def send(self, message: bytes | str) -> None:
        """Feed one JSON message; waits while this connection's output is backed up."""
        await self.server.feed(self._conn, message)

    async def receive(self) -> bytes | None:
        return await self._outbox.get()

    async def close(self) -> None:
        """Close the connection (pending output is flushed first)."""
        await self.server.close_connection(self._conn)
        while True:
            try:
                self._outbox.put_nowait(None)
                return
            except asyncio.QueueFull:
                self._outbox.get_nowait()
