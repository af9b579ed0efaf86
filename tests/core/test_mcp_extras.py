"""The rest of the MCP surface (extensions.md §1): ``mcpServerStatus/list`` with
``detail: "toolsAndAuthOnly"``, the resource helpers paging with ``cursor`` (against a server
that pages by two, ``tests/support/paged_mcp_server.py``), ``required`` servers on
``thread/start``, ``thread/fork`` and ``thread/resume``, and ``mcpServer/event/stream/*``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.support.client import AppServerClient, ServerError
from tests.support.exec import begin_turn, finish_turn, start_thread, tool_output
from tests.support.mcp import BROKEN, CLOCK, add_servers, serving, settled
from tests.support.mock_responses import MockResponses, function_call_reply, text_reply
from tests.support.paths import ROOT
from tests.support.turns import write_config

PAGED = f"""
[mcp_servers.paged]
command = "{sys.executable}"
args = ["-m", "tests.support.paged_mcp_server"]
cwd = "{ROOT}"
"""
REQUIRED_BROKEN = BROKEN + "required = true\n"
REQUIRED_FAILURE = ("Fatal error: Failed to initialize session: required MCP servers failed "
                    "to initialize: broken: No such file or directory (os error 2)")


# -- mcpServerStatus/list detail ----------------------------------------------------------------
async def test_tools_and_auth_only_detail_leaves_out_resources_and_templates(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    async with serving(codex_home, workdir, mock, PAGED) as client:
        full = (await client.request("mcpServerStatus/list", {}))["data"][0]
        assert [r["uri"] for r in full["resources"]] == [f"paged://r/{i}" for i in range(5)]
        assert [t["name"] for t in full["resourceTemplates"]] == ["t0", "t1", "t2"]
        short = (await client.request("mcpServerStatus/list",
                                      {"detail": "toolsAndAuthOnly"}))["data"][0]
        assert short == {**full, "resources": [], "resourceTemplates": []}
        thread_id = await start_thread(client, workdir)
        assert (await settled(client, thread_id, "paged"))["status"] == "ready"
        loaded = (await client.request("mcpServerStatus/list", {
            "threadId": thread_id, "detail": "toolsAndAuthOnly"}))["data"][0]
        assert (loaded["runtimeStatus"], loaded["resources"], loaded["resourceTemplates"],
                loaded["authStatus"]) == ("connected", [], [], "unsupported")
        explicit = (await client.request("mcpServerStatus/list", {
            "threadId": thread_id, "detail": "full"}))["data"][0]
        assert len(explicit["resources"]) == 5


# -- resource helpers with cursor ---------------------------------------------------------------
async def test_resource_helpers_page_one_server_with_its_cursor(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    async with serving(codex_home, workdir, mock, PAGED) as client:
        thread_id = await start_thread(client, workdir)
        assert (await settled(client, thread_id, "paged"))["status"] == "ready"
        mock.push(
            function_call_reply("list_mcp_resources", {"server": "paged"}, "first"),
            function_call_reply("list_mcp_resources", {"server": " paged ", "cursor": "4"},
                                "last"),
            function_call_reply("list_mcp_resource_templates",
                                {"server": "paged", "cursor": "2"}, "templates"),
            function_call_reply("list_mcp_resources", {"server": "paged", "cursor": ""},
                                "empty_cursor"),
            function_call_reply("list_mcp_resources", {}, "all"),
            function_call_reply("list_mcp_resources", {"cursor": "2"}, "no_server"),
            function_call_reply("list_mcp_resources", {"server": "paged", "cursor": "x"},
                                "bad_cursor"),
            text_reply("listed"))
        await finish_turn(client, await begin_turn(client, thread_id))
    first = json.loads(tool_output(mock, "first"))
    assert first == {"server": "paged", "nextCursor": "2", "resources": [
        {"server": "paged", "uri": "paged://r/0", "name": "r0"},
        {"server": "paged", "uri": "paged://r/1", "name": "r1"}]}
    assert json.loads(tool_output(mock, "last")) == {"server": "paged", "resources": [
        {"server": "paged", "uri": "paged://r/4", "name": "r4"}]}
    assert json.loads(tool_output(mock, "templates")) == {
        "server": "paged", "resourceTemplates": [
            {"server": "paged", "uriTemplate": "paged://t2/{id}", "name": "t2"}]}
    assert json.loads(tool_output(mock, "empty_cursor")) == first
    every = json.loads(tool_output(mock, "all"))
    assert list(every) == ["resources"]  # every page of every server, no cursor
    assert [r["uri"] for r in every["resources"]] == [f"paged://r/{i}" for i in range(5)]
    assert tool_output(mock, "no_server") == \
        "cursor can only be used when a server is specified"
    assert tool_output(mock, "bad_cursor").startswith("resources/list failed: ")


# -- required servers ---------------------------------------------------------------------------
async def test_a_required_server_that_fails_fails_start_fork_and_resume(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    async with serving(codex_home, workdir, mock) as client:
        thread_id = await start_thread(client, workdir)
        mock.push(text_reply("hello"))
        await finish_turn(client, await begin_turn(client, thread_id))
    write_config(codex_home, mock)
    add_servers(codex_home, REQUIRED_BROKEN)
    client = AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "sk-mock"})
    async with client:
        await client.initialize(name="probe", version="0.0.1")
        for method, params, action in (
            ("thread/resume", {"threadId": thread_id}, "resuming"),
            ("thread/fork", {"threadId": thread_id}, "forking"),
            ("thread/start", {"cwd": str(workdir)}, "creating"),
        ):
            with pytest.raises(ServerError) as failed:
                await client.request(method, params)
            assert (failed.value.code, failed.value.message) == (
                -32603, f"error {action} thread: {REQUIRED_FAILURE}"), method
        assert client.notifications("thread/started") == []
        assert client.notifications("mcpServer/startupStatus/updated") == []
        assert (await client.request("thread/loaded/list", {}))["data"] == []
    client.assert_valid()


async def test_a_required_server_that_starts_lets_the_thread_start(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    async with serving(codex_home, workdir, mock, CLOCK + "required = true\n") as client:
        thread_id = await start_thread(client, workdir)
        assert (await settled(client, thread_id, "clock"))["status"] == "ready"


async def test_a_required_server_is_started_once_for_the_check_and_the_thread(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    """The check waits for the thread's own start-up: one process, and its start-up
    notifications follow ``thread/started``."""
    starts = workdir.parent / "starts.log"
    counted = f"""
