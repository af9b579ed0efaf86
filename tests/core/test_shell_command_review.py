"""thread/shellCommand (the TUI's ``!cmd``) and review/start (``/review``), driven as a
client does, against the mock model."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest

from pycodex.store.rollout import utc_timestamp
from tests.support.client import AppServerClient, ServerError
from tests.support.mock_responses import Gate, MockResponses, function_call_reply, text_reply
from tests.support.turns import run_turn, start_thread, texts, turn_items


async def test_shell_command_runs_as_its_own_turn_and_reaches_the_model(
    opened: tuple[AppServerClient, str], workdir: Path, mock: MockResponses
) -> None:
    client, thread_id = opened
    (workdir / "marker.txt").write_text("here\n")
    assert await client.request("thread/shellCommand", {
        "threadId": thread_id, "command": "cat marker.txt; echo oops >&2; exit 3"}) == {}
    started = await client.wait_notification("turn/started")
    turn_id = started["turn"]["id"]
    items = await turn_items(client, turn_id)
    assert len(items) == 1
    item = items[0]
    # unsandboxed (the thread is read-only) and in the thread's cwd
    assert item["source"] == "userShell"
    assert item["cwd"] == str(workdir)
    assert item["status"] == "failed" and item["exitCode"] == 3
    assert sorted(item["aggregatedOutput"].splitlines()) == ["here", "oops"]
    assert item["command"].endswith("-lc 'cat marker.txt; echo oops >&2; exit 3'")
    deltas = "".join(n["params"]["delta"]
                     for n in client.notifications("item/commandExecution/outputDelta"))
    assert sorted(deltas.splitlines()) == ["here", "oops"]

    mock.push(text_reply("seen"))
    await run_turn(client, thread_id, "what did I run?")
    record = next(t for t in texts(mock.requests[-1].body["input"])
                  if t.startswith("<user_shell_command>"))
    assert "<command>\ncat marker.txt; echo oops >&2; exit 3\n</command>" in record
    assert "Exit code: 3" in record and "here" in record


async def test_shell_command_during_a_model_turn_joins_it_with_one_more_request(
    opened: tuple[AppServerClient, str], workdir: Path, mock: MockResponses
) -> None:
    """As the reference 0.171 does: the ``!cmd`` record joins the running turn after the
    model's answer, and the turn asks the model once more with it."""
    client, thread_id = opened
    release = threading.Event()
    held = text_reply("working")
    held.events.insert(1, Gate(release))  # the response waits after its start
    mock.push(held, text_reply("saw it"))
    before = len(mock.requests)
    started = await client.request("turn/start", {"threadId": thread_id, "input": [
        {"type": "text", "text": "hi"}]})
    turn_id = started["turn"]["id"]
    await client.request("thread/shellCommand", {"threadId": thread_id,
                                                 "command": "echo from-user"})
    shell = await client.wait_notification(
        "item/completed", where=lambda p: p["item"]["type"] == "commandExecution")
    assert (shell["turnId"], shell["item"]["source"]) == (turn_id, "userShell")
    release.set()
    done = await client.wait_notification("turn/completed")
    assert (done["turn"]["id"], done["turn"]["status"]) == (turn_id, "completed")
    assert len(mock.requests) - before == 2
    tail = texts(mock.requests[-1].body["input"])[-3:]
    assert tail[:2] == ["hi", "working"]
    assert tail[2].startswith("<user_shell_command>\n<command>\necho from-user\n</command>")
    agents = [n["params"]["item"]["text"] for n in client.notifications("item/completed")
              if n["params"]["item"]["type"] == "agentMessage"]
    assert agents[-2:] == ["working", "saw it"]


