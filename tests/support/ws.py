"""Websocket helpers: a ``--listen ws://`` server process and a schema-checking client."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import zstandard
from websockets.asyncio.client import ClientConnection

from tests.support import schema
from tests.support.client import server_command, server_env

TIMEOUT = 10.0


class WsServer:
    """A ``pycodex app-server --listen ws://...`` subprocess; stderr is collected on a thread."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None,
                 listen: str = "ws://127.0.0.1:0") -> None:
        self.proc = subprocess.Popen(
            server_command("--listen", listen, *args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=server_env(home, env),
            cwd=str(home),
        )
        self.stderr_lines: list[str] = []
        self._banner = threading.Event()
        self.port = 0
        self.host = ""
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._banner.wait(TIMEOUT):
            self.stop()
            raise AssertionError("no banner; stderr:\n" + self.stderr)
        if not self.port:
            self.stop()
            raise AssertionError("server exited early; stderr:\n" + self.stderr)

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            self.stderr_lines.append(line)
            found = re.fullmatch(r"  listening on: ws://(.+):(\d+)", line)
            if found:
                self.host, self.port = found.group(1), int(found.group(2))
            if line.startswith("  note: "):
                self._banner.set()
        self._banner.set()

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)


    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def running(home: Path, *args: str, **kw: Any) -> Iterator[WsServer]:
    server = WsServer(home, *args, **kw)
    try:
        yield server
    finally:
        server.stop()


class WsClient:
    """One websocket connection; checks every message received against the schema."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.methods: dict[Any, str] = {}
        self.received: list[dict[str, Any]] = []
        self.violations: list[str] = []

    async def send(self, message: dict[str, Any]) -> None:
        if "id" in message and "method" in message:
            self.methods[message["id"]] = message["method"]
        await self.ws.send(json.dumps(message))

    async def next_message(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(frame, str), "server sent a binary frame"
        message: dict[str, Any] = json.loads(frame)
        self._check(message)
        self.received.append(message)
        return message

    def _check(self, message: dict[str, Any]) -> None:
        if "jsonrpc" in message:
            self.violations.append("server sent a jsonrpc member")
        if "method" in message and "id" in message:
            problems = schema.validate_server_request(message["method"], message.get("params"))
        elif "method" in message:
            problems = schema.validate_notification(message["method"], message.get("params"))
        elif "error" in message:
            problems = schema.validate_error(message["error"])
        elif "result" in message and message.get("id") in self.methods:
            problems = schema.validate_response(self.methods[message["id"]], message["result"])
        else:
            problems = [f"unexpected message {message!r:.200}"]
        self.violations.extend(problems)

    async def request_raw(self, method: str, params: Any = None, *,
                          request_id: Any = None) -> dict[str, Any]:
        rid = next(self.ids) if request_id is None else request_id
        await self.send({"method": method, "id": rid, "params": {} if params is None else params})
        return await self.response(rid)

    async def response(self, rid: Any) -> dict[str, Any]:
        while True:
            message = await self.next_message()
            if message.get("id") == rid and "method" not in message:
                return message

    async def initialize(self, name: str = "ws-test", *, experimental: bool = False) -> Any:
        response = await self.request_raw("initialize", {
            "clientInfo": {"name": name, "title": None, "version": "1.0.0"},
            "capabilities": {"experimentalApi": experimental},
        })
        assert "result" in response, response
        await self.send({"method": "initialized"})
        return response["result"]


COMPRESSION = {"x-codex-app-server-compression": "zstd-stream-v1"}


class ZstdWsClient(WsClient):
    """A client that negotiated ``zstd-stream-v1``: one zstd stream per direction, one
    message per binary frame (as the Codex TUI does)."""

    def __init__(self, ws: ClientConnection) -> None:
        super().__init__(ws)
        params = zstandard.ZstdCompressionParameters.from_level(3, window_log=20)
        self._out = zstandard.ZstdCompressor(compression_params=params).compressobj()
        self._in = zstandard.ZstdDecompressor().decompressobj()

    async def send(self, message: dict[str, Any]) -> None:
        if "id" in message and "method" in message:
            self.methods[message["id"]] = message["method"]
        data = json.dumps(message).encode()
        await self.ws.send(self._out.compress(data)
                           + self._out.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))

    async def next_message(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(frame, bytes), "server sent a text frame on a compressed connection"
        message: dict[str, Any] = json.loads(self._in.decompress(frame))
        self._check(message)
        self.received.append(message)
        return message
