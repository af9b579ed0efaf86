"""Turn helpers: a config on the mock provider, a thread, one turn to its end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses


def write_config(home: Path, mock: MockResponses, **extra: Any) -> None:
    lines = [
        'model = "gpt-5.5"',
        'model_provider = "mock"',
        'approval_policy = "never"',
        'sandbox_mode = "danger-full-access"',
    ]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n\n" + mock.provider_toml(
        stream_max_retries=extra.pop("_stream_retries", 0)))


async def start_thread(client: AppServerClient, workdir: Path, **params: Any) -> str:
    result = await client.request("thread/start", {"cwd": str(workdir), **params})
    return str(result["thread"]["id"])


async def run_turn(client: AppServerClient, thread_id: str, text: str,
                   **params: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    response = await client.request(
        "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": text}],
                       **params})
    turn_id = response["turn"]["id"]
    completed = await client.wait_notification(
        "turn/completed", where=lambda p: p["turn"]["id"] == turn_id, timeout=30)
    return response, completed


def texts(request_input: list[dict[str, Any]]) -> list[str]:
    return [part.get("text", "") for item in request_input if item.get("type") == "message"
            for part in item.get("content", [])]
