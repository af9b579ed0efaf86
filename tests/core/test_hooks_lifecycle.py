"""Hook events beyond the tool and prompt ones (extensions.md §3), as the reference 0.171
runs them: ``PermissionRequest`` deciding an approval instead of the client,
``PreModelRequest``/``PostModelRequest`` around every model request, ``SessionEnd`` when a
thread is unloaded, and ``continue: false`` ending a turn. Real hook scripts (their output
chosen per event) run in turns against the mock model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.support.client import AppServerClient
from tests.support.exec import begin_turn, exec_call, finish_turn, start_thread, tool_output
from tests.support.hooks import LOG_STDIN, handler_groups, runs, trust_all
from tests.support.mock_responses import (
    MockResponses,
    custom_tool_call_reply,
    failed_reply,
    slow_text_reply,
    text_reply,
)

#: logs its stdin to LOG/<event>.jsonl and answers as OUTPUTS[event] says
#: (``stdout``, ``stderr``, ``exit``)
SCRIPT = LOG_STDIN + """\
out = OUTPUTS.get(event, {})
if "stdout" in out:
    print(out["stdout"] if isinstance(out["stdout"], str) else json.dumps(out["stdout"]))
if "stderr" in out:
    sys.stderr.write(out["stderr"])
sys.exit(out.get("exit", 0))
"""


async def install(client: AppServerClient, codex_home: Path, cwd: Path, tmp_path: Path,
                  events: list[str], outputs: dict[str, Any] | None = None) -> Path:
    """The script for ``events`` in the user hooks.json, trusted; returns its log folder."""
    log = tmp_path / "hook-log"
    log.mkdir(exist_ok=True)
    script = tmp_path / "lifecycle_hook.py"
    script.write_text(f"LOG = {str(log)!r}\nOUTPUTS = {outputs or {}!r}\n" + SCRIPT)
    (codex_home / "hooks.json").write_text(json.dumps(handler_groups(
        f"{sys.executable} {script}", dict.fromkeys(events))))
    await trust_all(client, cwd)
    return log


def stdin_of(log: Path, event: str) -> list[dict[str, Any]]:
    path = log / f"{event}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def completed(client: AppServerClient, event: str) -> list[tuple[str, list[Any]]]:
    return [(r["status"], r["entries"]) for r in runs(client, "hook/completed")
            if r["eventName"] == event]


def escalated(cmd: str, call_id: str) -> Any:
    return exec_call(cmd, call_id, sandbox_permissions="require_escalated",
                     justification="needs to write")


def deny(message: str) -> dict[str, Any]:
    return {"hookSpecificOutput": {"hookEventName": "PermissionRequest",
                                   "decision": {"behavior": "deny", "message": message}}}


# -- PermissionRequest -------------------------------------------------------------------------
async def test_permission_hook_denial_replaces_the_approval_request(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install(client, codex_home, workdir, tmp_path,
                        ["PreToolUse", "PermissionRequest", "PostToolUse"],
                        {"PermissionRequest": {"stdout": deny("not on this repo")}})
    thread_id = await start_thread(client, workdir, approval="on-request", sandbox="read-only")
    mock.push(escalated("touch made.txt", "c1"), text_reply("ok"))
    turn_id = await begin_turn(client, thread_id)
    await finish_turn(client, turn_id)
    assert not (workdir / "made.txt").exists()
    assert not [m for m in client.received if m.get("method", "").endswith("requestApproval")]
    assert not [n for n in client.notifications("item/started")
                if n["params"]["item"]["type"] == "commandExecution"]
    assert tool_output(mock, "c1") == (
        'exec_command failed: CreateProcess { message: "Rejected(\\"not on this repo\\")" }')
    run = [r for r in runs(client, "hook/completed") if r["eventName"] == "permissionRequest"]
    assert [(r["id"].rsplit(":", 1)[-1], r["status"], r["entries"]) for r in run] == [
        ("c1", "blocked", [{"kind": "feedback", "text": "not on this repo"}])]
    (received,) = stdin_of(log, "PermissionRequest")
    assert received == {
        "session_id": thread_id, "turn_id": turn_id, "transcript_path": received[
            "transcript_path"], "cwd": str(workdir), "hook_event_name": "PermissionRequest",
        "model": "gpt-5.5", "permission_mode": "default", "tool_name": "Bash",
        "tool_input": {"command": "touch made.txt", "description": "needs to write"}}
    assert list(received) == ["session_id", "turn_id", "transcript_path", "cwd",
                              "hook_event_name", "model", "permission_mode", "tool_name",
                              "tool_input"]
    # the tool never ran: PreToolUse saw it, PostToolUse did not
    assert (len(stdin_of(log, "PreToolUse")), stdin_of(log, "PostToolUse")) == (1, [])


async def test_permission_hook_approval_runs_without_asking_and_exit_2_denies(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    allow = {"hookSpecificOutput": {"hookEventName": "PermissionRequest",
                                    "decision": {"behavior": "allow"}}}
    await install(client, codex_home, workdir, tmp_path, ["PermissionRequest"],
                  {"PermissionRequest": {"stdout": allow}})
    thread_id = await start_thread(client, workdir, approval="on-request", sandbox="read-only")
    mock.push(escalated("touch made.txt", "c1"), text_reply("ok"))
    await finish_turn(client, await begin_turn(client, thread_id))
    assert (workdir / "made.txt").exists()
    assert not [m for m in client.received if m.get("method", "").endswith("requestApproval")]
    assert completed(client, "permissionRequest") == [("completed", [])]
    # exit code 2 with a reason on stderr denies; without one the run fails and the
    # client is asked as usual
    await install(client, codex_home, workdir, tmp_path, ["PermissionRequest"],
                  {"PermissionRequest": {"stderr": "blocked by policy", "exit": 2}})
    mock.push(escalated("touch second.txt", "c2"), text_reply("ok"))
    await finish_turn(client, await begin_turn(client, thread_id))
    assert not (workdir / "second.txt").exists()
    assert tool_output(mock, "c2") == (
        'exec_command failed: CreateProcess { message: "Rejected(\\"blocked by policy\\")" }')
    await install(client, codex_home, workdir, tmp_path, ["PermissionRequest"],
                  {"PermissionRequest": {"exit": 2}})
    client.auto_answers["item/commandExecution/requestApproval"] = lambda _: {
        "decision": "accept"}
    mock.push(escalated("touch third.txt", "c3"), text_reply("ok"))
    await finish_turn(client, await begin_turn(client, thread_id))
    assert (workdir / "third.txt").exists()
    assert completed(client, "permissionRequest")[1:] == [
        ("blocked", [{"kind": "feedback", "text": "blocked by policy"}]),
        ("failed", [{"kind": "error", "text": "PermissionRequest hook exited with code 2 but "
                                              "did not write a denial reason to stderr"}])]


async def test_permission_hook_decides_a_patch_approval(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    patch = "*** Begin Patch\n*** Add File: new.txt\n+hello\n*** End Patch"
    log = await install(client, codex_home, workdir, tmp_path,
                        ["PermissionRequest", "PostToolUse"],
                        {"PermissionRequest": {"stdout": deny("no edits")}})
    thread_id = await start_thread(client, workdir, approval="on-request", sandbox="read-only")
    mock.push(custom_tool_call_reply("apply_patch", patch, call_id="p1"), text_reply("ok"))
    await finish_turn(client, await begin_turn(client, thread_id))
    assert not (workdir / "new.txt").exists()
    assert not [m for m in client.received if m.get("method", "").endswith("requestApproval")]
    change = [n["params"]["item"]["status"] for n in client.notifications("item/completed")
              if n["params"]["item"]["type"] == "fileChange"]
    assert (change, tool_output(mock, "p1")) == (["declined"], "no edits")
    (received,) = stdin_of(log, "PermissionRequest")
    assert (received["tool_name"], received["tool_input"]) == (
        "apply_patch", {"command": patch})
    assert stdin_of(log, "PostToolUse") == []


# -- PreModelRequest / PostModelRequest ------------------------------------------------------
async def test_model_request_hooks_run_around_each_request(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install(client, codex_home, workdir, tmp_path,
                        ["PreModelRequest", "PostModelRequest"],
                        {"PreModelRequest": {"stdout": "{their stdout is not read"},
                         "PostModelRequest": {"stderr": "post broke", "exit": 1}})
    thread_id = await start_thread(client, workdir)
    mock.push(exec_call("true", "c1"), text_reply("done", response_id="resp_last"))
    turn_id = await begin_turn(client, thread_id)
    await finish_turn(client, turn_id)
    pre, post = stdin_of(log, "PreModelRequest"), stdin_of(log, "PostModelRequest")
    assert len(pre) == len(post) == 2
    assert [p["request_id"] for p in pre] == [p["request_id"] for p in post]
    assert pre[0] == {
        "kind": "sampling", "request_id": pre[0]["request_id"], "attempt_number": 1,
        "session_id": thread_id, "thread_id": thread_id, "turn_id": turn_id,
        "cwd": str(workdir), "transcript_path": pre[0]["transcript_path"], "model": "gpt-5.5",
        "hook_event_name": "PreModelRequest"}
    assert list(pre[0]) == ["kind", "request_id", "attempt_number", "session_id",
                            "thread_id", "turn_id", "cwd", "transcript_path", "model",
                            "hook_event_name"]
    assert post[1] == {**pre[1], "hook_event_name": "PostModelRequest", "status": "completed",
                       "error": None, "token_usage": post[1]["token_usage"],
                       "response_id": "resp_last"}
    assert set(post[1]["token_usage"]) == {
        "input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens",
        "reasoning_output_tokens", "total_tokens"}
    ids = {(r["eventName"], r["id"]) for r in runs(client, "hook/started")}
    source = codex_home / "hooks.json"
    assert ids == {(event, f"{kebab}:{order}:{source}:{p['request_id']}")
                   for event, kebab, order in (("preModelRequest", "pre-model-request", 0),
                                               ("postModelRequest", "post-model-request", 1))
                   for p in pre}
    assert completed(client, "preModelRequest") == [("completed", [])] * 2
    assert completed(client, "postModelRequest") == [
        ("failed", [{"kind": "error", "text": "post broke"}])] * 2


async def test_post_model_request_reports_a_failed_request_before_the_turn_ends(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install(client, codex_home, workdir, tmp_path, ["PostModelRequest"])
    thread_id = await start_thread(client, workdir)
    mock.push(failed_reply())
    turn = await finish_turn(client, await begin_turn(client, thread_id))
    assert turn["status"] == "failed"
    (post,) = stdin_of(log, "PostModelRequest")
    assert (post["status"], post["error"], post["token_usage"], post["response_id"]) == (
        "failed", turn["error"]["message"], None, None)
    methods = [m["method"] for m in client.received if "method" in m]
    assert methods.index("hook/completed") < methods.index("turn/completed")


# -- SessionEnd --------------------------------------------------------------------------------
async def test_session_end_runs_when_the_server_exits(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install(client, codex_home, workdir, tmp_path, ["SessionStart", "SessionEnd"])
    idle = await start_thread(client, workdir)  # never ran anything: ends all the same
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("hi"))
    await finish_turn(client, await begin_turn(client, thread_id))
    assert stdin_of(log, "SessionEnd") == []
    assert await client.close() == 0
    (start,) = stdin_of(log, "SessionStart")
    ends = {end["session_id"]: end for end in stdin_of(log, "SessionEnd")}
    assert set(ends) == {idle, thread_id} and ends[idle]["reason"] == "other"
    assert ends[thread_id] == {
        "session_id": thread_id, "transcript_path": start["transcript_path"],
        "cwd": str(workdir), "hook_event_name": "SessionEnd", "reason": "other"}


# -- continue: false ---------------------------------------------------------------------------
async def test_continue_false_ends_the_turn_before_the_prompt(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    halt = {"continue": False, "stopReason": "halt now"}
    log = await install(client, codex_home, workdir, tmp_path,
                        ["SessionStart", "UserPromptSubmit", "Stop"],
                        {"UserPromptSubmit": {"stdout": halt}, "SessionStart": {"stdout": {
                            "continue": False, "stopReason": "no session"}}})
    thread_id = await start_thread(client, workdir)
    # SessionStart stops the first turn before UserPromptSubmit even runs
    turn = await finish_turn(client, await begin_turn(client, thread_id, "hello"))
    assert (turn["status"], turn["items"]) == ("completed", [])
    assert completed(client, "sessionStart") == [
        ("stopped", [{"kind": "stop", "text": "no session"}])]
    assert stdin_of(log, "UserPromptSubmit") == []
    # then UserPromptSubmit stops the next one; SessionStart does not run again
    turn = await finish_turn(client, await begin_turn(client, thread_id, "hello"))
    assert (turn["status"], turn["items"]) == ("completed", [])
    assert mock.requests == [] and stdin_of(log, "Stop") == []
    assert not client.notifications("item/started")
    assert len(stdin_of(log, "SessionStart")) == 1
    assert completed(client, "userPromptSubmit") == [
        ("stopped", [{"kind": "stop", "text": "halt now"}])]


async def test_stop_hook_continue_false_reports_the_reason(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    await install(client, codex_home, workdir, tmp_path, ["Stop"],
                  {"Stop": {"stdout": {"continue": False, "stopReason": "enough"}}})
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("done"))
    turn = await finish_turn(client, await begin_turn(client, thread_id))
    assert turn["status"] == "completed" and len(mock.requests) == 1
    assert completed(client, "stop") == [("stopped", [{"kind": "stop", "text": "enough"}])]


# -- SessionStart source ---------------------------------------------------------------------
async def test_session_start_source_follows_thread_start(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install(client, codex_home, workdir, tmp_path, ["SessionStart"])
    sources = []
    for params in ({"sessionStartSource": "clear"}, {"sessionStartSource": None}, {}):
        thread_id = await start_thread(client, workdir, **params)
        mock.push(text_reply("hi"))
        await finish_turn(client, await begin_turn(client, thread_id))
        sources.append((stdin_of(log, "SessionStart")[-1]["session_id"] == thread_id,
                        stdin_of(log, "SessionStart")[-1]["source"]))
    assert sources == [(True, "clear"), (True, "startup"), (True, "startup")]


async def test_session_start_source_after_a_restart_and_for_a_fork(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install(client, codex_home, workdir, tmp_path, ["SessionStart"])
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("hi"))
    await finish_turn(client, await begin_turn(client, thread_id))
    assert await client.close() == 0
    again = AppServerClient(codex_home, cwd=workdir, env=client.env)
    await again.start()
    try:
        await again.initialize()
        await again.request("thread/resume", {"threadId": thread_id})
        mock.push(text_reply("resumed"))
        await finish_turn(again, await begin_turn(again, thread_id))
        fork = (await again.request("thread/fork", {"threadId": thread_id}))["thread"]["id"]
        mock.push(text_reply("forked"))
        await finish_turn(again, await begin_turn(again, fork))
    finally:
        await again.close()
    again.assert_valid()
    assert [(d["session_id"], d["source"]) for d in stdin_of(log, "SessionStart")] == [
        (thread_id, "startup"), (thread_id, "resume"), (fork, "fork")]


# -- review ------------------------------------------------------------------------------------
async def test_review_runs_prompt_and_model_hooks_but_not_session_or_stop(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install(client, codex_home, workdir, tmp_path,
                        ["SessionStart", "UserPromptSubmit", "PreModelRequest",
                         "PostModelRequest", "Stop"])
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("plain words"))
    answer = await client.request("review/start", {
        "threadId": thread_id, "target": {"type": "custom", "instructions": "check typos"}})
    await finish_turn(client, answer["turn"]["id"])
    events = [n["params"]["run"]["eventName"] for n in client.received
              if n.get("method") == "hook/completed"]
    assert events == ["userPromptSubmit", "preModelRequest", "postModelRequest"]
    last = [m.get("method") for m in client.received if "method" in m][-1]
    assert last == "turn/completed"  # nothing of the review's hooks runs after it
    (prompt,) = stdin_of(log, "UserPromptSubmit")
    assert "check typos" in prompt["prompt"]
    assert stdin_of(log, "SessionStart") == stdin_of(log, "Stop") == []


async def test_pre_compact_continue_false_stops_the_compaction(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install(client, codex_home, workdir, tmp_path,
                        ["PreCompact", "PostCompact", "Interrupt"],
                        {"PreCompact": {"stdout": {"continue": False, "stopReason": "keep"}}})
    thread_id = await start_thread(client, workdir)
    assert await client.request("thread/compact/start", {"threadId": thread_id}) == {}
    done = await client.wait_notification("turn/completed")
    assert (done["turn"]["status"], mock.requests) == ("interrupted", [])
    assert not client.notifications("item/started")
    assert completed(client, "preCompact") == [("stopped", [{"kind": "stop", "text": "keep"}])]
    assert completed(client, "interrupt") == [("completed", [])]
    assert stdin_of(log, "PostCompact") == []


# -- tool hooks' universal fields, steering ----------------------------------------------------
async def test_tool_hooks_continue_false(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    """PreToolUse cannot stop anything (the call runs); PostToolUse's ``stopReason``
    replaces the tool's output and the turn goes on."""
    await install(client, codex_home, workdir, tmp_path, ["PreToolUse", "PostToolUse"], {
        "PreToolUse": {"stdout": {"continue": False, "stopReason": "pre halt"}},
        "PostToolUse": {"stdout": {"continue": False, "stopReason": "post halt"}}})
    thread_id = await start_thread(client, workdir)
    mock.push(exec_call("touch ran.txt", "c1"), text_reply("done"))
    turn = await finish_turn(client, await begin_turn(client, thread_id))
    assert (workdir / "ran.txt").exists() and len(mock.requests) == 2
    assert turn["status"] == "completed"
    assert completed(client, "preToolUse") == [("failed", [
        {"kind": "error", "text": "PreToolUse hook returned unsupported continue:false"}])]
    assert completed(client, "postToolUse") == [("stopped", [
        {"kind": "stop", "text": "post halt"}])]
    assert tool_output(mock, "c1") == "post halt"


