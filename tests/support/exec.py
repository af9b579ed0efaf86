"""Tool-run helpers (``exec_command`` and friends): a client with a bare HOME, turns begun
and finished, the exact tool output the model got back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.support.client import AppServerClient
from tests.support.mock_responses import (
    MockResponses,
    Reply,
    function_call_reply,
)
from tests.support.turns import write_config

OUTPUT_RE = re.compile(
    r"\AChunk ID: [0-9a-f]{6}\nWall time: \d+\.\d{4} seconds\n"
    r"(?P<status>Process exited with code (?P<code>-?\d+)|Process running with session ID "
    r"(?P<sid>\d+))\nOriginal token count: \d+\nOutput:\n(?P<output>.*)\Z",
    re.DOTALL,
)


async def open_client(codex_home: Path, workdir: Path, mock: MockResponses, *,
                      experimental: bool = False, **config: Any) -> AppServerClient:
    write_config(codex_home, mock, **config)
    # A bare HOME keeps the machine's ~/.bashrc (noisy under the sandbox) out of login shells.
    home = codex_home.parent / "home"
    home.mkdir(exist_ok=True)
    client = AppServerClient(codex_home, cwd=workdir, env={
        "MOCK_API_KEY": "sk-mock", "SHELL": "/bin/bash", "HOME": str(home)})
    await client.start()
    await client.initialize(name="probe", version="0.0.1", experimental=experimental)
    return client


async def start_thread(client: AppServerClient, workdir: Path, approval: str = "never",
                       sandbox: str = "danger-full-access", **params: Any) -> str:
    result = await client.request("thread/start", {
        "cwd": str(workdir), "approvalPolicy": approval, "sandbox": sandbox, **params})
    return str(result["thread"]["id"])


async def begin_turn(client: AppServerClient, thread_id: str, text: str = "go",
                     **params: Any) -> str:
    response = await client.request(
        "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": text}],
                       **params})
    return str(response["turn"]["id"])


async def finish_turn(client: AppServerClient, turn_id: str, timeout: float = 30
                      ) -> dict[str, Any]:
    done = await client.wait_notification(
        "turn/completed", where=lambda p: p["turn"]["id"] == turn_id, timeout=timeout)
    turn: dict[str, Any] = done["turn"]
    return turn


async def run_turn(client: AppServerClient, thread_id: str, text: str = "go",
                   **params: Any) -> dict[str, Any]:
    return await finish_turn(client, await begin_turn(client, thread_id, text, **params))


def output_text(output: Any) -> str:
    """A tool output as one text: a string as it is, content items' texts joined."""
    if isinstance(output, str):
        return output
    return "".join(item.get("text", "") for item in output if item.get("type") == "input_text")


def tool_output(mock: MockResponses, call_id: str) -> Any:
    """The output the model was sent for ``call_id`` (from the last request carrying it)."""
    for request in reversed(mock.requests):
        for item in request.input:
            if item.get("type") in ("function_call_output", "custom_tool_call_output") and \
                    item.get("call_id") == call_id:
                return item["output"]
    raise AssertionError(f"no output for {call_id} was sent to the model")


def parse_exec_output(text: str) -> re.Match[str]:
    match = OUTPUT_RE.match(text)
    assert match is not None, f"unexpected exec output: {text!r}"
    return match


def items(client: AppServerClient, method: str, item_id: str) -> list[dict[str, Any]]:
    return [n["params"]["item"] for n in client.notifications(method)
            if n["params"]["item"]["id"] == item_id]


def thread_methods(client: AppServerClient, start: int) -> list[str]:
    """Methods of notifications and server requests from ``start``, minus token/rate noise."""
    noise = {"thread/tokenUsage/updated", "account/rateLimits/updated"}
    return [m["method"] for m in client.received[start:]
            if "method" in m and m["method"] not in noise]


def exec_call(cmd: str, call_id: str, **args: Any) -> Reply:
    return function_call_reply("exec_command", {"cmd": cmd, **args}, call_id=call_id)


def strip_timing(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items()
            if k not in ("startedAtMs", "completedAtMs", "durationMs")}


WALL = re.compile(r"^Wall time: \d+(\.\d+)? seconds$", re.MULTILINE)


def without_wall_time(text: str) -> str:
    assert WALL.search(text), text
    return WALL.sub("Wall time: X seconds", text)
