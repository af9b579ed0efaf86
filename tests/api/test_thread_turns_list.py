"""thread/turns/list: pages of a thread's turns (views, both directions, anchor cursors),
for loaded threads and from the rollout after a restart, with the reference's errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient
from tests.support.mock_responses import (
    MockResponses,
    message_events,
    reasoning_events,
    response_reply,
    text_reply,
)
from tests.support.turns import run_turn, start_thread, write_config


async def three_turns(spawn: ServerFactory, codex_home: Path, workdir: Path,
                      mock: MockResponses) -> tuple[AppServerClient, str, list[str]]:
    write_config(codex_home, mock)
    client = await spawn(env={"MOCK_API_KEY": "k"})
    thread_id = await start_thread(client, workdir)
    mock.push(response_reply(reasoning_events([["thinking"]]), message_events(["one"])),
              text_reply("two"), text_reply("three"))
    turn_ids = []
    for text in ("first", "second", "third"):
        response, _ = await run_turn(client, thread_id, text)
        turn_ids.append(response["turn"]["id"])
    return client, thread_id, turn_ids


def texts(turn: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for item in turn["items"]:
        if item["type"] == "userMessage":
            out.append(("user", item["content"][0]["text"]))
        elif item["type"] == "agentMessage":
            out.append(("agent", item["text"]))
        else:
            out.append((item["type"], ""))
    return out


async def test_default_page_is_newest_first_with_summaries(
    spawn: ServerFactory, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    client, thread_id, turn_ids = await three_turns(spawn, codex_home, workdir, mock)
    page = await client.request("thread/turns/list", {"threadId": thread_id})
    assert [t["id"] for t in page["data"]] == turn_ids[::-1]
    assert [texts(t) for t in page["data"]] == [
        [("user", "third"), ("agent", "three")],
        [("user", "second"), ("agent", "two")],
        [("user", "first"), ("agent", "one")],
    ]
    assert {t["itemsView"] for t in page["data"]} == {"summary"}
    assert {t["status"] for t in page["data"]} == {"completed"}
    assert page["nextCursor"] is None
    assert json.loads(page["backwardsCursor"]) == {"turnId": turn_ids[2], "includeAnchor": True}


async def test_views(spawn: ServerFactory, codex_home: Path, workdir: Path,
                     mock: MockResponses) -> None:
    client, thread_id, _ = await three_turns(spawn, codex_home, workdir, mock)
    full = await client.request("thread/turns/list", {
        "threadId": thread_id, "itemsView": "full", "sortDirection": "asc", "limit": 1})
    (first,) = full["data"]
    assert first["itemsView"] == "full"
    assert texts(first) == [("user", "first"), ("reasoning", ""), ("agent", "one")]
    bare = await client.request("thread/turns/list", {
        "threadId": thread_id, "itemsView": "notLoaded"})
    assert [t["items"] for t in bare["data"]] == [[], [], []]
    assert {t["itemsView"] for t in bare["data"]} == {"notLoaded"}


async def test_paging_both_ways_with_cursors(
    spawn: ServerFactory, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    client, thread_id, turn_ids = await three_turns(spawn, codex_home, workdir, mock)

    async def page(**params: Any) -> dict[str, Any]:
        result: dict[str, Any] = await client.request(
            "thread/turns/list", {"threadId": thread_id, **params})
        return result

    newest = await page(limit=2)
    assert [t["id"] for t in newest["data"]] == [turn_ids[2], turn_ids[1]]
    older = await page(limit=2, cursor=newest["nextCursor"])
    assert [t["id"] for t in older["data"]] == [turn_ids[0]]
    assert older["nextCursor"] is None

    seen = []
    cursor = None
    while True:
        step = await page(limit=1, sortDirection="asc", **({"cursor": cursor} if cursor else {}))
        seen += [t["id"] for t in step["data"]]
        cursor = step["nextCursor"]
        if cursor is None:
            break
    assert seen == turn_ids

    # The backwards cursor of a page, in the other direction, starts again at its anchor.
    again = await page(sortDirection="asc", cursor=older["backwardsCursor"])
    assert [t["id"] for t in again["data"]] == turn_ids
    clamped = await page(limit=0)
    assert len(clamped["data"]) == 1


async def test_after_a_restart_the_rollout_is_listed(
    spawn: ServerFactory, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    client, thread_id, turn_ids = await three_turns(spawn, codex_home, workdir, mock)
    await client.close()
    fresh = await spawn()
    page = await fresh.request("thread/turns/list", {"threadId": thread_id, "limit": 2})
    assert [t["id"] for t in page["data"]] == [turn_ids[2], turn_ids[1]]
    assert texts(page["data"][1]) == [("user", "second"), ("agent", "two")]


async def test_errors(spawn: ServerFactory, codex_home: Path, workdir: Path,
                      mock: MockResponses) -> None:
    client, thread_id, _ = await three_turns(spawn, codex_home, workdir, mock)

    async def error(params: dict[str, Any]) -> dict[str, Any]:
        response = await client.request_raw("thread/turns/list", params)
        assert "error" in response, response
        result: dict[str, Any] = response["error"]
        return result

    assert (await error({"threadId": "nope"}))["message"].startswith("invalid thread id: ")
    missing = "019a0000-0000-7000-8000-000000000001"
    assert await error({"threadId": missing}) == {
        "code": -32600, "message": f"thread not loaded: {missing}"}
    assert await error({"threadId": thread_id, "cursor": "xyz"}) == {
        "code": -32600, "message": "invalid cursor: xyz"}
    gone = json.dumps({"turnId": "turn-gone", "includeAnchor": False})
    assert await error({"threadId": thread_id, "cursor": gone}) == {
        "code": -32600, "message": "invalid cursor: anchor turn is no longer present"}
    ephemeral = await client.request("thread/start", {"cwd": str(workdir), "ephemeral": True})
    assert await error({"threadId": ephemeral["thread"]["id"]}) == {
        "code": -32600, "message": "ephemeral threads do not support thread/turns/list"}


async def test_a_new_thread_has_no_turns(
    spawn: ServerFactory, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    write_config(codex_home, mock)
    client = await spawn(env={"MOCK_API_KEY": "k"})
    thread_id = await start_thread(client, workdir)
    page = await client.request("thread/turns/list", {"threadId": thread_id})
    assert page == {"data": [], "nextCursor": None, "backwardsCursor": None}
