"""MCP servers (extensions.md §1) against real third-party servers from PyPI:
``mcp-server-time`` and ``mcp-server-git``, spawned by a spawned pycodex app-server."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import paths
from tests.support.client import AppServerClient, ServerError
from tests.support.exec import (
    begin_turn,
    finish_turn,
    items,
    output_text,
    start_thread,
    tool_output,
)
from tests.support.mcp import (
    BROKEN,
    CLOCK,
    add_servers,
    namespaced_call,
    serving,
    settled,
    tool_search_call,
)
from tests.support.mock_responses import (
    MockResponses,
    text_reply,
)

pytestmark = pytest.mark.skipif(importlib.util.find_spec("mcp_server_time") is None,
                                reason="mcp-server-time is not installed")

NOT_FOUND = ("MCP client for `broken` failed to start: MCP startup failed: "
             "No such file or directory (os error 2)")


@pytest.fixture
async def clock(codex_home: Path, workdir: Path, mock: MockResponses
                ) -> AsyncIterator[AppServerClient]:
    async with serving(codex_home, workdir, mock, CLOCK, BROKEN) as client:
        yield client


def startup(client: AppServerClient, thread_id: str) -> list[tuple[str, str, str | None]]:
    return [(p["name"], p["status"], p["error"]) for p in
            (n["params"] for n in client.notifications("mcpServer/startupStatus/updated"))
            if p["threadId"] == thread_id]


# -- start-up and status ----------------------------------------------------------------------
async def test_servers_start_with_the_thread_and_report_ready_or_failed(
    clock: AppServerClient, workdir: Path
) -> None:
    thread_id = await start_thread(clock, workdir)
    ready = await settled(clock, thread_id, "clock")
    failed = await settled(clock, thread_id, "broken")
    assert ready == {"threadId": thread_id, "name": "clock", "status": "ready", "error": None,
                     "failureReason": None, "environmentId": None}
    assert failed["status"] == "failed" and failed["error"] == NOT_FOUND
    starting = [(n, s) for n, s, _ in startup(clock, thread_id) if s == "starting"]
    assert sorted(starting) == [("broken", "starting"), ("clock", "starting")]
    # the starting notifications come right behind thread/started
    methods = [m.get("method") for m in clock.received]
    first = methods.index("mcpServer/startupStatus/updated")
    assert methods.index("thread/started") < first

    result = await clock.request("mcpServerStatus/list", {"threadId": thread_id})
    assert [s["name"] for s in result["data"]] == ["broken", "clock"]
    assert result["nextCursor"] is None
    broken, ok = result["data"]
    assert broken == {
        "name": "broken", "runtimeStatus": "failed", "serverInfo": None,
        "serverCapabilities": None, "tools": {}, "toolListMeta": None,
        "toolsError": "MCP startup failed: No such file or directory (os error 2)",
        "resources": [], "resourceTemplates": [], "authStatus": "unsupported",
        "httpOrigin": None, "pluginId": None, "environmentId": None}
    assert ok["runtimeStatus"] == "connected"
    assert ok["serverInfo"]["name"] == "mcp-time"
    assert sorted(ok["tools"]) == ["convert_time", "get_current_time"]
    tool = ok["tools"]["get_current_time"]
    assert tool["name"] == "get_current_time"
    assert tool["inputSchema"]["required"] == ["timezone"]
    assert ok["toolsError"] is None and ok["authStatus"] == "unsupported"


async def test_status_list_without_thread_reads_the_config_afresh(
    clock: AppServerClient, codex_home: Path
) -> None:
    add_servers(codex_home, CLOCK.replace("[mcp_servers.clock]", "[mcp_servers.later]"))
    result = await clock.request("mcpServerStatus/list", {})
    names = [(s["name"], s["runtimeStatus"], sorted(s["tools"])) for s in result["data"]]
    assert names == [("broken", None, []),
                     ("clock", None, ["convert_time", "get_current_time"]),
                     ("later", None, ["convert_time", "get_current_time"])]
    page = await clock.request("mcpServerStatus/list", {"limit": 1, "serverName": "clock"})
    assert [s["name"] for s in page["data"]] == ["clock"] and page["nextCursor"] is None


# -- direct calls -------------------------------------------------------------------------------
async def test_direct_tool_call_passes_the_result_through(
    clock: AppServerClient, workdir: Path
) -> None:
    thread_id = await start_thread(clock, workdir)
    result = await clock.request("mcpServer/tool/call", {
        "threadId": thread_id, "server": "clock", "tool": "convert_time",
        "arguments": {"source_timezone": "UTC", "time": "12:00",
                      "target_timezone": "Asia/Tokyo"}})
    assert result["isError"] is False
    assert result["structuredContent"]["target"]["timezone"] == "Asia/Tokyo"
    assert result["content"][0]["type"] == "text"
    with pytest.raises(ServerError) as unknown:
        await clock.request("mcpServer/tool/call", {
            "threadId": thread_id, "server": "nope", "tool": "x"})
    assert (unknown.value.code, unknown.value.message) == (-32603, "unknown MCP server 'nope'")
    with pytest.raises(ServerError) as failed:
        await clock.request("mcpServer/tool/call", {
            "threadId": thread_id, "server": "broken", "tool": "x"})
    assert failed.value.code == -32603


# -- tools in turns -----------------------------------------------------------------------------
async def test_model_calls_a_tool_through_its_namespace(
    clock: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    # a model outside the catalog gets MCP tools directly, one namespace per server
    thread_id = await start_thread(clock, workdir, model="mock-model")
    await settled(clock, thread_id, "clock")
    mock.push(namespaced_call("mcp__clock", "convert_time", {
        "source_timezone": "UTC", "time": "08:30", "target_timezone": "Europe/Paris"},
        "call_mcp"), text_reply("done"))
    turn_id = await begin_turn(clock, thread_id)
    turn = await finish_turn(clock, turn_id)
    assert turn["status"] == "completed"
    started = items(clock, "item/started", "call_mcp")[0]
    assert isinstance(started.pop("startedAtMs"), int)
    assert started.pop("completedAtMs") is None
    assert started == {
        "type": "mcpToolCall", "id": "call_mcp", "server": "clock", "tool": "convert_time",
        "status": "inProgress", "arguments": {"source_timezone": "UTC", "time": "08:30",
                                              "target_timezone": "Europe/Paris"},
        "readOnlyHint": True, "result": None, "error": None, "durationMs": None,
        "appContext": None, "mcpAppUi": None, "pluginId": None,
        "environmentId": None}
    done = items(clock, "item/completed", "call_mcp")[0]
    assert done["status"] == "completed" and isinstance(done["durationMs"], int)
    assert done["result"]["structuredContent"]["source"]["timezone"] == "UTC"
    output = tool_output(mock, "call_mcp")
    head, body = output.split("\nOutput:", 1)
    assert head.startswith("Wall time: ") and head.endswith(" seconds")
    assert len(head.split()[2].split(".")[1]) == 4
    assert body.startswith('\n{"source":{"timezone":"UTC"')
    # the tools were offered as one namespace, schemas without titles
    namespaces = [t for t in mock.requests[0].body["tools"] if t.get("type") == "namespace"]
    assert [n["name"] for n in namespaces] == ["mcp__clock"]
    inner = {t["name"]: t for t in namespaces[0]["tools"]}
    assert sorted(inner) == ["convert_time", "get_current_time"]
    assert inner["get_current_time"]["strict"] is False
    assert "title" not in str(inner["get_current_time"]["parameters"])


async def test_a_turn_does_not_wait_for_a_slow_server(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    slow = f"""
[mcp_servers.slow]
command = "/bin/sh"
args = ["-c", "sleep 3; exec {sys.executable} -m mcp_server_time"]
"""
    async with serving(codex_home, workdir, mock, slow) as client:
        thread_id = await start_thread(client, workdir, model="mock-model")
        mock.push(text_reply("hi"))
        turn = await finish_turn(client, await begin_turn(client, thread_id))
        assert turn["status"] == "completed"
        assert startup(client, thread_id) == [("slow", "starting", None)]
        assert not [t for t in mock.requests[0].body["tools"] if t.get("type") == "namespace"]
        await settled(client, thread_id, "slow")
        mock.push(text_reply("again"))
        await finish_turn(client, await begin_turn(client, thread_id))
        assert [t["name"] for t in mock.requests[1].body["tools"]
                if t.get("type") == "namespace"] == ["mcp__slow"]


async def test_catalog_models_find_mcp_tools_through_tool_search(
    clock: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(clock, workdir)  # gpt-5.5: in the catalog
    await settled(clock, thread_id, "clock")
    mock.push(tool_search_call("convert time between timezones", "call_ts", limit=1),
              namespaced_call("mcp__clock", "convert_time", {
                  "source_timezone": "UTC", "time": "10:00", "target_timezone": "UTC"},
                  "call_conv"),
              text_reply("found and used"))
    turn = await finish_turn(clock, await begin_turn(clock, thread_id))
    assert turn["status"] == "completed"
    first = mock.requests[0].body["tools"]
    assert not [t for t in first if t.get("type") == "namespace"
                and t["name"].startswith("mcp__")]
    search = next(t for t in first if t.get("type") == "tool_search")
    assert search["execution"] == "client"
    assert set(search["parameters"]["properties"]) == {"query", "limit"}
    output = next(i for i in mock.requests[1].body["input"]
                  if i.get("type") == "tool_search_output")
    assert output["call_id"] == "call_ts" and output["status"] == "completed"
    assert output["execution"] == "client"
    [namespace] = output["tools"]
    assert namespace["name"] == "mcp__clock"
    assert [(t["name"], t["defer_loading"]) for t in namespace["tools"]] == [
        ("convert_time", True)]
    assert items(clock, "item/completed", "call_conv")[0]["status"] == "completed"
    # a search matching nothing finds nothing
    mock.push(tool_search_call("zebra", "call_none"), text_reply("none"))
    await finish_turn(clock, await begin_turn(clock, thread_id))
    nothing = next(i for i in mock.requests[-1].body["input"]
                   if i.get("type") == "tool_search_output" and i["call_id"] == "call_none")
    assert nothing["tools"] == []


# -- reload -------------------------------------------------------------------------------------
async def test_reload_restarts_the_servers_of_loaded_threads(
    clock: AppServerClient, workdir: Path, codex_home: Path
) -> None:
    thread_id = await start_thread(clock, workdir)
    await settled(clock, thread_id, "clock")
    await settled(clock, thread_id, "broken")
    add_servers(codex_home, CLOCK.replace("[mcp_servers.clock]", "[mcp_servers.added]"))
    with pytest.raises(ServerError):
        await clock.request("mcpServer/tool/call", {
            "threadId": thread_id, "server": "added", "tool": "get_current_time",
            "arguments": {"timezone": "UTC"}})
    mark = len(startup(clock, thread_id))
    assert await clock.request("config/mcpServer/reload", None) == {}
    await settled(clock, thread_id, "added")
    await clock.wait_notification(
        "mcpServer/startupStatus/updated", timeout=30,
        where=lambda p: p["name"] == "clock" and p["status"] == "ready")
    for name in ("added", "broken", "clock"):
        while not [e for e in startup(clock, thread_id)[mark:]
                   if e[0] == name and e[1] != "starting"]:
            await settled(clock, thread_id, name)
    after = sorted((n, s) for n, s, _ in startup(clock, thread_id)[mark:])
    assert after == [("added", "ready"), ("added", "starting"), ("broken", "failed"),
                     ("broken", "starting"), ("clock", "ready")]
    result = await clock.request("mcpServer/tool/call", {
        "threadId": thread_id, "server": "added", "tool": "get_current_time",
        "arguments": {"timezone": "UTC"}})
    assert result["structuredContent"]["timezone"] == "UTC"


# -- mcp-server-git -----------------------------------------------------------------------------
@pytest.mark.skipif(importlib.util.find_spec("mcp_server_git") is None,
                    reason="mcp-server-git is not installed")
async def test_git_server_reports_the_repository_status(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    subprocess.run(["git", "init", "-q", str(workdir)], check=True)
    (workdir / "new.txt").write_text("x\n")
    git = f"""
