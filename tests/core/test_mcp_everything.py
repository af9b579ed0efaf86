"""MCP tool approvals, server-started elicitations, resources and streamable HTTP, against
npm's ``@modelcontextprotocol/server-everything`` (installed by ``.ci/run``)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.approvals import answer, statuses
from tests.support.client import AppServerClient, ServerError
from tests.support.exec import (
    begin_turn,
    finish_turn,
    items,
    output_text,
    start_thread,
    tool_output,
)
from tests.support.hooks import handler_groups, runs, trust_all
from tests.support.mcp import (
    EVERYTHING,
    EVERYTHING_STDIO,
    NODE,
    free_port,
    namespaced_call,
    serving,
    settled,
)
from tests.support.mock_responses import MockResponses, function_call_reply, text_reply

pytestmark = pytest.mark.skipif(EVERYTHING_STDIO is None,
                                reason="node or @modelcontextprotocol/server-everything "
                                       "(installed by .ci/run) is absent")
STDIO = EVERYTHING_STDIO or ""
#: allows a call unless its arguments name ``denied.gz``; logs its stdin to LOG
PERMISSION_HOOK = """\
import json, sys
data = json.loads(sys.stdin.read())
open(LOG, "a").write(json.dumps(data) + "\\n")
name = data["tool_input"].get("name")
behavior = "deny" if name == "denied.gz" else "allow"
print(json.dumps({"hookSpecificOutput": {"hookEventName": "PermissionRequest",
    "decision": {"behavior": behavior, "message": "no " + str(name)}}}))
