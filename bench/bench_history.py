"""Big histories (issue 16 §2): one rollout of ``--mb`` MB in the format 0.171 and pycodex
write (explicit turn and item ids), then, each in a fresh server: the newest
``thread/turns/list`` page, ``thread/resume`` with ``excludeTurns``, and a full
``thread/resume``, with the server's peak RSS (VmHWM) after each.

    python -m bench.bench_history [--mb 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from bench.bench_threads import BASE, _stamp, _uuid7
from bench.common import JsonlServer, cleanup, fresh_home, median, targets


def write_history(home: Path, megabytes: float) -> tuple[str, int]:
    """One rollout of about ``megabytes`` MB; returns its thread id and turn count."""
    thread_id = _uuid7(int(BASE * 1000), 1)
    local = time.localtime(BASE)
    day = home / "sessions" / time.strftime("%Y/%m/%d", local)
    day.mkdir(parents=True, exist_ok=True)
    path = day / f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', local)}-{thread_id}.jsonl"
    stamp = _stamp(BASE)
    answer = "x" * 9_000
    ordinal = 0

    def line(kind: str, payload: Any) -> str:
        nonlocal ordinal
        ordinal += 1
        return json.dumps({"timestamp": stamp, "ordinal": ordinal - 1, "type": kind,
                           "payload": payload}, separators=(",", ":")) + "\n"

    meta = {"id": thread_id, "timestamp": stamp, "cwd": "/work/project",
            "originator": "codex_vscode", "cli_version": "0.171.0", "source": "vscode",
            "model_provider": "openai"}
    turns = 0
    with path.open("w") as fh:
        fh.write(line("session_meta", meta))
        while fh.tell() < megabytes * 1_000_000:
            turn = f"{thread_id[:-8]}{turns:08d}"
            ask = f"turn {turns}: explain"
            fh.write(line("event_msg", {"type": "task_started", "turn_id": turn}))
            fh.write(line("turn_context", {"turn_id": turn, "cwd": "/work/project",
                                           "model": "gpt-5.5"}))
            for role, kind, text in (("user", "UserMessage", ask),
                                     ("assistant", "AgentMessage", answer)):
                part = "input_text" if role == "user" else "output_text"
                fh.write(line("response_item", {"type": "message", "role": role, "content": [
                    {"type": part, "text": text}]}))
                content = {"type": "text" if role == "user" else "Text", "text": text}
                fh.write(line("event_msg", {
                    "type": "item_completed", "thread_id": thread_id, "turn_id": turn,
                    "item": {"type": kind, "id": f"{role}-{turns}", "content": [content]}}))
            fh.write(line("event_msg", {"type": "task_complete", "turn_id": turn,
                                        "last_agent_message": answer}))
            turns += 1
    return thread_id, turns


def measure(home: Path, method: str, params: dict[str, Any]) -> tuple[float, float]:
    """``method`` in a fresh pycodex server, after one ``thread/list`` (which pays for the
    first request's imports and opens the index): (latency ms, VmHWM MB after it)."""
    server = JsonlServer(targets(include_reference=False)[0], home)
    try:
        server.initialize()
        server.request("thread/list", {}, timeout=600)
        started = time.perf_counter()
        answer = server.request(method, params, timeout=600)
        elapsed = (time.perf_counter() - started) * 1000
        if "error" in answer:
            raise RuntimeError(f"{method} failed: {answer['error']}")
        return elapsed, server.memory_kb().get("VmHWM", 0) / 1024
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=1000.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full-runs", type=int, default=1,
                        help="runs of the full resume (~30 s and ~1 GB each for 1 GB)")
    args = parser.parse_args()
    home = fresh_home("history")
    try:
        thread_id, turns = write_history(home, args.mb)
        size = sum(p.stat().st_size for p in (home / "sessions").rglob("*.jsonl")) / 1e9
        print(f"rollout: {size:.2f} GB, {turns:,} turns")
        cases = [
            ("thread/turns/list, newest page (25)", "thread/turns/list",
             {"threadId": thread_id}),
            ("thread/resume, excludeTurns", "thread/resume",
             {"threadId": thread_id, "excludeTurns": True}),
            ("thread/resume, full", "thread/resume", {"threadId": thread_id}),
        ]
        runs_of = {"thread/resume, full": args.full_runs}
        print("\n| measure | latency (median) | peak RSS | per GB |")
        print("| --- | --- | --- | --- |")
        for label, method, params in cases:
            runs = [measure(home, method, params) for _ in range(runs_of.get(label, args.runs))]
            if not runs:
                continue
            ms = median([r[0] for r in runs])
            hwm = median([r[1] for r in runs])
            print(f"| {label} | {ms:,.0f} ms | {hwm:.0f} MB | {ms / 1000 / size:.2f} s |")
    finally:
        cleanup(home)


if __name__ == "__main__":
    main()
