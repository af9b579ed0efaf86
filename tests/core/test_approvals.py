"""Command approvals end to end (protocol §7.1, §9.2; engine §4): the exact message order
around ``item/commandExecution/requestApproval``, every decision, client errors and
disconnects, session/rule memory, known-safe commands and escalation requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
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
    open_client,
    parse_exec_output,
    run_turn,
    start_thread,
    thread_methods,
    tool_output,
)
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.sandbox import skip_unless_sandbox

TOUCH = "/bin/bash -lc 'touch probe.txt'"
# What 0.169 tells the model when a command is declined / its approval fails.
DECLINED = 'exec_command failed: CreateProcess { message: "Rejected(\\"rejected by user\\")" }'
FAILED = ('exec_command failed: CreateProcess { message: '
          '"Rejected(\\"approval request failed\\")" }')


async def test_accept_runs_the_command_in_the_reference_order(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await untrusted_thread(client, workdir)
    mock.push(exec_call("touch probe.txt", "call_touch"), text_reply("made it"))
    start = len(client.received)
    turn_id = await begin_turn(client, thread_id)
    request = await answer(client, "item/commandExecution/requestApproval",
                           {"decision": "accept"})
    turn = await finish_turn(client, turn_id)
    assert turn["status"] == "completed"
    assert (workdir / "probe.txt").exists()
    assert thread_methods(client, start) == [
        "thread/status/changed", "turn/started", "item/started", "item/completed",
        "thread/status/changed", "item/started", "item/commandExecution/requestApproval",
        "serverRequest/resolved", "thread/status/changed", "item/completed",
        "item/started", "item/agentMessage/delta", "item/completed",
        "thread/readState/changed", "thread/status/changed", "turn/completed",
    ]
    assert statuses(client, start) == [
        {"type": "active", "activeFlags": []},
        {"type": "active", "activeFlags": ["waitingOnApproval"]},
        {"type": "active", "activeFlags": []},
        {"type": "idle"},
    ]
    started = items(client, "item/started", "call_touch")[0]
    assert started == {
        "type": "commandExecution", "id": "call_touch", "command": TOUCH, "cwd": str(workdir),
        "processId": None, "source": "agent", "status": "inProgress",
        "commandActions": [{"type": "unknown", "command": "touch probe.txt"}],
        "aggregatedOutput": None, "exitCode": None, "durationMs": None,
        "startedAtMs": started["startedAtMs"], "completedAtMs": None,
    }
    # as the reference 0.171 sends it (kind and environmentId are new in 0.171)
    assert request["params"] == {
        "kind": "command", "threadId": thread_id, "turnId": turn_id, "itemId": "call_touch",
        "startedAtMs": started["startedAtMs"], "environmentId": "local",
        "command": TOUCH, "cwd": str(workdir),
        "commandActions": [{"type": "unknown", "command": "touch probe.txt"}],
        "proposedExecpolicyAmendment": ["touch", "probe.txt"],
        "availableDecisions": [
            "accept",
            {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch", "probe.txt"]}},
            "cancel",
        ],
    }
    resolved = client.notifications("serverRequest/resolved")[-1]["params"]
    assert resolved == {"threadId": thread_id, "requestId": request["id"]}
    done = items(client, "item/completed", "call_touch")[0]
    assert done["processId"] is not None and done["processId"].isdigit()
    assert done == {**started, "processId": done["processId"], "source": "unifiedExecStartup",
                    "status": "completed", "exitCode": 0, "aggregatedOutput": None,
                    "durationMs": done["durationMs"], "completedAtMs": done["completedAtMs"]}
    assert parse_exec_output(tool_output(mock, "call_touch"))["code"] == "0"


async def test_accept_for_session_is_not_asked_again(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await untrusted_thread(client, workdir)
    mock.push(exec_call("touch probe.txt", "call_one"), text_reply("one"))
    turn_id = await begin_turn(client, thread_id)
    await answer(client, "item/commandExecution/requestApproval",
                 {"decision": "acceptForSession"})
    await finish_turn(client, turn_id)
    (workdir / "probe.txt").unlink()
    mock.push(exec_call("touch probe.txt", "call_two"), text_reply("two"))
    turn = await run_turn(client, thread_id)
    assert turn["status"] == "completed"
    assert (workdir / "probe.txt").exists()
    assert len([m for m in client.received if m.get("method") ==
                "item/commandExecution/requestApproval"]) == 1
    assert items(client, "item/completed", "call_two")[0]["status"] == "completed"
    # A different command is still asked about.
    mock.push(exec_call("touch other.txt", "call_three"), text_reply("three"))
    turn_id = await begin_turn(client, thread_id)
    request = await answer(client, "item/commandExecution/requestApproval",
                           {"decision": "decline"})
    assert request["params"]["itemId"] == "call_three"
    await finish_turn(client, turn_id)


async def test_execpolicy_amendment_is_persisted_and_honoured(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await untrusted_thread(client, workdir)
    mock.push(exec_call("touch probe.txt", "call_one"), text_reply("one"))
    turn_id = await begin_turn(client, thread_id)
    request = await client.wait_server_request("item/commandExecution/requestApproval")
    amendment = request["params"]["availableDecisions"][1]
    await client.send({"id": request["id"], "result": {"decision": amendment}})
    await finish_turn(client, turn_id)
    rules = (codex_home / "rules" / "default.rules").read_text()
    assert rules == 'prefix_rule(pattern=["touch", "probe.txt"], decision="allow")\n'
    # Same prefix, more arguments: allowed by the rule, not asked.
    mock.push(exec_call("touch probe.txt more.txt", "call_two"), text_reply("two"))
    await run_turn(client, thread_id)
    assert (workdir / "more.txt").exists()
    asked = [m for m in client.received
             if m.get("method") == "item/commandExecution/requestApproval"]
    assert len(asked) == 1

    # A new server process reads the rule back from disk.
    await client.close()
    again = await open_client(codex_home, workdir, mock)
    try:
        thread_id = await untrusted_thread(again, workdir)
        mock.push(exec_call("touch probe.txt again.txt", "call_three"), text_reply("three"))
        turn = await run_turn(again, thread_id)
        assert turn["status"] == "completed"
        assert (workdir / "again.txt").exists()
        assert not [m for m in again.received
                    if m.get("method") == "item/commandExecution/requestApproval"]
    finally:
        await again.close()
    again.assert_valid()


async def test_forbidden_and_prompt_rules(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    (codex_home / "rules").mkdir()
    (codex_home / "rules" / "team.rules").write_text(
        '# team policy\n'
        'prefix_rule(pattern=["rm"], decision="forbidden")\n'
        'prefix_rule(pattern=["git", ["push", "fetch"]], decision="forbidden",\n'
        '            justification="talk to the network through the CI")\n'
        'prefix_rule(pattern=["echo", "ask"], decision="prompt")\n')
    c = await open_client(codex_home, workdir, mock)
    try:
        thread_id = await start_thread(c, workdir)  # never / full access
        mock.push(exec_call("rm -f x", "call_rm"), exec_call("git fetch origin", "call_git"),
                  exec_call("echo ask me", "call_ask"), text_reply("ok"))
        turn = await run_turn(c, thread_id)
        assert turn["status"] == "completed"
        assert tool_output(mock, "call_rm") == \
            "`/bin/bash -lc 'rm -f x'` rejected: policy forbids commands starting with `rm`"
        assert tool_output(mock, "call_git") == \
            "`/bin/bash -lc 'git fetch origin'` rejected: talk to the network through the CI"
        assert tool_output(mock, "call_ask") == \
            "approval required by policy, but AskForApproval is set to Never"
        for call_id in ("call_rm", "call_git", "call_ask"):
            assert items(c, "item/started", call_id) == []
    finally:
        await c.close()
    c.assert_valid()


async def test_decline_continues_the_turn(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await untrusted_thread(client, workdir)
    mock.push(exec_call("touch probe.txt", "call_touch"), text_reply("declined, fine"))
    start = len(client.received)
    turn_id = await begin_turn(client, thread_id)
    await answer(client, "item/commandExecution/requestApproval", {"decision": "decline"})
    turn = await finish_turn(client, turn_id)
    assert turn["status"] == "completed"
    assert not (workdir / "probe.txt").exists()
    methods = thread_methods(client, start)
    assert methods[4:10] == [
        "thread/status/changed", "item/started", "item/commandExecution/requestApproval",
        "serverRequest/resolved", "thread/status/changed", "item/completed"]
    done = items(client, "item/completed", "call_touch")[0]
    assert done["status"] == "declined" and done["exitCode"] is None
    assert done["processId"] is None and done["source"] == "agent"
    assert tool_output(mock, "call_touch") == DECLINED
    assert "rejected by user" in DECLINED
    assert len(mock.requests) == 2
    read = await client.request("thread/read", {"threadId": thread_id, "includeTurns": True})
    rebuilt = [i for t in read["thread"]["turns"] for i in t["items"]
               if i["type"] == "commandExecution"]
    assert [(i["id"], i["status"]) for i in rebuilt] == [("call_touch", "declined")]


async def test_cancel_interrupts_the_turn(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await untrusted_thread(client, workdir)
    mock.push(exec_call("touch probe.txt", "call_touch"))
    turn_id = await begin_turn(client, thread_id)
    await answer(client, "item/commandExecution/requestApproval", {"decision": "cancel"})
    turn = await finish_turn(client, turn_id)
    assert turn["status"] == "interrupted"
    assert items(client, "item/completed", "call_touch")[0]["status"] == "declined"
    assert not (workdir / "probe.txt").exists()
    assert len(mock.requests) == 1
    assert client.notifications("thread/status/changed")[-1]["params"]["status"] == \
        {"type": "idle"}
    # The next turn works and its history answers the cancelled call.
    mock.push(text_reply("after"))
    assert (await run_turn(client, thread_id))["status"] == "completed"
    history = mock.requests[-1].input
    outputs = [i for i in history if i.get("type") == "function_call_output"]
    assert [o["call_id"] for o in outputs] == ["call_touch"]
    texts = [c.get("text", "") for i in history for c in i.get("content", []) or []]
    assert any(t.startswith("<turn_aborted>") for t in texts)


async def test_error_answer_fails_the_item(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await untrusted_thread(client, workdir)
    mock.push(exec_call("touch probe.txt", "call_touch"), text_reply("ok"))
    turn_id = await begin_turn(client, thread_id)
    request = await answer(client, "item/commandExecution/requestApproval",
                           error={"code": -32000, "message": "ui crashed"})
    turn = await finish_turn(client, turn_id)
    assert turn["status"] == "completed"
    assert items(client, "item/completed", "call_touch")[0]["status"] == "failed"
    assert tool_output(mock, "call_touch") == FAILED
    assert {"threadId": thread_id, "requestId": request["id"]} in [
        n["params"] for n in client.notifications("serverRequest/resolved")]
    assert not (workdir / "probe.txt").exists()


async def test_unparseable_answer_fails_like_an_error(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await untrusted_thread(client, workdir)
    mock.push(exec_call("touch probe.txt", "call_touch"), text_reply("ok"))
    turn_id = await begin_turn(client, thread_id)
    await answer(client, "item/commandExecution/requestApproval", {"decision": "maybe"})
    await finish_turn(client, turn_id)
    assert items(client, "item/completed", "call_touch")[0]["status"] == "failed"
    assert tool_output(mock, "call_touch") == FAILED
    assert not (workdir / "probe.txt").exists()


async def test_known_safe_command_runs_without_asking(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    (workdir / "a.txt").write_text("x")
    thread_id = await untrusted_thread(client, workdir)
    mock.push(exec_call("ls", "call_ls"), text_reply("listed"))
    turn = await run_turn(client, thread_id)
    assert turn["status"] == "completed"
    assert not [m for m in client.received if m.get("method", "").endswith("requestApproval")]
    started = items(client, "item/started", "call_ls")[0]
    assert started["source"] == "unifiedExecStartup"
    assert started["commandActions"] == [{"type": "listFiles", "command": "ls", "path": None}]
    assert parse_exec_output(tool_output(mock, "call_ls"))["output"] == "a.txt\n"


@pytest.mark.parametrize("policy", ["on-request", "untrusted"])
async def test_escalation_is_asked(
    client: AppServerClient, workdir: Path, mock: MockResponses, policy: str
) -> None:
    skip_unless_sandbox()
    thread_id = await start_thread(client, workdir, approval=policy, sandbox="workspace-write")
    mock.push(exec_call("touch probe.txt", "call_esc", sandbox_permissions="require_escalated",
                        justification="needs to write"), text_reply("ok"))
    turn_id = await begin_turn(client, thread_id)
    request = await answer(client, "item/commandExecution/requestApproval",
                           {"decision": "accept"})
    await finish_turn(client, turn_id)
    params = request["params"]
    assert params["reason"] == "needs to write"
    assert params["availableDecisions"] == [
        "accept",
        {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch", "probe.txt"]}},
        "cancel",
    ]
    assert (workdir / "probe.txt").exists()
    assert items(client, "item/completed", "call_esc")[0]["status"] == "completed"


async def test_escalation_is_refused_under_never(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir, approval="never",
                                   sandbox="workspace-write")
    mock.push(exec_call("touch probe.txt", "call_esc", sandbox_permissions="require_escalated",
                        justification="please"), text_reply("ok"))
    turn = await run_turn(client, thread_id)
    assert turn["status"] == "completed"
    assert tool_output(mock, "call_esc") == (
        "approval policy is Never; reject command — you cannot ask for escalated permissions "
        "if the approval policy is Never")
    assert items(client, "item/started", "call_esc") == []
    assert not (workdir / "probe.txt").exists()


async def test_disconnect_while_asked_does_not_hang(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    first = await open_client(codex_home, workdir, mock)
    thread_id = await untrusted_thread(first, workdir)
    mock.push(exec_call("touch probe.txt", "call_touch"), text_reply("after"))
    turn_id = await begin_turn(first, thread_id)
    await first.wait_server_request("item/commandExecution/requestApproval")
    # The client goes away without answering: the server must wind down promptly.
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await first.close()
    assert loop.time() - t0 < 8, "the server hung on a pending approval"
    first.assert_valid()
    assert not (workdir / "probe.txt").exists()

    second = await open_client(codex_home, workdir, mock)
    try:
        listed = await second.request("thread/list", {})
        assert thread_id in [t["id"] for t in listed["data"]]
        read = await second.request("thread/read", {"threadId": thread_id,
                                                    "includeTurns": True})
        turns = read["thread"]["turns"]
        assert [t["id"] for t in turns] == [turn_id]
        assert turns[0]["status"] != "inProgress"
        # The next turn in the resumed thread works.
        await second.request("thread/resume", {"threadId": thread_id})
        mock.push(text_reply("resumed"))
        assert (await run_turn(second, thread_id))["status"] == "completed"
    finally:
        await second.close()
    second.assert_valid()
    rollout = next((codex_home / "sessions").rglob(f"*{thread_id}.jsonl"))
    kinds = [json.loads(line)["payload"].get("type") for line in rollout.read_text().splitlines()
             if json.loads(line)["type"] == "event_msg"]
    assert kinds.count("task_started") == 2
    assert kinds.count("task_complete") + kinds.count("turn_aborted") == 2


@contextlib.asynccontextmanager
async def ws_server(codex_home: Path, mock: MockResponses) -> AsyncIterator[Any]:
    """A websocket server on the mock, with a HOME of its own."""
    from tests.support.turns import write_config
    from tests.support.ws import WsServer

    write_config(codex_home, mock)
    home = codex_home.parent / "home"
    home.mkdir(exist_ok=True)
    server = WsServer(codex_home, env={"MOCK_API_KEY": "k", "SHELL": "/bin/bash",
                                       "HOME": str(home)})
    try:
        yield server
    finally:
        server.stop()


async def ws_client(server: Any) -> Any:
    from websockets.asyncio.client import connect

    from tests.support.ws import WsClient

    client = WsClient(await connect(server.url, proxy=None))
    await client.initialize()
    return client


async def next_of(client: Any, method: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = await client.next_message()
        if message.get("method") == method:
            return message


async def untrusted_ws_thread(client: Any, workdir: Path) -> str:
    skip_unless_sandbox()  # approved commands run under workspace-write
    started = await client.request_raw("thread/start", {
        "cwd": str(workdir), "approvalPolicy": "untrusted", "sandbox": "workspace-write"})
    return str(started["result"]["thread"]["id"])


async def test_websocket_client_gone_while_asked_interrupts_the_turn(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    async with ws_server(codex_home, mock) as server:
        first = await ws_client(server)
        thread_id = await untrusted_ws_thread(first, workdir)
        mock.push(exec_call("touch probe.txt", "call_touch"), text_reply("carried on"))
        await first.request_raw("turn/start", {
            "threadId": thread_id, "input": [{"type": "text", "text": "go"}]})
        await next_of(first, "item/commandExecution/requestApproval")
        await first.ws.close()
        assert not first.violations

        # Nobody can answer any more: the request is cancelled and the turn interrupted.
        second = await ws_client(server)
        for _ in range(50):
            read = await second.request_raw("thread/read", {"threadId": thread_id,
                                                            "includeTurns": True})
            turns = read["result"]["thread"]["turns"]
            if turns and turns[0]["status"] != "inProgress":
                break
            await asyncio.sleep(0.1)
        assert turns[0]["status"] == "interrupted"
        command = [i for i in turns[0]["items"] if i["type"] == "commandExecution"]
        assert [(i["id"], i["status"]) for i in command] == [("call_touch", "declined")]
        listed = await second.request_raw("thread/list", {})
        assert thread_id in [t["id"] for t in listed["result"]["data"]]
        assert len(mock.requests) == 1  # no follow-up request: the turn stopped
        assert not (workdir / "probe.txt").exists()
        await second.ws.close()
        assert not second.violations


async def test_approval_goes_to_another_subscriber_when_the_asked_one_leaves(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    async with ws_server(codex_home, mock) as server:
        first = await ws_client(server)
        thread_id = await untrusted_ws_thread(first, workdir)
        # a first turn writes the rollout: a thread with none cannot be resumed (as 0.171)
        mock.push(text_reply("ready"))
        await first.request_raw("turn/start", {
            "threadId": thread_id, "input": [{"type": "text", "text": "hello"}]})
        await next_of(first, "turn/completed")
        second = await ws_client(server)
        await second.request_raw("thread/resume", {"threadId": thread_id})
        mock.push(exec_call("touch probe.txt", "call_touch"), text_reply("done"))
        await first.request_raw("turn/start", {
            "threadId": thread_id, "input": [{"type": "text", "text": "go"}]})
        await next_of(first, "item/commandExecution/requestApproval")
        await first.ws.close()
        # the approval is asked again, of the client that is left
        request = await next_of(second, "item/commandExecution/requestApproval")
        await second.ws.send(json.dumps({"id": request["id"],
                                         "result": {"decision": "accept"}}))
        done = await next_of(second, "turn/completed")
        assert done["params"]["turn"]["status"] == "completed"
        assert (workdir / "probe.txt").exists()
        await second.ws.close()
        assert not second.violations
