"""Concurrent dispatch on one connection (issue 10 item 3): a slow request does not hold up
the ones behind it, the handshake and same-thread requests keep their order, and the
per-connection bound answers ``-32001`` beyond 128 requests queued or running."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pycodex.api import router
from pycodex.api.context import RequestContext
from pycodex.transport.inprocess import InProcessConnection, start_server
from tests.conftest import ServerFactory
from tests.support.client import AppServerClient
from tests.support.inprocess import use_mock_provider
from tests.support.mock_responses import MockResponses, slow_text_reply, text_reply

OVERLOADED = {"code": -32001, "message": "Server overloaded; retry later."}


class Gate:
    """A handler for ``mock/experimentalMethod`` that waits until the test opens it."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.entered = 0

    async def __call__(self, ctx: RequestContext, params: Any) -> dict[str, Any]:
        self.entered += 1
        await self.open.wait()
        return {"echoed": params.value}


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    gate = Gate()
    router.handler_for("mock/experimentalMethod", "misc")  # register the real one first
    monkeypatch.setitem(router._HANDLERS, "mock/experimentalMethod", gate)
    return gate


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


async def answer(client: AppServerClient, rid: str) -> dict[str, Any]:
    return await client.wait_for(lambda m: m.get("id") == rid and "method" not in m)


def slow(rid: str) -> dict[str, Any]:
    return {"method": "mock/experimentalMethod", "id": rid, "params": {"value": rid}}


async def test_a_slow_request_does_not_hold_up_the_next_one(
    spawn: ServerFactory, gate: Gate
) -> None:
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    await client.send(slow("slow"))
    # Answered while the slow request is still running: answers come back out of order.
    assert await client.request("thread/loaded/list", {}) == {"data": [], "nextCursor": None}
    assert gate.entered == 1
    assert not [m for m in client.received if m.get("id") == "slow"]
    gate.open.set()
    answer = await client.wait_for(lambda m: m.get("id") == "slow")
    assert answer["result"] == {"echoed": "slow"}


async def test_requests_behind_initialize_wait_for_it(
    spawn: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    initialize = router.handler_for("initialize", "initialize")
    loaded_list = router.handler_for("thread/loaded/list", "threads")
    assert initialize is not None and loaded_list is not None

    async def slow_initialize(ctx: RequestContext, params: Any) -> Any:
        for _ in range(20):  # give a concurrent dispatcher every chance to run the next one
            await asyncio.sleep(0)
        events.append("initialize")
        return await initialize(ctx, params)

    async def recording_list(ctx: RequestContext, params: Any) -> Any:
        events.append(f"list initialized={ctx.connection.initialized}")
        return await loaded_list(ctx, params)

    monkeypatch.setitem(router._HANDLERS, "initialize", slow_initialize)
    monkeypatch.setitem(router._HANDLERS, "thread/loaded/list", recording_list)
    client = await spawn(initialize=False)
    init = {"method": "initialize", "id": 1,
            "params": {"clientInfo": {"name": "pytest", "version": "1"}}}
    await client.send_many([init, {"method": "thread/loaded/list", "id": 2, "params": {}}])
    listed = await client.wait_for(lambda m: m.get("id") == 2)
    assert listed["result"] == {"data": [], "nextCursor": None}
    assert events == ["initialize", "list initialized=True"]
    answers = [m["id"] for m in client.received if "id" in m and "method" not in m]
    assert answers == [1, 2]


async def test_at_most_128_requests_are_queued_or_running(
    spawn: ServerFactory, gate: Gate
) -> None:
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    burst = [slow(f"b{i}") for i in range(200)]
    await client.send_many(burst)
    refused = [await answer(client, f"b{i}") for i in range(128, 200)]
    assert all(m["error"] == OVERLOADED for m in refused)
    await until(lambda: gate.entered >= 128)
    assert gate.entered == 128
    gate.open.set()
    done = [await answer(client, f"b{i}") for i in range(128)]
    assert [m["result"]["echoed"] for m in done] == [f"b{i}" for i in range(128)]
    # The slots are free again.
    assert await client.request("mock/experimentalMethod", {"value": "x"}) == {"echoed": "x"}


# -- same-thread ordering with real turns -----------------------------------------------------
@pytest.fixture
def mock(mock: MockResponses, codex_home: Path, monkeypatch: pytest.MonkeyPatch
         ) -> MockResponses:
    """The shared mock, made the provider of every server of the test."""
    env = use_mock_provider(codex_home, mock)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return mock


async def start_turn(client: AppServerClient, thread_id: str, text: str) -> str:
    started = await client.request(
        "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": text}]}
    )
    return str(started["turn"]["id"])


