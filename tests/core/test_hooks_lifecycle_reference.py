"""Every hook event side by side with the reference binary (codex 0.171): one hooks.json
naming all fourteen events, one thread whose approvals a ``PermissionRequest`` hook
answers, the same requests against both servers; the hook runs, what each hook received
and what reached the model must match. Skipped when the binary is absent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import AppServerClient
from tests.support.hooks import hook_tree, relative, side_by_side
from tests.support.mock_responses import (
    MockResponses,
    custom_tool_call_reply,
    function_call_reply,
    text_reply,
)
from tests.support.reference import REFERENCE

pytestmark = pytest.mark.skipif(not REFERENCE.exists(),
                                reason=f"reference binary not installed at {REFERENCE}")

EVENTS = ("PreModelRequest", "PostModelRequest", "PreToolUse", "PermissionRequest",
          "PostToolUse", "PreCompact", "PostCompact", "SessionStart", "SessionEnd",
          "UserPromptSubmit", "SubagentStart", "SubagentStop", "Stop", "Interrupt")

HOOK = """\
import json, os, sys
data = json.loads(sys.stdin.read())
event = data["hook_event_name"]
with open(os.path.join(os.environ["HOOK_LOG"], "stdin.jsonl"), "a") as fh:
    fh.write(json.dumps(data) + "\\n")
if event == "PermissionRequest":
    behavior = "allow" if "allowed" in json.dumps(data["tool_input"]) else "deny"
    print(json.dumps({"hookSpecificOutput": {"hookEventName": event, "decision": {
        "behavior": behavior, "message": "not " + data["tool_name"]}}}))
if event == "PostModelRequest":
    sys.stderr.write("post model failed")
    sys.exit(1)
if event == "Stop":
    print(json.dumps({"continue": False, "stopReason": "that is enough"}))
"""

PATCH = "*** Begin Patch\n*** Add File: new.txt\n+hello\n*** End Patch"


def _shape(run: dict[str, Any]) -> tuple[str, str, str, str]:
    """A run without what differs between two servers (request ids, timings)."""
    run_id = re.sub(r":[0-9a-f-]{36}$", ":<request>", run["id"])
    return run_id, run["status"], json.dumps(run["entries"]), run["scope"]


async def session(client: AppServerClient, mock: MockResponses, root: Path, repo: Path,
                  log: Path) -> dict[str, Any]:
    await client.initialize()
    hooks = (await client.request("hooks/list", {"cwds": [str(repo)]}))["data"][0]["hooks"]
    for hook in hooks:
        await client.request("config/value/write", {
            "keyPath": f'hooks.state."{hook["key"]}".trusted_hash',
            "value": hook["currentHash"], "mergeStrategy": "replace"})
    thread = await client.request("thread/start", {
        "cwd": str(repo), "approvalPolicy": "on-request", "sandbox": "read-only"})
    thread_id = thread["thread"]["id"]
    escalate = {"sandbox_permissions": "require_escalated", "justification": "needed"}
    mock.push(function_call_reply("exec_command", {"cmd": "touch denied.txt", **escalate},
                                  call_id="c1"),
              function_call_reply("exec_command", {"cmd": "touch allowed.txt", **escalate},
                                  call_id="c2"),
              custom_tool_call_reply("apply_patch", PATCH, call_id="p1"),
              text_reply("done"))
    await client.request("turn/start", {"threadId": thread_id,
                                        "input": [{"type": "text", "text": "hello"}]})
    await client.wait_notification("turn/completed", timeout=60)
    assert await client.close() == 0  # SessionEnd runs as the server exits
    hook_runs = [(n["method"], _shape(n["params"]["run"])) for n in client.notifications()
                 if n["method"].startswith("hook/")]
    model = sorted(r for r in hook_runs if "model-request" in r[1][0])
    received = [json.loads(line) for line in (log / "stdin.jsonl").read_text().splitlines()]
    stdin = {d["hook_event_name"]: sorted(d) for d in received}
    return relative({
        "runs": [r for r in hook_runs if "model-request" not in r[1][0]],
        "model_runs": model,
        "stdin_keys": stdin,
        "permission_inputs": [(d["tool_name"], d["tool_input"]) for d in received
                              if d["hook_event_name"] == "PermissionRequest"],
        "session_end": [d["reason"] for d in received if d["hook_event_name"] == "SessionEnd"],
        "outputs": [re.sub(r"(Chunk ID|Wall time): .*\n", "", i["output"])
                    for i in mock.requests[-1].body["input"]
                    if i.get("type") in ("function_call_output", "custom_tool_call_output")],
        "files": sorted(p.name for p in repo.iterdir() if p.suffix == ".txt"),
        "requests": len(mock.requests),
        "approval_requests": [m["method"] for m in client.received
                              if m.get("method", "").endswith("requestApproval")],
    }, root)


def setup_tree(root: Path, script: Path) -> tuple[Path, Path, Path]:
    return hook_tree(root, script, EVENTS)


async def test_every_event_runs_and_decides_as_in_the_reference(tmp_path: Path) -> None:
    reference, ours = await side_by_side(tmp_path, HOOK, setup_tree, session)
    assert reference["files"] == ["allowed.txt"] and reference["approval_requests"] == []
    assert reference["session_end"] == ["other"]
    assert set(reference["stdin_keys"]) >= {"PermissionRequest", "PreModelRequest",
                                            "PostModelRequest", "SessionEnd"}
    for key in reference:
        assert ours[key] == reference[key], key