[mcp_servers.git]
command = "{sys.executable}"
args = ["-m", "mcp_server_git", "--repository", "{workdir}"]
"""
    async with serving(codex_home, workdir, mock, git) as client:
        thread_id = await start_thread(client, workdir)
        assert (await settled(client, thread_id, "git"))["status"] == "ready"
        mock.push(namespaced_call("mcp__git", "git_status", {"repo_path": str(workdir)},
                                  "call_git"), text_reply("ok"))
        await finish_turn(client, await begin_turn(client, thread_id))
        done = items(client, "item/completed", "call_git")[0]
        assert done["status"] == "completed" and done["tool"] == "git_status"
        assert "new.txt" in output_text(tool_output(mock, "call_git"))


# -- lifecycle ------------------------------------------------------------------------------
DYING = f"""
[mcp_servers.dying]
command = "{sys.executable}"
args = ["{paths.DATA / "mcp_dying_server.py"}"]
"""


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def gone(pid: int) -> bool:
    for _ in range(200):
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


async def server_pid(client: AppServerClient, thread_id: str) -> int:
    result = await client.request("mcpServer/tool/call", {
        "threadId": thread_id, "server": "dying", "tool": "pid", "arguments": {}})
    return int(result["content"][0]["text"])


async def test_servers_stop_with_their_thread_and_with_pycodex(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    async with serving(codex_home, workdir, mock, DYING) as client:
        first = await start_thread(client, workdir)
        second = await start_thread(client, workdir)
        pid_first = await server_pid(client, first)
        pid_second = await server_pid(client, second)
        assert pid_first != pid_second  # each loaded thread has its own connection
        await client.request("thread/archive", {"threadId": first})
        assert await gone(pid_first)
        assert alive(pid_second)
    assert await gone(pid_second)


async def test_a_server_dying_mid_call_fails_the_call_and_its_status(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    async with serving(codex_home, workdir, mock, DYING) as client:
        thread_id = await start_thread(client, workdir)
        await settled(client, thread_id, "dying")
        mock.push(namespaced_call("mcp__dying", "die", {}, "call_die"), text_reply("oh"))
        turn = await finish_turn(client, await begin_turn(client, thread_id))
        assert turn["status"] == "completed"
        done = items(client, "item/completed", "call_die")[0]
        assert done["status"] == "failed" and done["error"]["message"]
        assert tool_output(mock, "call_die").endswith("\nOutput:" + done["error"]["message"])
        status = (await client.request("mcpServerStatus/list",
                                       {"threadId": thread_id}))["data"][0]
        assert status["runtimeStatus"] == "failed"
        assert status["toolsError"].startswith("MCP server connection closed")


# -- configuration ------------------------------------------------------------------------------
def test_config_entries_are_read_as_the_reference_reads_them() -> None:
    from pycodex.config.mcp import parse_mcp_servers

    servers, warnings = parse_mcp_servers({"mcp_servers": {
        "web": {"url": "http://127.0.0.1:1/mcp", "bearer_token_env_var": "TOKEN",
                "http_headers": {"X-A": "1"}, "env_http_headers": {"X-B": "B_VAR"},
                "startup_timeout_ms": 2500, "tool_timeout_sec": 5,
                "enabled_tools": ["a", "b"], "disabled_tools": ["b"]},
        "local": {"command": "srv", "args": ["-v"], "env": {"K": "V"}, "env_vars": ["PATH"],
                  "cwd": "/srv", "enabled": False, "required": True},
        "both": {"command": "x", "url": "http://h"},
        "neither": {"args": []},
        "typo": {"command": "x", "args": "not-a-list"},
        "scalar": 3,
    }})
    web, local = servers
    assert (web.name, web.url, web.bearer_token_env_var, web.startup_timeout_secs,
            web.tool_timeout_secs) == ("web", "http://127.0.0.1:1/mcp", "TOKEN", 2.5, 5.0)
    assert [t for t in ("a", "b", "c") if web.tool_allowed(t)] == ["a"]
    assert (local.command, local.args, local.env, local.env_vars, local.cwd, local.enabled,
            local.required, local.startup_timeout_secs) == (
        "srv", ("-v",), {"K": "V"}, ("PATH",), "/srv", False, True, 10.0)
    assert warnings == [
        "ignoring MCP server `both`: `command` and `url` cannot both be set",
        "ignoring MCP server `neither`: either `command` or `url` must be set",
        "ignoring MCP server `typo`: `args` must be an array of strings",
        "ignoring MCP server `scalar`: expected a table",
    ]


async def test_a_bad_entry_is_a_config_warning_and_the_others_still_start(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    async with serving(codex_home, workdir, mock, CLOCK,
                               '\n[mcp_servers.bad]\ncommand = 3\n') as client:
        warning = await client.wait_notification(
            "configWarning", where=lambda p: "MCP server" in p["summary"])
        assert warning["summary"] == "ignoring MCP server `bad`: `command` must be a string"
        thread_id = await start_thread(client, workdir)
        assert (await settled(client, thread_id, "clock"))["status"] == "ready"
        assert [n for n, _, _ in startup(client, thread_id)] == ["clock", "clock"]