[mcp_servers.clock]
command = "/bin/sh"
args = ["-c", "echo start >> '{starts}'; exec '{sys.executable}' -m mcp_server_time"]
required = true
"""
    async with serving(codex_home, workdir, mock, counted) as client:
        thread_id = await start_thread(client, workdir)
        assert (await settled(client, thread_id, "clock"))["status"] == "ready"
        result = await client.request("mcpServer/tool/call", {
            "threadId": thread_id, "server": "clock", "tool": "get_current_time",
            "arguments": {"timezone": "UTC"}})
        assert result["isError"] is False
        order = [m.get("method") for m in client.received
                 if m.get("method") in ("thread/started", "mcpServer/startupStatus/updated")]
        assert order[0] == "thread/started"
        statuses = [n["params"]["status"]
                    for n in client.notifications("mcpServer/startupStatus/updated")]
        assert statuses == ["starting", "ready"]
    assert starts.read_text() == "start\n"


# -- event streams ------------------------------------------------------------------------------
async def test_event_streams_are_for_hosted_apps_only(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    write_config(codex_home, mock)
    add_servers(codex_home, PAGED)
    async with AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "sk-mock"}
                               ) as client:
        await client.initialize(name="probe", version="0.0.1", experimental=True)
        thread_id = await start_thread(client, workdir)
        with pytest.raises(ServerError) as refused:
            await client.request("mcpServer/event/stream/start", {
                "threadId": thread_id, "server": "paged", "name": "updates",
                "subscriptionId": "sub-1", "arguments": {}})
        assert (refused.value.code, refused.value.message) == (
            -32600, "MCP event subscriptions are only supported for hosted apps")
        assert await client.request("mcpServer/event/stream/stop",
                                    {"subscriptionId": "sub-1"}) == {}
    client.assert_valid()
