"""Thread index build on a big home (issue 16): the background build of the SQLite index
over ``--threads`` (50,000) generated rollouts, timed in a fresh process (wall and CPU) with
its peak RSS. pycodex only: the reference keeps no comparable index; the reference's cold
``searchTerm`` over the same home is what ``bench_threads`` compares.

    python -m bench.bench_index [--threads 50000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from bench.bench_threads import generate_store
from bench.bench_turns import pycodex_env
from bench.common import cleanup, fresh_home, median

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
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
    finally:
        cleanup(home)


if __name__ == "__main__":
    main()
