"""kill -9 in the middle of a turn loses nothing that was announced: after a restart the
thread lists, reads (the cut turn shows as interrupted) and resumes, and the next turn
re-sends the history that was on disk (issue 3 §2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.client import AppServerClient
from tests.support.exec import begin_turn, exec_call, finish_turn, open_client, start_thread
from tests.support.mock_responses import (
    MockResponses,
    RecordedRequest,
    Reply,
    slow_text_reply,
    text_reply,
)
from tests.support.turns import write_config


async def test_kill_mid_turn_then_resume(codex_home: Path, workdir: Path,
                                         mock: MockResponses) -> None:
    write_config(codex_home, mock)
    env = {"MOCK_API_KEY": "k"}
    first = AppServerClient(codex_home, cwd=workdir, env=env)
    await first.start()
    await first.initialize()
    thread = await first.request("thread/start", {"cwd": str(workdir)})
    thread_id = thread["thread"]["id"]
    mock.push(text_reply("first answer"), slow_text_reply(*["slow "] * 100, interval=0.05))
    await first.request("turn/start", {"threadId": thread_id,
                                       "input": [{"type": "text", "text": "remember 42"}]})
    await first.wait_notification("turn/completed", timeout=30)
    await first.request("turn/start", {"threadId": thread_id,
                                       "input": [{"type": "text", "text": "second"}]})
    await first.wait_notification("item/agentMessage/delta",
                                  where=lambda p: p["delta"] == "slow ")
    assert first.proc is not None
    first.proc.kill()  # SIGKILL: no chance to flush anything
    await first.close()

    second = AppServerClient(codex_home, cwd=workdir, env=env)
    await second.start()
    try:
        await second.initialize()
        listed = await second.request("thread/list", {})
        assert [t["id"] for t in listed["data"]] == [thread_id]
        read = await second.request("thread/read", {"threadId": thread_id,
                                                    "includeTurns": True})
        turns = read["thread"]["turns"]
        assert [t["status"] for t in turns] == ["completed", "interrupted"]
        first_items = [i["type"] for i in turns[0]["items"]]
        assert first_items == ["userMessage", "agentMessage"]
        resumed = await second.request("thread/resume", {"threadId": thread_id})
        assert len(resumed["thread"]["turns"]) == 2
        mock.push(text_reply("back again"))
        await second.request("turn/start", {"threadId": thread_id,
                                            "input": [{"type": "text", "text": "third"}]})
        completed = await second.wait_notification("turn/completed", timeout=30)
        assert completed["turn"]["status"] == "completed"
        texts = [p.get("text", "") for i in mock.requests[-1].body["input"]
                 for p in i.get("content", [])]
        assert "remember 42" in texts and "first answer" in texts and "second" in texts
        assert texts[-1] == "third"
    finally:
        await second.close()
    second.assert_valid()


_OUTPUT_OF = {"function_call": "function_call_output", "local_shell_call": "function_call_output",
              "custom_tool_call": "custom_tool_call_output"}


def pairing_error(items: list[Any]) -> str | None:
    """What the Responses API says about a tool call without its output or an output
    without its call (``None`` when every call and output pair up)."""
    calls = {(_OUTPUT_OF[i["type"]], i.get("call_id")) for i in items
             if i.get("type") in _OUTPUT_OF}
    outputs = {(i["type"], i.get("call_id")) for i in items
               if i.get("type") in ("function_call_output", "custom_tool_call_output")}
    for kind, call_id in sorted(calls - outputs):
        return f"No tool output found for {kind.removesuffix('_output')} call {call_id}."
    for _, call_id in sorted(outputs - calls):
        return f"No tool call found for function call output with call_id {call_id}."
    return None


def strict_api(request: RecordedRequest) -> Reply | None:
    """Answer like the real API does when the history does not pair up: 400."""
    problem = pairing_error(request.input)
    if problem is None:
        return None
    return Reply(status=400, body={"error": {"message": problem, "type": "invalid_request_error",
                                             "param": "input", "code": None}})


def rollout_path(codex_home: Path) -> Path:
    [path] = list((codex_home / "sessions").rglob("*.jsonl"))
    return path


async def test_kill_during_a_tool_call_then_the_next_request_marks_it_aborted(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    mock.responder = strict_api
    first = await open_client(codex_home, workdir, mock)
    thread_id = await start_thread(first, workdir)
    mock.push(exec_call("sleep 5", "call_sleep"))
    await begin_turn(first, thread_id, "nap")
    await first.wait_notification(
        "item/started", where=lambda p: p["item"]["id"] == "call_sleep", timeout=30)
    assert first.proc is not None
    first.proc.kill()  # the call is on disk, its output never will be
    await first.close()

    # A line whose call was lost (as from a hand-edited or truncated file) is dropped too.
    path = rollout_path(codex_home)
    ghost = {"type": "function_call_output", "call_id": "call_ghost", "output": "boo"}
    with path.open("a") as fh:
        fh.write(json.dumps({"timestamp": "2025-01-01T00:00:00.000Z", "type": "response_item",
                             "payload": ghost}) + "\n")
    before = path.read_text()

    second = await open_client(codex_home, workdir, mock)
    try:
        read = await second.request("thread/read", {"threadId": thread_id,
                                                    "includeTurns": True})
        assert [t["status"] for t in read["thread"]["turns"]] == ["interrupted"]
        await second.request("thread/resume", {"threadId": thread_id})
        mock.push(text_reply("awake"))
        turn = await finish_turn(second, await begin_turn(second, thread_id, "wake up"))
        assert turn["status"] == "completed"
        sent = mock.requests[-1].input
        assert pairing_error(sent) is None
        calls = [i for i in sent if i.get("call_id") in ("call_sleep", "call_ghost")]
        assert [(i["type"], i["call_id"]) for i in calls] == [
            ("function_call", "call_sleep"), ("function_call_output", "call_sleep")]
        at = sent.index(calls[0])
        assert sent[at + 1] == {"type": "function_call_output", "call_id": "call_sleep",
                                "output": "aborted"}
        assert sent[-1]["role"] == "user"
        assert sent[-1]["content"] == [{"type": "input_text", "text": "wake up"}]
    finally:
        await second.close()
    second.assert_valid()
    # Only the request was patched: the rollout still has the bare call (and the ghost).
    after = [json.loads(line) for line in path.read_text().splitlines()]
    assert path.read_text().startswith(before)
    outputs = [r["payload"].get("call_id") for r in after if r["type"] == "response_item"
               and r["payload"].get("type") == "function_call_output"]
    assert outputs == ["call_ghost"]
