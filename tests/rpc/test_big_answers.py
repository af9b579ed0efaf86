"""Big answers (a long thread's turns) are encoded a slice at a time between turns of the
event loop: the pieces join to exactly one encoding of the answer, they keep their place
among the connection's messages, and every transport delivers them whole (stdio back to
back, the websocket as one fragmented message, in process joined)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pycodex.protocol.types.threads import ThreadResumeResponse
from pycodex.rpc import pieces
from tests.conftest import ServerFactory
from tests.support.ws import COMPRESSION, WsClient, WsServer, ZstdWsClient, running

TURNS = 300  # more than pieces.LONG_LIST


def write_long_rollout(codex_home: Path, workdir: Path, turns: int = TURNS) -> str:
    """A rollout of ``turns`` finished turns (question ``ask i``, answer ``answer i``)."""
    thread_id = str(uuid.UUID(int=0x019AE0A1_0000_7000_8000_000000000000 + turns))
    stamp = "2026-01-01T00:00:00.000Z"

    def line(kind: str, payload: Any) -> str:
        return json.dumps({"timestamp": stamp, "type": kind, "payload": payload}) + "\n"

    out = [line("session_meta", {"id": thread_id, "timestamp": stamp, "cwd": str(workdir),
                                 "originator": "codex_vscode", "cli_version": "0.171.0",
                                 "source": "vscode", "model_provider": "openai"})]
    for i in range(turns):
        turn_id = f"turn-{i:04d}"
        out += [line("event_msg", {"type": "task_started", "turn_id": turn_id}),
                line("event_msg", {"type": "user_message", "message": f"ask {i}"}),
                line("event_msg", {"type": "agent_message", "message": f"answer {i}"}),
                line("event_msg", {"type": "task_complete", "turn_id": turn_id,
                                   "last_agent_message": f"answer {i}"})]
    day = codex_home / "sessions" / "2026" / "01" / "01"
    day.mkdir(parents=True, exist_ok=True)
    (day / f"rollout-2026-01-01T00-00-00-{thread_id}.jsonl").write_text("".join(out))
    return thread_id


def answers(turns: list[dict[str, Any]]) -> list[str]:
    return [item["text"] for turn in turns for item in turn["items"]
            if item["type"] == "agentMessage"]


# -- the encoding ------------------------------------------------------------------------


class Item(msgspec.Struct, rename="camel", omit_defaults=True):
    item_id: str
    text_value: str = ""


class Holder(msgspec.Struct, rename="camel"):
    thread: dict[str, Any]
    model_name: str


async def test_the_pieces_join_to_the_whole_encoding() -> None:
    long = [Item(f"i{n}", "é\n\"" * (n % 3)) for n in range(2_000)]
    message = {"id": 7, "result": Holder(thread={"id": "t", "turns": long, "after": [1]},
                                         model_name="m")}
    path = pieces.long_list_path(message)
    assert path == [(False, "result"), (True, "thread"), (False, "turns")]
    ticks = iter(range(10**6))  # a clock: every slice takes 1 s, so they stay small
    parts = await pieces.encode_in_pieces(message, path, end=b"\n",
                                          clock=lambda: float(next(ticks)))
    assert len(parts) > 100
    assert b"".join(parts) == msgspec.json.encode(message) + b"\n"
    assert message["result"].thread["turns"] is long  # the message itself is left alone


def test_only_long_lists_near_the_top_are_split() -> None:
    short = {"result": {"turns": list(range(pieces.LONG_LIST - 1))}}
    assert pieces.long_list_path(short) is None
    deep: Any = list(range(pieces.LONG_LIST))
    for _ in range(pieces.MAX_DEPTH + 1):
        deep = {"next": deep}
    assert pieces.long_list_path(deep) is None
    assert pieces.long_list_path(deep["next"]) == [(False, "next")] * pieces.MAX_DEPTH


# -- through the transports ----------------------------------------------------------------


@pytest.mark.parametrize("process", [False, True], ids=["in-process", "stdio"])
async def test_a_long_resume_and_fork_arrive_whole_and_in_order(
    spawn: ServerFactory, codex_home: Path, workdir: Path, process: bool
) -> None:
    thread_id = write_long_rollout(codex_home, workdir)
    client = await spawn(process=process)
    resumed = await client.request("thread/resume", {"threadId": thread_id})
    msgspec.convert(resumed, ThreadResumeResponse)
    assert answers(resumed["thread"]["turns"]) == [f"answer {i}" for i in range(TURNS)]

    request = await client.request_raw("thread/fork", {"threadId": thread_id})
    forked = request["result"]["thread"]
    assert answers(forked["turns"]) == [f"answer {i}" for i in range(TURNS)]
    # the answer is queued before thread/started and stays first while it is encoded
    order = [m.get("method") or m.get("id") for m in client.received
             if m.get("id") == request["id"] or m.get("method") == "thread/started"]
    assert order[-2:] == [request["id"], "thread/started"]


@pytest.mark.parametrize("compressed", [False, True], ids=["text", "zstd-stream-v1"])
async def test_a_long_resume_arrives_whole_over_a_websocket(
    tmp_path: Path, workdir: Path, compressed: bool
) -> None:
    from websockets.asyncio.client import connect

    thread_id = write_long_rollout(tmp_path, workdir)
    with running(tmp_path) as server:
        assert isinstance(server, WsServer)
        ws = await connect(server.url, proxy=None, max_size=None,
                           additional_headers=COMPRESSION if compressed else None)
        client = ZstdWsClient(ws) if compressed else WsClient(ws)
        try:
            await client.initialize()
            resumed = await client.request_raw("thread/resume", {"threadId": thread_id})
            probe = await client.request_raw("thread/loaded/list", {})  # the stream goes on
        finally:
            await ws.close()
    assert not client.violations, client.violations
    assert answers(resumed["result"]["thread"]["turns"]) == [
        f"answer {i}" for i in range(TURNS)]
    assert probe["result"]["data"] == [thread_id]
