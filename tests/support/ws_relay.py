"""A recording websocket relay: sits between a client (the real TUI) and an app-server,
forwards every text frame both ways and keeps each JSON-RPC message with its direction, so
tests can check the traffic instead of a flaky terminal screen.

Runs in its own thread with its own event loop (the TUI tests drive tmux synchronously).
Compression is not negotiated, so both legs carry plain text frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

Message = dict[str, Any]


class WsRelay:
    """``ws://127.0.0.1:<port>`` relaying to ``upstream``; ``messages`` holds
    ``(direction, message, connection)``: direction ``"c2s"`` or ``"s2c"``, connection the
    number of the client connection (request ids repeat across connections)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.messages: list[tuple[str, Message, int]] = []
        self._connections = 0
        self.port = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=self._run, name="ws-relay", daemon=True)

    def __enter__(self) -> WsRelay:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("relay did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        stop = self._stop
        if stop is not None:
            self._loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    # -- reading the traffic ------------------------------------------------------------
    def sent(self, direction: str) -> list[Message]:
        with self._lock:
            return [m for d, m, _ in self.messages if d == direction]

    def requests(self, method: str | None = None) -> list[Message]:
        """Client requests (optionally of one method)."""
        return [m for m in self.sent("c2s")
                if "id" in m and "method" in m and method in (None, m["method"])]

    def answer_to(self, request: Message) -> Message | None:
        """The answer to ``request`` (an object of ``messages``), on its own connection."""
        with self._lock:
            conn = next((c for d, m, c in self.messages if m is request), None)
            return next((m for d, m, c in self.messages if d == "s2c" and c == conn
                         and m.get("id") == request["id"] and "method" not in m), None)

    def notifications(self, method: str) -> list[Message]:
        return [m for m in self.sent("s2c") if m.get("method") == method and "id" not in m]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 15) -> Any:
        """Poll ``predicate`` until it returns something truthy; ``TimeoutError`` if not."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError("relay: condition not met; traffic: " + self.summary())
            time.sleep(0.1)

    def summary(self) -> str:
        with self._lock:
            return ", ".join(f"{d}:{m.get('method', '#' + str(m.get('id')))}"
                             for d, m, _ in self.messages[-60:])

    # -- relaying -----------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = self._loop.create_future()
        async with serve(self._client, "127.0.0.1", 0, compression=None,
                         max_size=None) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop

    def _record(self, direction: str, frame: str | bytes, conn: int) -> None:
        with contextlib.suppress(ValueError):
            message = json.loads(frame)
            if isinstance(message, dict):
                with self._lock:
                    self.messages.append((direction, message, conn))

    async def _client(self, client: ServerConnection) -> None:
        self._connections += 1
        conn = self._connections
        async with connect(self.upstream, compression=None, max_size=None) as server:
            async def pump(source: Any, sink: Any, direction: str) -> None:
                with contextlib.suppress(Exception):
                    async for frame in source:
                        self._record(direction, frame, conn)
                        await sink.send(frame)
                with contextlib.suppress(Exception):
                    await sink.close()

            await asyncio.gather(pump(client, server, "c2s"), pump(server, client, "s2c"))
