"""A full disk loses nothing that was written (issue 11 item 5).

The spawned-server test puts ``sessions/`` on a small tmpfs (skipped where mounting is not
allowed), fills it so that a rollout write stops part-way, and checks that the turn reports
the failure, that new turns work once space is free, and that after a restart every earlier
complete record is intact. The writer's own contract (cut a torn fragment back, rewrite the
lost lines on the next append) is also checked in-process with a short write injected.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pycodex.store import rollout
from pycodex.store.rollout import RolloutWriter
from tests.support.client import AppServerClient, ServerError
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.turns import write_config


def lines_of(path: Path) -> list[dict[str, Any]]:
    """Every line of ``path`` decoded; fails on a line that is not whole JSON."""
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.split(b"\n")[:-1]]


# -- the writer, in-process -------------------------------------------------------------

REAL_WRITE = os.write
REAL_FTRUNCATE = os.ftruncate


def _short_then_enospc(real: Any, budget: list[int]) -> Any:
    """``os.write`` that writes ``budget[0]`` more bytes, then fails with ENOSPC."""

    def write(fd: int, data: Any) -> int:
        if budget[0] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = real(fd, bytes(data[: budget[0]]))
        budget[0] -= n
        return int(n)

    return write


async def one_record(tmp_path: Path) -> tuple[Path, RolloutWriter, bytes]:
    """A writer whose file holds its session_meta and one record; the file's bytes."""
    path = tmp_path / "rollout.jsonl"
    writer = RolloutWriter(path, session_meta={"id": "t"})
    await writer.append([("event_msg", {"type": "one"})])
    return path, writer, path.read_bytes()


async def test_a_torn_write_is_cut_back_and_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, writer, whole = await one_record(tmp_path)
    monkeypatch.setattr(rollout.os, "write", _short_then_enospc(REAL_WRITE, [25]))
    with pytest.raises(OSError) as failed:
        await writer.append([("event_msg", {"type": "two", "text": "x" * 200})])
    assert failed.value.errno == errno.ENOSPC
    assert path.read_bytes() == whole  # the 25-byte fragment was cut off
    monkeypatch.undo()
    await writer.append([("event_msg", {"type": "three"})])
    await writer.close()
    records = lines_of(path)
    assert [r["payload"].get("type") for r in records] == [None, "one", "two", "three"]
    assert [r["ordinal"] for r in records] == [0, 1, 2, 3]


async def test_a_fragment_that_cannot_be_cut_is_never_appended_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, writer, whole = await one_record(tmp_path)
    monkeypatch.setattr(rollout.os, "write", _short_then_enospc(REAL_WRITE, [10]))

    def no_truncate(fd: int, size: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(rollout.os, "ftruncate", no_truncate)
    with pytest.raises(OSError):
        await writer.append([("event_msg", {"type": "two"})])
    assert len(path.read_bytes()) == len(whole) + 10  # the fragment is still there
    monkeypatch.undo()
    await writer.append([("event_msg", {"type": "three"})])
    await writer.close()
    assert [r["payload"].get("type") for r in lines_of(path)] == [None, "one", "two", "three"]


async def test_the_meta_of_a_new_file_is_written_once_after_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rollout.jsonl"
    writer = RolloutWriter(path, session_meta={"id": "t"})
    monkeypatch.setattr(rollout.os, "write", _short_then_enospc(REAL_WRITE, [0]))
    with pytest.raises(OSError):
        await writer.append([("event_msg", {"type": "one"})])
    monkeypatch.undo()
    await writer.append([("event_msg", {"type": "two"})])
    await writer.close()
    records = lines_of(path)
    assert [r["type"] for r in records] == ["session_meta", "event_msg", "event_msg"]
    assert [r["ordinal"] for r in records] == [0, 1, 2]


# -- a spawned server on a full tmpfs -----------------------------------------------------


@pytest.fixture
def small_sessions(codex_home: Path) -> Iterator[Path]:
    sessions = codex_home / "sessions"
    sessions.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(sessions)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield sessions
    finally:
        subprocess.run(["umount", str(sessions)], capture_output=True, check=False)


def fill(directory: Path) -> Path:
    """Fill the file system of ``directory`` completely; returns the filler file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


async def turn(client: AppServerClient, mock: MockResponses, thread_id: str, text: str
               ) -> dict[str, Any]:
    mock.push(text_reply(f"answer to {text}"))
    started = await client.request("turn/start", {"threadId": thread_id,
                                                  "input": [{"type": "text", "text": text}]})
    done = await client.wait_notification(
        "turn/completed", where=lambda p: p["turn"]["id"] == started["turn"]["id"])
    result: dict[str, Any] = done["turn"]
    return result


async def test_a_full_disk_fails_the_turn_and_loses_nothing(
    codex_home: Path, workdir: Path, mock: MockResponses, small_sessions: Path
) -> None:
    write_config(codex_home, mock)
    client = AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "sk-mock"})
    await client.start()
    try:
        await client.initialize()
        started = await client.request("thread/start", {"cwd": str(workdir)})
        thread_id = started["thread"]["id"]
        rollout_path = started["thread"]["path"]
        first = await turn(client, mock, thread_id, "first " + "a" * 3000)
        assert first["status"] == "completed"
        filler = fill(small_sessions)
        failed = await turn(client, mock, thread_id, "second " + "b" * 6000)
        assert failed["status"] == "failed"
        assert failed["error"]["message"] == (
            f"failed to write the rollout {rollout_path}: No space left on device (os error 28)")
        filler.unlink()
        third = await turn(client, mock, thread_id, "third")
        assert third["status"] == "completed"
    finally:
        await client.close()
    client.assert_valid()

    [path] = small_sessions.glob("*/*/*/rollout-*.jsonl")
    records = lines_of(path)  # every line whole: nothing glued onto a fragment
    ordinals = [r["ordinal"] for r in records]
    assert ordinals == list(range(len(records)))

    again = AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "sk-mock"})
    await again.start()
    try:
        await again.initialize()
        read = await again.request("thread/read", {"threadId": thread_id, "includeTurns": True})
        turns = read["thread"]["turns"]
        texts = [i["content"][0]["text"] for t in turns for i in t["items"]
                 if i["type"] == "userMessage"]
        assert texts[0].startswith("first ") and texts[-1] == "third"
        assert turns[0]["id"] == first["id"] and turns[0]["status"] == "completed"
        assert turns[-1]["id"] == third["id"] and turns[-1]["status"] == "completed"
    finally:
        await again.close()
    again.assert_valid()


async def test_a_read_only_sessions_folder_gives_a_clear_error(
    codex_home: Path, workdir: Path, mock: MockResponses, small_sessions: Path
) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(small_sessions)], check=True)
    write_config(codex_home, mock)
    client = AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "sk-mock"})
    await client.start()
    try:
        await client.initialize()
        try:
            started = await client.request("thread/start", {"cwd": str(workdir)})
        except ServerError as exc:
            assert "Read-only file system (os error 30)" in str(exc.error["message"])
        else:
            result = await turn(client, mock, started["thread"]["id"], "hello")
            assert result["status"] == "failed"
            assert result["error"]["message"] == (
                f"failed to write the rollout {started['thread']['path']}: "
                "Read-only file system (os error 30)")
        # The server is still there, and lists nothing.
        assert (await client.request("thread/list", {}))["data"] == []
    finally:
        await client.close()
    client.assert_valid()
    assert list(small_sessions.rglob("rollout-*")) == []
