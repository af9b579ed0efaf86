"""``thread/resume``, ``thread/read`` and ``thread/fork`` of stored rollouts give exactly the
recorded answer: the full ``thread`` (turns included) is compared with a stored expectation,
and so is the model history the next turn would send.

Two rollouts: the reference's own (``rollout-...-01a20baa-....jsonl``) and a mixed one that
goes through every rebuild path (legacy events, ``item_completed`` of every kind, synthetic
turns, rollback, compaction, interleaved and unfinished turns). The expectation lives in
``tests/data/rollouts/resume-expected.json`` (``$WORKDIR`` / ``$CODEX_HOME`` placeholders)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec

from pycodex.store.history import TurnBuilder, model_history
from pycodex.store.rollout import ReadStats, iter_rollout, next_ordinal
from tests.conftest import ServerFactory
from tests.support import paths
from tests.support.rollouts import REF_ID, install_reference_rollout

DATA = paths.DATA / "rollouts"
MIXED_ID = "01a20c00-0000-7000-8000-00000000abcd"
MIXED_FILE = f"rollout-2026-02-03T04-05-06-{MIXED_ID}.jsonl"
EXPECTED = DATA / "resume-expected.json"
#: A fixed mtime for the installed rollouts, so ``updatedAt`` is part of the expectation.
MTIME = 1_795_500_000


def install(codex_home: Path, workdir: Path, which: str) -> Path:
    if which == "reference":
        path = install_reference_rollout(codex_home, workdir)
    else:
        path = codex_home / "sessions" / "2026" / "02" / "03" / MIXED_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((DATA / MIXED_FILE).read_bytes())
    os.utime(path, (MTIME, MTIME))
    return path


def placeholders(value: Any, codex_home: Path, workdir: Path) -> Any:
    """``value`` with the test's directories written as ``$CODEX_HOME`` / ``$WORKDIR``."""
    text = json.dumps(value, ensure_ascii=False)
    text = text.replace(str(codex_home), "$CODEX_HOME").replace(str(workdir), "$WORKDIR")
    return json.loads(text)


def expected(which: str) -> dict[str, Any]:
    data: dict[str, dict[str, Any]] = json.loads(EXPECTED.read_text())
    return data[which]


async def observe(
    spawn: ServerFactory, codex_home: Path, workdir: Path, which: str
) -> dict[str, Any]:
    """What a client sees: thread/read (not loaded) and thread/resume, plus the model
    history rebuilt from the file."""
    path = install(codex_home, workdir, which)
    thread_id = REF_ID if which == "reference" else MIXED_ID
    client = await spawn(cwd=workdir)
    read = await client.request("thread/read", {"threadId": thread_id, "includeTurns": True})
    resumed = await client.request("thread/resume", {"threadId": thread_id})
    await client.close()
    client.assert_valid()
    return placeholders(
        {
            "read": read["thread"],
            "resume": resumed["thread"],
            "modelHistory": model_history(iter_rollout(path)),
            "nextOrdinal": next_ordinal(path),
        },
        codex_home,
        workdir,
    )


async def test_resume_of_the_reference_rollout_is_exact(
    spawn: ServerFactory, codex_home: Path, workdir: Path
) -> None:
    seen = await observe(spawn, codex_home, workdir, "reference")
    want = expected("reference")
    assert seen["resume"]["turns"] == want["resume"]["turns"]
    assert seen == want


async def test_resume_of_a_mixed_rollout_is_exact(
    spawn: ServerFactory, codex_home: Path, workdir: Path
) -> None:
    seen = await observe(spawn, codex_home, workdir, "mixed")
    want = expected("mixed")
    assert [t["status"] for t in seen["resume"]["turns"]] == [
        "completed", "interrupted", "interrupted", "failed", "failed", "interrupted",
        "failed", "interrupted",
    ]  # fmt: skip
    assert seen["resume"]["turns"] == want["resume"]["turns"]
    assert seen == want


def test_running_turn_stays_in_progress_and_history_skips_nothing() -> None:
    path = DATA / MIXED_FILE
    stats = ReadStats()
    lines = list(iter_rollout(path, stats=stats))
    assert stats.bad_lines == 0 and not stats.torn_tail
    assert [line.line_no for line in lines] == list(range(1, len(lines) + 1))
    turns = TurnBuilder(MIXED_ID).feed_all(lines).finish("t8")
    assert turns[-1].id == "t8" and turns[-1].status == "inProgress"
    want = expected("mixed")["resume"]["turns"]
    assert msgspec.to_builtins(turns[:-1]) == want[:-1]
    assert model_history(lines) == expected("mixed")["modelHistory"]


async def test_fork_copies_every_line_and_rebuilds_the_same_turns(
    spawn: ServerFactory, codex_home: Path, workdir: Path
) -> None:
    source = install(codex_home, workdir, "mixed")
    client = await spawn(cwd=workdir)
    forked = await client.request("thread/fork", {"threadId": MIXED_ID})
    await client.close()
    client.assert_valid()
    path = Path(forked["thread"]["path"])
    copied = [(line.type, line.payload) for line in iter_rollout(path)][1:]
    original = [(line.type, line.payload) for line in iter_rollout(source)][1:]
    assert copied == original
    want = expected("mixed")["resume"]["turns"]
    got = placeholders(forked["thread"]["turns"], codex_home, workdir)

    # The copied lines carry new timestamps and synthetic turn ids are derived from the
    # thread id; the items, statuses and errors are the same.
    def essence(turns: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(t["status"], t["error"], t["durationMs"], t["items"]) for t in turns]

    assert essence(got) == essence(want)
    assert [t["id"] for t in got if t["id"].startswith("t")] == [
        t["id"] for t in want if t["id"].startswith("t")
    ]


