"""``turn/steer`` while the model answers, side by side with the reference 0.171: the answer
being streamed is cut (its item never completes, the history drops it) and the model is
asked again with the steered input; a steer a ``UserPromptSubmit`` hook refuses still cuts
the answer and ends the turn. The cut request's ``PostModelRequest`` says ``cancelled``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import AppServerClient
from tests.support.hooks import hook_tree, side_by_side, trust_all
from tests.support.mock_responses import MockResponses, slow_text_reply, text_reply
from tests.support.reference import REFERENCE

pytestmark = pytest.mark.skipif(not REFERENCE.exists(),
                                reason=f"reference binary not installed at {REFERENCE}")

#: refuses a prompt that says "refused"
HOOK = """\
import json, os, sys
data = json.loads(sys.stdin.read())
with open(os.path.join(os.environ["HOOK_LOG"], "stdin.jsonl"), "a") as fh:
    fh.write(json.dumps(data) + "\\n")
if "refused" in data.get("prompt", ""):
    print(json.dumps({"decision": "block", "reason": "no steering"}))
"""

SEEN = ("item/started", "item/completed", "item/agentMessage/delta", "turn/completed",
        "account/rateLimits/updated", "hook/completed")


def _seen(message: dict[str, Any]) -> Any:
    params = message["params"]
    if "item" in params:
        item = params["item"]
        return message["method"], item["type"], item.get("text") or item.get("content")
    if "run" in params:
        return message["method"], params["run"]["eventName"], params["run"]["status"]
    return message["method"], params.get("delta")


def _apart(seen: list[Any]) -> tuple[list[Any], list[Any]]:
    """What the turn sent in order, and the hook runs sorted."""
    hooks = [s for s in seen if s[0] == "hook/completed"]
    return [s for s in seen if s[0] != "hook/completed"], sorted(hooks)


async def session(client: AppServerClient, mock: MockResponses, root: Path, repo: Path,
                  log: Path) -> dict[str, Any]:
    await client.initialize()
    await trust_all(client, repo)
    thread = await client.request("thread/start", {"cwd": str(repo)})
    thread_id = thread["thread"]["id"]
    results: dict[str, Any] = {}
    for steer in ("also this", "refused"):
        start = len(client.received)
        requests = len(mock.requests)
        mock.push(slow_text_reply("a", "b", "c", "d", "e", interval=0.5))
        if steer != "refused":
            mock.push(text_reply("saw it"))
        turn_id = (await client.request("turn/start", {
            "threadId": thread_id, "input": [{"type": "text", "text": "go"}]}))["turn"]["id"]
        await client.wait_notification("item/agentMessage/delta", timeout=30,
                                       where=lambda p, t=turn_id: p["turnId"] == t)
        await client.request("turn/steer", {"threadId": thread_id,
                                            "expectedTurnId": turn_id,
                                            "input": [{"type": "text", "text": steer}]})
        await client.wait_notification("turn/completed", timeout=60,
                                       where=lambda p, t=turn_id: p["turn"]["id"] == t)
        last = mock.requests[-1].body["input"]
        results[steer] = {
            "seen": [_seen(m) for m in client.received[start:] if m.get("method") in SEEN],
            "requests": len(mock.requests) - requests,
            "last_input": [(i["role"], i["content"][0]["text"]) for i in last
                           if i.get("role") in ("user", "assistant")
                           and not i["content"][0]["text"].startswith("<")],
        }
    # PostModelRequest runs beside the turn: the cut request's may end after turn/completed
    for _ in range(100):
        posts = [d for d in map(json.loads, (log / "stdin.jsonl").read_text().splitlines())
                 if d["hook_event_name"] == "PostModelRequest"]
        if len(posts) >= 3:
            break
        await asyncio.sleep(0.05)
    results["post"] = [
        {k: v for k, v in d.items() if k not in ("session_id", "turn_id", "transcript_path",
                                                  "cwd", "request_id", "response_id")}
        for d in posts]
    return results


def setup_tree(root: Path, script: Path) -> tuple[Path, Path, Path]:
    return hook_tree(root, script, ("UserPromptSubmit", "PreModelRequest", "PostModelRequest"))


async def test_steer_cuts_the_streamed_answer_as_the_reference(tmp_path: Path) -> None:
    reference, ours = await side_by_side(tmp_path, HOOK, setup_tree, session)
    assert reference["also this"]["requests"] == 2
    assert reference["refused"]["requests"] == 1
    assert [p["status"] for p in reference["post"]] == ["cancelled", "completed", "cancelled"]
    for key in ("also this", "refused"):  # hooks run beside the turn: compared unordered
        assert _apart(ours[key]["seen"]) == _apart(reference[key]["seen"]), key
        assert ours[key]["requests"] == reference[key]["requests"], key
        assert ours[key]["last_input"] == reference[key]["last_input"], key
    assert [{k: v for k, v in p.items() if k != "thread_id"} for p in ours["post"]] == [
        {k: v for k, v in p.items() if k != "thread_id"} for p in reference["post"]]
