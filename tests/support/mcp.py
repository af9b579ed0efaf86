"""MCP helpers: servers in the config, namespaced tool calls, settling of startup."""

from __future__ import annotations

import contextlib
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.support.client import AppServerClient
from tests.support.mock_responses import (
    MockResponses,
    Reply,
    function_call_events,
    response_reply,
)
from tests.support.turns import write_config

CLOCK = f"""
[mcp_servers.clock]
command = "{sys.executable}"
args = ["-m", "mcp_server_time", "--local-timezone", "UTC"]
"""


#: npm's ``@modelcontextprotocol/server-everything`` over stdio (``[mcp_servers.every]``),
#: None when node or the package (installed by ``.ci/run``) is absent
EVERYTHING = (Path.home() / ".cache/pycodex-mcp-everything/node_modules/@modelcontextprotocol"
              / "server-everything/dist/index.js")
NODE = shutil.which("node")
EVERYTHING_STDIO = (f"""
[mcp_servers.every]
command = "{NODE}"
args = ["{EVERYTHING}", "stdio"]
""" if NODE is not None and EVERYTHING.is_file() else None)

BROKEN = """
[mcp_servers.broken]
command = "/nonexistent/mcp-server"
"""


def add_servers(codex_home: Path, *tables: str) -> None:
    config = codex_home / "config.toml"
    config.write_text(config.read_text() + "".join(tables))


@contextlib.asynccontextmanager
async def serving(codex_home: Path, workdir: Path, mock: MockResponses,
                  *tables: str, **settings: str) -> AsyncIterator[AppServerClient]:
    """A spawned pycodex with ``tables`` (and top-level ``settings``, TOML values) in its
    config; every message checked at the end."""
    client = await client_with(codex_home, workdir, mock, *tables, **settings)
    try:
        yield client
    finally:
        await client.close()
    client.assert_valid()


async def settled(client: AppServerClient, thread_id: str, name: str) -> dict[str, Any]:
    return await client.wait_notification(
        "mcpServer/startupStatus/updated", timeout=30,
        where=lambda p: p["threadId"] == thread_id and p["name"] == name
        and p["status"] != "starting")


def namespaced_call(namespace: str, name: str, arguments: dict[str, Any], call_id: str) -> Reply:
    events = function_call_events(name, arguments, call_id)
    for event in events:
        if "item" in event:
            event["item"]["namespace"] = namespace
    return response_reply(events)


def tool_search_call(query: str, call_id: str, limit: int | None = None) -> Reply:
    arguments: dict[str, Any] = {"query": query}
    if limit is not None:
        arguments["limit"] = limit
    item = {"type": "tool_search_call", "id": "ts_" + call_id, "call_id": call_id,
            "status": "completed", "execution": "client", "arguments": arguments}
    return response_reply([
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.output_item.done", "output_index": 0, "item": item}])


async def client_with(codex_home: Path, workdir: Path, mock: MockResponses,
                      *tables: str, **settings: str) -> AppServerClient:
    write_config(codex_home, mock, **settings)
    add_servers(codex_home, *tables)
    home = codex_home.parent / "home"
    home.mkdir(exist_ok=True)
    client = AppServerClient(codex_home, cwd=workdir, env={
        "MOCK_API_KEY": "sk-mock", "SHELL": "/bin/bash", "HOME": str(home)})
    await client.start()
    await client.initialize(name="probe", version="0.0.1")
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