async def test_shell_command_timeout_and_bad_input(
    opened: tuple[AppServerClient, str]
) -> None:
    client, thread_id = opened
    await client.request("thread/shellCommand", {
        "threadId": thread_id, "command": "sleep 20", "timeoutMs": 300})
    started = await client.wait_notification("turn/started")
    items = await turn_items(client, started["turn"]["id"])
    assert items[0]["exitCode"] == 124 and items[0]["status"] == "failed"

    with pytest.raises(ServerError) as empty:
        await client.request("thread/shellCommand", {"threadId": thread_id, "command": "  "})
    assert (empty.value.code, empty.value.message) == (-32600, "command must not be empty")
    with pytest.raises(ServerError) as bad:
        await client.request("thread/shellCommand", {"threadId": "zz", "command": "ls"})
    assert bad.value.code == -32600
    assert bad.value.message.startswith("invalid thread id: ")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=cwd,
                   check=True, capture_output=True)


async def test_review_of_uncommitted_changes_reports_entered_and_exited_items(
    opened: tuple[AppServerClient, str], workdir: Path, mock: MockResponses
) -> None:
    client, thread_id = opened
    _git(workdir, "init", "-q")
    (workdir / "a.py").write_text("x = 1\n")
    _git(workdir, "add", ".")
    _git(workdir, "commit", "-qm", "init")
    (workdir / "a.py").write_text("x = 1 / 0\n")
    review = {"findings": [{"title": "Division by zero", "body": "`1 / 0` raises.",
                            "confidence_score": 0.9, "priority": 0,
                            "code_location": {"absolute_file_path": str(workdir / "a.py"),
                                              "line_range": {"start": 1, "end": 1}}}],
              "overall_correctness": "patch is incorrect",
              "overall_explanation": "The change always raises.",
              "overall_confidence_score": 0.9}
    mock.push(text_reply(json.dumps(review)), text_reply("I see the review"))
    answer = await client.request("review/start", {
        "threadId": thread_id, "target": {"type": "uncommittedChanges"}})
    turn = answer["turn"]
    assert answer["reviewThreadId"] == thread_id
    assert turn["items"] == [{"type": "userMessage", "id": turn["id"], "clientId": None,
                              "content": [{"type": "text", "text": "current changes",
                                           "text_elements": []}],
                              "startedAtMs": None, "completedAtMs": None}]
    items = await turn_items(client, turn["id"])
    kinds = [i["type"] for i in items]
    assert kinds == ["enteredReviewMode", "userMessage", "exitedReviewMode", "agentMessage"]
    assert items[0]["review"] == "current changes"
    rendered = items[2]["review"]
    assert rendered.startswith("The change always raises.")
    assert f"- Division by zero — {workdir / 'a.py'}:1-1" in rendered
    assert items[3]["text"] == rendered
    # the review ran on its own history; the thread's next turn sees the result
    assert "The change always raises." not in texts(mock.requests[0].body["input"][:1])
    await run_turn(client, thread_id, "fix it")
    assert any("Division by zero" in t for t in texts(mock.requests[-1].body["input"]))


async def test_review_targets_hints_and_validation(
    opened: tuple[AppServerClient, str], mock: MockResponses
) -> None:
    client, thread_id = opened
    for target, hint in [
        ({"type": "commit", "sha": "abcdef1234567", "title": " Fix it "},
         "commit abcdef1: Fix it"),
        ({"type": "baseBranch", "branch": "main"}, "changes against 'main'"),
        ({"type": "custom", "instructions": " look at a.txt "}, "look at a.txt"),
    ]:
        mock.push(text_reply("plain words"))
        answer = await client.request("review/start", {"threadId": thread_id,
                                                       "target": target})
        assert answer["turn"]["items"][0]["content"][0]["text"] == hint
        items = await turn_items(client, answer["turn"]["id"])
        assert items[-2]["review"] == "plain words"
    for target, text in [({"type": "baseBranch", "branch": " "}, "branch must not be empty"),
                         ({"type": "commit", "sha": ""}, "sha must not be empty"),
                         ({"type": "custom", "instructions": ""},
                          "instructions must not be empty")]:
        with pytest.raises(ServerError) as err:
            await client.request("review/start", {"threadId": thread_id, "target": target})
        assert (err.value.code, err.value.message) == (-32600, text)
    with pytest.raises(ServerError) as detached:
        await client.request("review/start", {"threadId": thread_id, "delivery": "detached",
                                              "target": {"type": "uncommittedChanges"}})
    assert detached.value.message == (
        "Invalid request: unknown variant `detached`, expected `inline`")


