"""Interoperability with the reference binary (issue 3 §1): a thread written by the Rust
codex 0.171.0 is listed, read and resumed by pycodex, and a thread written by pycodex is
listed and read by the reference. Runs when the reference binary is installed (CI installs
it from the npm registry); tests/api/test_threads.py covers a recorded reference rollout always.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.reference import needs_reference, pycodex_client, reference_client
from tests.support.turns import write_config

pytestmark = needs_reference


async def one_turn(client: AppServerClient, workdir: Path, text: str) -> str:
    thread = await client.request("thread/start", {"cwd": str(workdir)})
    thread_id = str(thread["thread"]["id"])
    await client.request("turn/start", {"threadId": thread_id,
                                        "input": [{"type": "text", "text": text}]})
    completed = await client.wait_notification("turn/completed", timeout=60)
    assert completed["turn"]["status"] == "completed"
    return thread_id


def item_texts(turn: dict[str, object]) -> list[tuple[str, str]]:
    out = []
    for item in turn["items"]:  # type: ignore[attr-defined]
        if item["type"] == "userMessage":
            out.append(("user", item["content"][0]["text"]))
        elif item["type"] == "agentMessage":
            out.append(("agent", item["text"]))
    return out


async def test_pycodex_reads_and_resumes_a_reference_thread(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    write_config(codex_home, mock)
    mock.push(text_reply("from the reference"))
    async with reference_client(codex_home, workdir) as ref:
        await ref.initialize()
        thread_id = await one_turn(ref, workdir, "written by rust")
    async with pycodex_client(codex_home, workdir) as ours:
        await ours.initialize()
        listed = await ours.request("thread/list", {})
        assert thread_id in [t["id"] for t in listed["data"]]
        read = await ours.request("thread/read", {"threadId": thread_id, "includeTurns": True})
        turns = read["thread"]["turns"]
        assert [item_texts(t) for t in turns] == [
            [("user", "written by rust"), ("agent", "from the reference")]]
        await ours.request("thread/resume", {"threadId": thread_id})
        mock.push(text_reply("and from pycodex"))
        await ours.request("turn/start", {"threadId": thread_id,
                                          "input": [{"type": "text", "text": "continued"}]})
        completed = await ours.wait_notification("turn/completed", timeout=30)
        assert completed["turn"]["status"] == "completed"
        texts = [p.get("text", "") for i in mock.requests[-1].body["input"]
                 for p in i.get("content", [])]
        assert "written by rust" in texts and "from the reference" in texts
        ours.assert_valid()


async def test_reference_lists_and_resumes_a_pycodex_thread(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    write_config(codex_home, mock)
    mock.push(text_reply("from pycodex"))
    async with pycodex_client(codex_home, workdir) as ours:
        await ours.initialize()
        thread_id = await one_turn(ours, workdir, "written by python")
    async with reference_client(codex_home, workdir) as ref:
        await ref.initialize()
        listed = await ref.request("thread/list", {})
        entry = next(t for t in listed["data"] if t["id"] == thread_id)
        assert entry["preview"] == "written by python"
        # The reference rebuilds turns for thread/read from its own SQLite projection, which
        # a foreign (or even its own, copied) rollout does not have; what matters is that it
        # resumes the conversation: the model sees pycodex's history.
        await ref.request("thread/resume", {"threadId": thread_id})
        mock.push(text_reply("and from rust"))
        await ref.request("turn/start", {"threadId": thread_id,
                                         "input": [{"type": "text", "text": "continued"}]})
        completed = await ref.wait_notification("turn/completed", timeout=60)
        assert completed["turn"]["status"] == "completed"
    texts = [p.get("text", "") for i in mock.requests[-1].body["input"]
             for p in i.get("content", [])]
    assert "written by python" in texts and "from pycodex" in texts
    assert texts[-1] == "continued"
