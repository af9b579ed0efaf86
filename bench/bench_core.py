"""Core benchmark (issue 2): cold start to the initialize answer, config/read round-trip
latency and throughput on one stdio connection, idle RSS. pycodex and the reference binary
run side by side in the same invocation; results are printed as ratios.

    python -m bench.bench_core [--runs 7] [--requests 5000] [--no-reference]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
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


class Sample:
    """Spawn → answer, wall clock and the server's own CPU (user + system) at that moment."""

    def __init__(self) -> None:
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}

    def add(self, key: str, server: JsonlServer, start: float) -> None:
        self.wall.setdefault(key, []).append((time.perf_counter() - start) * 1000)
        self.cpu.setdefault(key, []).append(server.cpu_seconds() * 1000)


#: Plain interpreter starts timed alongside (spawn → exit): the floor under any Python server.
FLOOR = (
    ("python -c pass", ["-c", "pass"]),
    ("python -c 'import msgspec'", ["-c", "import msgspec"]),
    ("python -S -c pass (no site)", ["-S", "-c", "pass"]),
)


def interpreter_floor(sample: Sample, env: dict[str, str]) -> None:
    """One spawn → exit of each of :data:`FLOOR`, wall and CPU, into ``sample``."""
    for label, args in FLOOR:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *args], env=env)
        _, _, usage = os.wait4(proc.pid, 0)
        sample.wall.setdefault(label, []).append((time.perf_counter() - start) * 1000)
        sample.cpu.setdefault(label, []).append((usage.ru_utime + usage.ru_stime) * 1000)


def cold_start(found: list[Target], runs: int) -> dict[str, Sample]:
    """Per target: spawn → ``initialize`` answer on a fresh home (``fresh``) and a primed one
    (``primed``), and spawn → the answer to each of :data:`FIRST_REQUESTS` sent right after
    ``initialize`` (one per process, in turn). The targets alternate run by run, so both see
    the same machine load."""
    samples = {target.name: Sample() for target in found}
    samples["floor"] = Sample()
    floor_env = {**os.environ, **found[0].extra_env}
    primed = {target.name: fresh_home(f"cold-{target.name}", REFERENCE_CONFIG.format(port=9))
              for target in found}
    try:
        for target in found:  # a throw-away start fills the home (the reference writes there;
            server = JsonlServer(target, primed[target.name])  # a list creates the index)
            server.initialize()
            for method, params in FIRST_REQUESTS:
                server.request(method, params)
            server.close()
        for run in range(runs * len(FIRST_REQUESTS)):
            for target in found:
                sample = samples[target.name]
                if run < runs:
                    home = fresh_home(f"cold-{target.name}", REFERENCE_CONFIG.format(port=9))
                    start = time.perf_counter()
                    server = JsonlServer(target, home)
                    server.initialize()
                    sample.add("fresh", server, start)
                    server.close()
                    cleanup(home)
                    if target is found[0]:
                        interpreter_floor(samples["floor"], floor_env)
                start = time.perf_counter()
                server = JsonlServer(target, primed[target.name])
                server.initialize()
                sample.add("primed", server, start)
                method, params = FIRST_REQUESTS[run % len(FIRST_REQUESTS)]
                server.request(method, params)
                sample.add(method, server, start)
                server.close()
    finally:
        for home in primed.values():
            cleanup(home)
    return samples


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
    parser.add_argument("--baseline", type=Path, metavar="SRC",
                        help="also start the pycodex whose sources are in SRC (another "
                             "checkout's src/), alternating with the others: before/after")
    args = parser.parse_args()
    found = targets(not args.no_reference)
    for target in found:
        if target.name == "pycodex":
            target.extra_env.update(pycodex_env(True))
            if args.baseline:
                baseline = Target("baseline", target.argv, {
                    **pycodex_env(True), "PYTHONPATH": str(args.baseline.absolute())})
    if args.baseline:
        found.append(baseline)
    samples = cold_start(found, args.runs)
    results: dict[str, dict[str, float]] = {}
    for target in found:
        sample = samples[target.name]
        results[target.name] = {
            **{f"{key}_ms": median(values) for key, values in sample.wall.items()},
            **{f"{key}_cpu_ms": median(values) for key, values in sample.cpu.items()},
            **({} if args.startup_only else request_loop(target, args.requests)),
        }
    answers = [
        ("initialize answer, fresh home", "fresh"),
        ("initialize answer, primed home", "primed"),
        *[(f"first {method} answer (sent after initialize, primed home)", method)
          for method, _ in FIRST_REQUESTS],
    ]
    rows = [
        (f"spawn → {label} (median)", {k: v[f"{key}_ms"] for k, v in results.items()}, "ms", True)
        for label, key in answers
    ] + [
        (f"server CPU at the {label}", {k: v[f"{key}_cpu_ms"] for k, v in results.items()},
         "ms", True)
        for label, key in answers
    ]
    floor = samples["floor"]
    print("\n| interpreter floor (spawn → exit, median) | wall | CPU |\n| --- | --- | --- |")
    for label, _ in FLOOR:
        print(f"| {label} | {median(floor.wall[label]):,.1f} ms | "
              f"{median(floor.cpu[label]):,.1f} ms |")
    if args.startup_only:
        print_table("Core: start-up", rows)
        if args.baseline:
            print("\n| measure | baseline | pycodex | after/before |\n| --- | --- | --- | --- |")
            for label, values, unit, _ in rows:
                before, after = values["baseline"], values["pycodex"]
                print(f"| {label} | {before:,.1f} {unit} | {after:,.1f} {unit} | "
                      f"{after / before:.2f}x |")
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