async def test_background_terminals_list_is_empty(opened: tuple[AppServerClient, str]) -> None:
    client, thread_id = opened
    assert await client.request("thread/backgroundTerminals/list",
                                {"threadId": thread_id}) == {"data": [], "nextCursor": None}


async def test_settings_update_applies_to_later_turns_and_reports_the_effective_settings(
    opened: tuple[AppServerClient, str], workdir: Path, mock: MockResponses
) -> None:
    client, thread_id = opened
    assert await client.request("thread/settings/update", {
        "threadId": thread_id, "model": "gpt-5.4",
        "collaborationMode": {"mode": "default", "settings": {
            "model": "gpt-5.4", "reasoning_effort": "high", "developer_instructions": None}},
    }) == {}
    updated = await client.wait_notification("thread/settings/updated")
    settings = updated["threadSettings"]
    assert updated["threadId"] == thread_id
    assert (settings["model"], settings["effort"], settings["serviceTier"]) == (
        "gpt-5.4", "high", None)
    assert settings["collaborationMode"] == {"mode": "default", "settings": {
        "model": "gpt-5.4", "reasoning_effort": "high", "developer_instructions": None}}
    assert settings["sandboxPolicy"] == {"type": "readOnly", "networkAccess": False}
    assert settings["environments"] == [{"environmentId": "local", "cwd": str(workdir),
                                         "runtimeWorkspaceRoots": [str(workdir)]}]
    mock.push(text_reply("ok"))
    await run_turn(client, thread_id, "hi")
    body = mock.requests[-1].body
    assert body["model"] == "gpt-5.4" and "service_tier" not in body

    await client.request("thread/settings/update", {"threadId": thread_id,
                                                    "permissions": ":workspace"})
    updated = await client.wait_notification(
        "thread/settings/updated",
        where=lambda p: p["threadSettings"]["activePermissionProfile"] is not None)
    settings = updated["threadSettings"]
    assert settings["activePermissionProfile"] == {"id": ":workspace", "extends": None}
    assert settings["sandboxPolicy"] == {
        "type": "workspaceWrite", "writableRoots": [], "networkAccess": False,
        "excludeTmpdirEnvVar": False, "excludeSlashTmp": False}
    read = await client.request("thread/read", {"threadId": thread_id})
    assert read["thread"]["model"] == "gpt-5.4"

    with pytest.raises(ServerError) as bad:
        await client.request("thread/settings/update", {"threadId": "zz"})
    assert bad.value.message.startswith("invalid thread id: ")


async def test_a_model_default_service_tier_is_not_sent_upstream(
    opened: tuple[AppServerClient, str], mock: MockResponses
) -> None:
    client, thread_id = opened
    mock.push(text_reply("a"), text_reply("b"))
    # gpt-6-luna's catalog default tier is priority: the TUI echoes it, nobody chose it
    await run_turn(client, thread_id, "one", model="gpt-6-luna", serviceTier="priority")
    assert "service_tier" not in mock.requests[-1].body
    # gpt-5.5 has no default tier: priority is the user's choice
    await run_turn(client, thread_id, "two", model="gpt-5.5", serviceTier="priority")
    assert mock.requests[-1].body["service_tier"] == "priority"


#: What the TUI's hidden title thread switches off (tui.md §4.1).
TITLE_THREAD_CONFIG = {
    "features.shell_tool": False, "features.unified_exec": False,
    "tools.update_plan.enabled": False, "features.view_image": False,
    "tools.experimental_request_user_input.enabled": False, "web_search": "disabled",
    "features.apps": False, "features.plugins": False, "features.hooks": False,
    "features.memories": False, "features.goals": False, "features.multi_agent": False,
}