def test_reader_edge_lines_match_the_generic_decoding(tmp_path: Path) -> None:
    """Every line form the typed reader meets: the kinds it decodes itself, the kinds it
    leaves to the generic decoder, and the ones it must skip."""
    big = "y" * 200_000  # longer than one read buffer
    rows = [
        b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"session_meta","payload":{"id":"x"}}',
        b"",
        b"   \t",
        b'\x0c{"type":"event_msg","payload":{"type":"agent_message","message":"ff"}}\x0c',
        b'{"payload":{"type":"message","role":"user"},"ordinal":7,"type":"response_item"}',
        b'{"type":"response_item","payload":{"a":"\xff"}}',
        b'{"type":"world_state","payload":{"full":true},"ordinal":"3","timestamp":5}',
        b'{"type":"event_msg","type":"compacted","payload":{"message":"dup"}}',
        b'{"type":5,"payload":{}}',
        b'{"type":"event_msg","payload":{"a":"\xff"}}',
        b"[1,2]",
        b'{"type":"event_msg","payload":{"type":"agent_message","message":"'
        + big.encode()
        + b'"}}',
        b'{"type":"compacted"}',
        b'{"type":"event_msg","payload":{"type":"task_compl',
    ]
    path = tmp_path / "edge.jsonl"
    path.write_bytes(b"\n".join(rows))
    stats = ReadStats()
    lines = list(iter_rollout(path, stats=stats))
    assert stats.bad_lines == 3 and stats.torn_tail
    assert [(line.line_no, line.type) for line in lines] == [
        (1, "session_meta"), (4, "event_msg"), (5, "response_item"), (6, "response_item"),
        (7, "world_state"), (8, "compacted"), (12, "event_msg"), (13, "compacted"),
    ]  # fmt: skip
    assert lines[0].timestamp == "2026-01-01T00:00:00.000Z" and lines[0].ordinal is None
    assert lines[1].payload == {"type": "agent_message", "message": "ff"}
    assert lines[2].ordinal == 7 and lines[2].payload == {"type": "message", "role": "user"}
    assert lines[3].payload is None  # not valid UTF-8: found out when it is read
    assert lines[4].payload == {"full": True}
    assert lines[4].ordinal is None and lines[4].timestamp == ""
    assert lines[5].payload == {"message": "dup"}  # duplicate keys: the last one wins
    assert lines[6].payload["message"] == big
    assert lines[7].payload is None
    # The lazy payloads are decoded once and can be replaced like any other.
    lines[2].payload = {"replaced": True}
    assert lines[2].payload == {"replaced": True}
    assert next_ordinal(path) == 8
    assert [line.type for line in iter_rollout(path, limit=2)] == ["session_meta", "event_msg"]


async def test_resume_tells_the_token_usage_and_deprecates_the_whole_history(
    spawn: ServerFactory, codex_home: Path, workdir: Path
) -> None:
    """As the reference 0.171: a paginated thread resumed with its whole history gets a
    ``deprecationNotice`` before the answer; every fresh resume is followed by the usage of
    the rollout's last ``token_count`` (in the turn it was counted in), then the goal."""
    path = install(codex_home, workdir, "reference")
    counts = [line["payload"]["info"] for line in map(json.loads, path.read_text().splitlines())
              if line["type"] == "event_msg" and line["payload"]["type"] == "token_count"
              and line["payload"]["info"]]
    client = await spawn(cwd=workdir)
    resumed = await client.request("thread/resume", {"threadId": REF_ID})
    await client.wait_notification("thread/goal/cleared")  # the last one
    methods = [m.get("method", "answer") for m in client.received
               if (m.get("method") not in ("thread/status/changed", "configWarning")
               and "id" not in m) or "result" in m]
    assert methods[-4:] == ["deprecationNotice", "answer", "thread/tokenUsage/updated",
                            "thread/goal/cleared"]
    notice = client.notifications("deprecationNotice")[0]["params"]
    assert notice["details"] is None and "excludeTurns" in notice["summary"]
    usage = client.notifications("thread/tokenUsage/updated")[0]["params"]
    assert usage["threadId"] == REF_ID
    assert usage["turnId"] == resumed["thread"]["turns"][-1]["id"]
    assert usage["tokenUsage"]["total"]["totalTokens"] == (
        counts[-1]["total_token_usage"]["total_tokens"])
    assert usage["tokenUsage"]["last"]["inputTokens"] == (
        counts[-1]["last_token_usage"]["input_tokens"])
    await client.close()

    again = await spawn(cwd=workdir)
    await again.request("thread/resume", {"threadId": REF_ID, "excludeTurns": True})
    assert await again.wait_notification("thread/tokenUsage/updated") == usage
    await again.wait_notification("thread/goal/cleared")
    assert again.notifications("deprecationNotice") == []
