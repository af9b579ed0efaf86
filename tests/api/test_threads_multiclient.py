"""Two connections on one server process (in-process, through the real RPC processor):
subscriptions, broadcast of thread lifecycle notifications, dropped subscriptions on close."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from pycodex.api.bootstrap import create_app
from pycodex.api.context import ServerOptions
from pycodex.api.threads import thread_manager
from pycodex.protocol.types.items import AgentMessageItem, ItemStartedNotification
from pycodex.rpc.outgoing import OutgoingSender
from pycodex.rpc.server import Connection, RpcServer


class Peer:
    def __init__(self, server: RpcServer, name: str) -> None:
        self.server = server
        self.name = name
        self.messages: list[dict[str, Any]] = []
        self.conn: Connection = server.open_connection(self._send, newline=True)
        self._next = 0

    async def _send(self, data: bytes) -> None:
        for line in data.splitlines():
            if line.strip():
                self.messages.append(json.loads(line))

    async def request(self, method: str, params: Any) -> dict[str, Any]:
        self._next += 1
        rid = self._next
        await self.server.feed(
            self.conn, json.dumps({"id": rid, "method": method, "params": params})
        )
        for _ in range(500):
            for message in self.messages:
                if message.get("id") == rid and "method" not in message:
                    return message
            await asyncio.sleep(0.01)
        raise TimeoutError(method)

    async def initialize(self) -> None:
        await self.request("initialize", {"clientInfo": {"name": self.name, "version": "1"}})
        await self.server.feed(self.conn, json.dumps({"method": "initialized"}))

    def notifications(self, method: str) -> list[dict[str, Any]]:
        return [m["params"] for m in self.messages if m.get("method") == method and "id" not in m]


async def settle() -> None:
    await asyncio.sleep(0.05)


async def test_two_clients_share_a_thread(tmp_path: Path) -> None:
    sender = OutgoingSender()
    app = create_app(ServerOptions(codex_home=tmp_path / "home", cwd=tmp_path), sender)
    server = RpcServer(app, sender)
    a, b = Peer(server, "alpha"), Peer(server, "beta")
    await a.initialize()
    await b.initialize()
    started = await a.request("thread/start", {})
    tid = started["result"]["thread"]["id"]
    await settle()
    # thread/started is broadcast to every initialized connection.
    assert [n["thread"]["id"] for n in b.notifications("thread/started")] == [tid]
    # No turn yet: nothing to resume, as the reference answers.
    early = await b.request("thread/resume", {"threadId": tid})
    assert early["error"]["message"] == f"no rollout found for thread id {tid}"
    manager = app.peek(thread_manager)
    assert manager is not None
    loaded = manager.get(tid)
    assert loaded is not None
    await loaded.writer.materialize()  # as the first turn would
    joined = await b.request("thread/resume", {"threadId": tid})
    assert joined["result"]["thread"]["id"] == tid
    named = await a.request("thread/name/set", {"threadId": tid, "name": "shared"})
    assert named == {"id": named["id"], "result": {}}
    await settle()
    for peer in (a, b):
        assert peer.notifications("thread/name/updated") == [
            {"threadId": tid, "threadName": "shared"}
        ]
    thread = manager.get(tid)
    assert thread is not None and thread.subscribers == {a.conn.id, b.conn.id}
    # Engine hooks: status changes reach both clients once per change.
    manager.turn_started(thread, "turn-1")
    manager.request_pending(thread, "approval")
    manager.request_resolved(thread, "approval")
    manager.turn_finished(thread, failed=True)
    manager.turn_finished(thread, failed=True)
    thread.notify(ItemStartedNotification(
        item=AgentMessageItem(id="msg-1", text=""), thread_id=tid, turn_id="turn-1",
        started_at_ms=0))
    await settle()
    statuses = [n["status"] for n in b.notifications("thread/status/changed")]
    assert statuses == [
        {"type": "active", "activeFlags": []},
        {"type": "active", "activeFlags": ["waitingOnApproval"]},
        {"type": "active", "activeFlags": []},
        {"type": "systemError"},
    ]
    assert len(a.notifications("item/started")) == len(b.notifications("item/started")) == 1
    # Closing a connection drops its subscription; the other stays subscribed.
    await server.close_connection(a.conn)
    assert thread.subscribers == {b.conn.id}
    left = await b.request("thread/unsubscribe", {"threadId": tid})
    assert left["result"] == {"status": "unsubscribed"}
    await server.shutdown()


async def test_a_failure_after_the_answer_is_logged_not_answered_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """thread/start answers, then its post-answer step fails: the client still gets
    exactly one answer for the id (a second, error answer used to follow)."""
    import pycodex.api.threads as threads_api

    def broken(*args: Any) -> None:
        raise RuntimeError("post-answer step failed")

    monkeypatch.setattr(threads_api, "_after_thread_started", broken)
    sender = OutgoingSender()
    app = create_app(ServerOptions(codex_home=tmp_path / "home", cwd=tmp_path), sender)
    peer = Peer(RpcServer(app, sender), "alpha")
    await peer.initialize()
    started = await peer.request("thread/start", {})
    assert "result" in started
    await settle()
    answers = [m for m in peer.messages if m.get("id") == started["id"] and "method" not in m]
    assert answers == [started]
    assert "failed after answering" in caplog.text
    again = await peer.request("thread/loaded/list", {})  # the connection carries on
    assert again["result"]["data"] == [started["result"]["thread"]["id"]]
