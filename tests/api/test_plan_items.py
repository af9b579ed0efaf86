"""Plan mode's proposed plans, as the reference 0.171 streams them (probed on the binary): a
``<proposed_plan>`` block of the model's answer becomes a ``plan`` item whose lines arrive as
``item/plan/delta``, the agent message keeps only the text around it, and the plan item
completes with the message. Outside plan mode the same text stays one agent message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.turns import PLAN_MODE, write_config

ANSWER = ("Here is my plan.\n", "<proposed_plan>\n", "# Title\n", "- step one\n",
          "- step ", "two\n", "</proposed_plan>\n", "Done.")


@pytest.fixture
def mock(mock: MockResponses, codex_home: Path) -> MockResponses:
    """The shared mock as the configured provider, answering "ok" by default."""
    mock.default = lambda: text_reply("ok")
    write_config(codex_home, mock)
    return mock


async def _turn(client: AppServerClient, thread_id: str, **extra: Any) -> list[dict[str, Any]]:
    """The turn's notifications after ``turn/started`` (item events and deltas)."""
    start = len(client.received)
    await client.request("turn/start", {"threadId": thread_id, "input": [
        {"type": "text", "text": "plan it"}], **extra})
    await client.wait_notification("turn/completed")
    return [m for m in client.received[start:] if m.get("method", "").startswith("item/")]


def _summary(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for m in messages:
        params = m["params"]
        if m["method"] in ("item/started", "item/completed"):
            item = params["item"]
            if item["type"] != "userMessage":
                out.append((f"{m['method']} {item['type']}", item["text"]))
        else:
            out.append((m["method"], params["delta"]))
    return out


async def _answer_turn(spawn: ServerFactory, workdir: Path, mock: MockResponses,
                       **extra: Any) -> tuple[AppServerClient, str, list[dict[str, Any]]]:
    """A new thread whose first turn gets :data:`ANSWER`: the client, thread and events."""
    client = await spawn(cwd=workdir, env={"MOCK_API_KEY": "sk-mock"}, initialize=False)
    await client.initialize(experimental=True)
    thread_id = (await client.request("thread/start", {}))["thread"]["id"]
    mock.push(text_reply(*ANSWER))
    return client, thread_id, await _turn(client, thread_id, **extra)


async def test_a_proposed_plan_becomes_a_plan_item(
    spawn: ServerFactory, workdir: Path, mock: MockResponses
) -> None:
    client, thread_id, events = await _answer_turn(spawn, workdir, mock,
                                                   collaborationMode=PLAN_MODE)
    assert _summary(events) == [
        ("item/started agentMessage", ""),
        ("item/agentMessage/delta", "Here is my plan.\n"),
        ("item/started plan", ""),
        ("item/plan/delta", "# Title\n"),
        ("item/plan/delta", "- step one\n"),
        ("item/plan/delta", "- step "),  # a line that cannot be the closing tag streams at once
        ("item/plan/delta", "two\n"),
        ("item/agentMessage/delta", "Done."),
        ("item/completed plan", "# Title\n- step one\n- step two\n"),
        ("item/completed agentMessage", "Here is my plan.\nDone."),
    ]
    plan_ids = {m["params"]["itemId"] for m in events if m["method"] == "item/plan/delta"}
    assert plan_ids == {m["params"]["item"]["id"] for m in events
                        if m["method"] == "item/started" and m["params"]["item"]["type"] == "plan"}
    # the model keeps seeing its whole answer
    mock.push(text_reply("ok"))
    await _turn(client, thread_id, collaborationMode=PLAN_MODE)
    said = [part["text"] for item in mock.requests[-1].body["input"]
            if item.get("role") == "assistant" for part in item["content"]]
    assert said == ["".join(ANSWER)]
    # and the thread's history keeps the plan item
    turns = (await client.request("thread/read", {"threadId": thread_id,
                                                  "includeTurns": True}))["thread"]["turns"]
    kinds = [(i["type"], i.get("text")) for i in turns[0]["items"] if i["type"] != "userMessage"]
    assert kinds == [("plan", "# Title\n- step one\n- step two\n"),
                     ("agentMessage", "Here is my plan.\nDone.")]


async def test_outside_plan_mode_the_block_is_plain_text(
    spawn: ServerFactory, workdir: Path, mock: MockResponses
) -> None:
    _, _, events = await _answer_turn(spawn, workdir, mock)
    summary = _summary(events)
    assert [kind for kind, _ in summary if "plan" in kind] == []
    assert summary[-1] == ("item/completed agentMessage", "".join(ANSWER))
