"""Hooks (extensions.md §3): configuration in hooks.json and inline [hooks] tables,
``hooks/list`` with keys, hashes and trust, and real hook scripts run in turns against the
mock model: stdin JSON, ``hook/started``/``hook/completed``, additional context reaching the
model, a PreToolUse block (exit 2) keeping the command from running, failures, timeouts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import AppServerClient
from tests.support.exec import (
    begin_turn,
    exec_call,
    finish_turn,
    items,
    open_client,
    start_thread,
    thread_methods,
    tool_output,
)
from tests.support.hooks import LOG_STDIN, handler_groups, runs, trust_all
from tests.support.mock_responses import MockResponses, text_reply

HOOK_SCRIPT = LOG_STDIN + """\
action = ACTIONS.get(event)
if action == "context":
    print(json.dumps({"hookSpecificOutput": {"hookEventName": event,
                                             "additionalContext": "context from " + event}}))
elif action == "plain":
    print("plain context from " + event)
elif action == "block":
    sys.stderr.write("not allowed by policy")
    sys.exit(2)
elif action == "fail":
    sys.exit(1)
elif action == "sleep":
    time.sleep(30)
"""


def hook_command(tmp_path: Path, actions: dict[str, str]) -> tuple[str, Path]:
    log = tmp_path / "hook-log"
    log.mkdir(exist_ok=True)
    script = tmp_path / f"hook_{len(list(tmp_path.glob('hook_*.py')))}.py"
    script.write_text(f"LOG = {str(log)!r}\nACTIONS = {actions!r}\n" + HOOK_SCRIPT)
    return f"{sys.executable} {script}", log


def stdin_of(log: Path, event: str) -> list[dict[str, Any]]:
    path = log / f"{event}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def install_trusted(client: AppServerClient, codex_home: Path, cwd: Path,
                          tmp_path: Path, events: dict[str, str | None],
                          actions: dict[str, str] | None = None, **handler: Any) -> Path:
    """The hook script (behaving per ``actions``) for ``events`` in the user hooks.json,
    every handler trusted; returns the folder where the script logs its stdin."""
    command, log = hook_command(tmp_path, actions or {})
    (codex_home / "hooks.json").write_text(json.dumps(
        handler_groups(command, events, **handler)))
    await trust_all(client, cwd)
    return log


# -- hooks/list and trust --------------------------------------------------------------------
async def test_list_shows_keys_hashes_and_trust(
    client: AppServerClient, codex_home: Path, workdir: Path, tmp_path: Path
) -> None:
    command, _ = hook_command(tmp_path, {})
    (codex_home / "hooks.json").write_text(json.dumps(handler_groups(
        command, {"UserPromptSubmit": None, "PreToolUse": "Bash"}, timeout=20,
        statusMessage="Checking")))
    listed = await client.request("hooks/list", {"cwds": [str(workdir)]})
    entry = listed["data"][0]
    assert entry["cwd"] == str(workdir)
    assert (entry["warnings"], entry["errors"]) == ([], [])
    source = str(codex_home / "hooks.json")
    first, second = entry["hooks"]
    assert first["currentHash"].startswith("sha256:")
    assert first == {
        "key": f"{source}:pre_tool_use:0:0", "eventName": "preToolUse",
        "handlerType": "command", "command": command, "async": False, "matcher": "Bash",
        "timeoutSec": 20, "statusMessage": "Checking", "additionalContextLimit": None,
        "sourcePath": source, "source": "user", "pluginId": None, "environmentId": None,
        "displayOrder": 0, "enabled": True, "isManaged": False,
        "currentHash": first["currentHash"], "trustStatus": "untrusted"}
    assert (second["key"], second["eventName"], second["displayOrder"]) == (
        f"{source}:user_prompt_submit:0:0", "userPromptSubmit", 1)
    await trust_all(client, workdir)
    listed = await client.request("hooks/list", {"cwds": [str(workdir)]})
    assert [h["trustStatus"] for h in listed["data"][0]["hooks"]] == ["trusted", "trusted"]
    # a changed handler no longer matches its trusted hash
    (codex_home / "hooks.json").write_text(json.dumps(handler_groups(
        command + " --changed", {"UserPromptSubmit": None, "PreToolUse": "Bash"}, timeout=20,
        statusMessage="Checking")))
    listed = await client.request("hooks/list", {"cwds": [str(workdir)]})
    assert [h["trustStatus"] for h in listed["data"][0]["hooks"]] == ["modified", "modified"]


async def test_both_forms_malformed_json_and_project_trust(
    client: AppServerClient, codex_home: Path, workdir: Path, tmp_path: Path
) -> None:
    command, _ = hook_command(tmp_path, {})
    (codex_home / "hooks.json").write_text(json.dumps(handler_groups(command, {"Stop": None})))
    with (codex_home / "config.toml").open("a") as fh:
        fh.write(f'\n[[hooks.Stop]]\n[[hooks.Stop.hooks]]\ntype = "command"\n'
                 f'command = {json.dumps(command)}\ntimeout = 5\n')
    subprocess.run(["git", "init", "-q", str(workdir)], check=True)
    (workdir / ".codex").mkdir()
    (workdir / ".codex" / "hooks.json").write_text('{"hooks": {"Stop": [ {"hooks": [}]}}')
    listed = await client.request("hooks/list", {"cwds": [str(workdir)]})
    entry = listed["data"][0]
    # an untrusted project: its hooks are not read at all
    assert entry["warnings"] == [
        f"loading hooks from both {codex_home / 'hooks.json'} and "
        f"{codex_home / 'config.toml'}; prefer a single representation for this layer"]
    assert [(h["sourcePath"], h["timeoutSec"]) for h in entry["hooks"]] == [
        (str(codex_home / "hooks.json"), 600), (str(codex_home / "config.toml"), 5)]
    with (codex_home / "config.toml").open("a") as fh:
        fh.write(f'\n[projects."{workdir}"]\ntrust_level = "trusted"\n')
    listed = await client.request("hooks/list", {"cwds": [str(workdir)]})
    assert listed["data"][0]["warnings"][1] == (
        f"failed to parse hooks config {workdir / '.codex' / 'hooks.json'}: "
        "expected value at line 1 column 33")
    (workdir / ".codex" / "hooks.json").write_text(json.dumps(
        handler_groups(command, {"SessionStart": "startup"})))
    listed = await client.request("hooks/list", {"cwds": [str(workdir)]})
    project = [h for h in listed["data"][0]["hooks"] if h["source"] == "project"]
    assert [(h["key"], h["displayOrder"], h["matcher"]) for h in project] == [
        (f"{workdir / '.codex' / 'hooks.json'}:session_start:0:0", 2, "startup")]


# -- running ---------------------------------------------------------------------------------
async def test_untrusted_hooks_never_run(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    command, log = hook_command(tmp_path, {"UserPromptSubmit": "context"})
    (codex_home / "hooks.json").write_text(json.dumps(handler_groups(
        command, {"SessionStart": None, "UserPromptSubmit": None, "Stop": None})))
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("hi"))
    await finish_turn(client, await begin_turn(client, thread_id, "hello"))
    assert not runs(client, "hook/started") and not runs(client, "hook/completed")
    assert list(log.iterdir()) == []
    assert "context from" not in json.dumps(mock.requests[0].body["input"])


async def test_turn_runs_hooks_in_order_and_acts_on_their_output(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install_trusted(client, codex_home, workdir, tmp_path, {
        "SessionStart": "startup|resume", "UserPromptSubmit": None, "PreToolUse": "Bash",
        "Stop": None}, {"SessionStart": "plain", "UserPromptSubmit": "context",
                        "PreToolUse": "block"}, statusMessage="st")
    thread_id = await start_thread(client, workdir)
    mock.push(exec_call("echo hi > ran.txt", "call_1"), text_reply("done"))
    start = len(client.received)
    turn_id = await begin_turn(client, thread_id, "hello")
    turn = await finish_turn(client, turn_id)
    assert turn["status"] == "completed"
    methods = [m for m in thread_methods(client, start)
               if m.startswith(("hook/", "item/", "turn/"))]
    assert methods == [
        "turn/started",
        "hook/started", "hook/completed",          # SessionStart
        "hook/started", "hook/completed",          # UserPromptSubmit
        "item/started", "item/completed",          # userMessage
        "hook/started", "hook/completed",          # PreToolUse: blocked, no command item
        "item/started", "item/agentMessage/delta", "item/completed",
        "hook/started", "hook/completed",          # Stop
        "turn/completed"]
    source = str(codex_home / "hooks.json")
    completed = runs(client, "hook/completed")
    assert [(r["id"], r["status"], r["scope"]) for r in completed] == [
        (f"session-start:1:{source}", "completed", "thread"),
        (f"user-prompt-submit:2:{source}", "completed", "turn"),
        (f"pre-tool-use:0:{source}:call_1", "blocked", "turn"),
        (f"stop:3:{source}", "completed", "turn")]
    started = runs(client, "hook/started")[2]
    assert started == {**completed[2], "status": "running", "completedAt": None,
                       "durationMs": None, "entries": []}
    assert completed[1]["entries"] == [{"kind": "context",
                                        "text": "context from UserPromptSubmit"}]
    assert completed[2]["entries"] == [{"kind": "feedback", "text": "not allowed by policy"}]
    assert completed[2]["statusMessage"] == "st" and completed[2]["eventName"] == "preToolUse"
    assert all(n["params"]["turnId"] == turn_id for n in client.notifications("hook/completed"))
    # the blocked command did not run, and the model was told why
    assert not (workdir / "ran.txt").exists()
    assert not items(client, "item/started", "call_1")
    assert tool_output(mock, "call_1") == (
        "Command blocked by PreToolUse hook: not allowed by policy. Command: echo hi > ran.txt")
    # contexts reach the model right after the user message, as developer messages
    first = mock.requests[0].body["input"]
    texts = [(i.get("role"), i["content"][0]["text"]) for i in first if i.get("type") == "message"]
    user_at = texts.index(("user", "hello"))
    assert texts[user_at + 1:] == [("developer", "plain context from SessionStart"),
                                   ("developer", "context from UserPromptSubmit")]
    # what each hook received on stdin
    rollout = (await client.request("thread/read", {"threadId": thread_id}))["thread"]["path"]
    common = {"session_id": thread_id, "transcript_path": rollout, "cwd": str(workdir),
              "model": "gpt-5.5", "permission_mode": "bypassPermissions"}
    assert stdin_of(log, "SessionStart") == [
        {**common, "hook_event_name": "SessionStart", "source": "startup"}]
    assert stdin_of(log, "UserPromptSubmit") == [
        {**common, "turn_id": turn_id, "hook_event_name": "UserPromptSubmit",
         "prompt": "hello"}]
    assert stdin_of(log, "PreToolUse") == [
        {**common, "turn_id": turn_id, "hook_event_name": "PreToolUse", "tool_name": "Bash",
         "tool_input": {"command": "echo hi > ran.txt"}, "tool_use_id": "call_1"}]
    assert stdin_of(log, "Stop") == [
        {**common, "turn_id": turn_id, "hook_event_name": "Stop", "stop_hook_active": False,
         "last_assistant_message": "done"}]
    # SessionStart runs once per thread
    mock.push(text_reply("again"))
    await finish_turn(client, await begin_turn(client, thread_id, "second"))
    assert len(stdin_of(log, "SessionStart")) == 1
    assert len(stdin_of(log, "UserPromptSubmit")) == 2


async def test_post_tool_use_context_failures_and_timeouts(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    post, log = hook_command(tmp_path, {"PostToolUse": "context", "PreToolUse": "fail"})
    slow, _ = hook_command(tmp_path, {"Stop": "sleep"})
    config = handler_groups(post, {"PreToolUse": "^Bash$", "PostToolUse": "Bash"})
    config["hooks"]["Stop"] = [{"hooks": [{"type": "command", "command": slow,
                                           "timeout": 1}]}]
    (codex_home / "hooks.json").write_text(json.dumps(config))
    await trust_all(client, workdir)
    thread_id = await start_thread(client, workdir)
    mock.push(exec_call("printf ran > ran.txt", "call_2"), text_reply("done"))
    turn = await finish_turn(client, await begin_turn(client, thread_id, "go"))
    assert turn["status"] == "completed"
    completed = {r["eventName"]: r for r in runs(client, "hook/completed")}
    assert (completed["preToolUse"]["status"], completed["preToolUse"]["entries"]) == (
        "failed", [{"kind": "error", "text": "hook exited with code 1"}])
    assert (completed["postToolUse"]["status"], completed["postToolUse"]["entries"]) == (
        "completed", [{"kind": "context", "text": "context from PostToolUse"}])
    assert (completed["stop"]["status"], completed["stop"]["entries"]) == (
        "failed", [{"kind": "error", "text": "hook timed out after 1s"}])
    # a failed PreToolUse hook does not block: the command ran
    assert (workdir / "ran.txt").read_text() == "ran"
    assert [s["params"]["item"]["type"] for s in client.notifications("item/completed")
            if s["params"]["item"]["id"] == "call_2"] == ["commandExecution"]
    received = stdin_of(log, "PostToolUse")[0]
    assert (received["tool_name"], received["tool_input"], received["tool_response"]) == (
        "Bash", {"command": "printf ran > ran.txt"}, "")
    # the context sits between the call and its output
    last = mock.requests[-1].body["input"]
    kinds = [(i.get("type"), i.get("role")) for i in last[-3:]]
    assert kinds == [("function_call", None), ("message", "developer"),
                     ("function_call_output", None)]
    assert last[-2]["content"][0]["text"] == "context from PostToolUse"


async def test_hooks_feature_off_runs_nothing(
    codex_home: Path, workdir: Path, mock: MockResponses, tmp_path: Path
) -> None:
    command, log = hook_command(tmp_path, {})
    (codex_home / "hooks.json").write_text(json.dumps(
        handler_groups(command, {"UserPromptSubmit": None})))
    client = await open_client(codex_home, workdir, mock)
    try:
        await trust_all(client, workdir)
        with (codex_home / "config.toml").open("a") as fh:
            fh.write("\n[features]\nhooks = false\n")
        thread_id = await start_thread(client, workdir)
        mock.push(text_reply("hi"))
        await finish_turn(client, await begin_turn(client, thread_id, "hello"))
        assert not runs(client, "hook/started")
        assert stdin_of(log, "UserPromptSubmit") == []
    finally:
        await client.close()
    client.assert_valid()


STOP_AND_PROMPT = """\
import json, sys
data = json.loads(sys.stdin.read())
if data["hook_event_name"] == "Stop" and not data["stop_hook_active"]:
    print(json.dumps({"decision": "block", "reason": "run the tests first"}))
