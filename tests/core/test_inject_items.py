"""thread/inject_items: raw Responses items join the model-visible history of a thread,
idle or mid-turn, and survive a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses, slow_text_reply, text_reply
from tests.support.turns import run_turn, start_thread, texts, write_config

NOTE = {"type": "message", "role": "user",
        "content": [{"type": "input_text", "text": "side note: the build uses make"}]}
ANSWER = {"type": "message", "role": "assistant",
          "content": [{"type": "output_text", "text": "noted"}]}


@pytest.fixture
async def opened(spawn: ServerFactory, codex_home: Path, workdir: Path,
                 mock: MockResponses) -> tuple[AppServerClient, str]:
    """A server on the mock provider and a new thread on it."""
    write_config(codex_home, mock)
    client = await spawn(env={"MOCK_API_KEY": "k"})
    return client, await start_thread(client, workdir)


async def test_injected_items_reach_the_next_request_and_survive_a_restart(
    spawn: ServerFactory, opened: tuple[AppServerClient, str], mock: MockResponses
) -> None:
    client, thread_id = opened
    mock.push(text_reply("first answer"), text_reply("second answer"), text_reply("third"))
    await run_turn(client, thread_id, "first question")
    odd = {"type": "future_item_kind", "payload": 1}  # unknown kinds are accepted, dropped
    assert await client.request("thread/inject_items", {
        "threadId": thread_id, "items": [NOTE, ANSWER, odd]}) == {}
    await run_turn(client, thread_id, "second question")
    seen = texts(mock.requests[-1].body["input"])
    at = seen.index("first answer")
    assert seen[at + 1: at + 4] == [
        "side note: the build uses make", "noted", "second question"]
    assert all(i.get("type") != "future_item_kind" for i in mock.requests[-1].body["input"])

    path = (await client.request("thread/read", {"threadId": thread_id}))["thread"]["path"]
    recorded = [json.loads(line) for line in Path(path).read_text().splitlines()]
    assert {"type": "response_item", "payload": NOTE} in [
        {"type": r["type"], "payload": r["payload"]} for r in recorded]

    await client.close()
    again = await spawn(env={"MOCK_API_KEY": "k"})
    await again.request("thread/resume", {"threadId": thread_id})
    await run_turn(again, thread_id, "third question")
    assert "side note: the build uses make" in texts(mock.requests[-1].body["input"])


async def test_items_injected_during_a_turn_join_it(
    opened: tuple[AppServerClient, str], mock: MockResponses
) -> None:
    client, thread_id = opened
    mock.push(slow_text_reply("a", "b", "c", interval=0.2), text_reply("with the note"))
    started = await client.request("turn/start", {
        "threadId": thread_id, "input": [{"type": "text", "text": "go"}]})
    await client.wait_notification("item/agentMessage/delta")
    assert await client.request("thread/inject_items", {
        "threadId": thread_id, "items": [NOTE]}) == {}
    done = await client.wait_notification(
        "turn/completed", where=lambda p: p["turn"]["id"] == started["turn"]["id"], timeout=30)
    assert done["turn"]["status"] == "completed"
    assert len(mock.requests) == 2  # the note made the turn ask the model once more
    assert texts(mock.requests[1].body["input"])[-3:] == [
        "go", "abc", "side note: the build uses make"]


@pytest.mark.parametrize(("items", "detail"), [
    (["text"], "items[0] is not a valid response item: invalid type: expected an object"),
    ([NOTE, {"role": "user"}], "items[1] is not a valid response item: missing field `type`"),
    ([{"type": "message", "content": []}],
     "items[0] is not a valid response item: missing field `role`"),
    ([{"type": "function_call", "name": "x", "arguments": "{}"}],
     "items[0] is not a valid response item: missing field `call_id`"),
])
async def test_invalid_items_are_refused(
    opened: tuple[AppServerClient, str], items: list[Any], detail: str
) -> None:
    client, thread_id = opened
    response = await client.request_raw("thread/inject_items",
                                        {"threadId": thread_id, "items": items})
    assert response["error"] == {"code": -32600, "message": detail}
    missing = "019a0000-0000-7000-8000-000000000002"
    response = await client.request_raw("thread/inject_items",
                                        {"threadId": missing, "items": [NOTE]})
    assert response["error"] == {"code": -32600, "message": f"thread not found: {missing}"}
