"""Thread store benchmark (issue 3): ``thread/list`` first page and ``searchTerm`` over
10,000 rollouts, and ``thread/resume`` of a ~20 MB rollout with peak RSS.

Runs pycodex, and the reference binary too when ``CODEX_BIN`` is set; prints ratios.

    python -m bench.bench_threads [--threads 10000] [--repeat 20] [--resume-mb 20]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import JsonlServer, Target, cleanup, fresh_home, median, print_table, targets

BASE = 1_767_225_600  # 2026-01-01T00:00:00Z


def _uuid7(ms: int, n: int) -> str:
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | 0b10 << 62 | n
    return str(uuid.UUID(int=value))


def _stamp(seconds: float) -> str:
    t = time.gmtime(seconds)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{int(seconds * 1000) % 1000:03d}Z"


def _line(kind: str, payload: Any, when: float) -> str:
    return json.dumps({"timestamp": _stamp(when), "type": kind, "payload": payload}) + "\n"


def write_rollout(home: Path, n: int, when: float, turns: list[tuple[str, str]]) -> str:
    """One rollout in the reference's format; returns its thread id."""
    thread_id = _uuid7(int(when * 1000), n)
    local = time.localtime(when)
    day = home / "sessions" / time.strftime("%Y/%m/%d", local)
    day.mkdir(parents=True, exist_ok=True)
    name = f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', local)}-{thread_id}.jsonl"
    meta = {
        "id": thread_id,
        "timestamp": _stamp(when),
        "cwd": "/work/project",
        "originator": "codex_vscode",
        "cli_version": "0.169.0",
        "source": "vscode",
        "model_provider": "openai",
        "base_instructions": {"text": "You are a coding agent."},
    }
    out = [_line("session_meta", meta, when)]
    for i, (ask, answer) in enumerate(turns):
        turn_id = f"{thread_id[:-4]}{i:04d}"
        out.append(_line("event_msg", {"type": "task_started", "turn_id": turn_id}, when))
        out.append(
            _line(
                "turn_context",
                {"turn_id": turn_id, "cwd": "/work/project", "model": "gpt-5.5"},
                when,
            )
        )
        user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": ask}]}
        out.append(_line("response_item", user, when))
        out.append(_line("event_msg", {"type": "user_message", "message": ask}, when))
        reply = {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": answer}],
        }
        out.append(_line("response_item", reply, when))
        out.append(_line("event_msg", {"type": "agent_message", "message": answer}, when))
        done = {"type": "task_complete", "turn_id": turn_id, "last_agent_message": answer}
        out.append(_line("event_msg", done, when))
    (day / name).write_text("".join(out))
    return thread_id


def write_big_rollout(home: Path, megabytes: float, label: str) -> str:
    """One rollout of about ``megabytes`` MB (long answers); returns its thread id."""
    answer = "x" * 9_000
    turns = [
        (f"turn {i}: explain", answer)
        for i in range(int(megabytes * 1_000_000 / (3 * len(answer) + 1_500)))
    ]
    thread_id = write_rollout(home, 1, BASE, turns)
    size = sum(p.stat().st_size for p in (home / "sessions").rglob("*.jsonl"))
    print(f"{label}: rollout is {size / 1e6:.1f} MB, {len(turns)} turns")
    return thread_id


def generate_store(home: Path, count: int) -> None:
    for n in range(count):
        when = BASE + n * 37.0
        write_rollout(
            home, n, when, [(f"please fix bug needle-{n:05d} in module {n % 97}", "done")]
        )


def time_request(server: JsonlServer, method: str, params: Any) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    answer = server.request(method, params, timeout=600)
    return (time.perf_counter() - start) * 1000, answer


def bench_list(target: Target, home: Path, repeat: int) -> dict[str, float]:
    server = JsonlServer(target, home)
    try:
        server.initialize()
        cold, first = time_request(server, "thread/list", {})
        if "error" in first:
            raise RuntimeError(f"{target.name}: thread/list failed: {first['error']}")
        pages = [time_request(server, "thread/list", {})[0] for _ in range(repeat)]
        search = [
            time_request(server, "thread/list", {"searchTerm": f"needle-{i:05d}"})[0]
            for i in range(repeat)
        ]
        found = server.request("thread/list", {"searchTerm": "needle-00007"})
        hits = len(found.get("result", {}).get("data", []))
        return {
            "cold": cold,
            "page_p50": median(pages),
            "search_p50": median(search),
            "search_hits": float(hits),
            "rows": float(len(first.get("result", {}).get("data", []))),
        }
    finally:
        server.close()


def bench_resume(target: Target, home: Path, thread_id: str) -> dict[str, float]:
    server = JsonlServer(target, home)
    try:
        server.initialize()
        before = server.memory_kb().get("VmHWM", 0)
        elapsed, answer = time_request(server, "thread/resume", {"threadId": thread_id})
        if "error" in answer:
            raise RuntimeError(f"{target.name}: thread/resume failed: {answer['error']}")
        after = server.memory_kb().get("VmHWM", 0)
        turns = len(answer["result"]["thread"]["turns"])
        return {
            "ms": elapsed,
            "hwm_mb": after / 1024,
            "delta_mb": (after - before) / 1024,
            "turns": turns,
        }
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--resume-mb", type=float, default=20.0)
    args = parser.parse_args()
    chosen = targets(include_reference=bool(os.environ.get("CODEX_BIN")))

    list_results: dict[str, dict[str, float]] = {}
    for target in chosen:
        home = fresh_home(f"threads-{target.name}")
        try:
            started = time.perf_counter()
            generate_store(home, args.threads)
            took = time.perf_counter() - started
            print(f"{target.name}: wrote {args.threads} rollouts in {took:.1f} s")
            list_results[target.name] = bench_list(target, home, args.repeat)
        finally:
            cleanup(home)

    resume_results: dict[str, dict[str, float]] = {}
    for target in chosen:
        home = fresh_home(f"resume-{target.name}")
        try:
            thread_id = write_big_rollout(home, args.resume_mb, target.name)
            resume_results[target.name] = bench_resume(target, home, thread_id)
        finally:
            cleanup(home)

    def pick(results: dict[str, dict[str, float]], key: str) -> dict[str, float]:
        return {name: values[key] for name, values in results.items()}

    print_table(
        f"thread/list over {args.threads} rollouts ({args.repeat} runs)",
        [
            ("first call (cold, index build)", pick(list_results, "cold"), "ms", True),
            ("first page p50", pick(list_results, "page_p50"), "ms", True),
            ("searchTerm p50", pick(list_results, "search_p50"), "ms", True),
            ("rows on first page", pick(list_results, "rows"), "", False),
            ("search hits for one needle", pick(list_results, "search_hits"), "", False),
        ],
    )
    print_table(
        f"thread/resume of a ~{args.resume_mb:.0f} MB rollout",
        [
            ("resume latency", pick(resume_results, "ms"), "ms", True),
            ("peak RSS after resume (VmHWM)", pick(resume_results, "hwm_mb"), "MB", True),
            ("VmHWM growth during resume", pick(resume_results, "delta_mb"), "MB", True),
            ("turns returned", pick(resume_results, "turns"), "", False),
        ],
    )


if __name__ == "__main__":
    main()
