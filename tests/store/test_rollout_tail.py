"""The last turns of a rollout read from the end of its file (``store/tail.py``): exactly the
turns a full read rebuilds, or ``None`` (the caller then reads the whole file); and the
server's newest ``thread/turns/list`` page and ``thread/resume`` with ``excludeTurns`` read
only the end of a big rollout."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import IO, Any

import msgspec
import pytest

from pycodex.store import tail as tail_module
from pycodex.store.history import read_thread
from pycodex.store.rollout import next_ordinal
from pycodex.store.tail import count_next_ordinal, read_tail, reverse_lines
from tests.conftest import ServerFactory
from tests.support import paths
from tests.support.rollouts import write_thread

DATA = paths.DATA / "rollouts"
THREAD = "019b0000-0000-7000-8000-000000000001"


@pytest.mark.parametrize("text", [
    b"", b"a", b"a\n", b"\n", b"a\nb", b"a\nb\n", b"\n\na\n\n", b"x" * 50 + b"\ny\n" + b"z" * 70,
])
@pytest.mark.parametrize("block", [1, 3, 16, 1024])
def test_reverse_lines_are_the_lines_backwards(text: bytes, block: int) -> None:
    assert list(reverse_lines(io.BytesIO(text), block)) == text.splitlines(keepends=True)[::-1]


def _line(kind: str, payload: Any, n: int) -> str:
    return json.dumps({"timestamp": "2026-01-01T00:00:00.000Z", "ordinal": n, "type": kind,
                       "payload": payload}, separators=(",", ":")) + "\n"


def write_modern(path: Path, turns: int, *, rollback_every: int = 0, legacy_at: int = -1,
                 open_last: bool = False, answer: str = "done") -> Path:
    """A rollout as 0.171 and pycodex write them: explicit turn and item ids; every
    ``rollback_every``-th turn is followed by a rollback of one or two turns; turn
    ``legacy_at`` records its reply as an older ``agent_message`` event (an id counted
    from the file's start)."""
    out = [_line("session_meta", {"id": THREAD, "timestamp": "2026-01-01T00:00:00.000Z",
                                  "cwd": "/w", "source": "vscode",
                                  "history_mode": "paginated"}, 0)]

    def add(kind: str, payload: Any) -> None:
        out.append(_line(kind, payload, len(out)))

    for i in range(turns):
        turn = f"turn-{i}"
        add("event_msg", {"type": "task_started", "turn_id": turn, "started_at": 1000 + i})
        add("turn_context", {"turn_id": turn, "cwd": "/w", "model": f"m{i}"})
        add("response_item", {"type": "message", "role": "user",
                              "content": [{"type": "input_text", "text": f"ask {i}"}]})
        add("event_msg", {"type": "item_completed", "thread_id": THREAD, "turn_id": turn,
                          "item": {"type": "UserMessage", "id": f"u{i}",
                                   "content": [{"type": "text", "text": f"ask {i}"}]}})
        if i == legacy_at:
            add("event_msg", {"type": "agent_message", "message": answer})
        else:
            add("event_msg", {"type": "item_completed", "thread_id": THREAD, "turn_id": turn,
                              "item": {"type": "AgentMessage", "id": f"a{i}",
                                       "content": [{"type": "Text", "text": answer}]}})
        if open_last and i == turns - 1:
            break
        add("event_msg", {"type": "task_complete", "turn_id": turn, "completed_at": 2000 + i,
                          "duration_ms": 5, "last_agent_message": answer})
        if rollback_every and i % rollback_every == rollback_every - 1:
            add("event_msg", {"type": "thread_rolled_back", "num_turns": 1 + i % 2})
    path.write_text("".join(out))
    return path


def as_data(turns: list[Any]) -> Any:
    return msgspec.to_builtins(turns)


def assert_tail_matches(path: Path, thread_id: str, counts: range,
                        running: str | None = None) -> int:
    """Every tail read equals the end of the full read; returns how many were settled."""
    full = read_thread(path, thread_id, running).turns
    settled = 0
    for count in counts:
        tail = read_tail(path, thread_id, count, running)
        if tail is None:
            continue
        settled += 1
        assert len(tail.turns) >= count
        assert as_data(tail.turns) == as_data(full[-len(tail.turns):]), count
    return settled


def test_the_tail_of_a_modern_rollout_is_its_last_turns(tmp_path: Path) -> None:
    path = write_modern(tmp_path / "r.jsonl", 40)
    assert assert_tail_matches(path, THREAD, range(1, 41)) == 40
    assert read_tail(path, THREAD, 41) is None  # the whole file: a full read decides
    tail = read_tail(path, THREAD, 1, with_context=True)
    assert tail is not None and tail.context == {"turn_id": "turn-39", "cwd": "/w",
                                                 "model": "m39"}


def test_rollbacks_running_turns_and_counted_ids(tmp_path: Path) -> None:
    rolled = write_modern(tmp_path / "rolled.jsonl", 60, rollback_every=4)
    assert assert_tail_matches(rolled, THREAD, range(1, 30)) > 20
    running = write_modern(tmp_path / "running.jsonl", 10, open_last=True)
    for state in (None, "turn-9"):
        assert assert_tail_matches(running, THREAD, range(1, 10), state) == 9
    # an id counted from the file's start cannot be known from its end
    legacy = write_modern(tmp_path / "legacy.jsonl", 10, legacy_at=8)
    assert read_tail(legacy, THREAD, 1) is not None
    assert read_tail(legacy, THREAD, 2) is None


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("rollout-*.jsonl")))
def test_recorded_rollouts(name: str) -> None:
    path = DATA / name
    thread_id = name[-42:-6]
    turns = len(read_thread(path, thread_id).turns)
    assert_tail_matches(path, thread_id, range(1, turns + 2))


