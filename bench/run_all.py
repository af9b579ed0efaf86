"""Run every benchmark in turn: bench_core, bench_turns, bench_threads, bench_fuzzy,
bench_ws_threads.

Each runs as ``python -m bench.<name>`` in its own process with this checkout's ``src`` first
on ``PYTHONPATH`` and bytecode caching on (under the bench scratch dir), so that pycodex is
measured as an installed package would run. The reference binary is compared wherever a
benchmark supports it (``CODEX_BIN`` is set for those that look for it).

    python -m bench.run_all [--quick] [--only turns,core] [--no-reference] [--json-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import SCRATCH, reference_binary

REPO = Path(__file__).resolve().parent.parent

#: name -> (module, full arguments, --quick arguments, accepts --json/--no-reference)
BENCHES: dict[str, tuple[str, list[str], list[str], bool]] = {
    "core": ("bench.bench_core", [], ["--runs", "3", "--requests", "2000"], True),
    "turns": ("bench.bench_turns", [],
              ["--turns", "30", "--warm", "10", "--runs", "3", "--tool-runs", "3",
               "--delta-runs", "1"], True),
    "threads": ("bench.bench_threads", [],
                ["--threads", "2000", "--repeat", "5", "--resume-mb", "5"], False),
    "fuzzy": ("bench.bench_fuzzy", [], ["--files", "20000", "--rounds", "3"], False),
    "wire": ("bench.bench_wire", [], ["--resume-mb", "20", "--runs", "1"], False),
    "ws_threads": ("bench.bench_ws_threads", [], ["--runs", "1"], True),
}


def child_env(with_reference: bool) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["PYTHONDONTWRITEBYTECODE"] = ""
    env["PYTHONPYCACHEPREFIX"] = str(SCRATCH / "pycache")
    ref = reference_binary()
    if with_reference and ref is not None:
        env["CODEX_BIN"] = str(ref)
    elif not with_reference:
        env.pop("CODEX_BIN", None)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller counts (a few minutes)")
    parser.add_argument("--only", default="", help="comma-separated subset of: "
                        + ", ".join(BENCHES))
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--json-dir", type=Path, help="raw JSON of the benchmarks that write it")
    args = parser.parse_args()
    chosen = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHES)
    unknown = [n for n in chosen if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    if not args.no_reference and reference_binary() is None:
        print("reference binary not found (see bench/README.md); pycodex only", flush=True)
    if args.json_dir:
        args.json_dir.mkdir(parents=True, exist_ok=True)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    env = child_env(not args.no_reference)
    failed: list[str] = []
    for name in chosen:
        module, full, quick, standard = BENCHES[name]
        argv = [sys.executable, "-m", module, *(quick if args.quick else full)]
        if standard and args.no_reference:
            argv.append("--no-reference")
        if standard and args.json_dir:
            argv += ["--json", str(args.json_dir / f"{name}.json")]
        print(f"\n# {name}: {' '.join(argv[1:])}\n", flush=True)
        started = time.perf_counter()
        code = subprocess.call(argv, cwd=REPO, env=env)
        print(f"\n({name}: exit {code}, {time.perf_counter() - started:.0f} s)", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nfailed or missed a built-in target: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
