"""Thread sections, attachments and goals of reference 0.171 (spec reference-0171.md
§2.3–§2.5): local SQLite state under CODEX_HOME that survives a restart, the reference's
texts for bad input, their notifications, and a goal that starts a real turn against the
mock Responses API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses, http_error
from tests.support.turns import answering_on_it, new_thread, start, thread_with_goal

PINNED = "01984de2-8f74-7c91-a3b2-5c5e937cf318"
UNKNOWN = "01984de2-0000-7c91-a3b2-5c5e937cf318"


@pytest.fixture
def mock(mock: MockResponses, codex_home: Path) -> MockResponses:
    """The shared mock as the configured provider, answering "on it" by default."""
    return answering_on_it(mock, codex_home)


async def materialized_thread(client: AppServerClient) -> str:
    """A thread with one finished turn, so it is stored and listed after a restart."""
    thread_id = await new_thread(client)
    await client.request("turn/start", {"threadId": thread_id,
                                        "input": [{"type": "text", "text": "hi"}]})
    await client.wait_notification("turn/completed", where=lambda p: p["threadId"] == thread_id)
    return thread_id


async def error_of(client: AppServerClient, method: str, params: Any) -> tuple[int, str]:
    answer = await client.request_raw(method, params)
    assert "error" in answer, answer
    return answer["error"]["code"], answer["error"]["message"]


# -- sections --------------------------------------------------------------------------------------
async def test_sections_crud_move_and_restart(
    spawn: ServerFactory, workdir: Path, mock: MockResponses, codex_home: Path
) -> None:
    client = await start(spawn, workdir)
    pinned = {"id": PINNED, "name": "Pinned", "appearance": None}
    assert await client.request("threadSection/list", {}) == {"data": [pinned],
                                                              "nextCursor": None}
    work = (await client.request("threadSection/create", {"name": "Work"}))["section"]
    assert work["name"] == "Work" and work["appearance"] is None and work["id"] != PINNED
    play = (await client.request("threadSection/create", {
        "name": "Play", "appearance": {"color": "blue", "icon": "star"}}))["section"]
    assert play["appearance"] == {"icon": "star", "color": "blue"}
    page = await client.request("threadSection/list", {"limit": 1})
    assert page == {"data": [pinned], "nextCursor": PINNED}
    rest = await client.request("threadSection/list", {"cursor": PINNED})
    assert [s["name"] for s in rest["data"]] == ["Work", "Play"] and rest["nextCursor"] is None
    assert await client.request("threadSection/list", {"cursor": "zz"}) == {
        "data": [], "nextCursor": None}
    renamed = await client.request("threadSection/update", {
        "sectionId": play["id"], "name": "Games"})
    assert renamed["section"] == {**play, "name": "Games"}  # appearance kept when omitted
    cleared = await client.request("threadSection/update", {
        "sectionId": play["id"], "name": "Games", "appearance": None})
    assert cleared["section"]["appearance"] is None

    for method, params, expected in [
        ("threadSection/create", {"name": ""}, (-32602, "section name must not be empty")),
        ("threadSection/update", {"sectionId": "nope", "name": "x"},
         (-32602, "thread section not found: nope")),
        ("threadSection/update", {"sectionId": PINNED, "name": "x"},
         (-32602, "the built-in pinned section cannot be renamed")),
        ("threadSection/delete", {"sectionId": PINNED},
         (-32602, "the built-in pinned section cannot be deleted")),
        ("threadSection/delete", {"sectionId": UNKNOWN},
         (-32602, f"thread section not found: {UNKNOWN}")),
        ("thread/section/move", {"threadId": UNKNOWN, "sectionId": None},
         (-32600, f"thread not found: {UNKNOWN}")),
    ]:
        assert await error_of(client, method, params) == expected, method

    first = await materialized_thread(client)
    second = await materialized_thread(client)
    assert await error_of(client, "thread/section/move", {
        "threadId": first, "sectionId": UNKNOWN}) == (-32600, f"section {UNKNOWN} does not exist")
    assert await client.request("thread/section/move", {
        "threadId": first, "sectionId": work["id"]}) == {}
    changed = await client.wait_notification("thread/section/changed")
    assert changed == {"threadId": first, "sectionId": work["id"]}
    await client.request("thread/section/move", {
        "threadId": second, "sectionId": work["id"], "beforeThreadId": first})
    await client.request("thread/section/move", {"threadId": first, "sectionId": PINNED})
    await client.request("thread/section/move", {"threadId": first, "sectionId": None})
    moves = [n["params"] for n in client.notifications("thread/section/changed")]
    assert moves[-1] == {"threadId": first, "sectionId": None}
    await client.request("threadSection/delete", {"sectionId": play["id"]})
    await client.close()

    again = await start(spawn, workdir)
    listed = await again.request("threadSection/list", {})
    assert [s["name"] for s in listed["data"]] == ["Pinned", "Work"]
    assert list((codex_home).glob("*.sqlite"))


# -- attachments -----------------------------------------------------------------------------------
async def test_attachments_add_list_owners_remove_and_restart(
    spawn: ServerFactory, workdir: Path, mock: MockResponses
) -> None:
    client = await start(spawn, workdir)
    thread_id = await materialized_thread(client)
    key = {"threadId": thread_id, "attachmentType": "pr", "identityKey": "k1"}
    added = await client.request("thread/attachment/add", {**key, "payload": {"a": 1}})
    assert added["outcome"] == "created"
    attachment = added["attachment"]
    assert attachment["payload"] == {"a": 1} and attachment["attachmentType"] == "pr"
    again_added = await client.request("thread/attachment/add", {**key, "payload": {"a": 2}})
    assert again_added == {"outcome": "existing", "attachment": attachment}
    created = await client.wait_notification("thread/attachment/updated")
    assert created == {"threadId": thread_id, "attachmentType": "pr", "identityKey": "k1",
                       "attachmentId": attachment["id"], "operation": "created"}
    assert len(client.notifications("thread/attachment/updated")) == 1
    assert await error_of(client, "thread/attachment/add", {
        **key, "threadId": UNKNOWN, "payload": {}}) == (-32602, f"thread not found: {UNKNOWN}")
    await client.close()

    client = await start(spawn, workdir)
    assert await client.request("thread/attachment/list", {"threadId": thread_id}) == {
        "data": [attachment], "nextCursor": None}
    owners = {"attachmentType": "pr", "identityKey": "k1"}
    assert await client.request("thread/attachmentOwner/list", owners) == {
        "data": [{"threadId": thread_id, "archived": False}], "nextCursor": None}
    assert await client.request("thread/attachmentOwner/list", {**owners, "archived": True}) == {
        "data": [], "nextCursor": None}
    assert await client.request("thread/attachment/remove", key) == {}
    deleted = await client.wait_notification("thread/attachment/updated")
    assert deleted["operation"] == "deleted" and deleted["attachmentId"] == attachment["id"]
    assert await client.request("thread/attachment/remove", key) == {}
    assert len(client.notifications("thread/attachment/updated")) == 1
    assert await client.request("thread/attachment/list", {"threadId": thread_id}) == {
        "data": [], "nextCursor": None}


# -- goals -----------------------------------------------------------------------------------------
async def test_goal_set_starts_a_turn_and_survives_a_restart(
    spawn: ServerFactory, workdir: Path, mock: MockResponses, codex_home: Path
) -> None:
    client = await start(spawn, workdir)
    thread_id = await new_thread(client)
    tid = {"threadId": thread_id}
    assert await client.request("thread/goal/get", tid) == {"goal": None}
    assert await client.request("thread/goal/clear", tid) == {"cleared": False}
    assert await error_of(client, "thread/goal/set", tid) == (
        -32600, f"cannot update goal for thread {thread_id}: no goal exists")
    assert await error_of(client, "thread/goal/get", {"threadId": UNKNOWN}) == (
        -32600, f"thread not found: {UNKNOWN}")
    code, message = await error_of(client, "thread/goal/get", {"threadId": "x"})
    assert code == -32600 and message.startswith("invalid thread id: ")

    goal = (await client.request("thread/goal/set", {
        **tid, "objective": "write a haiku", "tokenBudget": 500}))["goal"]
    assert goal["objective"] == "write a haiku" and goal["status"] == "active"
    assert (goal["tokenBudget"], goal["tokensUsed"], goal["timeUsedSeconds"]) == (500, 0, 0)
    updated = await client.wait_notification("thread/goal/updated")
    assert updated == {"threadId": thread_id, "turnId": None, "goal": goal}
    # the goal starts work at once: a real turn that sends the objective to the model
    completed = await client.wait_notification("turn/completed")
    assert completed["threadId"] == thread_id and completed["turn"]["status"] == "completed"
    assert "write a haiku" in str(mock.requests[0].body["input"])
    # the turn's tokens (total less cached: 1290 - 1000 in the mock's usage) count
    progress = await client.wait_notification(
        "thread/goal/updated", where=lambda p: p["turnId"] is not None)
    assert progress["turnId"] == completed["turn"]["id"]
    assert (progress["goal"]["tokensUsed"], progress["goal"]["status"]) == (290, "active")
    # still active: the next turn follows and spends the budget
    limited = await client.wait_notification(
        "thread/goal/updated", where=lambda p: p["turnId"] is not None)
    assert (limited["goal"]["tokensUsed"], limited["goal"]["status"]) == (580, "budgetLimited")
    await client.wait_notification("turn/completed")

    paused = (await client.request("thread/goal/set", {**tid, "status": "paused",
                                                      "tokenBudget": None}))["goal"]
    assert paused["status"] == "paused" and paused["tokenBudget"] is None
    assert paused["tokensUsed"] == 580
    assert paused["createdAt"] == goal["createdAt"]
    await client.close()
    assert (codex_home / "goals_pycodex.sqlite").exists()

    client = await start(spawn, workdir)
    assert await client.request("thread/goal/get", tid) == {"goal": paused}
    assert await client.request("thread/goal/clear", tid) == {"cleared": True}
    assert await client.wait_notification("thread/goal/cleared") == tid
    assert await client.request("thread/goal/get", tid) == {"goal": None}


async def test_goal_over_budget_or_failed_turn(
    spawn: ServerFactory, workdir: Path, mock: MockResponses
) -> None:
    client = await start(spawn, workdir)
    await thread_with_goal(client, "tiny", 100)
    limited = await client.wait_notification(
        "thread/goal/updated", where=lambda p: p["turnId"] is not None)
    assert (limited["goal"]["status"], limited["goal"]["tokensUsed"]) == ("budgetLimited", 290)
    await client.wait_notification("turn/completed")

    mock.push(http_error(400))
    failing = await thread_with_goal(client, "doomed")
    blocked = await client.wait_notification(
        "thread/goal/updated", where=lambda p: p["threadId"] == failing and p["turnId"])
    assert blocked["goal"]["status"] == "blocked"
    done = await client.wait_notification(
        "turn/completed", where=lambda p: p["threadId"] == failing)
    assert done["turn"]["status"] == "failed"
    assert (await client.request("thread/goal/get", {"threadId": failing}))["goal"][
        "status"] == "blocked"


def test_goal_notification_for_a_resuming_client(tmp_path: Path) -> None:
    """What thread/resume sends about the goal (reference: updated, or cleared)."""
    import msgspec

    from pycodex.api.context import AppState, ServerOptions
    from pycodex.api.goals import goal_on_resume
    from pycodex.api.local_stores import goal_store

    app = AppState(ServerOptions(codex_home=tmp_path), outgoing=None)  # type: ignore[arg-type]
    method, params = goal_on_resume(app, UNKNOWN)
    assert (method, msgspec.to_builtins(params)) == ("thread/goal/cleared", {"threadId": UNKNOWN})
    app.get(goal_store).set(UNKNOWN, objective="x", status="paused")
    method, params = goal_on_resume(app, UNKNOWN)
    wire = msgspec.to_builtins(params)
    assert method == "thread/goal/updated" and wire["turnId"] is None
    assert (wire["goal"]["objective"], wire["goal"]["status"]) == ("x", "paused")
