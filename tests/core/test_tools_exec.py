"""``exec_command`` / ``write_stdin`` driven end to end through a spawned server and the
mock Responses API: the ``commandExecution`` item stream, the exact tool output the model
gets back, long-running processes, stdin, and the sandbox as the engine applies it."""

from __future__ import annotations

from pathlib import Path

from tests.support.client import AppServerClient
from tests.support.exec import (
    exec_call,
    items,
    parse_exec_output,
    run_turn,
    start_thread,
    thread_methods,
    tool_output,
)
from tests.support.mock_responses import (
    MockResponses,
    RecordedRequest,
    Reply,
    function_call_reply,
    text_reply,
)
from tests.support.sandbox import skip_unless_sandbox


# -- tests ----------------------------------------------------------------------------------
async def test_echo_streams_the_command_item_and_feeds_the_output_back(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(exec_call("echo hi", "call_echo"), text_reply("done"))
    start = len(client.received)
    turn = await run_turn(client, thread_id)
    assert turn["status"] == "completed"
    assert thread_methods(client, start) == [
        "thread/status/changed", "turn/started", "item/started", "item/completed",
        "item/started", "item/commandExecution/outputDelta", "item/completed",
        "item/started", "item/agentMessage/delta", "item/completed",
        "thread/readState/changed", "thread/status/changed", "turn/completed",
    ]
    started = client.notifications("item/started")[1]["params"]
    item = started["item"]
    assert item["processId"].isdigit()
    assert item == {
        "type": "commandExecution", "id": "call_echo", "command": "/bin/bash -lc 'echo hi'",
        "cwd": str(workdir), "processId": item["processId"], "source": "unifiedExecStartup",
        "status": "inProgress", "commandActions": [{"type": "unknown", "command": "echo hi"}],
        "aggregatedOutput": None, "exitCode": None, "durationMs": None,
        "startedAtMs": started["startedAtMs"], "completedAtMs": None,
    }
    delta = client.notifications("item/commandExecution/outputDelta")[0]["params"]
    assert delta == {"threadId": thread_id, "turnId": started["turnId"], "itemId": "call_echo",
                     "delta": "hi\n"}
    done = items(client, "item/completed", "call_echo")[0]
    assert isinstance(done["durationMs"], int) and done["completedAtMs"] >= done["startedAtMs"]
    assert done == {**item, "status": "completed", "exitCode": 0, "aggregatedOutput": "hi\n",
                    "durationMs": done["durationMs"], "completedAtMs": done["completedAtMs"]}

    assert len(mock.requests) == 2
    last = mock.requests[1].input[-1]
    assert last["type"] == "function_call_output" and last["call_id"] == "call_echo"
    output = last["output"]
    assert output.startswith("Chunk ID: ")
    assert "Process exited with code 0\n" in output and output.endswith("Output:\nhi\n")
    match = parse_exec_output(output)
    assert match["code"] == "0" and match["output"] == "hi\n"
    call = mock.requests[1].input[-2]
    assert call["type"] == "function_call" and call["call_id"] == "call_echo"


async def test_non_zero_exit_fails_the_item_and_reports_the_code(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(exec_call("echo oops >&2; exit 3", "call_fail"), text_reply("noted"))
    turn = await run_turn(client, thread_id)
    assert turn["status"] == "completed"
    done = items(client, "item/completed", "call_fail")[0]
    assert done["status"] == "failed" and done["exitCode"] == 3
    assert done["aggregatedOutput"] == "oops\n"
    match = parse_exec_output(tool_output(mock, "call_fail"))
    assert match["code"] == "3" and match["output"] == "oops\n"


async def test_workdir_argument_and_missing_cmd(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    (workdir / "sub").mkdir()
    thread_id = await start_thread(client, workdir)
    mock.push(exec_call("pwd", "call_pwd", workdir="sub"),
              function_call_reply("exec_command", {"command": "ls"}, call_id="call_bad"),
              text_reply("ok"))
    await run_turn(client, thread_id)
    started = items(client, "item/started", "call_pwd")[0]
    assert started["cwd"] == str(workdir / "sub")
    assert parse_exec_output(tool_output(mock, "call_pwd"))["output"] == f"{workdir / 'sub'}\n"
    assert tool_output(mock, "call_bad") == \
        "failed to parse function arguments: missing field `cmd`"
    assert items(client, "item/started", "call_bad") == []


def _session_id(request: RecordedRequest, call_id: str) -> int:
    for item in request.input:
        if item.get("call_id") == call_id and item.get("type") == "function_call_output":
            match = parse_exec_output(item["output"])
            assert match["sid"], item["output"]
            return int(match["sid"])
    raise AssertionError(f"no output for {call_id}")


async def test_long_running_command_yields_a_session_and_write_stdin_polls_it(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    script = [exec_call("echo start; sleep 1; echo done", "call_slow", yield_time_ms=250)]

    def responder(request: RecordedRequest) -> Reply | None:
        if len(mock.requests) == 1:  # the second request (it is recorded after this)
            sid = _session_id(request, "call_slow")
            return function_call_reply("write_stdin", {"session_id": sid, "chars": ""},
                                       call_id="call_poll")
        return script.pop(0) if script else text_reply("finished")

    mock.responder = responder
    start = len(client.received)
    turn = await run_turn(client, thread_id)
    assert turn["status"] == "completed"
    first = parse_exec_output(tool_output(mock, "call_slow"))
    assert first["sid"] is not None and first["code"] is None
    assert first["output"] == "start\n"
    assert first.group(0).split("\n")[2] == f"Process running with session ID {first['sid']}"
    poll = parse_exec_output(tool_output(mock, "call_poll"))
    assert poll["code"] == "0" and poll["output"] == "done\n"
    done = items(client, "item/completed", "call_slow")[0]
    assert done["status"] == "completed" and done["aggregatedOutput"] == "start\ndone\n"
    deltas = [n["params"]["delta"] for n in client.notifications(
        "item/commandExecution/outputDelta")]
    assert "".join(deltas) == "start\ndone\n"
    # The item completes after the poll returned, before the model's answer.
    methods = thread_methods(client, start)
    assert methods.index("item/completed", methods.index("item/started", 4)) < \
        len(methods) - 3
    # Polling a finished session is an error for the model.
    mock.responder = None
    mock.push(function_call_reply("write_stdin", {"session_id": int(first["sid"])},
                                  call_id="call_gone"), text_reply("ok"))
    await run_turn(client, thread_id)
    assert tool_output(mock, "call_gone") == f"Unknown process id {first['sid']}"


async def test_write_stdin_talks_to_cat(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)

    def responder(request: RecordedRequest) -> Reply | None:
        if not mock.requests:
            return exec_call("cat", "call_cat", yield_time_ms=250, tty=False)
        if len(mock.requests) == 1:
            sid = _session_id(request, "call_cat")
            return function_call_reply("write_stdin", {"session_id": sid,
                                                       "chars": "ping\n"},
                                       call_id="call_write")
        return text_reply("ok")

    mock.responder = responder
    turn = await run_turn(client, thread_id)
    assert turn["status"] == "completed"
    opened = parse_exec_output(tool_output(mock, "call_cat"))
    assert opened["output"] == "" and opened["sid"]
    written = parse_exec_output(tool_output(mock, "call_write"))
    assert written["sid"] == opened["sid"] and written["output"] == "ping\n"
    interaction = client.notifications("item/commandExecution/terminalInteraction")
    assert [n["params"] for n in interaction] == [{
        "threadId": thread_id, "turnId": turn["id"], "itemId": "call_cat",
        "processId": items(client, "item/started", "call_cat")[0]["processId"],
        "stdin": "ping\n"}]
    # cat is still running: its item has not completed.
    assert items(client, "item/completed", "call_cat") == []


# -- the sandbox as the engine applies it ----------------------------------------------------
async def test_workspace_write_sandbox_confines_writes(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    skip_unless_sandbox()
    (workdir / ".git").mkdir()
    outside = workdir.parent / "outside.txt"
    thread_id = await start_thread(client, workdir, approval="never",
                                   sandbox="workspace-write")
    mock.push(exec_call("touch inside.txt", "call_in"),
              exec_call(f"touch {outside}", "call_out"),
              exec_call("touch /tmp/../etc/pycodex-escape", "call_etc"),
              exec_call("touch .git/config", "call_git"),
              text_reply("ok"))
    # The test's workdir lives under /tmp, so /tmp and $TMPDIR must not be writable roots.
    policy = {"type": "workspaceWrite", "writableRoots": [], "networkAccess": False,
              "excludeTmpdirEnvVar": True, "excludeSlashTmp": True}
    turn = await run_turn(client, thread_id, sandboxPolicy=policy)
    assert turn["status"] == "completed"
    assert (workdir / "inside.txt").exists()
    assert parse_exec_output(tool_output(mock, "call_in"))["code"] == "0"
    for call_id in ("call_out", "call_etc", "call_git"):
        match = parse_exec_output(tool_output(mock, call_id))
        assert match["code"] not in (None, "0"), call_id
        assert "Read-only file system" in match["output"] or \
            "Permission denied" in match["output"], match["output"]
        assert items(client, "item/completed", call_id)[0]["status"] == "failed"
    assert not outside.exists()
    assert not Path("/etc/pycodex-escape").exists()
    assert not (workdir / ".git" / "config").exists()
