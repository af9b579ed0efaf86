"""A test client that drives ``pycodex app-server`` the way a real client does: it spawns
the server, speaks JSONL on its stdio, and validates every message it receives against the
reference schema bundle."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support import schema

DEFAULT_TIMEOUT = 15.0


async def wait_for_line(lines: list[str], text: str, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """True once a line containing ``text`` is in ``lines`` (filled by a stderr reader, which
    may still be behind the server's answers), False after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(text in line for line in lines):
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.01)
    return True


class ServerError(Exception):
    """An error answer from the server."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.error = error
        self.code = error.get("code")
        self.message = error.get("message")
        self.data = error.get("data")


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pycodex", "app-server", *args]


def server_env(codex_home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEX_", "OPENAI_"))}
    env["CODEX_HOME"] = str(codex_home)
    env.setdefault("PYCODEX_LOG", "info")
    if extra:
        env.update(extra)
    return env


class AppServerClient:
    """One stdio connection to a spawned server process."""

    def __init__(
        self,
        codex_home: Path,
        *,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        validate: bool = True,
        command: list[str] | None = None,
    ) -> None:
        self.codex_home = codex_home
        self.args = args
        #: the full server command (default: ``python -m pycodex app-server <args>``)
        self.command = command
        self.env = server_env(codex_home, env)
        self.cwd = cwd
        self.validate = validate
        self.proc: asyncio.subprocess.Process | None = None
        self._ids = itertools.count(1)
        self._methods: dict[Any, str] = {}
        self.received: list[dict[str, Any]] = []
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self.stderr_lines: list[str] = []
        self.violations: list[str] = []
        self.raw_lines: list[bytes] = []
        #: Answer server->client requests automatically: method -> callable(params) -> result
        self.auto_answers: dict[str, Callable[[dict[str, Any]], Any]] = {}

    async def start(self) -> AppServerClient:
        self.proc = await asyncio.create_subprocess_exec(
            *(self.command or server_command(*self.args)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
            cwd=str(self.cwd) if self.cwd else None,
            limit=64 * 1024 * 1024,
        )
        self._reader = asyncio.create_task(self._read_stdout())
        self._stderr_task = asyncio.create_task(self._read_stderr())
        return self

    async def __aenter__(self) -> AppServerClient:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.stdin and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        try:
            code = await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            code = await self.proc.wait()
        for task in (self._reader, self._stderr_task):
            if task:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 5)
        return code

    # -- reading -----------------------------------------------------------------------
    async def _read_stdout(self) -> None:
        assert self.proc and self.proc.stdout
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                await self._queue.put(None)
                return
            await self._on_line(line)

    async def _on_line(self, line: bytes) -> None:
        """Check, record and queue one message from the server (answering it if asked to)."""
        self.raw_lines.append(line)
        try:
            message = json.loads(line)
        except ValueError:
            self.violations.append(f"non-JSON line on stdout: {line[:200]!r}")
            return
        self._check(message)
        self.received.append(message)
        if "method" in message and "id" in message and message["method"] in self.auto_answers:
            answer = self.auto_answers[message["method"]](message.get("params") or {})
            await self.send({"id": message["id"], "result": answer})
        await self._queue.put(message)

    async def _read_stderr(self) -> None:
        assert self.proc and self.proc.stderr
        while True:
            line = await self.proc.stderr.readline()
            if not line:
                return
            self.stderr_lines.append(line.decode(errors="replace").rstrip("\n"))

    def _check(self, message: dict[str, Any]) -> None:
        if not self.validate:
            return
        if "jsonrpc" in message:
            self.violations.append("server sent a jsonrpc member")
        if "method" in message and "id" in message:
            problems = schema.validate_server_request(message["method"], message.get("params"))
            where = f"server request {message['method']}"
        elif "method" in message:
            if "emittedAtMs" not in message:
                self.violations.append(f"notification {message['method']} lacks emittedAtMs")
            problems = schema.validate_notification(message["method"], message.get("params"))
            where = f"notification {message['method']}"
        elif "error" in message:
            problems = schema.validate_error(message["error"])
            where = f"error for id {message.get('id')!r}"
        elif "result" in message:
            method = self._methods.get(message.get("id"))
            if method is None:
                problems = [f"response to unknown id {message.get('id')!r}"]
            else:
                problems = schema.validate_response(method, message["result"])
            where = f"response to {method}"
        else:
            problems = ["message is neither request, notification nor response"]
            where = "message"
        self.violations.extend(f"{where}: {p}" for p in problems)

    async def next_message(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any] | None:
        return await asyncio.wait_for(self._queue.get(), timeout)

    # -- writing -----------------------------------------------------------------------
    async def send(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:
            self._methods[message["id"]] = message["method"]
        await self.send_raw(json.dumps(message).encode() + b"\n")

    async def send_many(self, messages: list[dict[str, Any]]) -> None:
        """Several messages in one write (the server reads them together)."""
        for message in messages:
            if "method" in message and "id" in message:
                self._methods[message["id"]] = message["method"]
        await self.send_raw(b"".join(json.dumps(m).encode() + b"\n" for m in messages))

    async def send_raw(self, data: bytes) -> None:
        assert self.proc and self.proc.stdin
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    def next_id(self) -> int:
        return next(self._ids)

    async def request_raw(
        self,
        method: str,
        params: Any = None,
        *,
        request_id: Any = None,
        omit_params: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """Send a request and return the whole response message (result or error)."""
        rid = self.next_id() if request_id is None else request_id
        message: dict[str, Any] = {"method": method, "id": rid}
        if not omit_params:
            message["params"] = {} if params is None else params
        await self.send(message)
        return await self.wait_for(lambda m: m.get("id") == rid and "method" not in m, timeout)

    async def request(self, method: str, params: Any = None, **kw: Any) -> Any:
        response = await self.request_raw(method, params, **kw)
        if "error" in response:
            raise ServerError(response["error"])
        return response["result"]

    async def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)

    async def initialize(
        self,
        name: str = "pytest",
        *,
        experimental: bool = False,
        opt_out: list[str] | None = None,
        version: str = "1.0.0",
    ) -> dict[str, Any]:
        caps: dict[str, Any] = {"experimentalApi": experimental}
        if opt_out is not None:
            caps["optOutNotificationMethods"] = opt_out
        result = await self.request(
            "initialize",
            {"clientInfo": {"name": name, "title": None, "version": version}, "capabilities": caps},
        )
        await self.notify("initialized")
        return result  # type: ignore[no-any-return]

    # -- waiting -----------------------------------------------------------------------
    _cursor: int = 0

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        """The first message received (from the start of the session, not yet consumed by
        an earlier wait) that matches ``predicate``."""
        deadline = asyncio.get_running_loop().time() + timeout
        index = 0
        while True:
            while index < len(self.received):
                message = self.received[index]
                index += 1
                if id(message) in self._consumed:
                    continue
                if predicate(message):
                    self._consumed.add(id(message))
                    return message
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no matching message; received {self.summary()}")
            try:
                got = await asyncio.wait_for(self._queue.get(), remaining)
            except TimeoutError:
                raise TimeoutError(f"no matching message; received {self.summary()}") from None
            if got is None and index >= len(self.received):
                raise EOFError(f"server closed stdout; received {self.summary()}")

    @property
    def _consumed(self) -> set[int]:
        if not hasattr(self, "_consumed_ids"):
            self._consumed_ids: set[int] = set()
        return self._consumed_ids

    async def wait_notification(
        self,
        method: str,
        timeout: float = DEFAULT_TIMEOUT,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        message = await self.wait_for(
            lambda m: (
                m.get("method") == method
                and "id" not in m
                and (where is None or where(m.get("params") or {}))
            ),
            timeout,
        )
        return message.get("params") or {}

    async def wait_server_request(
        self, method: str, timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        return await self.wait_for(lambda m: m.get("method") == method and "id" in m, timeout)

    def notifications(self, method: str | None = None) -> list[dict[str, Any]]:
        return [
            m
            for m in self.received
            if "method" in m and "id" not in m and (method is None or m["method"] == method)
        ]

    def summary(self) -> str:
        return ", ".join(
            m.get("method") or f"#{m.get('id')}{' error' if 'error' in m else ''}"
            for m in self.received[-30:]
        )

    def assert_valid(self) -> None:
        assert not self.violations, "schema violations:\n" + "\n".join(self.violations)


async def error_of(client: AppServerClient, method: str, params: dict[str, Any]
                   ) -> dict[str, Any]:
    response = await client.request_raw(method, params)
    assert "error" in response, response
    error: dict[str, Any] = response["error"]
    return error
