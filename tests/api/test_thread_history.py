"""History changes go through the engine (issue 10 item 2): after thread/rollback or
thread/revert the model never sees the dropped turns, live or after a restart; plus the
reference's answers for edge cases of turn/interrupt, thread/inject_items, thread/resume
(issue 15 item 3) and thread/list ``includedThreadIds``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient, error_of
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.schema import errors_0171
from tests.support.turns import run_turn, start_thread, texts, write_config


@pytest.fixture
def on_mock(codex_home: Path, mock: MockResponses) -> dict[str, str]:
    """The server environment for the mock provider (config written)."""
    write_config(codex_home, mock)
    return {"MOCK_API_KEY": "k"}


async def three_turns(client: AppServerClient, workdir: Path, mock: MockResponses
                      ) -> tuple[str, list[str]]:
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("answer one"), text_reply("answer two"), text_reply("answer three"))
    turn_ids = []
    for text in ("question one", "question two", "question three"):
        response, _ = await run_turn(client, thread_id, text)
        turn_ids.append(response["turn"]["id"])
    return thread_id, turn_ids


# -- rollback and revert reach the model ----------------------------------------------


async def test_rollback_drops_the_turns_from_the_model_history_live_and_after_restart(
    spawn: ServerFactory, on_mock: dict[str, str], workdir: Path, mock: MockResponses
) -> None:
    client = await spawn(env=on_mock, validate=False)  # thread/rollback: not in the bundle
    thread_id, _ = await three_turns(client, workdir, mock)
    result = await client.request("thread/rollback", {"threadId": thread_id, "numTurns": 2})
    assert [t["items"][0]["content"][0]["text"] for t in result["thread"]["turns"]] == [
        "question one"]

    mock.push(text_reply("answer four"))
    await run_turn(client, thread_id, "question four")
    seen = texts(mock.requests[-1].input)
    assert "question one" in seen and "answer one" in seen
    assert not {"question two", "answer two", "question three", "answer three"} & set(seen)
    assert seen[-1] == "question four"
    live = seen

    await client.close()
    again = await spawn(env=on_mock, validate=False)
    resumed = await again.request("thread/resume", {"threadId": thread_id})
    assert len(resumed["thread"]["turns"]) == 2
    mock.push(text_reply("answer five"))
    await run_turn(again, thread_id, "question five")
    after_restart = texts(mock.requests[-1].input)
    assert after_restart[: len(live)] == live  # the same history a live engine had
    assert not {"question two", "question three"} & set(after_restart)


async def test_revert_drops_a_turn_and_the_later_ones(
    spawn: ServerFactory, on_mock: dict[str, str], workdir: Path, mock: MockResponses
) -> None:
    client = await spawn(env=on_mock, validate=False)  # thread/revert is new in 0.171
    thread_id, turn_ids = await three_turns(client, workdir, mock)
    result = await client.request(
        "thread/revert", {"threadId": thread_id, "beforeTurnId": turn_ids[1]})
    assert errors_0171("ThreadRevertResponse", result) == []
    # announced to every client once the answer is out, as the reference does
    assert await client.wait_notification("thread/reverted") == {"threadId": thread_id}
    answered = next(i for i, m in enumerate(client.received) if m.get("result") is result)
    reverted = next(i for i, m in enumerate(client.received)
                    if m.get("method") == "thread/reverted")
    assert answered < reverted
    assert result["thread"]["turns"] == [] and result["thread"]["id"] == thread_id
    items = await client.request("thread/items/list", {
        "threadId": thread_id, "cursor": result["itemsBackwardsCursor"],
        "sortDirection": "desc", "limit": 1})
    assert [e["item"]["text"] for e in items["data"]] == ["answer one"]
    page = await client.request("thread/turns/list", {
        "threadId": thread_id, "cursor": result["turnsBackwardsCursor"],
        "sortDirection": "desc"})
    assert [t["id"] for t in page["data"]] == turn_ids[:1]
    read = await client.request("thread/read", {"threadId": thread_id, "includeTurns": True})
    assert [t["id"] for t in read["thread"]["turns"]] == turn_ids[:1]

    mock.push(text_reply("answer four"))
    await run_turn(client, thread_id, "question four")
    seen = texts(mock.requests[-1].input)
    assert "answer one" in seen and seen[-1] == "question four"
    assert not {"question two", "question three"} & set(seen)

    assert await error_of(client, "thread/revert", {
        "threadId": thread_id, "beforeTurnId": turn_ids[2]}) == {
        "code": -32600, "message": f"turn not found: {turn_ids[2]}"}
    unknown = str(uuid.uuid4())
    assert await error_of(client, "thread/revert", {
        "threadId": unknown, "beforeTurnId": turn_ids[0]}) == {
        "code": -32600, "message": f"thread not found: {unknown}"}
    fresh = await start_thread(client, workdir)
    assert await error_of(client, "thread/revert", {
        "threadId": fresh, "beforeTurnId": turn_ids[0]}) == {
        "code": -32600, "message": f"no rollout found for thread id {fresh}"}
    experimental = await spawn(env=on_mock, validate=False, initialize=False)
    await experimental.initialize(experimental=True)  # historyMode is experimental
    legacy = await start_thread(experimental, workdir, historyMode="legacy")
    assert await error_of(experimental, "thread/revert", {
        "threadId": legacy, "beforeTurnId": turn_ids[0]}) == {
        "code": -32600, "message": "thread/revert only supports paginated threads"}
    assert len(client.notifications("thread/reverted")) == 1

    await client.close()
    again = await spawn(env=on_mock, validate=False)
    await again.request("thread/resume", {"threadId": thread_id})
    mock.push(text_reply("answer five"))
    await run_turn(again, thread_id, "question five")
    assert not {"question two", "question three"} & set(texts(mock.requests[-1].input))


# -- reference answers for edge cases (issue 15 item 3) -------------------------------


async def test_edge_case_answers_match_the_reference(
    spawn: ServerFactory, on_mock: dict[str, str], workdir: Path, mock: MockResponses
) -> None:
    client = await spawn(env=on_mock)
    thread_id = await start_thread(client, workdir)
    assert await error_of(client, "turn/interrupt", {"threadId": thread_id, "turnId": "x"}) == {
        "code": -32600, "message": "no active turn to interrupt"}
    assert await error_of(client, "thread/inject_items", {"threadId": thread_id, "items": []}
                          ) == {"code": -32600, "message": "items must not be empty"}
    # started, no turn yet: nothing on disk to resume (loaded or not)
    assert await error_of(client, "thread/resume", {"threadId": thread_id}) == {
        "code": -32600, "message": f"no rollout found for thread id {thread_id}"}
    assert await error_of(client, "thread/fork", {"threadId": thread_id}) == {
        "code": -32600, "message": f"no rollout found for thread id {thread_id}"}
    other = await spawn(env=on_mock)
    assert await error_of(other, "thread/resume", {"threadId": thread_id}) == {
        "code": -32600, "message": f"no rollout found for thread id {thread_id}"}

    from tests.support.mock_responses import slow_text_reply

    mock.push(slow_text_reply("a", "b", "c", "d", interval=0.3))
    response = await client.request("turn/start", {
        "threadId": thread_id, "input": [{"type": "text", "text": "slow"}]})
    turn_id = response["turn"]["id"]
    await client.wait_notification("item/agentMessage/delta")
    assert await error_of(client, "turn/interrupt", {"threadId": thread_id, "turnId": "other"}
                          ) == {"code": -32600,
                                "message": f"expected active turn id other but found {turn_id}"}
    assert await client.request("turn/interrupt",
                                {"threadId": thread_id, "turnId": turn_id}) == {}


# -- thread/list includedThreadIds ----------------------------------------------------


async def test_list_included_thread_ids(
    spawn: ServerFactory, on_mock: dict[str, str], workdir: Path, mock: MockResponses
) -> None:
    client = await spawn(env=on_mock)
    ids = []
    for n in range(3):
        thread_id = await start_thread(client, workdir)
        mock.push(text_reply(f"answer {n}"))
        await run_turn(client, thread_id, f"question {n}")
        ids.append(thread_id)

    async def listed(**params: Any) -> list[str]:
        page = await client.request("thread/list", params)
        return [thread["id"] for thread in page["data"]]

    assert sorted(await listed()) == sorted(ids)
    assert await listed(includedThreadIds=[]) == []
    assert await listed(includedThreadIds=[ids[0].upper(), ids[2], str(uuid.uuid4())]) == [
        ids[2], ids[0]]
    page = await client.request("thread/list", {"includedThreadIds": ids, "limit": 1})
    assert [t["id"] for t in page["data"]] == [ids[2]] and page["nextCursor"]
    rest = await client.request("thread/list", {"includedThreadIds": ids[:2],
                                                "cursor": page["nextCursor"]})
    assert [t["id"] for t in rest["data"]] == [ids[1], ids[0]]
    # exclusions still apply
    assert await listed(includedThreadIds=ids, archived=True) == []
    assert await listed(includedThreadIds=ids, modelProviders=["other"]) == []

    assert await error_of(client, "thread/list", {"includedThreadIds": ["nope"]}) == {
        "code": -32602, "message": "invalid included thread id: invalid character: expected "
        "an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1"}
    too_many = [str(uuid.uuid4()) for _ in range(101)]
    assert await error_of(client, "thread/list", {"includedThreadIds": too_many}) == {
        "code": -32602, "message": "includedThreadIds accepts at most 100 entries"}