async def test_a_thread_with_tools_switched_off_gets_none_and_never_asks(
    opened: tuple[AppServerClient, str], workdir: Path, mock: MockResponses
) -> None:
    client, _ = opened
    thread_id = await start_thread(client, workdir, ephemeral=True, environments=[],
                                   threadSource="thread_title", sandbox="read-only",
                                   approvalPolicy="on-request", config=TITLE_THREAD_CONFIG)
    mock.push(function_call_reply("exec_command", {
        "cmd": "touch x", "sandbox_permissions": "require_escalated"}), text_reply("Title"))
    start = len(client.received)
    await run_turn(client, thread_id, "name this")
    tools = [t.get("name") for t in mock.requests[0].body.get("tools", [])]
    assert tools == ["apply_patch"]
    # the call of a tool it was not offered is answered to the model, not to the client
    output = mock.requests[1].body["input"][-1]
    assert output["type"] == "function_call_output"
    assert not [m for m in client.received[start:] if "id" in m and "method" in m]
    assert not (workdir / "x").exists()


async def test_read_state_marks_finished_turns_unread(
    opened: tuple[AppServerClient, str], mock: MockResponses
) -> None:
    client, thread_id = opened
    mock.push(text_reply("a"))
    _, completed = await run_turn(client, thread_id, "hi")
    changed = client.notifications("thread/readState/changed")[-1]["params"]
    assert changed["threadId"] == thread_id
    state = changed["readState"]
    assert state["firstUnread"] == {"type": "turn", "turnId": completed["turn"]["id"]}
    with pytest.raises(ServerError) as stale:
        await client.request("thread/readState/update", {
            "threadId": thread_id, "operation": {"type": "read"}, "expectedRevision": "old"})
    assert (stale.value.code, stale.value.message) == (-32600, "read state changed")
    assert stale.value.data == {"reason": "readStateConflict", "readState": state}
    read = await client.request("thread/readState/update", {
        "threadId": thread_id, "operation": {"type": "read"},
        "expectedRevision": state["revision"]})
    assert read["readState"]["firstUnread"] is None
    assert read["readState"]["revision"] != state["revision"]
    assert client.notifications("thread/readState/changed")[-1]["params"]["readState"] == (
        read["readState"])
    unread = await client.request("thread/readState/update", {
        "threadId": thread_id, "operation": {"type": "unread"},
        "expectedRevision": read["readState"]["revision"]})
    assert unread["readState"]["firstUnread"] == {"type": "threadStart"}


async def test_started_threads_page_their_history(
    opened: tuple[AppServerClient, str], mock: MockResponses
) -> None:
    client, thread_id = opened
    read = await client.request("thread/read", {"threadId": thread_id})
    assert read["thread"]["historyMode"] == "paginated"
    mock.push(text_reply("a"))
    await run_turn(client, thread_id, "hi")
    resumed = await client.request("thread/resume", {"threadId": thread_id})
    assert resumed["thread"]["historyMode"] == "paginated"
    page = await client.request("thread/items/list", {
        "threadId": thread_id, "cursor": resumed["itemsBackwardsCursor"],
        "sortDirection": "desc"})
    assert page["data"][0]["item"]["type"] == "agentMessage"


async def test_thread_search_finds_threads_by_title(
    opened: tuple[AppServerClient, str], mock: MockResponses
) -> None:
    client, thread_id = opened
    mock.push(text_reply("a"))
    await run_turn(client, thread_id, "fix the parser bug")
    found = await client.request("thread/search", {"searchTerm": "parser"})
    assert [(r["thread"]["id"], r["snippet"]) for r in found["data"]] == [
        (thread_id, "fix the parser bug")]
    # back from the first result: a millisecond before its creation second
    created = found["data"][0]["thread"]["createdAt"]
    assert found["nextCursor"] is None
    assert found["backwardsCursor"] == utc_timestamp(created - 0.001)
    none = await client.request("thread/search", {"searchTerm": "nothing like it"})
    assert none["data"] == []