def test_the_next_ordinal_counted_on_bytes(tmp_path: Path) -> None:
    path = write_modern(tmp_path / "r.jsonl", 5)
    assert count_next_ordinal(path) == next_ordinal(path)
    with path.open("a") as fh:
        fh.write('{"type":"event_msg","payload":{"type":"token_count"}}\n\n')
    assert count_next_ordinal(path) == next_ordinal(path) + 1  # the blank line counts
    assert count_next_ordinal(tmp_path / "missing.jsonl") == 0
    for recorded in DATA.glob("rollout-*.jsonl"):  # with ordinals (0.171) and without
        assert count_next_ordinal(recorded) == next_ordinal(recorded), recorded.name


def test_only_the_end_of_the_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    path = write_modern(tmp_path / "r.jsonl", 2000, answer="x" * 2000)
    size = path.stat().st_size
    read = 0

    class Counting(io.FileIO):
        def read(self, n: int = -1, /) -> bytes:
            nonlocal read
            data = super().read(n)
            read += len(data)
            return data

    def counting_open(file: Any, mode: str = "r", *args: Any, **kw: Any) -> IO[bytes]:
        assert mode == "rb"
        return Counting(file, "r")

    monkeypatch.setattr(tail_module, "open", counting_open, raising=False)
    tail = read_tail(path, THREAD, 26)
    assert tail is not None and [t.id for t in tail.turns[-26:]] == [
        f"turn-{i}" for i in range(1974, 2000)]
    assert read < size / 20


async def test_newest_page_and_resume_without_turns_from_the_end(
    spawn: ServerFactory, codex_home: Path
) -> None:
    """Served from the end of the file, the answers equal those a full read gives."""
    source = write_thread(codex_home, 1, 1_767_225_600.0, "ask 0")
    write_modern(source, 60, rollback_every=7)
    client = await spawn()
    first = await client.request("thread/turns/list", {"threadId": THREAD, "limit": 5})
    ids = [turn["id"] for turn in first["data"]]
    full = read_thread(source, THREAD).turns
    assert ids == [turn.id for turn in full[::-1][:5]]
    assert first["nextCursor"] == json.dumps({"turnId": ids[-1], "includeAnchor": False},
                                             separators=(",", ":"))
    # the same page through a cursor (which reads the whole file)
    anchored = await client.request("thread/turns/list", {
        "threadId": THREAD, "limit": 5, "cursor": first["backwardsCursor"]})
    assert anchored["data"] == first["data"]
    resumed = await client.request("thread/resume", {"threadId": THREAD, "excludeTurns": True})
    assert resumed["thread"]["turns"] == []
    assert resumed["turnsBackwardsCursor"] == first["backwardsCursor"]
    last_item = full[-1].items[-1].id
    assert resumed["itemsBackwardsCursor"] == json.dumps(
        {"itemId": last_item, "includeAnchor": True}, separators=(",", ":"))
    assert resumed["thread"]["preview"] == "ask 0"
    # the newest items, gathered from as many of the last turns as they need
    items = await client.request("thread/items/list", {
        "threadId": THREAD, "limit": 7, "sortDirection": "desc"})
    everything = [(turn.id, item.id) for turn in full for item in turn.items][::-1]
    assert [(e["turnId"], e["item"]["id"]) for e in items["data"]] == everything[:7]
    assert items["nextCursor"] == json.dumps({"itemId": everything[6][1],
                                              "includeAnchor": False}, separators=(",", ":"))
    # resumed again while loaded: the same cursors, from the end of the file too
    again = await client.request("thread/resume", {"threadId": THREAD, "excludeTurns": True})
    assert (again["turnsBackwardsCursor"], again["itemsBackwardsCursor"]) == (
        resumed["turnsBackwardsCursor"], resumed["itemsBackwardsCursor"])


async def test_a_thread_resumed_without_turns_continues_the_ordinals(
    spawn: ServerFactory, codex_home: Path
) -> None:
    source = write_thread(codex_home, 1, 1_767_225_600.0, "ask 0")
    write_modern(source, 30)
    with source.open("a") as fh:
        # a last turn without items: the items cursor comes from the turn before
        fh.write(_line("event_msg", {"type": "task_started", "turn_id": "empty"}, 181))
        fh.write(_line("event_msg", {"type": "turn_aborted", "turn_id": "empty"}, 190))
        # a line without an ordinal after a jump in them: the last one decides
        fh.write('{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg",'
                 '"payload":{"type":"token_count"}}\n')
    last_ordinal = json.loads(source.read_bytes().splitlines()[-2])["ordinal"]
    client = await spawn(validate=False)  # thread/rollback: not in the bundle
    resumed = await client.request("thread/resume", {"threadId": THREAD, "excludeTurns": True})
    assert resumed["thread"]["turns"] == []
    assert json.loads(resumed["turnsBackwardsCursor"])["turnId"] == "empty"
    assert json.loads(resumed["itemsBackwardsCursor"])["itemId"] == "a29"
    await client.request("thread/rollback", {"threadId": THREAD, "numTurns": 1})
    appended = json.loads(source.read_bytes().splitlines()[-1])
    assert appended["payload"] == {"type": "thread_rolled_back", "num_turns": 1}
    assert appended["ordinal"] == last_ordinal + 1 == next_ordinal(source) - 1
