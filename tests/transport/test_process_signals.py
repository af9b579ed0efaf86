"""The server process: SIGTERM and SIGHUP end it gracefully while a turn runs a command tree
(the turn is interrupted, every process of the command dies, the rollout keeps the turn)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from tests.support.client import AppServerClient
from tests.support.exec import begin_turn, exec_call, open_client, start_thread
from tests.support.mock_responses import MockResponses, text_reply


def live_processes_with(marker: str) -> list[int]:
    """Pids of running (non-zombie) processes whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            state = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


async def wait_until_gone(marker: str, timeout: float = 5.0) -> list[int]:
    """Poll until no process carries ``marker`` (killed processes take a moment to go)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (alive := live_processes_with(marker)) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return alive


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
async def test_stop_signal_interrupts_the_turn_and_kills_its_command_tree(
    sig: signal.Signals, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    marker = f"{98760 + int(sig)}"  # an unusual sleep length marks the command's processes
    client: AppServerClient = await open_client(codex_home, workdir, mock)
    try:
        thread_id = await start_thread(client, workdir)
        mock.push(exec_call(f"sleep {marker} & sleep {marker}; echo never",
                            "call_tree", yield_time_ms=60_000))
        turn_id = await begin_turn(client, thread_id, "start the tree")
        await client.wait_notification(
            "item/started", where=lambda p: p["item"]["id"] == "call_tree", timeout=30)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while len(live_processes_with(f"sleep {marker}")) < 3 and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert len(live_processes_with(f"sleep {marker}")) == 3  # the shell and two sleeps

        assert client.proc is not None
        client.proc.send_signal(sig)
        code = await asyncio.wait_for(client.proc.wait(), 10)
    finally:
        await client.close()
        for pid in live_processes_with(f"sleep {marker}"):  # never leak the tree on failure
            os.kill(pid, signal.SIGKILL)

    assert code == 0
    assert await wait_until_gone(f"sleep {marker}") == []
    [rollout] = list((codex_home / "sessions").rglob("*.jsonl"))
    records = [json.loads(line) for line in rollout.read_text().splitlines()]
    payloads = [r["payload"] for r in records]
    assert {"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "start the tree"}]} in payloads
    kinds = [(p.get("type"), p.get("call_id")) for p in payloads]
    assert ("function_call", "call_tree") in kinds
    assert ("function_call_output", "call_tree") in kinds
    assert [p["reason"] for p in payloads
            if p.get("type") == "turn_aborted" and p["turn_id"] == turn_id] == ["interrupted"]
    assert f"received {sig.name}; shutting down" in "\n".join(client.stderr_lines)


async def test_sigterm_kills_a_command_left_running_after_its_turn(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    """exec_command's session outlives its turn (the model may poll it later); the server's
    exit still takes it down."""
    marker = "sleep 98799"
    client: AppServerClient = await open_client(codex_home, workdir, mock)
    try:
        thread_id = await start_thread(client, workdir)
        mock.push(exec_call(marker, "call_bg", yield_time_ms=250), text_reply("left it"))
        turn_id = await begin_turn(client, thread_id, "start it")
        done = await client.wait_notification(
            "turn/completed", where=lambda p: p["turn"]["id"] == turn_id, timeout=30)
        assert done["turn"]["status"] == "completed"
        assert live_processes_with(marker)  # still running after the turn
        assert client.proc is not None
        client.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(client.proc.wait(), 10)
    finally:
        await client.close()
        for pid in live_processes_with(marker):
            os.kill(pid, signal.SIGKILL)
    assert code == 0
    assert await wait_until_gone(marker) == []
