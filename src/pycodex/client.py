"""An async client for a Codex app-server running in this process.

Typed requests go in (a params struct names its method; ``(method, dict)`` works too),
decoded results, typed notifications and server→client requests come out. The server is the
real one, reached through the same connection path as stdio, so the handshake, experimental
gating and notification opt-outs behave exactly as they do over the wire::

    async with CodexClient(Path("~/.codex").expanduser()) as client:
        thread = await client.request(ThreadStartParams())
        async for note in client.notifications():
            print(note.method, note.params)
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import msgspec

from pycodex.protocol.types import client_requests, server_notifications, server_requests
from pycodex.protocol.types.initialize import (
    ClientInfo,
    InitializeCapabilities,
    InitializeParams,
    InitializeResponse,
)
from pycodex.transport.inprocess import InProcessConnection, start_server

__all__ = ["ClientError", "CodexClient", "Notification", "ServerRequest"]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class ClientError(Exception):
    """An error answer from the server: ``code``, ``message`` and optional ``data``."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.code: int | None = error.get("code")
        self.message: str = str(error.get("message", ""))
        self.data: Any = error.get("data")
        super().__init__(f"{self.code}: {self.message}")


@dataclass(frozen=True, slots=True)
class Notification:
    """A server notification; ``params`` is its typed struct where the table has one."""

    method: str
    params: Any
    emitted_at_ms: int | None = None


@dataclass(slots=True)
class ServerRequest:
    """A server→client request (an approval, a token refresh...); answer it exactly once."""

    method: str
    params: Any
    id: int | str
    _client: CodexClient = field(repr=False)

    async def respond(self, result: Any) -> None:
        await self._client._send({"id": self.id, "result": _plain(result)})

    async def reject(self, code: int, message: str) -> None:
        await self._client._send({"id": self.id, "error": {"code": code, "message": message}})


def _plain(value: Any) -> Any:
    """Wire form of a struct (or a plain value, unchanged)."""
    return msgspec.to_builtins(value) if isinstance(value, msgspec.Struct) else value


def _typed(tp: Any, params: Any) -> Any:
    if tp is None or params is None:
        return params
    try:
        return msgspec.convert(params, tp)
    except msgspec.ValidationError:
        return params  # newer than this table: hand over the raw params


class CodexClient:
    """One connection to an in-process app-server rooted at ``codex_home``."""

    def __init__(
        self,
        codex_home: Path,
        *,
        config_overrides: list[tuple[str, Any]] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.codex_home = codex_home
        self._overrides = config_overrides
        self._cwd = cwd
        self._conn: InProcessConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int | str, asyncio.Future[Any]] = {}
        self._results: dict[int | str, Any] = {}
        self._notes: asyncio.Queue[Notification | None] = asyncio.Queue()
        self._server_requests: asyncio.Queue[ServerRequest | None] = asyncio.Queue()
        self._by_type = {spec.params: spec for spec in client_requests().values() if spec.params}
        self._note_types = server_notifications()
        self._request_types = server_requests()

    # -- lifecycle ---------------------------------------------------------------------
    async def start(
        self,
        *,
        name: str = "pycodex_client",
        version: str = "1.0.0",
        experimental_api: bool = False,
        opt_out: list[str] | None = None,
    ) -> InitializeResponse:
        """Start the server and run the handshake (``initialize`` + ``initialized``)."""
        self.codex_home.mkdir(parents=True, exist_ok=True)
        server = start_server(self.codex_home, cli_overrides=self._overrides, cwd=self._cwd)
        self._conn = InProcessConnection(server)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        caps = InitializeCapabilities(
            experimental_api=experimental_api, opt_out_notification_methods=opt_out
        )
        response: InitializeResponse = await self.request(
            InitializeParams(client_info=ClientInfo(name=name, version=version), capabilities=caps)
        )
        await self.notify("initialized")
        return response

    async def close(self) -> None:
        """Close the connection and shut the server down (flushes its threads)."""
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        await conn.close()
        await conn.server.shutdown()
        if self._reader is not None:
            await self._reader

    async def __aenter__(self) -> CodexClient:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- requests ----------------------------------------------------------------------
    async def request(self, params: Any, raw_params: dict[str, Any] | None = None) -> Any:
        """``request(ThreadStartParams(...))`` or ``request("thread/start", {...})``.

        Returns the decoded result struct (the raw dict for untyped methods); raises
        :class:`ClientError` on an error answer.
        """
        if isinstance(params, str):
            method, wire = params, raw_params if raw_params is not None else {}
        else:
            spec = self._by_type.get(type(params))
            if spec is None:
                raise TypeError(f"no method takes {type(params).__name__}")
            method, wire = spec.name, _plain(params)
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        await self._send({"method": method, "id": request_id, "params": wire})
        answer = await future
        if "error" in answer:
            raise ClientError(answer["error"])
        spec_of = client_requests().get(method)
        return _typed(spec_of.result if spec_of else None, answer.get("result"))

    async def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"method": method}
        if params is not None:
            message["params"] = _plain(params)
        await self._send(message)

    # -- what the server sends ---------------------------------------------------------
    async def notifications(self) -> AsyncIterator[Notification]:
        """Every notification in order, until the connection closes."""
        while (note := await self._notes.get()) is not None:
            yield note

    async def server_requests(self) -> AsyncIterator[ServerRequest]:
        """Server→client requests in order; answer each with ``respond`` or ``reject``."""
        while (request := await self._server_requests.get()) is not None:
            yield request

    async def _send(self, message: dict[str, Any]) -> None:
        if self._conn is None:
            raise ConnectionError("client is not started")
        await self._conn.send(_encoder.encode(message))

    async def _read(self) -> None:
        assert self._conn is not None
        conn = self._conn
        while (frame := await conn.receive()) is not None:
            message = _decoder.decode(frame)
            method = message.get("method")
            if method is None:
                future = self._pending.pop(message.get("id"), None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif "id" in message:
                spec = self._request_types.get(method)
                params = _typed(spec.params if spec else None, message.get("params"))
                await self._server_requests.put(ServerRequest(method, params, message["id"], self))
            else:
                params = _typed(self._note_types.get(method), message.get("params"))
                await self._notes.put(Notification(method, params, message.get("emittedAtMs")))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("connection closed"))
        await self._notes.put(None)
        await self._server_requests.put(None)
