"""The thread store without a server: rollout writer/reader, turn rebuild, item codec,
model history and the SQLite index."""

from __future__ import annotations

import json
import time
from pathlib import Path

import msgspec

from pycodex.protocol.types.items import (
    AgentMessageItem,
    CommandExecutionItem,
    FileChangeItem,
    ReasoningItem,
    TextUserInput,
    UserMessageItem,
)
from pycodex.store.history import TurnBuilder, model_history
from pycodex.store.index import ThreadIndex
from pycodex.store.item_codec import item_from_core, item_to_core
from pycodex.store.rollout import ReadStats, RolloutWriter, iter_rollout, rollout_path
from pycodex.store.summary import summarize

THREAD = "01a20baa-c37f-7b43-b65e-8b631896a1de"


def meta(thread_id: str = THREAD) -> dict[str, object]:
    return {
        "id": thread_id,
        "timestamp": "2026-01-02T03:04:05.000Z",
        "cwd": "/w",
        "originator": "pytest",
        "cli_version": "0.169.0",
        "source": "vscode",
        "model_provider": "openai",
    }


async def test_writer_is_lazy_appends_whole_lines_and_heals_a_torn_tail(tmp_path: Path) -> None:
    path = rollout_path(tmp_path, THREAD, time.time())
    seen: list[int] = []
    writer = RolloutWriter(
        path, session_meta=meta(), on_append=lambda w, items: seen.append(len(items))
    )
    assert not writer.materialized and not path.exists()
    await writer.append([("event_msg", {"type": "task_started", "turn_id": "t1"})])
    await writer.sync()
    lines = path.read_text().splitlines()
    assert [json.loads(x)["type"] for x in lines] == ["session_meta", "event_msg"]
    assert [json.loads(x)["ordinal"] for x in lines] == [0, 1]
    assert seen == [1]
    await writer.close()
    # A crash left half a line; a new writer starts on a fresh line.
    with open(path, "ab") as fh:
        fh.write(b'{"timestamp":"x","type":"event_m')
    writer = RolloutWriter(path, next_ordinal=2)
    await writer.append([("event_msg", {"type": "task_complete", "turn_id": "t1"})])
    await writer.close()
    stats = ReadStats()
    kinds = [line.payload.get("type") for line in iter_rollout(path, stats=stats)]
    assert kinds == [None, "task_started", "task_complete"]
    assert stats.bad_lines == 1 and not stats.torn_tail


def test_reader_skips_bom_bad_lines_and_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    good = json.dumps({"timestamp": "t", "type": "session_meta", "payload": meta()})
    path.write_bytes(b"\xef\xbb\xbf" + good.encode() + b"\n\xff\n[1,2]\n" + b'{"type":')
    stats = ReadStats()
    lines = list(iter_rollout(path, stats=stats))
    assert [line.type for line in lines] == ["session_meta"]
    assert stats.bad_lines == 2 and stats.torn_tail


def _line(kind: str, payload: object) -> dict[str, object]:
    return {"timestamp": "2026-01-02T03:04:05.000Z", "type": kind, "payload": payload}