if data["hook_event_name"] == "UserPromptSubmit" and "BLOCKME" in data["prompt"]:
    print(json.dumps({"decision": "block", "reason": "prompt refused"}))
"""


async def test_stop_block_continues_the_turn_and_a_refused_prompt_ends_it(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    script = tmp_path / "stop_hook.py"
    script.write_text(STOP_AND_PROMPT)
    (codex_home / "hooks.json").write_text(json.dumps(handler_groups(
        f"{sys.executable} {script}", {"UserPromptSubmit": None, "Stop": None})))
    await trust_all(client, workdir)
    thread_id = await start_thread(client, workdir)
    listed = await client.request("hooks/list", {"threadId": thread_id})
    assert [h["eventName"] for h in listed["data"][0]["hooks"]] == ["userPromptSubmit", "stop"]
    assert listed["data"][0]["cwd"] == str(workdir)
    mock.push(text_reply("first"), text_reply("second"))
    start = len(client.received)
    turn = await finish_turn(client, await begin_turn(client, thread_id, "hello"))
    assert [i["text"] for i in turn["items"] if i["type"] == "agentMessage"][-1] == "second"
    stops = [r for r in runs(client, "hook/completed") if r["eventName"] == "stop"]
    assert [(r["status"], r["entries"]) for r in stops] == [
        ("blocked", [{"kind": "feedback", "text": "run the tests first"}]), ("completed", [])]
    prompt = [n["params"]["item"] for n in client.received[start:]
              if n.get("method") == "item/completed"
              and n["params"]["item"]["type"] == "hookPrompt"]
    assert [p["fragments"] for p in prompt] == [
        [{"text": "run the tests first", "hookRunId": stops[0]["id"]}]]
    second = mock.requests[1].body["input"]
    assert second[-1]["role"] == "user" and second[-1]["content"][0]["text"] == (
        f'<hook_prompt hook_run_id="{stops[0]["id"]}">run the tests first</hook_prompt>')
    # a prompt a UserPromptSubmit hook refuses never reaches the model
    requests = len(mock.requests)
    start = len(client.received)
    turn = await finish_turn(client, await begin_turn(client, thread_id, "BLOCKME please"))
    assert (turn["status"], turn["items"]) == ("completed", [])
    assert len(mock.requests) == requests
    assert not [n for n in client.received[start:] if n.get("method") == "item/started"]
    refused = runs(client, "hook/completed")[-1]
    assert (refused["eventName"], refused["status"], refused["entries"]) == (
        "userPromptSubmit", "blocked", [{"kind": "feedback", "text": "prompt refused"}])


async def test_async_handler_does_not_hold_the_turn(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    script = tmp_path / "slow_hook.py"
    marker = tmp_path / "async-done"
    script.write_text("import sys, time, json\nsys.stdin.read()\ntime.sleep(1)\n"
                      f"open({str(marker)!r}, 'w').close()\n"
                      "print(json.dumps({'hookSpecificOutput': {'hookEventName': "
                      "'UserPromptSubmit', 'additionalContext': 'late context'}}))\n")
    (codex_home / "hooks.json").write_text(json.dumps(handler_groups(
        f"{sys.executable} {script}", {"UserPromptSubmit": None}, **{"async": True})))
    hooks = await trust_all(client, workdir)
    assert hooks[0]["async"] is True
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("hi"))
    await finish_turn(client, await begin_turn(client, thread_id, "hello"))
    started = runs(client, "hook/started")
    assert [(r["executionMode"], r["status"]) for r in started] == [("async", "running")]
    assert not marker.exists()  # the turn finished while the hook still ran
    done = await client.wait_notification("hook/completed", timeout=20)
    assert (done["run"]["id"], done["run"]["status"], done["run"]["entries"]) == (
        started[0]["id"], "completed", [{"kind": "context", "text": "late context"}])
    assert "late context" not in json.dumps(mock.requests[0].body["input"])


async def test_managed_system_hooks_run_without_trust(
    codex_home: Path, workdir: Path, mock: MockResponses, tmp_path: Path
) -> None:
    from tests.support.turns import write_config

    system = tmp_path / "etc-codex"
    system.mkdir()
    (system / "config.toml").write_text("")
    command, log = hook_command(tmp_path, {"UserPromptSubmit": "context"})
    (system / "hooks.json").write_text(json.dumps(
        handler_groups(command, {"UserPromptSubmit": None})))
    write_config(codex_home, mock)
    client = AppServerClient(codex_home, cwd=workdir, env={
        "MOCK_API_KEY": "k", "PYCODEX_SYSTEM_CONFIG": str(system / "config.toml")})
    await client.start()
    try:
        await client.initialize()
        listed = await client.request("hooks/list", {"cwds": [str(workdir)]})
        hook = listed["data"][0]["hooks"][0]
        assert (hook["source"], hook["isManaged"], hook["trustStatus"], hook["sourcePath"]) == (
            "system", True, "managed", str(system / "hooks.json"))
        thread_id = await start_thread(client, workdir)
        mock.push(text_reply("hi"))
        await finish_turn(client, await begin_turn(client, thread_id, "hello"))
        assert [r["source"] for r in runs(client, "hook/completed")] == ["system"]
        assert len(stdin_of(log, "UserPromptSubmit")) == 1
    finally:
        await client.close()
    client.assert_valid()


async def test_apply_patch_is_hooked_and_update_plan_is_not(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    from tests.support.mock_responses import custom_tool_call_reply, function_call_reply

    log = await install_trusted(client, codex_home, workdir, tmp_path,
                                {"PreToolUse": None, "PostToolUse": None})
    thread_id = await start_thread(client, workdir)
    patch = "*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch\n"
    mock.push(custom_tool_call_reply("apply_patch", patch, call_id="p1"),
              function_call_reply("update_plan", {"plan": [{"step": "a", "status": "pending"}]},
                                  call_id="u1"),
              text_reply("done"))
    await finish_turn(client, await begin_turn(client, thread_id, "patch it"))
    assert (workdir / "hello.txt").read_text() == "hi\n"
    assert [r["id"].rsplit(":", 1)[-1] for r in runs(client, "hook/completed")] == ["p1", "p1"]
    pre, post = stdin_of(log, "PreToolUse")[0], stdin_of(log, "PostToolUse")[0]
    assert (pre["tool_name"], pre["tool_input"], pre["tool_use_id"]) == (
        "apply_patch", {"command": patch}, "p1")
    assert post["tool_response"] == tool_output(mock, "p1")


async def test_thread_config_can_turn_hooks_off(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    """The TUI's helper threads start with ``config: {"features.hooks": false}``."""
    log = await install_trusted(client, codex_home, workdir, tmp_path,
                                {"UserPromptSubmit": None})
    thread_id = await start_thread(client, workdir, config={"features.hooks": False})
    mock.push(text_reply("hi"))
    await finish_turn(client, await begin_turn(client, thread_id, "hello"))
    assert not runs(client, "hook/started") and stdin_of(log, "UserPromptSubmit") == []
    other = await start_thread(client, workdir)
    mock.push(text_reply("hi"))
    await finish_turn(client, await begin_turn(client, other, "hello"))
    assert len(stdin_of(log, "UserPromptSubmit")) == 1


