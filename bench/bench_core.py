"""Core benchmark (issue 2): cold start to the initialize answer, config/read round-trip
latency and throughput on one stdio connection, idle RSS. pycodex and the reference binary
run side by side in the same invocation; results are printed as ratios.

    python -m bench.bench_core [--runs 7] [--requests 5000] [--no-reference]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.bench_turns import pycodex_env
from bench.common import (
    REFERENCE_CONFIG,
    JsonlServer,
    Target,
    cleanup,
    fresh_home,
    median,
    percentile,
    print_table,
    targets,
)

#: The first real requests a client sends after ``initialize`` (spawn → their answer).
FIRST_REQUESTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("thread/list", {}),
    ("config/read", {}),
    ("model/list", {}),
)


def cold_start(target: Target, runs: int, primed: bool,
               first: dict[str, list[float]] | None = None) -> list[float]:
    """Spawn → ``initialize`` answer per run; with ``first``, each run then sends one of
    :data:`FIRST_REQUESTS` (in turn) and records spawn → its answer there."""
    times: list[float] = []
    home = fresh_home(f"cold-{target.name}", REFERENCE_CONFIG.format(port=9))
    try:
        if primed:  # one throw-away start fills the home (the reference writes a lot there)
            server = JsonlServer(target, home)
            server.initialize()
            server.close()
        for run in range(runs):
            run_home = home if primed else fresh_home(
                f"cold-{target.name}", REFERENCE_CONFIG.format(port=9))
            start = time.perf_counter()
            server = JsonlServer(target, run_home)
            server.initialize()
            times.append((time.perf_counter() - start) * 1000)
            if first is not None:
                for method, params in FIRST_REQUESTS[run % len(FIRST_REQUESTS):][:1]:
                    server.request(method, params)
                    first.setdefault(method, []).append((time.perf_counter() - start) * 1000)
            server.close()
            if not primed:
                cleanup(run_home)
    finally:
        cleanup(home)
    return times


def throughput(server: JsonlServer, method: str, count: int, window: int = 64) -> float:
    """Requests/s with ``window`` requests in flight (below the 128-slot queue)."""
    sent = done = 0
    next_id = 1_000_000 + hash(method) % 1000 * 10_000
    start = time.perf_counter()
    while done < count:
        batch = []
        while sent - done < window and sent < count:
            batch.append({"method": method, "id": next_id, "params": {}})
            next_id += 1
            sent += 1
        if batch:
            server.send_many(batch)
        server.wait(lambda m: "id" in m and "method" not in m)
        done += 1
    return count / (time.perf_counter() - start)


def request_loop(target: Target, count: int) -> dict[str, float]:
    home = fresh_home(f"rps-{target.name}", REFERENCE_CONFIG.format(port=9))
    server = JsonlServer(target, home)
    try:
        server.initialize()
        time.sleep(0.3)
        mem = server.memory_kb()
        latencies = []
        for _ in range(200):
            start = time.perf_counter()
            answer = server.request("config/read", {})
            assert "result" in answer, answer
            latencies.append((time.perf_counter() - start) * 1000)
        rps = throughput(server, "config/read", count)
        small_rps = throughput(server, "thread/loaded/list", count)
        return {
            "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99),
            "rps": rps,
            "small_rps": small_rps,
            "rss_mb": mem.get("VmRSS", 0) / 1024,
            "hwm_mb": mem.get("VmHWM", 0) / 1024,
        }
    finally:
        server.close()
        cleanup(home)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--startup-only", action="store_true",
                        help="only the start-up rows (no request loop, no memory)")
    parser.add_argument("--json", type=Path, help="also write raw results here")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    for target in targets(not args.no_reference):
        if target.name == "pycodex":
            target.extra_env.update(pycodex_env(True))
        fresh = cold_start(target, args.runs, primed=False)
        first: dict[str, list[float]] = {}
        primed = cold_start(target, args.runs * len(FIRST_REQUESTS), primed=True, first=first)
        loop = {} if args.startup_only else request_loop(target, args.requests)
        results[target.name] = {
            "cold_fresh_ms": median(fresh),
            "cold_primed_ms": median(primed),
            **{f"first_{method}_ms": median(values) for method, values in first.items()},
            **loop,
        }
    rows = [
        ("spawn → initialize answer, fresh home (median)",
         {k: v["cold_fresh_ms"] for k, v in results.items()}, "ms", True),
        ("spawn → initialize answer, primed home (median)",
         {k: v["cold_primed_ms"] for k, v in results.items()}, "ms", True),
        *[(f"spawn → first {method} answer (sent after initialize, primed home)",
           {k: v[f"first_{method}_ms"] for k, v in results.items()}, "ms", True)
          for method, _ in FIRST_REQUESTS],
    ]
    if args.startup_only:
        print_table("Core: start-up", rows)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return
    rows += [
        ("config/read round trip p50", {k: v["p50_ms"] for k, v in results.items()}, "ms", True),
        ("config/read requests/s (64 in flight)",
         {k: v["rps"] for k, v in results.items()}, "req/s", False),
        ("small requests/s: thread/loaded/list (64 in flight)",
         {k: v["small_rps"] for k, v in results.items()}, "req/s", False),
        ("idle RSS after initialize", {k: v["rss_mb"] for k, v in results.items()}, "MB", True),
        ("peak RSS (VmHWM) after initialize",
         {k: v["hwm_mb"] for k, v in results.items()}, "MB", True),
    ]
    print_table("Core: start-up, request loop, memory", rows)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
