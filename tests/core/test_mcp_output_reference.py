"""What the model receives from an MCP tool call, side by side with the reference 0.171:
a structured result is one text; otherwise each entry is its own content item after the
wall time (texts and images as such, any other entry as its JSON), and so is a refusal.
Under approval policy ``never`` with full access, a tool that needs approval runs.
Needs the reference binary and npm's ``@modelcontextprotocol/server-everything``."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import AppServerClient
from tests.support.hooks import hook_tree, side_by_side
from tests.support.mcp import EVERYTHING_STDIO, add_servers, namespaced_call, settled
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.reference import REFERENCE

pytestmark = pytest.mark.skipif(not REFERENCE.exists() or EVERYTHING_STDIO is None,
                                reason="reference binary or node/server-everything absent")

GZIP = {"name": "a.gz", "data": "data:text/plain;base64,aGVsbG8=", "outputType": "resource"}


async def session(client: AppServerClient, mock: MockResponses, root: Path, repo: Path,
                  log: Path, sandbox: str) -> dict[str, Any]:
    assert EVERYTHING_STDIO is not None
    add_servers(root / "codex-home", EVERYTHING_STDIO)
    await client.initialize()
    thread = await client.request("thread/start", {
        "cwd": str(repo), "approvalPolicy": "never", "sandbox": sandbox})
    thread_id = thread["thread"]["id"]
    assert (await settled(client, thread_id, "every"))["status"] == "ready"
    mock.push(namespaced_call("mcp__every", "get_tiny_image", {}, "m1"),
              namespaced_call("mcp__every", "gzip_file_as_resource", GZIP, "m2"),
              namespaced_call("mcp__every", "echo", {"message": "hi"}, "m3"),
              namespaced_call("mcp__every", "no-such-tool", {}, "m4"),
              text_reply("done"))
    await client.request("turn/start", {"threadId": thread_id,
                                        "input": [{"type": "text", "text": "hello"}]})
    await client.wait_notification("turn/completed", timeout=60)
    return {
        "outputs": {o["call_id"]: json.loads(re.sub(
            r"Wall time: [0-9.]+ seconds", "Wall time", json.dumps(o["output"])))
            for o in mock.requests[-1].body["input"] if o.get("type") == "function_call_output"},
        "asked": [m["method"] for m in client.received if "id" in m and "method" in m],
    }


@pytest.mark.parametrize("sandbox", ["danger-full-access", "workspace-write"])
async def test_mcp_outputs_reach_the_model_as_the_reference(tmp_path: Path,
                                                            sandbox: str) -> None:
    reference, ours = await side_by_side(
        tmp_path, "print('{}')", lambda root, script: hook_tree(root, script, ("Stop",)),
        functools.partial(session, sandbox=sandbox))
    image = reference["outputs"]["m1"]
    assert [item["type"] for item in image][:3] == ["input_text", "input_text", "input_image"]
    assert image[2]["image_url"].startswith("data:image/png;base64,")
    assert image[2]["detail"] == "original"
    assert reference["outputs"]["m3"] == [{"type": "input_text", "text": "Wall time\nOutput:"},
                                          {"type": "input_text", "text": "Echo: hi"}]
    assert reference["outputs"]["m4"] == "unsupported call: mcp__everyno-such-tool"
    assert reference["asked"] == []
    assert ours == reference
