"""thread/items/list (0.171): a thread's items in order with forward and backward cursors,
one turn's items, item anchors, and the reference's errors."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient, error_of
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.schema import errors_0171
from tests.support.turns import run_turn, start_thread, write_config


async def items(client: AppServerClient, **params: Any) -> dict[str, Any]:
    page: dict[str, Any] = await client.request("thread/items/list", params)
    assert errors_0171("ThreadItemsListResponse", page) == []
    return page


def texts(page: dict[str, Any]) -> list[str]:
    out = []
    for entry in page["data"]:
        item = entry["item"]
        out.append(item["text"] if item["type"] == "agentMessage"
                   else item["content"][0]["text"])
    return out


async def test_items_pages_forward_backward_and_by_turn(
    spawn: ServerFactory, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    write_config(codex_home, mock)
    env = {"MOCK_API_KEY": "k"}
    client = await spawn(env=env, validate=False)  # thread/items/list is new in 0.171
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("a1"), text_reply("a2"))
    first, _ = await run_turn(client, thread_id, "q1")
    second, _ = await run_turn(client, thread_id, "q2")
    turn_ids = [first["turn"]["id"], second["turn"]["id"]]

    everything = await items(client, threadId=thread_id)
    assert texts(everything) == ["q1", "a1", "q2", "a2"]
    assert [e["turnId"] for e in everything["data"]] == [turn_ids[0]] * 2 + [turn_ids[1]] * 2
    entry = everything["data"][1]
    assert entry["startedAtMs"] == entry["item"]["startedAtMs"] is not None
    assert everything["nextCursor"] is None and everything["backwardsCursor"]

    page = await items(client, threadId=thread_id, limit=1)
    assert texts(page) == ["q1"] and page["nextCursor"]
    follow = await items(client, threadId=thread_id, limit=2, cursor=page["nextCursor"])
    assert texts(follow) == ["a1", "q2"]
    back = await items(client, threadId=thread_id, cursor=follow["backwardsCursor"],
                       sortDirection="desc")
    assert texts(back) == ["a1", "q1"] and back["nextCursor"] is None
    newest = await items(client, threadId=thread_id, limit=2, sortDirection="desc")
    assert texts(newest) == ["a2", "q2"]

    assert texts(await items(client, threadId=thread_id, turnId=turn_ids[1])) == ["q2", "a2"]
    assert await items(client, threadId=thread_id, turnId="nope") == {
        "data": [], "nextCursor": None, "backwardsCursor": None}
    anchor = {"type": "item", "itemId": everything["data"][2]["item"]["id"]}
    after = await items(client, threadId=thread_id, turnId=turn_ids[1], cursor=anchor)
    assert texts(after) == ["a2"]

    # the resume answer's cursor pages the items backwards from the last one, after a
    # restart too
    await client.close()
    again = await spawn(env=env, validate=False)
    resumed = await again.request("thread/resume", {"threadId": thread_id, "excludeTurns": True})
    latest = await items(again, threadId=thread_id, cursor=resumed["itemsBackwardsCursor"],
                         sortDirection="desc", limit=3)
    assert texts(latest) == ["a2", "q2", "a1"]

    assert await error_of(again, "thread/items/list", {
        "threadId": thread_id, "cursor": {"type": "item", "itemId": "x"}}) == {
        "code": -32602, "message": "turnId is required when cursor is an item anchor"}
    assert await error_of(again, "thread/items/list", {
        "threadId": thread_id, "turnId": turn_ids[1],
        "cursor": {"type": "item", "itemId": "x"}}) == {
        "code": -32602,
        "message": "cursor.itemId does not identify an item in the requested history scope"}
    assert await error_of(again, "thread/items/list", {
        "threadId": thread_id, "cursor": "garbage"}) == {
        "code": -32600, "message": "invalid cursor: garbage"}
    assert await error_of(again, "thread/items/list", {"threadId": str(uuid.uuid4())}) == {
        "code": -32601, "message": "thread/items/list is not supported yet"}
