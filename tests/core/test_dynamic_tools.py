"""Client-implemented tools (protocol §7.6, §8.6) and ``request_user_input`` (§7.3), driven
through a spawned server by an experimental client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.approvals import answer, statuses
from tests.support.client import AppServerClient
from tests.support.exec import (
    begin_turn,
    finish_turn,
    items,
    open_client,
    start_thread,
    strip_timing,
    thread_methods,
    tool_output,
)
from tests.support.mock_responses import MockResponses, function_call_reply, text_reply

LOOKUP = {
    "name": "lookup_ticket",
    "description": "Look up a ticket by id.",
    "inputSchema": {"type": "object", "properties": {"id": {"type": "string"}},
                    "required": ["id"], "additionalProperties": False},
}
HIDDEN = {"name": "hidden_tool", "description": "Not listed.",
          "inputSchema": {"type": "object", "properties": {}}, "deferLoading": True}


@pytest.fixture
async def exp(codex_home: Path, workdir: Path, mock: MockResponses
              ) -> AsyncIterator[AppServerClient]:
    c = await open_client(codex_home, workdir, mock, experimental=True)
    yield c
    await c.close()
    c.assert_valid()


async def dynamic_thread(client: AppServerClient, workdir: Path) -> str:
    return await start_thread(client, workdir, dynamicTools=[LOOKUP, HIDDEN])


async def test_dynamic_tool_round_trip(
    exp: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await dynamic_thread(exp, workdir)
    mock.push(function_call_reply("lookup_ticket", {"id": "T-1"}, call_id="call_dyn"),
              text_reply("the ticket is open"))
    start = len(exp.received)
    turn_id = await begin_turn(exp, thread_id)
    request = await answer(exp, "item/tool/call", {
        "contentItems": [{"type": "inputText", "text": "T-1 is open"}], "success": True})
    turn = await finish_turn(exp, turn_id)
    assert turn["status"] == "completed"
    assert thread_methods(exp, start)[4:8] == [
        "item/started", "item/tool/call", "serverRequest/resolved", "item/completed"]
    assert request["params"] == {"threadId": thread_id, "turnId": turn_id,
                                 "callId": "call_dyn", "namespace": None,
                                 "tool": "lookup_ticket",
                                 "arguments": {"id": "T-1"}}
    started = items(exp, "item/started", "call_dyn")[0]
    assert started == {"type": "dynamicToolCall", "id": "call_dyn", "tool": "lookup_ticket",
                       "arguments": {"id": "T-1"}, "status": "inProgress",
                       "contentItems": None, "success": None, "durationMs": None}
    done = items(exp, "item/completed", "call_dyn")[0]
    assert isinstance(done["durationMs"], int)
    assert done == {**started, "status": "completed",
                    "contentItems": [{"type": "inputText", "text": "T-1 is open"}],
                    "success": True, "durationMs": done["durationMs"]}
    assert tool_output(mock, "call_dyn") == [{"type": "input_text", "text": "T-1 is open"}]
    # The model was offered the visible tool only.
    tools = {t["name"]: t for t in mock.requests[0].body["tools"] if "name" in t}
    assert tools["lookup_ticket"]["parameters"] == LOOKUP["inputSchema"]
    assert tools["lookup_ticket"]["type"] == "function"
    assert "hidden_tool" not in tools


async def test_deferred_dynamic_tool_is_still_callable(
    exp: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await dynamic_thread(exp, workdir)
    mock.push(function_call_reply("hidden_tool", {}, call_id="call_hidden"), text_reply("ok"))
    turn_id = await begin_turn(exp, thread_id)
    request = await answer(exp, "item/tool/call", {
        "contentItems": [{"type": "inputImage", "imageUrl": "data:image/png;base64,AA=="}],
        "success": True})
    await finish_turn(exp, turn_id)
    assert request["params"]["tool"] == "hidden_tool"
    assert tool_output(mock, "call_hidden") == [
        {"type": "input_image", "image_url": "data:image/png;base64,AA=="}]


@pytest.mark.parametrize(("reply", "text"), [
    ({"error": {"code": -32000, "message": "tool blew up"}}, "dynamic tool request failed"),
    ({"result": {"unexpected": True}}, "dynamic tool response was invalid"),
])
async def test_dynamic_tool_failures_reach_the_model(
    exp: AppServerClient, workdir: Path, mock: MockResponses, reply: dict[str, Any],
    text: str
) -> None:
    thread_id = await dynamic_thread(exp, workdir)
    mock.push(function_call_reply("lookup_ticket", {"id": "x"}, call_id="call_dyn"),
              text_reply("ok"))
    turn_id = await begin_turn(exp, thread_id)
    request = await exp.wait_server_request("item/tool/call")
    await exp.send({"id": request["id"], **reply})
    turn = await finish_turn(exp, turn_id)
    assert turn["status"] == "completed"
    done = items(exp, "item/completed", "call_dyn")[0]
    assert done["status"] == "failed" and done["success"] is False
    assert done["contentItems"] == [{"type": "inputText", "text": text}]
    assert tool_output(mock, "call_dyn") == [{"type": "input_text", "text": text}]


def dynamic_items(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for t in turns for i in t["items"] if i["type"] == "dynamicToolCall"]


async def test_dynamic_tool_calls_are_kept_in_the_thread_history(
    exp: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await dynamic_thread(exp, workdir)
    mock.push(function_call_reply("lookup_ticket", {"id": "T-7"}, call_id="call_ok"),
              text_reply("open"),
              function_call_reply("hidden_tool", {}, call_id="call_bad"),
              text_reply("could not tell"))
    first = await begin_turn(exp, thread_id)
    await answer(exp, "item/tool/call", {
        "contentItems": [{"type": "inputText", "text": "T-7 is open"},
                         {"type": "inputImage", "imageUrl": "data:image/png;base64,AA=="}],
        "success": True})
    await finish_turn(exp, first)
    second = await begin_turn(exp, thread_id, "again")
    await answer(exp, "item/tool/call", error={"code": -32000, "message": "no"})
    await finish_turn(exp, second)
    streamed = [items(exp, "item/completed", "call_ok")[0],
                items(exp, "item/completed", "call_bad")[0]]
    assert [i["status"] for i in streamed] == ["completed", "failed"]
    expected = [strip_timing(i) for i in streamed]

    async def check(client: AppServerClient) -> None:
        read = await client.request("thread/read", {"threadId": thread_id,
                                                    "includeTurns": True})
        turns = read["thread"]["turns"]
        assert [[i["type"] for i in t["items"]] for t in turns] == [
            ["userMessage", "dynamicToolCall", "agentMessage"]] * 2
        kept = dynamic_items(turns)
        assert [strip_timing(i) for i in kept] == expected
        assert all(isinstance(i["durationMs"], int) for i in kept)
        resumed = await client.request("thread/resume", {"threadId": thread_id})
        assert [strip_timing(i) for i in dynamic_items(resumed["thread"]["turns"])] == \
            expected

    await check(exp)  # the loaded thread
    await exp.close()
    fresh = await open_client(codex_home, workdir, mock, experimental=True)
    try:
        await check(fresh)  # rebuilt from the rollout by a new process
    finally:
        await fresh.close()
    fresh.assert_valid()


async def test_dynamic_tools_need_the_experimental_capability(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    c = await open_client(codex_home, workdir, mock)
    try:
        response = await c.request_raw("thread/start", {"cwd": str(workdir),
                                                        "dynamicTools": [LOOKUP]})
        assert response["error"]["code"] == -32600
        assert response["error"]["message"] == \
            "thread/start.dynamicTools requires experimentalApi capability"
    finally:
        await c.close()
    c.assert_valid()


PLAN_MODE = {"collaborationMode": {"mode": "plan", "settings": {
    "model": "gpt-5.5", "reasoning_effort": None, "developer_instructions": None}}}

QUESTION = {"id": "color", "header": "Color", "question": "Which color?",
            "options": [{"label": "red", "description": "warm"},
                        {"label": "blue", "description": "cool"}]}


async def test_request_user_input_waits_on_the_user(
    exp: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(exp, workdir)
    mock.push(function_call_reply("request_user_input", {"questions": [QUESTION]},
                                  call_id="call_ask"),
              text_reply("red it is"))
    start = len(exp.received)
    turn_id = await begin_turn(exp, thread_id, **PLAN_MODE)
    request = await answer(exp, "item/tool/requestUserInput",
                           {"answers": {"color": {"answers": ["red"]}}})
    turn = await finish_turn(exp, turn_id)
    assert turn["status"] == "completed"
    assert request["params"] == {
        "threadId": thread_id, "turnId": turn_id, "itemId": "call_ask",
        "questions": [{**QUESTION, "isOther": True, "isSecret": False}],
        "isBlocking": True, "autoResolutionMs": None}  # as the reference 0.171 sends it
    assert thread_methods(exp, start)[4:8] == [
        "thread/status/changed", "item/tool/requestUserInput", "serverRequest/resolved",
        "thread/status/changed"]
    assert statuses(exp, start)[1:3] == [
        {"type": "active", "activeFlags": ["waitingOnUserInput"]},
        {"type": "active", "activeFlags": []}]
    output = tool_output(mock, "call_ask")
    assert output == '{"answers":{"color":{"answers":["red"]}}}'
    assert json.loads(output) == {"answers": {"color": {"answers": ["red"]}}}


async def test_request_user_input_error_answer_gives_empty_answers(
    exp: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(exp, workdir)
    mock.push(function_call_reply("request_user_input", {"questions": [QUESTION]},
                                  call_id="call_ask"),
              function_call_reply("request_user_input",
                                  {"questions": [{**QUESTION, "options": []}]},
                                  call_id="call_noopts"),
              text_reply("ok"))
    turn_id = await begin_turn(exp, thread_id, **PLAN_MODE)
    await answer(exp, "item/tool/requestUserInput",
                 error={"code": -32000, "message": "dismissed"})
    await finish_turn(exp, turn_id)
    assert tool_output(mock, "call_ask") == '{"answers":{}}'
    assert tool_output(mock, "call_noopts") == \
        "request_user_input requires non-empty options for every question"
    assert len([m for m in exp.received
                if m.get("method") == "item/tool/requestUserInput"]) == 1


async def test_request_user_input_is_refused_outside_plan_mode(
    exp: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(exp, workdir)
    mock.push(function_call_reply("request_user_input", {"questions": [QUESTION]},
                                  call_id="call_ask"),
              text_reply("fine"))
    turn_id = await begin_turn(exp, thread_id)
    turn = await finish_turn(exp, turn_id)
    assert turn["status"] == "completed"
    assert tool_output(mock, "call_ask") == "request_user_input is unavailable in Default mode"
    assert not [m for m in exp.received if m.get("method") == "item/tool/requestUserInput"]
