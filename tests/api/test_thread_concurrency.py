"""Rollout reads run off the event loop (issue 10 item 3): while one connection's
thread/resume waits on a slow rollout, another connection is answered at once."""

from __future__ import annotations

import asyncio
import errno
import os
import time
from pathlib import Path

from bench.bench_threads import BASE, write_rollout
from websockets.asyncio.client import connect

from tests.support.ws import TIMEOUT, WsClient, running


def open_writer(fifo: Path) -> int:
    """The write end of ``fifo`` once the server opened it for reading (its read started)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                raise AssertionError("the server never opened the rollout") from exc
            time.sleep(0.01)
    os.set_blocking(fd, True)
    return fd


async def test_a_slow_resume_does_not_hold_up_another_connection(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # The rollout comes through a FIFO: its reader waits until the test writes it, like a
    # read from slow storage. Resuming by path keeps the index out of the picture.
    source = tmp_path / "source"
    thread_id = write_rollout(source, 0, BASE, [(f"question {n}", "answer") for n in range(50)])
    content = next(source.rglob("rollout-*.jsonl")).read_bytes()
    fifo = tmp_path / f"rollout-slow-{thread_id}.jsonl"
    os.mkfifo(fifo)

    with running(home) as server:
        async with connect(server.url, proxy=None, open_timeout=TIMEOUT) as ws_a, \
                connect(server.url, proxy=None, open_timeout=TIMEOUT) as ws_b:
            a, b = WsClient(ws_a), WsClient(ws_b)
            await a.initialize("slow", experimental=True)  # thread/resume.path
            await b.initialize("quick")
            arrivals: list[str] = []

            async def answer(client: WsClient, rid: int, label: str) -> dict[str, object]:
                message = await client.response(rid)
                arrivals.append(label)
                return message

            await a.send({"method": "thread/resume", "id": 7,
                          "params": {"threadId": thread_id, "path": str(fifo)}})
            resumed = asyncio.create_task(answer(a, 7, "resume"))
            writer = await asyncio.to_thread(open_writer, fifo)  # the resume is reading
            await b.send({"method": "thread/loaded/list", "id": 8, "params": {}})
            quick = asyncio.create_task(answer(b, 8, "loaded/list"))
            # With a blocked event loop no answer comes until the rollout is written: give
            # up waiting after a while and release the reader either way.
            await asyncio.wait({quick}, timeout=5)
            with os.fdopen(writer, "wb") as fh:
                await asyncio.to_thread(fh.write, content)
            listed, resume = await asyncio.gather(quick, resumed)

    assert arrivals == ["loaded/list", "resume"]
    assert listed["result"] == {"data": [], "nextCursor": None}
    result = resume["result"]
    assert isinstance(result, dict) and len(result["thread"]["turns"]) == 50
    assert not a.violations and not b.violations, a.violations + b.violations
