"""``pycodex.client.CodexClient``: the in-process client gives typed results, notifications
and server requests with the same handshake, gating and opt-out semantics as stdio."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from pycodex.client import ClientError, CodexClient, Notification
from pycodex.protocol.types.initialize import InitializeResponse
from pycodex.protocol.types.threads import (
    ThreadStartedNotification,
    ThreadStartParams,
    ThreadStartResponse,
)
from tests.support.inprocess import use_mock_provider
from tests.support.mock_responses import MockResponses, function_call_reply, text_reply


async def test_typed_requests_results_and_notifications(codex_home: Path, workdir: Path) -> None:
    client = CodexClient(codex_home)
    hello = await client.start(name="sdk_test")
    assert isinstance(hello, InitializeResponse)
    assert hello.user_agent.startswith("sdk_test/")
    assert hello.codex_home == str(codex_home)
    started = await client.request(ThreadStartParams(cwd=str(workdir)))
    assert isinstance(started, ThreadStartResponse)
    assert started.cwd == str(workdir)
    listed = await client.request("thread/loaded/list", {})
    assert listed.data == [started.thread.id]
    with pytest.raises(ClientError) as refused:
        await client.request("mock/experimentalMethod", {"value": "x"})
    assert (refused.value.code, refused.value.message) == (
        -32600, "mock/experimentalMethod requires experimentalApi capability")
    with pytest.raises(ClientError) as again:
        await client.request("initialize", {"clientInfo": {"name": "x", "version": "1"}})
    assert again.value.message == "Already initialized"
    await client.close()
    notes = [note async for note in client.notifications()]
    started_notes = [n for n in notes if n.method == "thread/started"]
    assert len(started_notes) == 1
    assert isinstance(started_notes[0].params, ThreadStartedNotification)
    assert started_notes[0].params.thread.id == started.thread.id


async def test_opt_out_and_experimental_opt_in(codex_home: Path, workdir: Path) -> None:
    async with CodexClient(codex_home) as plain:
        await plain.request(ThreadStartParams(cwd=str(workdir)))
    client = CodexClient(codex_home)
    await client.start(experimental_api=True, opt_out=["thread/started"])
    echoed = await client.request("mock/experimentalMethod", {"value": "x"})
    assert msgspec.to_builtins(echoed) == {"echoed": "x"}
    await client.request(ThreadStartParams(cwd=str(workdir)))
    await client.close()
    methods = [note.method async for note in client.notifications()]
    assert "thread/started" not in methods
    plain_methods = [note.method async for note in plain.notifications()]
    assert "thread/started" in plain_methods


@pytest.fixture
def mock(mock: MockResponses, codex_home: Path, monkeypatch: pytest.MonkeyPatch
         ) -> MockResponses:
    """The shared mock, made the provider of every server of the test (asking approval)."""
    env = use_mock_provider(codex_home, mock, approval_policy="untrusted")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return mock


async def test_server_requests_are_delivered_and_answered(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    mock.push(
        function_call_reply("exec_command", {"cmd": "touch probe.txt"}, call_id="call_1"),
        text_reply("done"),
    )
    async with CodexClient(codex_home) as client:
        started = await client.request(ThreadStartParams(cwd=str(workdir)))
        await client.request("turn/start", {
            "threadId": started.thread.id, "input": [{"type": "text", "text": "touch it"}]})
        async for request in client.server_requests():
            assert request.method == "item/commandExecution/requestApproval"
            await request.respond({"decision": "accept"})
            break
        completed: Notification | None = None
        async for note in client.notifications():
            if note.method == "turn/completed":
                completed = note
                break
    assert completed is not None
    assert msgspec.to_builtins(completed.params)["turn"]["status"] == "completed"
    assert (workdir / "probe.txt").exists()
