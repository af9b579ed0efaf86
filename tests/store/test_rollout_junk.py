"""Only rollouts are threads (issue 11 item 7).

Files in ``sessions/`` that are not rollouts — empty, random bytes, text, JSON without a
``session_meta`` record, a byte-order mark, a session_meta without an id, a torn first
line, directories and wrong names — are skipped with one warning each, on the cold file
walk and in the SQLite index alike; they cannot be read or resumed by id. What codex-cli
0.171.0 lists from the same tree: the rollouts, including one whose session_meta is the
second record and one whose meta id differs from its name (listed by the meta id).
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path

import pytest

from tests.support.client import AppServerClient, ServerError, wait_for_line
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.turns import write_config

#: Junk kinds that must each be skipped with a warning.
JUNK = ("empty", "random", "text", "nul", "bom", "array", "meta_not_object", "meta_no_id",
        "torn_meta", "dir", "wrong_name", "fifo")


def _name(stamp: str, thread_id: str) -> str:
    return f"rollout-{stamp}-{thread_id}.jsonl"


def plant(day: Path, lines: list[str], old_id: str, stamp: str) -> dict[str, str]:
    """Write junk (and two tolerated oddities) beside a real rollout; ``{label: id}``."""
    ids: dict[str, str] = {}

    def path(label: str) -> Path:
        ids[label] = str(uuid.uuid4())
        return day / _name(stamp, ids[label])

    def retarget(new_id: str) -> list[str]:
        return [line.replace(old_id, new_id) for line in lines]

    path("empty").write_bytes(b"")
    path("random").write_bytes(bytes(range(256)) * 16)
    path("text").write_text("hello world\nnot json\n")
    path("nul").write_bytes(b"\0" * 100)
    target = path("bom")
    target.write_bytes(b"\xef\xbb\xbf" + "".join(retarget(ids["bom"])).encode())
    path("array").write_text("[1,2,3]\n")
    path("meta_not_object").write_text(json.dumps(
        {"timestamp": "2026-01-01T00:00:00.000Z", "type": "session_meta", "payload": "x"}) + "\n")
    target = path("meta_no_id")
    meta = json.loads(lines[0])
    del meta["payload"]["id"]
    target.write_text(json.dumps(meta) + "\n" + "".join(lines[1:]))
    target = path("torn_meta")
    target.write_text(retarget(ids["torn_meta"])[0][:40])
    path("dir").mkdir()
    os.mkfifo(path("fifo"))  # opening it for reading would block forever
    ids["wrong_name"] = str(uuid.uuid4())
    (day / f"rollout-garbage-{ids['wrong_name']}.jsonl").write_text(
        "".join(retarget(ids["wrong_name"])))
    target = path("meta_second")
    body = retarget(ids["meta_second"])
    target.write_text(body[1] + body[0] + "".join(body[2:]))
    ids["meta_id"] = str(uuid.uuid4())
    (day / _name(stamp, str(uuid.uuid4()))).write_text("".join(retarget(ids["meta_id"])))
    target = path("good_copy")
    target.write_text("".join(retarget(ids["good_copy"])))
    return ids


async def make_thread(codex_home: Path, workdir: Path, mock: MockResponses) -> str:
    write_config(codex_home, mock)
    async with AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "sk-mock"}) as c:
        await c.initialize()
        started = await c.request("thread/start", {"cwd": str(workdir)})
        thread_id = str(started["thread"]["id"])
        mock.push(text_reply("hello"))
        await c.request("turn/start", {"threadId": thread_id,
                                       "input": [{"type": "text", "text": "hi"}]})
        await c.wait_notification("turn/completed")
        c.assert_valid()
    return thread_id


def plant_beside(codex_home: Path, thread_id: str) -> dict[str, str]:
    [path] = (codex_home / "sessions").glob(f"*/*/*/*{thread_id}.jsonl")
    stamp = path.name[len("rollout-"):len("rollout-") + 19]
    return plant(path.parent, path.read_text().splitlines(keepends=True), thread_id, stamp)


def by_id_error(codex_home: Path, label: str, thread_id: str) -> dict[str, object]:
    """What codex-cli 0.171.0 answers to thread/read (and resume) of a junk file's id."""
    [path] = (codex_home / "sessions").glob(f"*/*/*/*{thread_id}.jsonl")
    if label == "wrong_name":
        return {"code": -32600, "message":
                f"paginated rollout path `{path}` does not have a canonical rollout filename"}
    if label == "dir":  # pycodex does not look into directories for a rollout
        return {"code": -32600, "message": f"thread not loaded: {thread_id}"}
    reason = {
        "fifo": f"rollout at {path} is not a regular file",  # pycodex's words
        "random": "stream did not contain valid UTF-8",
        "bom": f"rollout at {path} does not start with session metadata",
        "meta_no_id": f"rollout at {path} does not start with session metadata",
    }.get(label, f"rollout at {path} is empty")
    return {"code": -32603, "message": "failed to read thread: thread-store internal error: "
            f"failed to read session metadata {path}: {reason}"}


@pytest.mark.parametrize("index", ["cold", "built-before-the-junk"])
async def test_junk_is_never_a_thread(
    codex_home: Path, workdir: Path, mock: MockResponses, index: str
) -> None:
    thread_id = await make_thread(codex_home, workdir, mock)
    if index == "cold":
        for db in codex_home.glob("state_pycodex.sqlite*"):
            db.unlink()
    ids = plant_beside(codex_home, thread_id)
    async with AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "sk-mock"}) as c:
        await c.initialize()
        expected = sorted([thread_id, ids["good_copy"], ids["meta_second"], ids["meta_id"]])
        listed = await c.request("thread/list", {})
        for _ in range(100):  # an existing index picks up new files in the background
            if len(listed["data"]) >= len(expected):
                break
            await asyncio.sleep(0.1)
            listed = await c.request("thread/list", {})
        assert sorted(t["id"] for t in listed["data"]) == expected
        assert listed["nextCursor"] is None
        for label in JUNK:
            expected_error = by_id_error(codex_home, label, ids[label])
            for method in ("thread/read", "thread/resume"):
                with pytest.raises(ServerError) as caught:
                    await c.request(method, {"threadId": ids[label]})
                if label == "dir" and method == "thread/resume":
                    expected_error = {"code": -32600,
                                      "message": f"no rollout found for thread id {ids[label]}"}
                assert caught.value.error == expected_error, (label, method)
        read_good = await c.request("thread/read", {"threadId": ids["good_copy"]})
        assert read_good["thread"]["id"] == ids["good_copy"]
        # Listed again (now from the index): the same rows.
        again = await c.request("thread/list", {})
        assert sorted(t["id"] for t in again["data"]) == sorted(t["id"] for t in listed["data"])
        for label in JUNK:
            assert await wait_for_line(c.stderr_lines, ids[label])
        warned = [line for line in c.stderr_lines if "not a rollout" in line]
        for label in JUNK:
            assert sum(ids[label] in line for line in warned) == 1, (label, warned)
        c.assert_valid()


async def test_unreadable_file_is_skipped(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    thread_id = await make_thread(codex_home, workdir, mock)
    [path] = (codex_home / "sessions").glob(f"*/*/*/*{thread_id}.jsonl")
    other = path.with_name(path.name.replace(thread_id, str(uuid.uuid4())))
    other.write_text(path.read_text())
    other.chmod(0)
    async with AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "sk-mock"}) as c:
        await c.initialize()
        listed = await c.request("thread/list", {})
        assert [t["id"] for t in listed["data"]] == [thread_id]
        assert await wait_for_line(c.stderr_lines, "Permission denied")
