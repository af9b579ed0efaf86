"""Websocket under load (many busy threads on one connection), ``zstd-stream-v1`` message
compression, and the Unix-domain control socket (``--listen unix://``), driven as clients
would drive them against spawned servers and the mock Responses API."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect, unix_connect
from websockets.exceptions import ConnectionClosed

from tests.support.client import server_command, server_env
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.turns import write_config
from tests.support.ws import COMPRESSION, TIMEOUT, WsClient, ZstdWsClient, running


@pytest.fixture(name="turn_home")
def turn_home_fixture(tmp_path: Path, mock: MockResponses) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    write_config(home, mock)
    return home


async def run_busy_threads(client: WsClient, cwd: Path, threads: int, deltas: int
                           ) -> dict[str, list[str]]:
    """Start ``threads`` turns at once on one connection; the deltas each turn delivered."""
    thread_ids = []
    for _ in range(threads):
        started = await client.request_raw("thread/start", {"cwd": str(cwd)})
        thread_ids.append(started["result"]["thread"]["id"])
    for thread_id in thread_ids:
        await client.send({"method": "turn/start", "id": f"turn-{thread_id}", "params": {
            "threadId": thread_id, "input": [{"type": "text", "text": "go"}]}})
    received: dict[str, list[str]] = {thread_id: [] for thread_id in thread_ids}
    completed: set[str] = set()
    while len(completed) < threads:
        message = await client.next_message(timeout=60)
        method = message.get("method")
        if method == "item/agentMessage/delta":
            received[message["params"]["threadId"]].append(message["params"]["delta"])
        elif method == "turn/completed":
            assert message["params"]["turn"]["status"] == "completed", message
            completed.add(message["params"]["threadId"])
    return received


def expected_deltas(count: int) -> list[str]:
    return [f"d{i} " for i in range(count)]


@pytest.mark.parametrize(("compressed", "threads", "deltas"), [(False, 12, 400),
                                                             (True, 6, 300)])
async def test_many_busy_threads_on_one_websocket_lose_nothing(
    compressed: bool, threads: int, deltas: int, turn_home: Path, mock: MockResponses
) -> None:
    """Plain text frames unless the client offers zstd-stream-v1; then binary frames of one
    zstd stream. Either way every delta arrives and the connection stays up."""
    mock.default = lambda: text_reply(*expected_deltas(deltas))
    with running(turn_home, env={"MOCK_API_KEY": "sk-mock"}) as server:
        ws = await connect(server.url, proxy=None, open_timeout=TIMEOUT,
                           additional_headers=COMPRESSION if compressed else None)
        agreed = ws.response.headers.get("x-codex-app-server-compression")
        assert agreed == ("zstd-stream-v1" if compressed else None)
        client = ZstdWsClient(ws) if compressed else WsClient(ws)
        result = await client.initialize("busy")
        assert result["platformOs"] == "linux"
        received = await run_busy_threads(client, turn_home, threads, deltas)
        assert all(got == expected_deltas(deltas) for got in received.values())
        # The connection is still up and answering.
        answer = await client.request_raw("thread/loaded/list", {})
        assert len(answer["result"]["data"]) == threads
        await ws.close()
        assert "slow consumer" not in server.stderr
    assert not client.violations, client.violations


async def test_client_that_stops_reading_during_a_turn_is_cut_off(
    turn_home: Path, mock: MockResponses
) -> None:
    """Its turn's deltas back up (a few MB, far below the byte bound); once no write has
    completed for the stall period (10 s) it is disconnected, and the server carries on."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    mock.push(text_reply(*expected_deltas(30_000)))
    with running(turn_home, env={"MOCK_API_KEY": "sk-mock"}) as server:
        sock.connect(("127.0.0.1", server.port))
        stalled = WsClient(await connect(server.url, sock=sock, proxy=None,
                                         open_timeout=TIMEOUT, max_queue=1))
        await stalled.initialize("stalled")
        started = await stalled.request_raw("thread/start", {"cwd": str(turn_home)})
        await stalled.send({"method": "turn/start", "id": "t", "params": {
            "threadId": started["result"]["thread"]["id"],
            "input": [{"type": "text", "text": "go"}]}})
        # It reads nothing more.
        deadline = time.monotonic() + 30
        while "slow consumer" not in server.stderr and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert re.search(r"disconnecting websocket client \d+: slow consumer", server.stderr)
        bystander = WsClient(await connect(server.url, proxy=None, open_timeout=TIMEOUT))
        await bystander.initialize("bystander")
        received = await run_busy_threads(bystander, turn_home, 1, 4)  # a turn still runs
        assert list(received.values()) == [["Hello", " from", " the", " mock!"]]
        await bystander.ws.close()
        stalled.ws.transport.abort()
    assert not bystander.violations, bystander.violations


