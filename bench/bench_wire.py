"""Wire benchmark (issue 10 item 3, issue 11 item 2): head-of-line delay and request bursts.

* ``hol``: a trivial request (``thread/loaded/list``) sent while a ``thread/resume`` of a big
  rollout (~200 MB) is running, on the same stdio connection and on a second websocket
  connection: how long it waits.
* ``burst``: N small requests written in one write; how many get a result, how many the
  ``-32001`` overload error, how many no answer at all.

Runs pycodex and, when installed, the reference binary with the same script; prints ratios.

    python -m bench.bench_wire [--resume-mb 200] [--burst 3000] [--runs 3] [--only hol|burst]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bench.bench_threads import write_big_rollout
from bench.common import (
    JsonlServer,
    Target,
    cleanup,
    fresh_home,
    median,
    print_table,
    targets,
)

OVERLOADED = -32001


def _initialize(server: JsonlServer) -> None:
    server.request(
        "initialize",
        {
            "clientInfo": {"name": "bench", "title": None, "version": "1.0"},
            "capabilities": {"experimentalApi": True},
        },
    )
    server.send({"method": "initialized"})


def _answer(server: JsonlServer, rid: Any, timeout: float = 300) -> dict[str, Any]:
    return server.wait(lambda m: m.get("id") == rid and "method" not in m, timeout)


def hol_once(target: Target, home: Path, thread_id: str) -> dict[str, float]:
    """Delay of a trivial request queued behind a big ``thread/resume`` on one connection."""
    server = JsonlServer(target, home)
    try:
        _initialize(server)
        idle_started = time.perf_counter()
        _answer_now = server.request("thread/loaded/list", {})
        idle_ms = (time.perf_counter() - idle_started) * 1000
        assert "result" in _answer_now, _answer_now
        resume_started = time.perf_counter()
        server.send({"method": "thread/resume", "id": "resume", "params": {"threadId": thread_id}})
        time.sleep(0.05)  # let the resume get going
        sent = time.perf_counter()
        server.send({"method": "thread/loaded/list", "id": "probe", "params": {}})
        got: dict[Any, float] = {}
        while len(got) < 2:
            message = server.wait(lambda m: m.get("id") in ("probe", "resume"), 600)
            got[message["id"]] = time.perf_counter()
            if "error" in message:
                raise RuntimeError(f"{target.name}: {message['id']} failed: {message['error']}")
        return {
            "idle_ms": idle_ms,
            "probe_ms": (got["probe"] - sent) * 1000,
            "resume_ms": (got["resume"] - resume_started) * 1000,
        }
    finally:
        server.close()


def _listening_port(proc: subprocess.Popen[bytes]) -> int:
    assert proc.stderr is not None
    for raw in proc.stderr:
        found = re.search(rb"listening on: ws://[^:]+:(\d+)", raw)
        if found:
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining
            return int(found.group(1))
    raise RuntimeError("the server printed no websocket address")


def _ws_request(ws: Any, request_id: str, method: str, params: Any) -> float:
    """Send one request and wait for its answer (skipping notifications); seconds taken."""
    started = time.perf_counter()
    ws.send(json.dumps({"method": method, "id": request_id, "params": params}))
    while True:
        message = json.loads(ws.recv(timeout=600))
        if message.get("id") == request_id and "method" not in message:
            if "error" in message:
                raise RuntimeError(f"{method} failed: {message['error']}")
            return time.perf_counter() - started


def _is_resume(frame: bytes) -> bool:
    """The answer to the ``resume`` request (its id at either end of the object)."""
    return b'"id":"resume"' in frame[:64] or b'"id":"resume"' in frame[-64:]


def hol_other_connection(target: Target, home: Path, thread_id: str) -> dict[str, float]:
    """Delays of trivial requests on a second websocket connection, one every 10 ms from
    the moment a ``thread/resume`` is sent on the first until its answer has arrived: the
    median and the worst show whether any step of the resume holds the event loop."""
    from websockets.sync.client import connect

    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_")}
    env.update({"CODEX_HOME": str(home), "MOCK_API_KEY": "bench", **target.extra_env})
    proc = subprocess.Popen([*target.argv, "--listen", "ws://127.0.0.1:0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)
    try:
        url = f"ws://127.0.0.1:{_listening_port(proc)}"
        hello = {"clientInfo": {"name": "bench", "title": None, "version": "1.0"}}
        with connect(url, max_size=None) as busy, connect(url, max_size=None) as other:
            _ws_request(busy, "i", "initialize", hello)
            _ws_request(other, "i", "initialize", hello)
            # as on stdio, one request before the resume: a server's first request pays
            # for lazy imports (pycodex: the method table), which is not head-of-line delay
            _ws_request(other, "idle", "thread/loaded/list", {})
            answered = threading.Event()
            resume_ms: list[float] = []

            def wait_for_resume() -> None:
                # the answer is not decoded: parsing ~65 MB would hold the GIL that the
                # probing thread needs for its timing
                while b'"id":"resume"' not in busy.recv(timeout=600, decode=False)[:64]:
                    pass
                resume_ms.append((time.perf_counter() - resume_started) * 1000)
                answered.set()

            waiter = threading.Thread(target=wait_for_resume, daemon=True)
            waiter.start()
            resume_started = time.perf_counter()
            busy.send(json.dumps({"method": "thread/resume", "id": "resume",
                                  "params": {"threadId": thread_id}}))
            probes: list[float] = []
            while not answered.is_set():
                probes.append(_ws_request(other, f"p{len(probes)}", "thread/loaded/list",
                                          {}) * 1000)
                answered.wait(0.01)
            waiter.join()
            return {"other_ms": median(probes), "other_max_ms": max(probes),
                    "other_probes": float(len(probes)), "resume_ws_ms": resume_ms[0]}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def burst_once(target: Target, count: int) -> dict[str, float]:
    """Answers to ``count`` requests written at once; silence for 5 s ends the count."""
    home = fresh_home(f"burst-{target.name}")
    server = JsonlServer(target, home)
    try:
        _initialize(server)
        ids = [f"b{i}" for i in range(count)]
        server.send_many(
            [
                {"method": "mock/experimentalMethod", "id": rid, "params": {"value": rid}}
                for rid in ids
            ]
        )
        wanted = set(ids)
        ok = overloaded = other = 0
        started = time.perf_counter()
        while wanted:
            try:
                message = server.queue.get(timeout=5)
            except queue.Empty:
                break
            if message is None:
                break
            rid = message.get("id")
            if "method" in message or rid not in wanted:
                continue
            wanted.discard(rid)
            if "result" in message:
                ok += 1
            elif message.get("error", {}).get("code") == OVERLOADED:
                overloaded += 1
            else:
                other += 1
        elapsed = (time.perf_counter() - started) * 1000
        alive = "result" in server.request("thread/loaded/list", {}, timeout=30)
        return {
            "ok": ok,
            "overloaded": overloaded,
            "other": other,
            "lost": len(wanted),
            "ms": elapsed,
            "alive": float(alive),
        }
    finally:
        server.close()
        cleanup(home)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resume-mb", type=float, default=200.0)
    parser.add_argument("--burst", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["hol", "burst"])
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()
    chosen = targets(include_reference=not args.no_reference)

    if args.only in (None, "hol"):
        hol: dict[str, list[dict[str, float]]] = {}
        for target in chosen:
            home = fresh_home(f"hol-{target.name}")
            try:
                thread_id = write_big_rollout(home, args.resume_mb, target.name)
                hol[target.name] = [
                    {**hol_once(target, home, thread_id),
                     **hol_other_connection(target, home, thread_id)}
                    for _ in range(args.runs)
                ]
                for run in hol[target.name]:
                    print(f"  {target.name}: {run}")
            finally:
                cleanup(home)

        def pick(key: str) -> dict[str, float]:
            return {name: median([r[key] for r in runs]) for name, runs in hol.items()}

        print_table(
            f"head-of-line: trivial request behind a ~{args.resume_mb:.0f} MB thread/resume "
            f"(median of {args.runs})",
            [
                ("trivial request, idle server", pick("idle_ms"), "ms", True),
                ("trivial request during the resume, same connection", pick("probe_ms"), "ms",
                 True),
                ("trivial request during the resume, other connection (websocket), median",
                 pick("other_ms"), "ms", True),
                ("same, worst of the requests sent every 10 ms during the resume",
                 pick("other_max_ms"), "ms", True),
                ("thread/resume latency", pick("resume_ms"), "ms", True),
            ],
        )

    if args.only in (None, "burst"):
        bursts: dict[str, list[dict[str, float]]] = {}
        for target in chosen:
            bursts[target.name] = [burst_once(target, args.burst) for _ in range(args.runs)]
            for run in bursts[target.name]:
                print(f"  {target.name}: {run}")

        def worst(key: str) -> dict[str, float]:
            return {name: max(r[key] for r in runs) for name, runs in bursts.items()}

        def best(key: str) -> dict[str, float]:
            return {name: min(r[key] for r in runs) for name, runs in bursts.items()}

        print_table(
            f"burst of {args.burst} requests in one stdio write ({args.runs} runs)",
            [
                ("answered with a result (fewest)", best("ok"), "", False),
                ("answered -32001 (most)", worst("overloaded"), "", True),
                ("never answered (most)", worst("lost"), "", True),
                ("server alive afterwards (all runs)", best("alive"), "", False),
            ],
        )


if __name__ == "__main__":
    main()