def test_legacy_events_rebuild_turns(tmp_path: Path) -> None:
    rows = [
        _line("session_meta", meta()),
        _line("event_msg", {"type": "task_started", "turn_id": "t1", "started_at": 10}),
        _line("event_msg", {"type": "user_message", "message": "list files", "images": []}),
        _line("event_msg", {"type": "agent_reasoning", "text": "thinking"}),
        _line("event_msg", {"type": "agent_reasoning", "text": "more"}),
        _line(
            "event_msg",
            {
                "type": "exec_command_end",
                "call_id": "c1",
                "command": ["bash", "-lc", "ls -a"],
                "cwd": "/w",
                "parsed_cmd": [{"type": "list_files", "cmd": "ls -a", "path": None}],
                "aggregated_output": "x\n",
                "exit_code": 0,
                "duration": {"secs": 1, "nanos": 500_000_000},
            },
        ),
        _line(
            "event_msg",
            {
                "type": "patch_apply_end",
                "call_id": "p1",
                "success": False,
                "changes": {
                    "/w/a.txt": {"type": "update", "unified_diff": "@@", "move_path": None}
                },
            },
        ),
        _line("event_msg", {"type": "agent_message", "message": "done"}),
        _line("event_msg", {"type": "task_complete", "turn_id": "t1", "duration_ms": 7}),
        _line("event_msg", {"type": "user_message", "message": "again"}),
        _line("event_msg", {"type": "turn_aborted", "reason": "interrupted"}),
        _line("event_msg", {"type": "task_started", "turn_id": "t3"}),
        _line("event_msg", {"type": "user_message", "message": "still running"}),
    ]
    path = tmp_path / "legacy.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    turns = TurnBuilder(THREAD).feed_all(iter_rollout(path)).finish(running_turn_id="t3")
    assert [t.status for t in turns] == ["completed", "interrupted", "inProgress"]
    first = turns[0]
    assert first.id == "t1" and first.started_at == 10 and first.duration_ms == 7
    kinds = [type(i).__name__ for i in first.items]
    assert kinds == [
        "UserMessageItem", "ReasoningItem", "CommandExecutionItem", "FileChangeItem",
        "AgentMessageItem",
    ]  # fmt: skip
    reasoning = first.items[1]
    assert isinstance(reasoning, ReasoningItem) and reasoning.summary == ["thinking", "more"]
    command = first.items[2]
    assert isinstance(command, CommandExecutionItem)
    assert command.command == "bash -lc 'ls -a'" and command.duration_ms == 1500
    assert msgspec.to_builtins(command.command_actions) == [
        {"type": "listFiles", "command": "ls -a", "path": None}
    ]
    patch = first.items[3]
    assert isinstance(patch, FileChangeItem) and patch.status == "failed"
    assert msgspec.to_builtins(patch.changes[0].kind) == {"type": "update", "move_path": None}
    # Not running: an unfinished turn is reported as interrupted.
    stale = TurnBuilder(THREAD).feed_all(iter_rollout(path)).finish()
    assert stale[-1].status == "interrupted"


def test_item_codec_round_trip() -> None:
    items = [
        msgspec.convert(
            {
                "type": "userMessage",
                "id": "u1",
                "content": [
                    {
                        "type": "text",
                        "text": "hi @x",
                        "text_elements": [
                            {"byteRange": {"start": 3, "end": 5}, "placeholder": "x"}
                        ],
                    },
                    {"type": "localImage", "path": "/a.png"},
                ],
            },
            UserMessageItem,
        ),
        AgentMessageItem(id="m1", text="hello", phase="final_answer"),
        ReasoningItem(id="r1", summary=["s"], content=["c"]),
        msgspec.convert(
            {
                "type": "commandExecution",
                "id": "c1",
                "command": "/bin/bash -lc 'echo hi'",
                "cwd": "/w",
                "status": "completed",
                "commandActions": [
                    {"type": "read", "command": "cat a", "name": "a", "path": "/w/a"}
                ],
                "processId": "12",
                "source": "unifiedExecStartup",
                "aggregatedOutput": "hi\n",
                "exitCode": 0,
                "durationMs": 1234,
            },
            CommandExecutionItem,
        ),
        msgspec.convert(
            {
                "type": "fileChange",
                "id": "f1",
                "status": "completed",
                "changes": [
                    {"path": "/w/n.txt", "kind": {"type": "add"}, "diff": "new\n"},
                    {
                        "path": "/w/o.txt",
                        "kind": {"type": "update", "move_path": "/w/p.txt"},
                        "diff": "@@",
                    },
                ],
            },
            FileChangeItem,
        ),
    ]
    for item in items:
        core = item_to_core(item)
        back = item_from_core(json.loads(json.dumps(core)))
        assert msgspec.to_builtins(back) == msgspec.to_builtins(item), type(item).__name__
    assert isinstance(items[0], UserMessageItem)
    assert isinstance(items[0].content[0], TextUserInput)


def test_model_history_honours_compaction_and_rollback(tmp_path: Path) -> None:
    def user(text: str) -> dict[str, object]:
        return {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }

    def assistant(text: str) -> dict[str, object]:
        return {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text}],
        }

    rows = [
        _line("session_meta", meta()),
        _line("response_item", user("one")),
        _line("response_item", assistant("a1")),
        _line("compacted", {"message": "summary", "replacement_history": [user("S")]}),
        _line("response_item", user("two")),
        _line("response_item", assistant("a2")),
        _line("response_item", user("three")),
        _line("event_msg", {"type": "thread_rolled_back", "num_turns": 1}),
    ]
    path = tmp_path / "h.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    history = model_history(iter_rollout(path))
    assert history == [user("S"), user("two"), assistant("a2")]