async def test_undecodable_compressed_frame_closes_the_connection(turn_home: Path) -> None:
    with running(turn_home) as server:
        ws = await connect(server.url, proxy=None, open_timeout=TIMEOUT,
                           additional_headers=COMPRESSION)
        client = ZstdWsClient(ws)
        await client.initialize("zstd")
        await ws.send(b"definitely not zstd")
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert ws.close_code == 1009
        assert "invalid compressed message" in server.stderr


# -- unix socket ------------------------------------------------------------------------------
def connectable(path: Path) -> str:
    """The socket path to connect to: the symlink's target, since pytest's paths can be
    longer than a socket address allows (the reason the server uses a short target)."""
    return os.path.realpath(path)


class UnixServer:
    """``pycodex app-server --listen unix://…``; ready once the socket accepts."""

    def __init__(self, home: Path, listen: str, socket_path: Path) -> None:
        self.path = socket_path
        self.proc = subprocess.Popen(
            server_command("--listen", listen), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=server_env(home),
            cwd=str(home))

    async def ready(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
            try:
                ws = await unix_connect(connectable(self.path), uri="ws://localhost/")
            except OSError:
                await asyncio.sleep(0.05)
                continue
            await ws.close()
            return
        raise AssertionError("control socket never accepted")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


async def test_unix_socket_serves_websocket_and_cleans_up(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    path = tmp_path / "ctl.sock"
    server = UnixServer(home, f"unix://{path}", path)
    try:
        await server.ready()
        assert path.is_symlink()
        backing = path.resolve()
        assert backing.parent.name == f"codex-daemon-{os.getuid()}"
        assert stat.S_IMODE(backing.stat().st_mode) == 0o600
        assert stat.S_IMODE(backing.parent.stat().st_mode) == 0o700

        ws = await unix_connect(connectable(path), uri="ws://localhost/")
        assert ws.response.headers["x-codex-websocket-max-unfragmented-message-bytes"] == \
            "16777216"
        assert "x-codex-app-server-compression" not in ws.response.headers
        client = WsClient(ws)
        result = await client.initialize("over-unix")
        assert result["codexHome"] == str(home)
        await ws.close()

        # A second server on the same path refuses to start.
        second = subprocess.run(server_command("--listen", f"unix://{path}"),
                                capture_output=True, text=True, timeout=30,
                                env=server_env(home), stdin=subprocess.DEVNULL)
        assert second.returncode == 1
        assert second.stderr.strip() == \
            f"Error: app-server control socket is already in use at {path}"
        assert not client.violations, client.violations
    finally:
        code = server.stop()
    assert code == 0
    assert not path.exists() and not path.is_symlink()
    assert not backing.exists()


async def test_default_unix_socket_lives_under_codex_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    path = home / "app-server-control" / "app-server-control.sock"
    server = UnixServer(home, "unix://", path)
    try:
        await server.ready()
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        ws = await unix_connect(connectable(path), uri="ws://localhost/",
                                additional_headers=COMPRESSION)
        assert ws.response.headers["x-codex-app-server-compression"] == "zstd-stream-v1"
        client = ZstdWsClient(ws)
        await client.initialize("tui-like")
        await ws.close()
    finally:
        assert server.stop() == 0


async def test_stale_socket_path_is_replaced(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    path = tmp_path / "stale.sock"
    path.symlink_to(tmp_path / "gone")  # left behind by a killed server
    server = UnixServer(home, f"unix://{path}", path)
    try:
        await server.ready()
        assert path.resolve() != tmp_path / "gone"
    finally:
        assert server.stop() == 0
