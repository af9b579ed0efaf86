"""``apply_patch`` end to end (engine §2.5, protocol §7.2): the ``fileChange`` items, the
turn diff, the exact text the model gets back, failures, the shell heredoc form, and
patch approvals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.approvals import answer, statuses, untrusted_thread
from tests.support.client import AppServerClient
from tests.support.exec import (
    begin_turn,
    exec_call,
    finish_turn,
    items,
    run_turn,
    start_thread,
    thread_methods,
    tool_output,
    without_wall_time,
)
from tests.support.mock_responses import (
    MockResponses,
    Reply,
    custom_tool_call_reply,
    text_reply,
)

ADD_HELLO = "*** Begin Patch\n*** Add File: hello.txt\n+hi from the mock patch\n*** End Patch\n"
HELLO_DIFF = (
    "diff --git a/hello.txt b/hello.txt\nnew file mode 100644\n"
    "index 0000000000000000000000000000000000000000..08803819badba381f4018a9e1569ed2fed9f5e32\n"
    "--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1 @@\n+hi from the mock patch\n"
)


def patch_call(text: str, call_id: str) -> Reply:
    return custom_tool_call_reply("apply_patch", text, call_id=call_id)


async def test_add_file_matches_the_reference(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(custom_tool_call_reply("apply_patch", ADD_HELLO, call_id="call_patch"),
              text_reply("patched"))
    start = len(client.received)
    turn = await run_turn(client, thread_id)
    assert turn["status"] == "completed"
    methods = thread_methods(client, start)
    assert methods[:7] == ["thread/status/changed", "turn/started", "item/started",
                           "item/completed", "item/started", "item/completed",
                           "turn/diff/updated"]
    started = items(client, "item/started", "call_patch")[0]
    change = {"path": str(workdir / "hello.txt"), "kind": {"type": "add"},
              "diff": "hi from the mock patch\n"}
    assert started == {"type": "fileChange", "id": "call_patch", "changes": [change],
                       "status": "inProgress", "startedAtMs": started["startedAtMs"],
                       "completedAtMs": None}
    done = items(client, "item/completed", "call_patch")[0]
    assert done == {**started, "status": "completed", "completedAtMs": done["completedAtMs"]}
    # and again after the model's next answer, right before the turn ends (reference 0.171)
    assert methods[-4:] == ["turn/diff/updated", "thread/readState/changed",
                           "thread/status/changed", "turn/completed"]
    diffs = client.notifications("turn/diff/updated")
    assert len(diffs) == 2
    assert all(d["params"] == {"threadId": thread_id, "turnId": turn["id"],
                               "diff": HELLO_DIFF} for d in diffs)
    assert (workdir / "hello.txt").read_text() == "hi from the mock patch\n"
    output = tool_output(mock, "call_patch")
    assert without_wall_time(output) == (
        "Exit code: 0\nWall time: X seconds\nOutput:\n"
        "Success. Updated the following files:\nA hello.txt\n")
    sent = mock.requests[-1].input
    assert sent[-1] == {"type": "custom_tool_call_output", "call_id": "call_patch",
                        "output": output}


async def test_update_move_and_delete(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    (workdir / "a.txt").write_text("one\ntwo\nthree\n")
    (workdir / "gone.txt").write_text("bye\n")
    (workdir / "old.txt").write_text("keep\n")
    patch = ("*** Begin Patch\n*** Update File: a.txt\n@@\n one\n-two\n+TWO\n three\n"
             "*** Delete File: gone.txt\n"
             "*** Update File: old.txt\n*** Move to: new.txt\n@@\n-keep\n+moved\n"
             "*** End Patch\n")
    thread_id = await start_thread(client, workdir)
    mock.push(patch_call(patch, "call_multi"), text_reply("ok"))
    await run_turn(client, thread_id)
    assert (workdir / "a.txt").read_text() == "one\nTWO\nthree\n"
    assert not (workdir / "gone.txt").exists()
    assert not (workdir / "old.txt").exists()
    assert (workdir / "new.txt").read_text() == "moved\n"
    done = items(client, "item/completed", "call_multi")[0]
    assert done["status"] == "completed"
    kinds = {c["path"]: c["kind"] for c in done["changes"]}
    assert kinds == {
        str(workdir / "a.txt"): {"type": "update", "move_path": None},
        str(workdir / "gone.txt"): {"type": "delete"},
        str(workdir / "old.txt"): {"type": "update", "move_path": str(workdir / "new.txt")},
    }
    update = next(c for c in done["changes"] if c["path"] == str(workdir / "a.txt"))
    assert "-two\n+TWO\n" in update["diff"]
    assert without_wall_time(tool_output(mock, "call_multi")) == (
        "Exit code: 0\nWall time: X seconds\nOutput:\n"
        "Success. Updated the following files:\nM a.txt\nM new.txt\nD gone.txt\n")
    diff = client.notifications("turn/diff/updated")[-1]["params"]["diff"]
    assert "diff --git a/a.txt b/a.txt" in diff and "deleted file mode" in diff


async def test_patch_that_does_not_apply_writes_nothing(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    (workdir / "a.txt").write_text("one\n")
    bad = ("*** Begin Patch\n*** Add File: new.txt\n+new\n"
           "*** Update File: a.txt\n@@\n-missing line\n+x\n*** End Patch\n")
    thread_id = await start_thread(client, workdir)
    mock.push(patch_call(bad, "call_bad"),
              patch_call("not a patch", "call_garbage"),
              text_reply("ok"))
    turn = await run_turn(client, thread_id)
    assert turn["status"] == "completed"
    out = tool_output(mock, "call_bad")
    assert out.startswith("apply_patch verification failed: "), out
    assert "missing line" in out
    garbage = tool_output(mock, "call_garbage")
    assert garbage.startswith("apply_patch verification failed: "), garbage
    assert not (workdir / "new.txt").exists()
    assert (workdir / "a.txt").read_text() == "one\n"
    assert items(client, "item/started", "call_bad") == []
    assert client.notifications("turn/diff/updated") == []


async def test_apply_patch_heredoc_through_exec_command_is_intercepted(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    cmd = f"apply_patch <<'EOF'\n{ADD_HELLO}EOF\n"
    mock.push(exec_call(cmd, "call_shellpatch"), text_reply("ok"))
    await run_turn(client, thread_id)
    assert (workdir / "hello.txt").read_text() == "hi from the mock patch\n"
    started = items(client, "item/started", "call_shellpatch")
    assert [i["type"] for i in started] == ["fileChange"]
    assert client.notifications("item/commandExecution/outputDelta") == []
    assert "Success. Updated the following files:\nA hello.txt\n" in \
        tool_output(mock, "call_shellpatch")
    assert client.notifications("turn/diff/updated")[-1]["params"]["diff"] == HELLO_DIFF


async def test_patch_approval_accept_in_the_reference_order(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await untrusted_thread(client, workdir)
    mock.push(patch_call(ADD_HELLO, "call_patch"), text_reply("ok"))
    start = len(client.received)
    turn_id = await begin_turn(client, thread_id)
    request = await answer(client, "item/fileChange/requestApproval", {"decision": "accept"})
    turn = await finish_turn(client, turn_id)
    assert turn["status"] == "completed"
    assert thread_methods(client, start)[4:10] == [
        "item/started", "thread/status/changed", "item/fileChange/requestApproval",
        "serverRequest/resolved", "thread/status/changed", "item/completed"]
    assert statuses(client, start)[1:3] == [
        {"type": "active", "activeFlags": ["waitingOnApproval"]},
        {"type": "active", "activeFlags": []}]
    started = items(client, "item/started", "call_patch")[0]
    assert request["params"] == {
        "threadId": thread_id, "turnId": turn_id, "itemId": "call_patch",
        "startedAtMs": request["params"]["startedAtMs"], "reason": None, "grantRoot": None}
    assert request["params"]["startedAtMs"] >= started["startedAtMs"]
    assert items(client, "item/completed", "call_patch")[0]["status"] == "completed"
    assert (workdir / "hello.txt").exists()
    assert "A hello.txt" in tool_output(mock, "call_patch")


@pytest.mark.parametrize(("reply", "text"), [
    ({"result": {"decision": "decline"}}, "patch rejected by user"),
    ({"result": {"decision": "later"}}, "approval request failed"),
    ({"error": {"code": -32000, "message": "ui crashed"}}, "approval request failed"),
])
async def test_patch_approval_refused(
    client: AppServerClient, workdir: Path, mock: MockResponses, reply: dict[str, Any],
    text: str
) -> None:
    thread_id = await untrusted_thread(client, workdir)
    mock.push(patch_call(ADD_HELLO, "call_patch"), text_reply("ok"))
    turn_id = await begin_turn(client, thread_id)
    request = await client.wait_server_request("item/fileChange/requestApproval")
    await client.send({"id": request["id"], **reply})
    turn = await finish_turn(client, turn_id)
    assert turn["status"] == "completed"
    assert items(client, "item/completed", "call_patch")[0]["status"] == "declined"
    assert not (workdir / "hello.txt").exists()
    assert tool_output(mock, "call_patch") == text
    assert client.notifications("turn/diff/updated") == []


async def test_patch_approval_for_session_covers_the_same_file(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await untrusted_thread(client, workdir)
    mock.push(patch_call(ADD_HELLO, "call_one"), text_reply("ok"))
    turn_id = await begin_turn(client, thread_id)
    await answer(client, "item/fileChange/requestApproval", {"decision": "acceptForSession"})
    await finish_turn(client, turn_id)
    update = ("*** Begin Patch\n*** Update File: hello.txt\n@@\n-hi from the mock patch\n"
              "+second\n*** End Patch\n")
    mock.push(patch_call(update, "call_two"), text_reply("ok"))
    await run_turn(client, thread_id)
    assert (workdir / "hello.txt").read_text() == "second\n"
    asked = [m for m in client.received if m.get("method") == "item/fileChange/requestApproval"]
    assert len(asked) == 1


async def test_thread_read_rebuilds_the_tool_items_from_the_rollout(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    from tests.support.exec import open_client, strip_timing

    thread_id = await start_thread(client, workdir)
    mock.push(exec_call("echo hi", "call_echo"),
              patch_call(ADD_HELLO, "call_patch"),
              exec_call("exit 4", "call_fail"),
              text_reply("all done"))
    turn = await run_turn(client, thread_id)
    live = {n["params"]["item"]["id"]: n["params"]["item"]
            for n in client.notifications("item/completed")}
    expected = [strip_timing(live[i]) for i in ("call_echo", "call_patch", "call_fail")]

    def tool_items(turns: list[dict[str, object]]) -> list[dict[str, object]]:
        found = [i for t in turns for i in t["items"]  # type: ignore[attr-defined]
                 if i["type"] in ("commandExecution", "fileChange")]
        return [strip_timing(i) for i in found]

    read = await client.request("thread/read", {"threadId": thread_id, "includeTurns": True})
    assert [t["id"] for t in read["thread"]["turns"]] == [turn["id"]]
    assert tool_items(read["thread"]["turns"]) == expected
    # The same from a fresh process that only has the rollout.
    await client.close()
    other = await open_client(codex_home, workdir, mock)
    try:
        read = await other.request("thread/read", {"threadId": thread_id,
                                                   "includeTurns": True})
        assert tool_items(read["thread"]["turns"]) == expected
    finally:
        await other.close()
    other.assert_valid()