def _write(home: Path, n: int, text: str) -> Path:
    tid = f"00000000-0000-7000-8000-{n:012d}"
    path = home / "sessions" / "2025" / "01" / "01" / f"rollout-2025-01-01T00-00-00-{tid}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    m = meta(tid) | {"timestamp": f"2025-01-01T00:00:{n:02d}.000Z"}
    rows = [_line("session_meta", m), _line("event_msg", {"type": "user_message", "message": text})]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_index_rebuild_and_background_reconcile(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for n in range(5):
        _write(home, n, f"task {n}")
    index = ThreadIndex(home)
    rows = index.list(archived=False, sort_key="created_at", descending=True, after=None, limit=10)
    assert [r.preview for r in rows] == [f"task {n}" for n in range(4, -1, -1)]
    assert summarize(Path(rows[0].path)) is not None
    index.close()
    # Files are the truth: one disappears, one appears, one changes; the reconcile notices.
    Path(rows[0].path).unlink()
    _write(home, 7, "new one")
    changed = _write(home, 1, "changed")
    later = time.time() + 5
    import os

    os.utime(changed, (later, later))
    index = ThreadIndex(home)
    index.conn  # noqa: B018 - opens the DB and starts the background reconcile
    assert index.reconciled.wait(10)
    rows = index.list(archived=False, sort_key="created_at", descending=True, after=None, limit=10)
    assert [r.preview for r in rows] == ["new one", "task 3", "task 2", "changed", "task 0"]
    index.close()


async def test_engine_event_builders_rebuild_to_the_streamed_items(tmp_path: Path) -> None:
    from pycodex.protocol.types.items import TurnError
    from pycodex.store import events

    path = rollout_path(tmp_path, THREAD, time.time())
    writer = RolloutWriter(path, session_meta=meta())
    user = msgspec.convert(
        {"type": "userMessage", "id": "u1", "content": [{"type": "text", "text": "hi"}]},
        UserMessageItem,
    )
    reply = AgentMessageItem(id="m1", text="hello")
    items = [
        events.task_started("t1", 100),
        events.turn_context({"turn_id": "t1", "model": "gpt-5.5", "cwd": "/w"}),
        events.response_item({"type": "message", "role": "user", "content": []}),
        events.item_completed(THREAD, "t1", user, started_at_ms=1, completed_at_ms=2),
        events.item_completed(THREAD, "t1", reply),
        events.task_complete("t1", started_at=100, completed_at=101, duration_ms=900),
        events.task_started("t2", 102),
        events.task_complete(
            "t2",
            started_at=102,
            completed_at=103,
            duration_ms=5,
            error=TurnError(
                message="boom", codex_error_info={"httpConnectionFailed": {"httpStatusCode": 502}}
            ),
        ),
        events.task_started("t3", 104),
        events.turn_aborted("t3", completed_at=105, duration_ms=1),
    ]
    await writer.append([item for item in items if item is not None])
    await writer.close()
    turns = TurnBuilder(THREAD).feed_all(iter_rollout(path)).finish()
    assert [(t.id, t.status) for t in turns] == [
        ("t1", "completed"),
        ("t2", "failed"),
        ("t3", "interrupted"),
    ]
    assert msgspec.to_builtins(turns[0].items) == msgspec.to_builtins(
        [
            UserMessageItem(id="u1", content=user.content, started_at_ms=1, completed_at_ms=2),
            reply,
        ]
    )
    assert turns[0].started_at == 100 and turns[0].duration_ms == 900
    assert msgspec.to_builtins(turns[1].error) == {
        "message": "boom",
        "codexErrorInfo": {"httpConnectionFailed": {"httpStatusCode": 502}},
        "additionalDetails": None,
    }
    summary = summarize(path)
    assert summary is not None and summary.preview == "hi" and summary.model == "gpt-5.5"
