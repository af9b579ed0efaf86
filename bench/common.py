"""Shared pieces of the benchmarks: locating the reference binary, spawning either server,
a small synchronous JSONL client, and statistics."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_REFERENCE = (
    Path.home()
    / ".cache/refcodex-install/node_modules/@openai/codex-linux-x64/vendor"
    / "x86_64-unknown-linux-musl/bin/codex"
)
SCRATCH = Path(os.environ.get("BENCH_SCRATCH", Path.home() / ".cache" / "pycodex-bench"))

REFERENCE_CONFIG = """\
model = "gpt-5.5"
model_provider = "mock"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[model_providers.mock]
name = "mock"
base_url = "http://127.0.0.1:{port}/v1"
wire_api = "responses"
env_key = "MOCK_API_KEY"
request_max_retries = 0
stream_max_retries = 0
supports_websockets = false
"""


def reference_binary() -> Path | None:
    """The reference ``codex`` binary: ``$CODEX_BIN`` or the npm install location."""
    env = os.environ.get("CODEX_BIN")
    path = Path(env) if env else DEFAULT_REFERENCE
    return path if path.exists() else None


@dataclass
class Target:
    name: str
    argv: list[str]
    extra_env: dict[str, str] = field(default_factory=dict)


def targets(include_reference: bool = True) -> list[Target]:
    found = [Target("pycodex", [sys.executable, "-m", "pycodex", "app-server"])]
    ref = reference_binary() if include_reference else None
    if ref is not None:
        found.append(Target("reference", [str(ref), "app-server", "--disable", "plugins"]))
    return found


def fresh_home(label: str, config: str | None = None) -> Path:
    home = SCRATCH / f"{label}-{os.getpid()}-{time.monotonic_ns()}"
    home.mkdir(parents=True)
    if config is not None:
        (home / "config.toml").write_text(config)
    return home


def cleanup(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process ``pid`` has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class JsonlServer:
    """A spawned app-server with a reader thread; answers are matched by id."""

    def __init__(self, target: Target, home: Path, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_")}
        full_env.update({"CODEX_HOME": str(home), "MOCK_API_KEY": "bench", **target.extra_env})
        full_env.update(env or {})
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            target.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=full_env, cwd=cwd,
        )
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.ids = itertools.count(1)
        threading.Thread(target=self._pump, daemon=True).start()

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far."""
        return cpu_seconds(self.proc.pid)

    def _pump(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            try:
                self.queue.put(json.loads(line))
            except ValueError:
                continue
        self.queue.put(None)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def send_many(self, messages: list[dict[str, Any]]) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in messages))
        self.proc.stdin.flush()

    def wait(self, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.perf_counter() + timeout
        while True:
            message = self.queue.get(timeout=max(0.01, deadline - time.perf_counter()))
            if message is None:
                raise RuntimeError("server exited")
            if predicate(message):
                return message

    def request(self, method: str, params: Any, timeout: float = 60) -> dict[str, Any]:
        rid = next(self.ids)
        self.send({"method": method, "id": rid, "params": params})
        return self.wait(lambda m: m.get("id") == rid and "method" not in m, timeout)

    def initialize(self, name: str = "bench") -> dict[str, Any]:
        answer = self.request(
            "initialize", {"clientInfo": {"name": name, "title": None, "version": "1.0"}}
        )
        self.send({"method": "initialized"})
        return answer

    def memory_kb(self) -> dict[str, int]:
        out: dict[str, int] = {}
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0])
        except OSError:
            pass
        return out

    def close(self) -> None:
        if self.proc.stdin:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def print_table(title: str, rows: list[tuple[str, dict[str, float], str, bool]]) -> None:
    """rows: (measure, {target: value}, unit, lower_is_better)."""
    print(f"\n## {title}\n")
    print("| measure | pycodex | reference | ratio (pycodex/reference) |")
    print("| --- | --- | --- | --- |")
    for measure, values, unit, lower in rows:
        ours = values.get("pycodex")
        ref = values.get("reference")
        ratio = f"{ours / ref:.2f}x" if ours is not None and ref else "n/a"
        better = ""
        if ours is not None and ref:
            better = " (better)" if (ours <= ref if lower else ours >= ref) else " (worse)"
        shown = ["n/a" if v is None else f"{v:,.1f} {unit}" for v in (ours, ref)]
        print(f"| {measure} | {shown[0]} | {shown[1]} | {ratio}{better} |")
