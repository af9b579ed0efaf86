"""The same MCP scenario (mcp-server-time, a broken server) against the reference binary and
pycodex: start-up notifications, ``mcpServerStatus/list``, direct calls and their errors, the
tools the model is offered and a model call's item and output. Runs where the reference
binary is installed (``.ci/run`` installs it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.support.client import AppServerClient, ServerError
from tests.support.mcp import BROKEN, CLOCK, add_servers, namespaced_call, settled, tool_search_call
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.reference import REFERENCE, needs_reference
from tests.support.turns import write_config

pytestmark = needs_reference


def _error(exc: ServerError) -> tuple[Any, Any]:
    return exc.code, exc.message


async def scenario(client: AppServerClient, workdir: Path, mock: MockResponses
                   ) -> dict[str, Any]:
    """Everything the scenario observed, with ids, times and paths taken out."""
    await client.initialize(name="probe", version="0.0.1")
    # a model outside the catalog: MCP tools are offered directly, not behind tool search
    started = await client.request("thread/start", {"cwd": str(workdir), "model": "mock-model",
                                                    "approvalPolicy": "never"})
    thread_id = started["thread"]["id"]
    await settled(client, thread_id, "clock")
    await settled(client, thread_id, "broken")
    # per server in order (the reference starts them in no fixed order)
    notes = sorted(({k: v for k, v in n["params"].items() if k != "threadId"}
                    for n in client.notifications("mcpServer/startupStatus/updated")),
                   key=lambda p: p["name"])
    status = await client.request("mcpServerStatus/list", {"threadId": thread_id})
    for entry in status["data"]:
        if entry["serverInfo"]:
            entry["serverInfo"]["version"] = "<version>"
    call = await client.request("mcpServer/tool/call", {
        "threadId": thread_id, "server": "clock", "tool": "convert_time",
        "arguments": {"source_timezone": "UTC", "time": "12:00",
                      "target_timezone": "Asia/Tokyo"}})
    errors = {}
    for name, params in {
        "unknown server": {"server": "nope", "tool": "x"},
        "unknown tool": {"server": "clock", "tool": "nope"},
    }.items():
        try:
            errors[name] = await client.request("mcpServer/tool/call",
                                                {"threadId": thread_id, **params})
        except ServerError as exc:
            errors[name] = _error(exc)
    mock.push(namespaced_call("mcp__clock", "convert_time", {
        "source_timezone": "UTC", "time": "08:30", "target_timezone": "Europe/Paris"},
        "call_mcp"), text_reply("done"))
    await client.request("turn/start", {"threadId": thread_id,
                                        "input": [{"type": "text", "text": "go"}]})
    await client.wait_notification("turn/completed", timeout=60)
    item_started = [n["params"]["item"] for n in client.notifications("item/started")
                    if n["params"]["item"]["type"] == "mcpToolCall"]
    item_done = [n["params"]["item"] for n in client.notifications("item/completed")
                 if n["params"]["item"]["type"] == "mcpToolCall"]
    for item in [*item_started, *item_done]:
        item["startedAtMs"] = "<ms>"
        if item["completedAtMs"] is not None:
            item["durationMs"] = item["completedAtMs"] = "<ms>"
    tools = mock.requests[0].body["tools"]
    # the namespace's description is prose (our own words), the rest is compared
    namespaces = [{**t, "description": "<prose>"} for t in tools
                  if t.get("type") == "namespace" and t["name"].startswith("mcp__")]
    helpers = [(t["name"], sorted(t["parameters"]["properties"]),
                t["parameters"].get("required"), t["strict"]) for t in tools
               if t.get("name", "").endswith(("mcp_resources", "mcp_resource_templates",
                                              "mcp_resource"))]
    output = next(i["output"] for i in mock.requests[-1].body["input"]
                  if i.get("call_id") == "call_mcp" and "output" in i)
    # a catalog model searches for them
    second = (await client.request("thread/start", {"cwd": str(workdir),
                                                    "approvalPolicy": "never"}))["thread"]["id"]
    await settled(client, second, "clock")
    mock.push(tool_search_call("convert time between timezones", "call_ts", limit=1),
              text_reply("found"))
    await client.request("turn/start", {"threadId": second,
                                        "input": [{"type": "text", "text": "find"}]})
    await client.wait_notification("turn/completed", timeout=60,
                                   where=lambda p: p["threadId"] == second)
    found = next(i for i in mock.requests[-1].body["input"]
                 if i.get("type") == "tool_search_output")
    assert found.pop("id").startswith("tso_")
    for namespace in found["tools"]:
        namespace["description"] = "<prose>"
    search_tools = [t["type"] for t in mock.requests[-2].body["tools"]
                    if t.get("type") == "tool_search"
                    or t.get("name", "").startswith("mcp__")]
    return {
        "tool_search_output": found, "search_tools": search_tools,
        "startup": notes, "status": status, "call": call, "errors": errors,
        "item_started": item_started, "item_completed": item_done,
        "namespaces": namespaces, "helpers": helpers,
        "output": re.sub(r"Wall time: \d+\.\d{4} seconds", "Wall time: <s> seconds", output),
    }


async def run(client: AppServerClient, workdir: Path, mock: MockResponses) -> dict[str, Any]:
    async with client:
        return await scenario(client, workdir, mock)


async def test_mcp_scenario_matches_the_reference(
    ref_dirs: tuple[Path, Path], codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    ref_home, ref_work = ref_dirs
    for home in (ref_home, codex_home):
        write_config(home, mock)
        add_servers(home, CLOCK, BROKEN)
    reference = await run(AppServerClient(
        ref_home, cwd=ref_work, env={"MOCK_API_KEY": "k"}, validate=False,
        command=[str(REFERENCE), "app-server", "--disable", "plugins"]), ref_work, mock)
    mock.requests.clear()
    ours = await run(AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "k"}),
                     workdir, mock)
    for key in reference:
        assert ours[key] == reference[key], key