"""
#: A data URI keeps gzip-file-as-resource offline.
GZIP_ARGS = {"name": "a.gz", "data": "data:text/plain;base64,aGVsbG8=",
             "outputType": "resourceLink"}


@pytest.fixture
async def every(codex_home: Path, workdir: Path, mock: MockResponses
                ) -> AsyncIterator[AppServerClient]:
    async with serving(codex_home, workdir, mock, STDIO) as client:
        yield client


async def ready_thread(client: AppServerClient, workdir: Path, approval: str,
                       sandbox: str = "danger-full-access") -> str:
    thread_id = await start_thread(client, workdir, approval=approval, sandbox=sandbox)
    assert (await settled(client, thread_id, "every"))["status"] == "ready"
    return thread_id


# -- approvals ----------------------------------------------------------------------------------
async def test_open_world_tool_asks_and_runs_once_accepted(
    every: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await ready_thread(every, workdir, "on-request")
    mock.push(namespaced_call("mcp__every", "gzip_file_as_resource", GZIP_ARGS, "call_gz"),
              text_reply("zipped"))
    start = len(every.received)
    turn_id = await begin_turn(every, thread_id)
    request = await answer(every, "mcpServer/elicitation/request",
                           {"action": "accept", "content": None, "_meta": None})
    turn = await finish_turn(every, turn_id)
    assert turn["status"] == "completed"
    params = request["params"]
    meta = params.pop("_meta")
    assert params == {
        "threadId": thread_id, "turnId": turn_id, "serverName": "every", "mode": "form",
        "message": 'Allow the every MCP server to run tool "gzip-file-as-resource"?',
        "requestedSchema": {"type": "object", "properties": {}}, "environmentId": None}
    assert meta["codex_approval_kind"] == "mcp_tool_call"
    assert meta["persist"] == ["session", "always"]
    assert meta["tool_name"] == "gzip-file-as-resource"
    assert meta["tool_params"] == GZIP_ARGS
    assert meta["tool_annotations"]["openWorldHint"] is True
    assert meta["tool_params_display"][0] == {"name": "name", "value": "a.gz",
                                              "display_name": "name"}
    flags = [s.get("activeFlags") for s in statuses(every, start)]
    assert ["waitingOnApproval"] in flags
    done = items(every, "item/completed", "call_gz")[0]
    assert done["status"] == "completed" and done["tool"] == "gzip-file-as-resource"
    assert done["readOnlyHint"] is False
    link = done["result"]["content"][0]
    assert link["type"] == "resource_link"
    # non-text content reaches the model as its JSON
    assert '"type":"resource_link"' in output_text(tool_output(mock, "call_gz"))


async def test_declined_call_never_runs(
    every: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await ready_thread(every, workdir, "on-request")
    mock.push(namespaced_call("mcp__every", "gzip_file_as_resource", GZIP_ARGS, "call_no"),
              text_reply("ok"))
    turn_id = await begin_turn(every, thread_id)
    await answer(every, "mcpServer/elicitation/request",
                 {"action": "decline", "content": None, "_meta": None})
    await finish_turn(every, turn_id)
    done = items(every, "item/completed", "call_no")[0]
    assert (done["status"], done["result"], done["error"]) == (
        "failed", None, {"message": "user rejected MCP tool call"})
    wall, refusal = tool_output(mock, "call_no")  # the refusal is its own item
    assert wall["text"].startswith("Wall time: ")
    assert wall["text"].endswith(" seconds\nOutput:")
    assert refusal == {"type": "input_text", "text": "user rejected MCP tool call"}


async def test_never_policy_fails_the_call_without_asking(
    every: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    # (with full access, never asking means running: the reference runs the tool then)
    thread_id = await ready_thread(every, workdir, "never", sandbox="workspace-write")
    mock.push(namespaced_call("mcp__every", "gzip_file_as_resource", GZIP_ARGS, "call_nv"),
              namespaced_call("mcp__every", "echo", {"message": "hi"}, "call_echo"),
              text_reply("ok"))
    await finish_turn(every, await begin_turn(every, thread_id))
    assert not [m for m in every.received if m.get("method") == "mcpServer/elicitation/request"]
    done = items(every, "item/completed", "call_nv")[0]
    assert done["error"] == {
        "message": "MCP tool call requires approval, but approval policy is never"}
    # a read-only tool runs under any policy
    assert output_text(tool_output(mock, "call_echo")).endswith("\nOutput:Echo: hi")


async def test_permission_hooks_decide_before_the_client_is_asked(
    every: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses,
    tmp_path: Path
) -> None:
    log = tmp_path / "permission.jsonl"
    script = tmp_path / "permission_hook.py"
    script.write_text(f"LOG = {str(log)!r}\n" + PERMISSION_HOOK)
    (codex_home / "hooks.json").write_text(json.dumps(handler_groups(
        f"{sys.executable} {script}", {"PermissionRequest": None})))
    await trust_all(every, workdir)
    thread_id = await ready_thread(every, workdir, "on-request")
    denied = {**GZIP_ARGS, "name": "denied.gz"}
    mock.push(namespaced_call("mcp__every", "gzip_file_as_resource", denied, "call_d"),
              namespaced_call("mcp__every", "gzip_file_as_resource", GZIP_ARGS, "call_a"),
              text_reply("ok"))
    turn_id = await begin_turn(every, thread_id)
    await finish_turn(every, turn_id)
    assert not [m for m in every.received if m.get("method") == "mcpServer/elicitation/request"]
    received = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(d["hook_event_name"], d["turn_id"], d["tool_name"], d["tool_input"])
            for d in received] == [
        ("PermissionRequest", turn_id, "mcp__every__gzip_file_as_resource", denied),
        ("PermissionRequest", turn_id, "mcp__every__gzip_file_as_resource", GZIP_ARGS)]
    done = items(every, "item/completed", "call_d")[0]
    assert (done["status"], done["error"]) == ("failed", {"message": "no denied.gz"})
    # the hook's message reaches the model as its own content item
    (first, second) = tool_output(mock, "call_d")
    assert first["text"].startswith("Wall time: ") and first["text"].endswith("\nOutput:")
    assert second == {"type": "input_text", "text": "no denied.gz"}
    assert items(every, "item/completed", "call_a")[0]["status"] == "completed"
    assert [(r["status"], r["entries"]) for r in runs(every, "hook/completed")] == [
        ("blocked", [{"kind": "feedback", "text": "no denied.gz"}]), ("completed", [])]


# -- elicitations started by the server -----------------------------------------------------------
async def test_server_elicitation_is_forwarded_and_answered(
    every: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await ready_thread(every, workdir, "never")
    mock.push(namespaced_call("mcp__every", "trigger_elicitation_request", {}, "call_el"),
              text_reply("ok"))
    turn_id = await begin_turn(every, thread_id)
    request = await answer(every, "mcpServer/elicitation/request", {
        "action": "accept", "content": {"name": "Ada", "check": True, "email": "a@b.example",
                                        "integer": 3, "number": 1.5, "untitledSingleSelectEnum":
                                        "option1"}, "_meta": None})
    await finish_turn(every, turn_id)
    params = request["params"]
    assert (params["threadId"], params["turnId"], params["serverName"], params["mode"],
            params["_meta"]) == (thread_id, turn_id, "every", "form", None)
    assert params["message"] == "Please provide inputs for the following fields:"
    assert params["requestedSchema"]["properties"]["name"]["type"] == "string"
    done = items(every, "item/completed", "call_el")[0]
    assert done["status"] == "completed"
    assert "Ada" in output_text(tool_output(mock, "call_el"))


# -- resources ----------------------------------------------------------------------------------
async def test_resource_read_with_and_without_thread(
    every: AppServerClient, workdir: Path
) -> None:
    thread_id = await ready_thread(every, workdir, "never")
    uri = "demo://resource/static/document/architecture.md"
    with_thread = await every.request("mcpServer/resource/read", {
        "threadId": thread_id, "server": "every", "uri": uri})
    assert with_thread["originCallId"] is None
    content = with_thread["contents"][0]
    assert content["uri"] == uri and content["mimeType"] == "text/markdown"
    assert content["text"] == (EVERYTHING.parent / "docs/architecture.md").read_text()
    without = await every.request("mcpServer/resource/read", {"server": "every", "uri": uri})
    assert without == with_thread
    with pytest.raises(ServerError) as missing:
        await every.request("mcpServer/resource/read", {
            "threadId": thread_id, "server": "every", "uri": "demo://nope"})
    assert missing.value.code == -32602
    assert missing.value.message.startswith("MCP error -32602: ")
    with pytest.raises(ServerError) as unknown:
        await every.request("mcpServer/resource/read", {"server": "zzz", "uri": uri})
    assert (unknown.value.code, unknown.value.message) == (-32603, "unknown MCP server 'zzz'")
    status = await every.request("mcpServerStatus/list", {"threadId": thread_id})
    resources = status["data"][0]["resources"]
    assert uri in [r["uri"] for r in resources]


# -- streamable HTTP ----------------------------------------------------------------------------
LOOPBACK = """const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" || typeof args[0] === "string") {
    const cb = args.find((a) => typeof a === "function");
    return listen.call(this, Number(args[0]), "127.0.0.1", cb);
  }
  return listen.apply(this, args);
};
"""


@pytest.fixture
async def http_server(tmp_path: Path) -> AsyncIterator[str]:
    """server-everything in streamableHttp mode, bound to 127.0.0.1 only."""
    preload = tmp_path / "loopback.cjs"
    preload.write_text(LOOPBACK)
    port = free_port()
    assert NODE is not None
    proc = await asyncio.create_subprocess_exec(
        NODE, "-r", str(preload), str(EVERYTHING), "streamableHttp",
        env={**os.environ, "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    while b"listening" not in (line := await asyncio.wait_for(proc.stderr.readline(), 30)):
        assert line, "server-everything exited"
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    await proc.wait()


async def test_streamable_http_server(
    codex_home: Path, workdir: Path, mock: MockResponses, http_server: str
) -> None:
    table = f'\n[mcp_servers.web]\nurl = "{http_server}"\nbearer_token_env_var = "WEB_TOKEN"\n'
    async with serving(codex_home, workdir, mock, table) as client:
        thread_id = await start_thread(client, workdir)
        assert (await settled(client, thread_id, "web"))["status"] == "ready"
        status = (await client.request("mcpServerStatus/list",
                                       {"threadId": thread_id}))["data"][0]
        assert status["httpOrigin"] == http_server.removesuffix("/mcp")
        assert status["authStatus"] == "bearerToken"
        assert "echo" in status["tools"]
        result: dict[str, Any] = await client.request("mcpServer/tool/call", {
            "threadId": thread_id, "server": "web", "tool": "get-sum",
            "arguments": {"a": 2, "b": 3}})
        assert result["content"][0]["text"].endswith("5.")


async def test_resource_helpers_list_and_read_for_the_model(
    every: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await ready_thread(every, workdir, "never")
    uri = "demo://resource/static/document/architecture.md"
    mock.push(function_call_reply("list_mcp_resources", {"server": "every"}, "call_list"),
              function_call_reply("read_mcp_resource", {"server": "every", "uri": uri},
                                  "call_read"),
              function_call_reply("list_mcp_resource_templates", {}, "call_tpl"),
              function_call_reply("read_mcp_resource", {"server": "zzz", "uri": uri},
                                  "call_bad"),
              text_reply("read it"))
    await finish_turn(every, await begin_turn(every, thread_id))
    names = [t.get("name") for t in mock.requests[0].body["tools"]]
    assert {"list_mcp_resources", "list_mcp_resource_templates",
            "read_mcp_resource"} <= set(names)
    listed = json.loads(tool_output(mock, "call_list"))["resources"]
    assert {"server": "every", "uri": uri} == {
        k: v for k, v in next(r for r in listed if r["uri"] == uri).items()
        if k in ("server", "uri")}
    read = json.loads(tool_output(mock, "call_read"))
    assert read["server"] == "every" and read["uri"] == uri
    assert read["contents"][0]["text"] == (EVERYTHING.parent / "docs/architecture.md"
                                           ).read_text()
    templates = json.loads(tool_output(mock, "call_tpl"))["resourceTemplates"]
    assert templates and all(t["server"] == "every" for t in templates)
    assert tool_output(mock, "call_bad") == "unknown MCP server 'zzz'"
