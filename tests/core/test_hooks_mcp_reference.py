"""``PermissionRequest`` hooks at an MCP tool-call approval, side by side with the reference
0.171: the hook sees ``mcp__<server>__<tool>`` and the call's arguments, its allow runs the
tool unasked, its deny fails the call with the hook's message (no elicitation either way),
under ``on-request`` and under ``never`` alike.
Needs the reference binary and npm's ``@modelcontextprotocol/server-everything``."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import AppServerClient
from tests.support.hooks import hook_tree, relative, side_by_side, trust_all
from tests.support.mcp import EVERYTHING_STDIO, add_servers, namespaced_call, settled
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.reference import REFERENCE

pytestmark = pytest.mark.skipif(not REFERENCE.exists() or EVERYTHING_STDIO is None,
                                reason="reference binary or node/server-everything absent")

HOOK = """\
import json, os, sys
data = json.loads(sys.stdin.read())
with open(os.path.join(os.environ["HOOK_LOG"], "stdin.jsonl"), "a") as fh:
    fh.write(json.dumps(data) + "\\n")
behavior = "allow" if "allowed" in json.dumps(data["tool_input"]) else "deny"
print(json.dumps({"hookSpecificOutput": {"hookEventName": data["hook_event_name"],
    "decision": {"behavior": behavior, "message": "not " + data["tool_name"]}}}))
"""


def _args(name: str) -> dict[str, Any]:
    return {"name": name, "data": "data:text/plain;base64,aGVsbG8=",
            "outputType": "resourceLink"}


async def session(client: AppServerClient, mock: MockResponses, root: Path, repo: Path,
                  log: Path, policy: str) -> dict[str, Any]:
    assert EVERYTHING_STDIO is not None
    add_servers(root / "codex-home", EVERYTHING_STDIO)
    await client.initialize()
    await trust_all(client, repo)
    thread = await client.request("thread/start", {
        "cwd": str(repo), "approvalPolicy": policy, "sandbox": "read-only"})
    thread_id = thread["thread"]["id"]
    assert (await settled(client, thread_id, "every"))["status"] == "ready"
    mock.push(namespaced_call("mcp__every", "gzip_file_as_resource", _args("denied.gz"), "m1"),
              namespaced_call("mcp__every", "gzip_file_as_resource", _args("allowed.gz"), "m2"),
              text_reply("done"))
    await client.request("turn/start", {"threadId": thread_id,
                                        "input": [{"type": "text", "text": "hello"}]})
    await client.wait_notification("turn/completed", timeout=60)
    received = [json.loads(line) for line in (log / "stdin.jsonl").read_text().splitlines()]
    done = [n["params"]["item"] for n in client.notifications("item/completed")
            if n["params"]["item"]["type"] == "mcpToolCall"]
    return relative({
        "stdin": [{k: v for k, v in d.items() if k not in ("session_id", "turn_id",
                                                              "transcript_path")}
                  for d in received],
        "runs": [(n["method"], n["params"]["run"]["status"], n["params"]["run"]["entries"],
                  n["params"]["run"]["id"].rsplit(":", 1)[-1])
                 for n in client.notifications() if n["method"].startswith("hook/")],
        "items": [(i["id"], i["status"], i["error"]) for i in done],
        # the denied call's output (a tool's non-text content is rendered apart, elsewhere)
        "denied_output": [re.sub(r"Wall time: [0-9.]+ seconds", "", json.dumps(i["output"]))
                          for i in mock.requests[-1].body["input"]
                          if i.get("type") == "function_call_output"
                          and i["call_id"] == "m1"],
        "asked": [m["method"] for m in client.received if "id" in m and "method" in m],
    }, root)


def setup_tree(root: Path, script: Path) -> tuple[Path, Path, Path]:
    return hook_tree(root, script, ("PermissionRequest",))


@pytest.mark.parametrize("policy", ["on-request", "never"])
async def test_mcp_approval_runs_permission_hooks_as_the_reference(tmp_path: Path,
                                                                   policy: str) -> None:
    reference, ours = await side_by_side(tmp_path, HOOK, setup_tree,
                                         functools.partial(session, policy=policy))
    assert reference["asked"] == [] and len(reference["stdin"]) == 2
    assert reference["stdin"][0]["tool_name"] == "mcp__every__gzip_file_as_resource"
    for key in reference:
        assert ours[key] == reference[key], key