async def test_steer_then_interrupt_in_one_write_run_in_order(
    spawn: ServerFactory, mock: MockResponses, workdir: Path
) -> None:
    client = await spawn()
    thread_id = (await client.request("thread/start", {"cwd": str(workdir)}))["thread"]["id"]
    mock.push(slow_text_reply(*["tick "] * 50, interval=0.1))
    turn_id = await start_turn(client, thread_id, "slow")
    await client.wait_notification("item/agentMessage/delta")
    steer = {"method": "turn/steer", "id": "steer", "params": {
        "threadId": thread_id, "expectedTurnId": turn_id,
        "input": [{"type": "text", "text": "also this"}]}}
    interrupt = {"method": "turn/interrupt", "id": "stop",
                 "params": {"threadId": thread_id, "turnId": turn_id}}
    await client.send_many([steer, interrupt])
    steered = await client.wait_for(lambda m: m.get("id") == "steer")
    stopped = await client.wait_for(lambda m: m.get("id") == "stop")
    assert steered["result"] == {"turnId": turn_id}
    assert stopped["result"] == {}
    completed = await client.wait_notification("turn/completed")
    assert completed["turn"]["status"] == "interrupted"


async def test_resume_then_turn_start_in_one_write_run_in_order(
    spawn: ServerFactory, mock: MockResponses, workdir: Path
) -> None:
    first = await spawn()
    thread_id = (await first.request("thread/start", {"cwd": str(workdir)}))["thread"]["id"]
    mock.push(text_reply("one"))
    await start_turn(first, thread_id, "first")
    await first.wait_notification("turn/completed")
    second = await spawn(home=first.codex_home)
    mock.push(text_reply("two"))
    resume = {"method": "thread/resume", "id": "resume", "params": {"threadId": thread_id}}
    turn = {"method": "turn/start", "id": "turn", "params": {
        "threadId": thread_id, "input": [{"type": "text", "text": "second"}]}}
    await second.send_many([resume, turn])
    resumed = await second.wait_for(lambda m: m.get("id") == "resume")
    started = await second.wait_for(lambda m: m.get("id") == "turn")
    assert len(resumed["result"]["thread"]["turns"]) == 1
    assert started["result"]["turn"]["status"] == "inProgress"
    completed = await second.wait_notification("turn/completed")
    assert completed["turn"]["status"] == "completed"
    index = second.received.index
    assert index(resumed) < index(started)


async def test_requests_naming_one_thread_run_one_after_the_other(
    spawn: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered: list[str] = []
    release = asyncio.Event()

    async def held_read(ctx: RequestContext, params: Any) -> Any:
        entered.append(str(ctx.request_id))
        if ctx.request_id == "a1":
            await release.wait()
        return {"thread": None}

    router.handler_for("thread/read", "threads")
    monkeypatch.setitem(router._HANDLERS, "thread/read", held_read)
    client = await spawn(validate=False)  # the stand-in handler answers no real thread
    read = [{"method": "thread/read", "id": rid, "params": {"threadId": tid}}
            for rid, tid in (("a1", "A"), ("a2", "A"), ("b1", "B"))]
    await client.send_many(read)
    await client.wait_for(lambda m: m.get("id") == "b1")
    assert entered == ["a1", "b1"]  # a2 waits for a1, b1 does not
    release.set()
    await client.wait_for(lambda m: m.get("id") == "a2")
    assert entered == ["a1", "b1", "a2"]


async def test_a_closed_connection_never_blocks_the_thread_for_others(
    codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests of a connection that goes away are cancelled, even those still waiting for
    their turn; the next connection's request on that thread runs."""
    never = asyncio.Event()

    async def stuck_read(ctx: RequestContext, params: Any) -> Any:
        if ctx.request_id == "stuck":
            await never.wait()
        return {"served": ctx.request_id}

    router.handler_for("thread/read", "threads")
    monkeypatch.setitem(router._HANDLERS, "thread/read", stuck_read)
    server = start_server(codex_home)
    hello = json.dumps({"id": 0, "method": "initialize",
                        "params": {"clientInfo": {"name": "t", "version": "1"}}})
    first, second = InProcessConnection(server), InProcessConnection(server)
    for conn in (first, second):
        await conn.send(hello)
        assert b'"result"' in (await conn.receive() or b"")
    for rid in ("stuck", "queued"):
        await first.send(json.dumps(
            {"id": rid, "method": "thread/read", "params": {"threadId": "T"}}))
    await first.close()
    await second.send(json.dumps({"id": "next", "method": "thread/read",
                                  "params": {"threadId": "T"}}))
    while (frame := await second.receive()) is not None:
        message = json.loads(frame)
        if message.get("id") == "next":
            break
    assert message == {"id": "next", "result": {"served": "next"}}
    await second.close()
    await server.shutdown()
