"""The same ``response.metadata`` and ``safety_buffering`` events streamed to the reference
binary and to pycodex: both announce the same ``model/verification`` and
``model/safetyBuffering/updated`` notifications (ids aside), in the same order, with no
``warning``, ``model/rerouted`` or ``turn/moderationMetadata`` (the reference 0.171 sends none
for ``openai_chatgpt_moderation_metadata`` from such a provider). Runs when the reference is
installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.client import AppServerClient
from tests.support.mock_responses import (
    MockResponses,
    Reply,
    function_call_events,
    message_events,
    metadata_events,
    response_reply,
    text_reply,
)
from tests.support.reference import REFERENCE, needs_reference
from tests.support.turns import write_config

pytestmark = needs_reference

WATCHED = ("model/verification", "model/safetyBuffering/updated", "turn/moderationMetadata",
           "warning", "model/rerouted")
CYBER = ["trusted_access_for_cyber", "trusted_access_for_cyber", "unknown_kind"]
CASES = {"use_cases": ["cyber"], "reasons": ["user_risk"]}
MODERATION = {"type": "response.metadata",
              "metadata": {"openai_chatgpt_moderation_metadata": {"presentation": "inline"}}}


def replies() -> list[Reply]:
    """Two turns: the first samples twice (a tool call, then the answer), each sampling
    with its metadata; the second recommends only an unknown verification kind."""
    return [
        response_reply(metadata_events(CYBER, {**CASES, "retry_model": "gpt-fast"}),
                       [MODERATION], function_call_events("update_plan", {"plan": []})),
        response_reply(metadata_events(CYBER),
                       [{"type": "response.output_text.done", "safety_buffering": CASES}],
                       metadata_events(safety={"use_cases": ["cyber"]}),
                       metadata_events(safety={**CASES, "retry_model": 5}),
                       message_events(["ok"]),
                       headers={"x-codex-safety-buffering-faster-model": "gpt-header"}),
        response_reply(metadata_events(["unknown_kind"], {"use_cases": [], "reasons": []}),
                       message_events(["x"])),
    ]


async def _run(client: AppServerClient, workdir: Path) -> list[tuple[str, Any]]:
    await client.initialize()
    thread = (await client.request("thread/start", {"cwd": str(workdir)}))["thread"]["id"]
    seen: list[tuple[str, Any]] = []
    for text in ("first", "second"):
        turn = (await client.request("turn/start", {
            "threadId": thread, "input": [{"type": "text", "text": text}]}))["turn"]["id"]
        await client.wait_notification("turn/completed", timeout=60,
                                       where=lambda p, t=turn: p["turn"]["id"] == t)
        for message in client.notifications():
            params = message.get("params") or {}
            if message["method"] in WATCHED and params.get("turnId", turn) == turn:
                rest = {k: v for k, v in params.items() if k not in ("threadId", "turnId")}
                seen.append((message["method"], rest))
        client.received.clear()
    return seen


async def test_response_metadata_announced_as_the_reference(
        tmp_path: Path, workdir: Path) -> None:
    results: dict[str, list[tuple[str, Any]]] = {}
    with MockResponses(default=lambda: text_reply("ok")) as mock:
        for name in ("reference", "pycodex"):
            home = tmp_path / f"home-{name}"
            home.mkdir()
            write_config(home, mock)
            mock.push(*replies())
            command = ([str(REFERENCE), "app-server", "--disable", "plugins"]
                       if name == "reference" else None)
            async with AppServerClient(home, cwd=workdir, env={"MOCK_API_KEY": "k"},
                                       validate=command is None, command=command) as client:
                results[name] = await _run(client, workdir)
                if command is None:
                    client.assert_valid()
    assert [m for m, _ in results["reference"]] == [
        "model/verification", "model/safetyBuffering/updated",
        "model/safetyBuffering/updated", "model/safetyBuffering/updated"], results
    assert results["pycodex"] == results["reference"], results
