"""Thread index build on a big home (issue 16): the background build of the SQLite index
over ``--threads`` (50,000) generated rollouts, timed in a fresh process (wall and CPU) with
its peak RSS; then a cold ``searchTerm`` (the first request of a fresh server on that home
without any index: pycodex, and with ``--reference`` the reference too; on the loaded
project machine its ``initialize`` did not answer within 60 s on this home).

    python -m bench.bench_index [--threads 50000] [--runs 3] [--reference]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.bench_threads import generate_store
from bench.bench_turns import pycodex_env
from bench.common import JsonlServer, cleanup, fresh_home, median, targets

#: Run in the measured process: build the index from scratch, print wall, CPU, peak RSS.
_BUILD = """
import json, resource, sys, time
from pathlib import Path
from pycodex.store.index import DB_FILE, ThreadIndex
home = Path(sys.argv[1])
for suffix in ("", "-wal", "-shm"):
    Path(str(home / DB_FILE) + suffix).unlink(missing_ok=True)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
wall, cpu = time.perf_counter(), time.process_time()
index = ThreadIndex(home)
index.wait_ready()
print(json.dumps({"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
                  "hwm_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "hwm_before_mb": before / 1024}))
"""


def drop_indexes(home: Path) -> None:
    """Remove every SQLite database of the home (pycodex's and the reference's)."""
    for path in home.glob("*.sqlite*"):
        path.unlink()


def cold_search(home: Path, term: str, reference: bool) -> dict[str, tuple[float, int]]:
    """``thread/list`` with ``searchTerm`` as the first request of a fresh server on a home
    without an index, per target: (latency ms, rows)."""
    found = {}
    for target in targets(include_reference=reference):
        drop_indexes(home)
        env = pycodex_env(True) if target.name == "pycodex" else {}
        server = JsonlServer(target, home, env=env)
        try:
            server.initialize()
            started = time.perf_counter()
            answer = server.request("thread/list", {"searchTerm": term}, timeout=600)
            elapsed = (time.perf_counter() - started) * 1000
            found[target.name] = (elapsed, len(answer.get("result", {}).get("data", [])))
        finally:
            server.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reference", action="store_true")
    args = parser.parse_args()
    home = fresh_home("index")
    try:
        generate_store(home, args.threads)
        env = pycodex_env(True)
        runs = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-c", _BUILD, str(home)], check=True,
                                 capture_output=True, text=True, env={**os.environ, **env})
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"\n## Thread index build, {args.threads:,} rollouts (median of {args.runs})\n")
        print("| measure | pycodex | target |")
        print("| --- | --- | --- |")
        print(f"| wall | {median([r['wall_s'] for r in runs]):.2f} s | ≤ 5 s |")
        print(f"| CPU | {median([r['cpu_s'] for r in runs]):.2f} s | |")
        hwm = median([r["hwm_mb"] for r in runs])
        print(f"| peak RSS of the process | {hwm:.1f} MB | ≤ 60 MB |")
        searches = [cold_search(home, f"needle-{(i * 7919) % args.threads:05d}", args.reference)
                    for i in range(args.runs)]
        print(f"\n## Cold searchTerm, {args.threads:,} rollouts, no index (median of "
              f"{args.runs})\n")
        print("| target | latency | rows |")
        print("| --- | --- | --- |")
        for name in searches[0]:
            ms = median([run[name][0] for run in searches])
            print(f"| {name} | {ms:,.0f} ms | {searches[0][name][1]} |")
    finally:
        cleanup(home)


if __name__ == "__main__":
    main()
