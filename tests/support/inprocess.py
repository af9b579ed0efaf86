"""The test client of :mod:`tests.support.client`, talking to a server in the test's own
process through :class:`pycodex.transport.inprocess.InProcessConnection` instead of a spawned
``pycodex app-server``: same interface, same schema checks, no process start-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from pycodex.cli import parse_override
from pycodex.logs import TextFormatter
from pycodex.transport.inprocess import InProcessConnection, start_server
from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses


def config_overrides(args: tuple[str, ...]) -> list[tuple[str, Any]] | None:
    """The ``-c key=value`` overrides of server ``args``, or None when ``args`` hold anything
    an in-process server cannot take (other flags need the process)."""
    if len(args) % 2:
        return None
    pairs = list(zip(args[::2], args[1::2], strict=True))
    if any(flag not in ("-c", "--config") for flag, _ in pairs):
        return None
    return [parse_override(value) for _, value in pairs]


class _LineCollector(logging.Handler):
    """Formats the server's log records into ``lines``, as a process's stderr would hold."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines
        self.setFormatter(TextFormatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.lines.append(self.format(record))


class InProcessClient(AppServerClient):
    """One in-process connection; ``stderr_lines`` collects the server's info logs."""

    def __init__(
        self,
        codex_home: Path,
        *,
        validate: bool = True,
        cwd: Path | None = None,
        overrides: list[tuple[str, Any]] | None = None,
    ) -> None:
        super().__init__(codex_home, validate=validate, cwd=cwd)
        self.overrides = overrides or []
        self.connection: InProcessConnection | None = None
        self._partial = b""
        self._logs = _LineCollector(self.stderr_lines)
        self._logger = logging.getLogger("pycodex")
        self._old_level = self._logger.level

    @property
    def proc(self) -> asyncio.subprocess.Process:
        raise AttributeError(
            "this server runs in-process; a test that needs the process asks for it with "
            "spawn(process=True)"
        )

    @proc.setter
    def proc(self, value: asyncio.subprocess.Process | None) -> None:
        if value is not None:
            raise AttributeError("an in-process client has no process")

    async def start(self) -> AppServerClient:
        self._logger.addHandler(self._logs)
        if self._logger.getEffectiveLevel() > logging.INFO:
            self._logger.setLevel(logging.INFO)
        server = start_server(self.codex_home, cli_overrides=self.overrides, cwd=self.cwd)
        self.connection = InProcessConnection(server)
        self._reader = asyncio.create_task(self._read_frames(self.connection))
        return self

    async def _read_frames(self, connection: InProcessConnection) -> None:
        while (frame := await connection.receive()) is not None:
            await self._on_line(frame + b"\n")
        await self._queue.put(None)

    async def send_raw(self, data: bytes) -> None:
        """Split ``data`` into lines as the stdio transport does and feed each one."""
        assert self.connection is not None
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            if line.strip():
                await self.connection.send(line)

    async def close(self) -> int | None:
        connection, self.connection = self.connection, None
        if connection is None:
            return None
        await connection.close()
        await connection.server.shutdown()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        self._logger.removeHandler(self._logs)
        self._logger.setLevel(self._old_level)
        return 0


def use_mock_provider(
    codex_home: Path, mock: MockResponses, *, approval_policy: str = "never"
) -> dict[str, str]:
    """Point ``codex_home`` at ``mock`` (full access, no retries). Returns the environment an
    in-process server needs (its API key), for the test to set with ``monkeypatch``."""
    (codex_home / "config.toml").write_text(
        f'model = "gpt-5.5"\nmodel_provider = "mock"\napproval_policy = "{approval_policy}"\n'
        'sandbox_mode = "danger-full-access"\n\n' + mock.provider_toml()
    )
    return {"MOCK_API_KEY": "sk-mock"}