async def test_compaction_runs_pre_and_post_compact_hooks(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = await install_trusted(client, codex_home, workdir, tmp_path,
                                {"PreCompact": "manual", "PostCompact": "auto"})
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("SUMMARY"))
    start = len(client.received)
    assert await client.request("thread/compact/start", {"threadId": thread_id}) == {}
    done = await client.wait_notification("turn/completed")
    turn_id = done["turn"]["id"]
    methods = [m for m in thread_methods(client, start) if m.startswith(("hook/", "item/"))]
    # before the compaction item; PostCompact's matcher (auto) does not match a manual one
    assert methods[:3] == ["hook/started", "hook/completed", "item/started"]
    assert [m for m in methods if m.startswith("hook/")] == ["hook/started", "hook/completed"]
    rollout = (await client.request("thread/read", {"threadId": thread_id}))["thread"]["path"]
    assert stdin_of(log, "PreCompact") == [{
        "session_id": thread_id, "turn_id": turn_id, "transcript_path": rollout,
        "cwd": str(workdir), "hook_event_name": "PreCompact", "model": "gpt-5.5",
        "trigger": "manual"}]
    assert stdin_of(log, "PostCompact") == []


async def test_interrupt_hook_runs_when_the_user_interrupts(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    from tests.support.mock_responses import slow_text_reply

    log = await install_trusted(client, codex_home, workdir, tmp_path,
                                {"Interrupt": None}, {"Interrupt": "plain"})
    thread_id = await start_thread(client, workdir)
    mock.push(slow_text_reply(*["tick "] * 50, interval=0.1))
    turn_id = await begin_turn(client, thread_id, "slow")
    await client.wait_notification("item/agentMessage/delta")
    assert await client.request("turn/interrupt",
                                {"threadId": thread_id, "turnId": turn_id}) == {}
    done = await client.wait_notification("turn/completed")
    assert done["turn"]["status"] == "interrupted"
    received = stdin_of(log, "Interrupt")
    assert [(r["hook_event_name"], r["turn_id"]) for r in received] == [("Interrupt", turn_id)]
    run = runs(client, "hook/completed")[0]
    # an Interrupt hook must answer in JSON: plain text is reported as a failure
    assert (run["eventName"], run["status"], run["entries"]) == (
        "interrupt", "failed",
        [{"kind": "error", "text": "Interrupt hook returned non-JSON stdout"}])


async def test_unusable_handlers_are_warned_about(
    client: AppServerClient, codex_home: Path, workdir: Path
) -> None:
    """As probed on the reference: unsupported handler types and bad matchers are skipped
    with a warning (keeping their index), unknown events ignored, a handler missing its
    command makes the whole file unreadable."""
    path = codex_home / "hooks.json"
    path.write_text(json.dumps({"hooks": {
        "Stop": [{"hooks": [{"type": "prompt", "prompt": "x"},
                            {"type": "command", "command": "true", "timeout": 0}]}],
        "Bogus": [{"hooks": [{"type": "command", "command": "true"}]}],
        "PreToolUse": [{"matcher": "[bad", "hooks": [{"type": "command", "command": "x"}]}]}}))
    entry = (await client.request("hooks/list", {"cwds": [str(workdir)]}))["data"][0]
    assert [(h["key"], h["timeoutSec"], h["displayOrder"]) for h in entry["hooks"]] == [
        (f"{path}:stop:0:1", 1, 0)]
    assert entry["warnings"][0].startswith(f'invalid matcher "[bad" in {path}: ')
    assert entry["warnings"][1:] == [
        f"skipping prompt hook in {path}: prompt hooks are not supported yet"]
    assert entry["errors"] == []
    path.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [{"type": "command"}]}]}}))
    entry = (await client.request("hooks/list", {"cwds": [str(workdir)]}))["data"][0]
    assert entry["hooks"] == []
    assert entry["warnings"] == [
        f"failed to parse hooks config {path}: missing field `command`"]