async def test_post_tool_use_block_replaces_the_output(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    await install(client, codex_home, workdir, tmp_path, ["PostToolUse"], {"PostToolUse": {
        "stdout": {"decision": "block", "reason": "bad output", "hookSpecificOutput": {
            "hookEventName": "PostToolUse", "additionalContext": "more ctx"}}}})
    thread_id = await start_thread(client, workdir)
    mock.push(exec_call("echo hi", "c1"), text_reply("done"))
    await finish_turn(client, await begin_turn(client, thread_id))
    assert completed(client, "postToolUse") == [("blocked", [
        {"kind": "context", "text": "more ctx"}, {"kind": "feedback", "text": "bad output"}])]
    last = mock.requests[-1].body["input"]
    assert [(i["type"], i.get("role")) for i in last[-2:]] == [
        ("message", "developer"), ("function_call_output", None)]
    assert (last[-2]["content"][0]["text"], last[-1]["output"]) == ("more ctx", "bad output")


async def test_steered_input_runs_user_prompt_submit(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    context = {"hookSpecificOutput": {"hookEventName": "UserPromptSubmit",
                                      "additionalContext": "CTX"}}
    log = await install(client, codex_home, workdir, tmp_path, ["UserPromptSubmit"],
                        {"UserPromptSubmit": {"stdout": context}})
    thread_id = await start_thread(client, workdir)
    mock.push(slow_text_reply("a", "b", "c", "d", interval=0.3), text_reply("saw it"))
    turn_id = await begin_turn(client, thread_id, "hello")
    await client.wait_notification("item/agentMessage/delta")
    await client.request("turn/steer", {"threadId": thread_id, "expectedTurnId": turn_id,
                                        "input": [{"type": "text", "text": "steered"}]})
    await finish_turn(client, turn_id)
    assert [d["prompt"] for d in stdin_of(log, "UserPromptSubmit")] == ["hello", "steered"]
    texts = [(i["role"], i["content"][0]["text"]) for i in mock.requests[-1].body["input"]
             if i.get("type") == "message"]
    for prompt in ("hello", "steered"):  # each prompt is followed by its hook's context
        at = texts.index(("user", prompt))
        assert texts[at + 1] == ("developer", "CTX")
    assert texts[-1] == ("developer", "CTX")


# -- trust and enablement persist ----------------------------------------------------------------
async def test_trust_and_disabling_survive_a_restart(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install(client, codex_home, workdir, tmp_path, ["UserPromptSubmit", "Stop"])
    hooks = (await client.request("hooks/list", {"cwds": [str(workdir)]}))["data"][0]["hooks"]
    prompt_key = next(h["key"] for h in hooks if h["eventName"] == "userPromptSubmit")
    await client.request("config/value/write", {
        "keyPath": f'hooks.state."{prompt_key}".enabled', "value": False,
        "mergeStrategy": "replace"})
    assert await client.close() == 0
    again = AppServerClient(codex_home, cwd=workdir, env=client.env)
    await again.start()
    try:
        await again.initialize()
        listed = await again.request("hooks/list", {"cwds": [str(workdir)]})
        assert [(h["eventName"], h["enabled"], h["trustStatus"])
                for h in listed["data"][0]["hooks"]] == [
            ("userPromptSubmit", False, "trusted"), ("stop", True, "trusted")]
        thread_id = await start_thread(again, workdir)
        mock.push(text_reply("hi"))
        await finish_turn(again, await begin_turn(again, thread_id))
    finally:
        await again.close()
    again.assert_valid()
    assert (stdin_of(log, "UserPromptSubmit"), len(stdin_of(log, "Stop"))) == ([], 1)


# -- what PreToolUse output the reference accepts ------------------------------------------------
def _pre(**specific: Any) -> dict[str, Any]:
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", **specific}}


PRE_TOOL_CASES: list[tuple[Any, str, str | None]] = [
    # (hook stdout, run status, error text); probed on the reference 0.171
    (_pre(permissionDecision="allow"), "failed", "unsupported permissionDecision:allow"),
    (_pre(permissionDecision="ask"), "failed", "unsupported permissionDecision:ask"),
    ({"decision": "approve"}, "failed", "unsupported decision:approve"),
    (_pre(permissionDecision="deny"), "failed",
     "permissionDecision:deny without a non-empty permissionDecisionReason"),
    ({"reason": "why"}, "failed", "reason without decision"),
    (_pre(updatedInput={"command": "echo changed"}), "failed",
     "updatedInput without permissionDecision:allow"),
    ({"decision": "block"}, "failed", "decision:block without a non-empty reason"),
    ({"suppressOutput": True}, "failed", "unsupported suppressOutput"),
    (_pre(permissionDecision="deny", permissionDecisionReason="  nope  "), "blocked", None),
    ("{not json", "failed", None),
]


async def test_pre_tool_use_output_is_validated_as_the_reference_does(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    thread_id = await start_thread(client, workdir)
    for index, (stdout, status, error) in enumerate(PRE_TOOL_CASES):
        await install(client, codex_home, workdir, tmp_path, ["PreToolUse"],
                      {"PreToolUse": {"stdout": stdout}})
        call_id = f"c{index}"
        mock.push(exec_call("echo hi", call_id), text_reply("done"))
        await finish_turn(client, await begin_turn(client, thread_id))
        run = runs(client, "hook/completed")[-1]
        output = tool_output(mock, call_id)
        if status == "blocked":
            assert run["entries"] == [{"kind": "feedback", "text": "nope"}]
            assert output == "Command blocked by PreToolUse hook: nope. Command: echo hi"
            continue
        text = ("hook returned invalid pre-tool-use JSON output" if error is None
                else f"PreToolUse hook returned {error}")
        assert (run["status"], run["entries"]) == (status, [{"kind": "error", "text": text}])
        assert output.endswith("Output:\nhi\n"), stdout  # the command ran unchanged


async def test_a_block_needs_a_reason(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    await install(client, codex_home, workdir, tmp_path, ["UserPromptSubmit", "Stop"], {
        "UserPromptSubmit": {"stdout": {"decision": "block", "reason": " "}},
        "Stop": {"stdout": {"decision": "block"}}})
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("done"))
    turn = await finish_turn(client, await begin_turn(client, thread_id))
    assert turn["status"] == "completed" and len(mock.requests) == 1
    assert [(r["eventName"], r["status"], r["entries"]) for r in runs(client, "hook/completed")
            ] == [(event, "failed", [{"kind": "error", "text": f"{name} hook returned "
                                      "decision:block without a non-empty reason"}])
                  for event, name in (("userPromptSubmit", "UserPromptSubmit"),
                                      ("stop", "Stop"))]


# -- listing: which events take a matcher, timeouts, trust hashes --------------------------------
#: (event, matcher listed, timeoutSec, currentHash) for ``matcher = "x"`` and
#: ``command = "echo <Event>"`` inline in config.toml, as the reference 0.171 lists them
LISTED = [
    ("preModelRequest", None, 600,
     "a898b57d4a8082891b88c205302fd3093e3fbeaaef81d58e6ac518170e717caf"),
    ("postModelRequest", None, 600,
     "3e9a0a0029681dcef277228172c9302ad0c844b8ec90a2c3dec62f9c9fb8d492"),
    ("preToolUse", "x", 600,
     "de9a38c4dd87d3531a2b98aca4917c4842047aa96d23663a14c15c1ba3745fb7"),
    ("permissionRequest", "x", 600,
     "99456b169d1aaa85cf676b2f45469fa5bb9c32bb85d0b96b2cfaf071994bf660"),
    ("postToolUse", "x", 600,
     "c47963b0f27245749b6514d892fb02406c2e8131087fb1c80d66db4c45b06c24"),
    ("preCompact", "x", 600,
     "6e90e316a08ca9cbfe1e21900985f6c07c897ac80929e7fde7780f3c7b0d46ad"),
    ("postCompact", "x", 600,
     "29b3a1f4366ec1b2b8a01abc736278095a92efe2891178469d548b85ad25b7df"),
    ("sessionStart", "x", 600,
     "b66ca5df1fe85f546cbadeada14b3f3e655e0b9cbfb08e6a6c31d4a2164dc8b5"),
    ("sessionEnd", "x", 1,
     "66d2f6f8679313408fa6c38cec9974dffa9b682ca1ac4718cbebe43a6081e819"),
    ("userPromptSubmit", None, 600,
     "743ba7e2ae9eb1598441def7bc593add4241e493fe567b28567db3c2b82b1a71"),
    ("subagentStart", "x", 600,
     "a4bf8ed44d34f130318f73042abf700da7eead190e3ca51b617a97edf5af0b05"),
    ("subagentStop", "x", 600,
     "5d33d695677f2e9e69432da1c31a10e24dfefb70b1bb092987122f5a3070ded8"),
    ("stop", None, 600,
     "7773e56566e95134864bef4b6cd2d68e86a6321cbd95c91839a8bf57958fd74a"),
    ("interrupt", None, 1,
     "e267be66a406f8e0d639a8e26c32750c665ae169716d5eec2f84ad49e3659d58"),
]


def _inline(event: str, **keys: Any) -> str:
    lines = [f"\n[[hooks.{event}]]", *(f"{k} = {json.dumps(v)}" for k, v in keys.items()
                                      if k == "matcher"),
             f"[[hooks.{event}.hooks]]", 'type = "command"', f'command = "echo {event}"',
             *(f"{k} = {json.dumps(v)}" for k, v in keys.items() if k != "matcher")]
    return "\n".join(lines) + "\n"


async def test_listing_matches_the_reference_for_every_event(
    client: AppServerClient, codex_home: Path, workdir: Path
) -> None:
    events = [event[0].upper() + event[1:] for event, *_ in LISTED]
    with (codex_home / "config.toml").open("a") as fh:
        fh.write("".join(_inline(event, matcher="x") for event in events))
    entry = (await client.request("hooks/list", {"cwds": [str(workdir)]}))["data"][0]
    assert [(h["eventName"], h["matcher"], h["timeoutSec"], h["currentHash"])
            for h in entry["hooks"]] == [
        (event, matcher, timeout, f"sha256:{digest}")
        for event, matcher, timeout, digest in LISTED]
    assert (entry["warnings"], entry["errors"]) == ([], [])


async def test_ending_events_get_short_timeouts(
    client: AppServerClient, codex_home: Path, workdir: Path
) -> None:
    config = codex_home / "config.toml"
    with config.open("a") as fh:
        fh.write(_inline("SessionEnd", timeout=2) + _inline("SessionEnd", timeout=30)
                 + _inline("Interrupt", timeout=0) + _inline("Stop", timeoutSec=30))
    entry = (await client.request("hooks/list", {"cwds": [str(workdir)]}))["data"][0]
    assert [(h["eventName"], h["timeoutSec"]) for h in entry["hooks"]] == [
        ("sessionEnd", 2), ("sessionEnd", 3), ("stop", 600), ("interrupt", 1)]
    assert entry["warnings"] == [f"clamping SessionEnd hook timeout to 3s in {config}"]


async def test_output_with_unknown_fields_is_invalid(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    """The reference reads hook output strictly: an unknown field (top level or in
    ``hookSpecificOutput``) fails the run and nothing of it is used; ``Stop`` must print
    JSON. Texts as probed on the reference."""
    context = {"hookEventName": "UserPromptSubmit", "additionalContext": "ctx", "bogus": 1}
    await install(client, codex_home, workdir, tmp_path,
                  ["SessionStart", "UserPromptSubmit", "Stop"],
                  {"SessionStart": {"stdout": {"bogus": 1}},
                   "UserPromptSubmit": {"stdout": {"hookSpecificOutput": context}},
                   "Stop": {"stdout": "plain text"}})
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("done"))
    await finish_turn(client, await begin_turn(client, thread_id))
    assert [(r["eventName"], r["status"], r["entries"])
            for r in runs(client, "hook/completed")] == [
        (event, "failed", [{"kind": "error", "text": f"hook returned invalid {label} JSON "
                                                     "output"}])
        for event, label in (("sessionStart", "session start"),
                             ("userPromptSubmit", "user prompt submit"),
                             ("stop", "stop hook"))]
    assert "ctx" not in json.dumps(mock.requests[0].body["input"])


async def test_unreadable_permission_output_leaves_the_decision_to_the_client(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    await install(client, codex_home, workdir, tmp_path, ["PermissionRequest", "PostToolUse"],
                  {"PermissionRequest": {"stdout": {"bogus": 1}},
                   "PostToolUse": {"stderr": "no way", "exit": 2}})
    asked: list[str] = []
    client.auto_answers["item/commandExecution/requestApproval"] = lambda p: (
        asked.append(p["itemId"]) or {"decision": "accept"})
    thread_id = await start_thread(client, workdir, approval="on-request", sandbox="read-only")
    mock.push(escalated("touch made.txt", "c1"), text_reply("ok"))
    await finish_turn(client, await begin_turn(client, thread_id))
    assert asked == ["c1"] and (workdir / "made.txt").exists()
    assert completed(client, "permissionRequest") == [("failed", [
        {"kind": "error", "text": "hook returned invalid permission-request JSON output"}])]
    # PostToolUse exit 2: its stderr takes the place of the tool's output
    assert completed(client, "postToolUse") == [("blocked", [
        {"kind": "feedback", "text": "no way"}])]
    assert tool_output(mock, "c1") == "no way"


async def test_compaction_hook_output_is_only_reported(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    await install(client, codex_home, workdir, tmp_path, ["PreCompact", "PostCompact"],
                  {"PreCompact": {"stderr": "boom", "exit": 3},
                   "PostCompact": {"stdout": {"bogus": 1}}})
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("SUMMARY"))
    await client.request("thread/compact/start", {"threadId": thread_id})
    done = await client.wait_notification("turn/completed")
    assert done["turn"]["status"] == "completed"
    invalid = "hook returned invalid PostCompact hook JSON output"
    assert [(r["eventName"], r["status"], r["entries"]) for r in runs(client, "hook/completed")
            ] == [("preCompact", "failed", [{"kind": "error", "text": "boom"}]),
                  ("postCompact", "failed", [{"kind": "error", "text": invalid}])]


async def test_a_refused_steer_is_dropped_and_the_turn_ends(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install(client, codex_home, workdir, tmp_path,
                        ["UserPromptSubmit", "PostModelRequest"])
    thread_id = await start_thread(client, workdir)
    mock.push(slow_text_reply("a", "b", "c", "d", interval=0.3), text_reply("never asked"))
    turn_id = await begin_turn(client, thread_id, "hello")
    await client.wait_notification("item/agentMessage/delta")
    (log.parent / "lifecycle_hook.py").write_text(
        (log.parent / "lifecycle_hook.py").read_text().replace(
            "OUTPUTS = {}", "OUTPUTS = {'UserPromptSubmit': {'stdout': "
                            "'{\"decision\": \"block\", \"reason\": \"no steering\"}'}}"))
    await client.request("turn/steer", {"threadId": thread_id, "expectedTurnId": turn_id,
                                        "input": [{"type": "text", "text": "steered"}]})
    turn = await finish_turn(client, turn_id)
    assert turn["status"] == "completed" and len(mock.requests) == 1
    assert completed(client, "userPromptSubmit") == [
        ("completed", []), ("blocked", [{"kind": "feedback", "text": "no steering"}])]
    assert "steered" not in json.dumps(mock.requests[0].body["input"])
    # the steer cut the answer: its PostModelRequest says so, without usage
    assert [(d["status"], d["token_usage"]) for d in stdin_of(log, "PostModelRequest")] == [
        ("cancelled", None)]
