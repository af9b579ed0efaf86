"""Turn helpers: a config on the mock provider, a thread, one turn to its end."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses, text_reply

if TYPE_CHECKING:
    from tests.conftest import ServerFactory

#: ``collaborationMode`` of a plan-mode turn.
PLAN_MODE = {"mode": "plan", "settings": {"model": "gpt-5.5", "reasoning_effort": None,
                                          "developer_instructions": None}}


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


def answering_on_it(mock: MockResponses, codex_home: Path) -> MockResponses:
    """``mock`` as the configured provider, answering "on it" by default (what a module's
    ``mock`` override returns when its turns only need to finish)."""
    mock.default = lambda: text_reply("on it")
    write_config(codex_home, mock)
    return mock


async def start(spawn: ServerFactory, workdir: Path) -> AppServerClient:
    return await spawn(cwd=workdir, env={"MOCK_API_KEY": "sk-mock"})


async def new_thread(client: AppServerClient) -> str:
    answer = await client.request("thread/start", {})
    return str(answer["thread"]["id"])


async def thread_with_goal(client: AppServerClient, objective: str,
                           budget: int | None = None) -> str:
    """A new thread given a goal (``budget`` tokens, if any); its first turn starts."""
    thread_id = await new_thread(client)
    goal: dict[str, Any] = {"threadId": thread_id, "objective": objective}
    if budget is not None:
        goal["tokenBudget"] = budget
    await client.request("thread/goal/set", goal)
    return thread_id


async def turn_items(client: AppServerClient, turn_id: str) -> list[dict[str, Any]]:
    """The items completed in ``turn_id``, once it has finished."""
    await client.wait_notification("turn/completed",
                                   where=lambda p: p["turn"]["id"] == turn_id, timeout=30)
    return [n["params"]["item"] for n in client.notifications("item/completed")
            if n["params"]["turnId"] == turn_id]