async def test_pre_tool_use_can_rewrite_the_command(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    script = tmp_path / "rewrite.py"
    script.write_text("import json, sys\nsys.stdin.read()\nprint(json.dumps({"
                      "'hookSpecificOutput': {'hookEventName': 'PreToolUse', "
                      "'permissionDecision': 'allow', "
                      "'updatedInput': {'command': 'printf rewritten > out.txt'}}}))\n")
    (codex_home / "hooks.json").write_text(json.dumps(handler_groups(
        f"{sys.executable} {script}", {"PreToolUse": "Bash"})))
    await trust_all(client, workdir)
    thread_id = await start_thread(client, workdir)
    mock.push(exec_call("printf original > out.txt", "call_r"), text_reply("done"))
    await finish_turn(client, await begin_turn(client, thread_id, "go"))
    assert (workdir / "out.txt").read_text() == "rewritten"
    started = items(client, "item/started", "call_r")[0]
    assert "printf rewritten > out.txt" in started["command"]
    assert runs(client, "hook/completed")[0]["status"] == "completed"


@pytest.mark.parametrize("limit", [None, 0])
async def test_long_context_is_saved_to_a_file_unless_the_limit_is_off(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path, limit: int | None
) -> None:
    long_text = "".join(f"line {i:05d} of a long hook context\n" for i in range(400))
    script = tmp_path / "long.py"
    script.write_text("import json, sys\nsys.stdin.read()\nprint(json.dumps({"
                      "'hookSpecificOutput': {'hookEventName': 'UserPromptSubmit', "
                      f"'additionalContext': {long_text!r}}}}}))\n")
    handler = {} if limit is None else {"additionalContextLimit": limit}
    (codex_home / "hooks.json").write_text(json.dumps(handler_groups(
        f"{sys.executable} {script}", {"UserPromptSubmit": None}, **handler)))
    await trust_all(client, workdir)
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("ok"))
    await finish_turn(client, await begin_turn(client, thread_id, "hello"))
    seen = mock.requests[0].body["input"][-1]["content"][0]["text"]
    completed = runs(client, "hook/completed")[0]
    assert completed["entries"] == [{"kind": "context", "text": long_text}]
    if limit == 0:
        assert seen == long_text
        return
    head, footer = seen.rsplit("\n\nFull hook output saved to: ", 1)
    saved = Path(footer)
    assert saved.parent == codex_home / "hook_outputs" / thread_id
    assert saved.read_text() == long_text
    assert head.startswith("line 00000") and "tokens truncated" in head
    assert len(seen) < len(long_text)


async def test_hook_config_warnings_follow_thread_started(
    client: AppServerClient, codex_home: Path, workdir: Path
) -> None:
    (codex_home / "hooks.json").write_text('{"hooks": {"Stop": [ {"hooks": [}]}}')
    thread_id = await start_thread(client, workdir)
    warning = await client.wait_notification("warning")
    assert warning == {"threadId": thread_id, "message":
                       f"failed to parse hooks config {codex_home / 'hooks.json'}: "
                       "expected value at line 1 column 33"}
    index = [m.get("method") for m in client.received]
    assert index.index("thread/started") < index.index("warning")
    # a thread that turns hooks off is not warned (the next thread's warning arrives after
    # anything the quiet one could have sent: one connection keeps the order)
    quiet = await start_thread(client, workdir, config={"features.hooks": False})
    loud = await start_thread(client, workdir)
    await client.wait_notification("warning", where=lambda p: p["threadId"] == loud)
    assert quiet not in [n["params"]["threadId"] for n in client.notifications("warning")]
