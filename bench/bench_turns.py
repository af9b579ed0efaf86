"""Turn benchmark (issues 4 and 5): mock "hello" turn latency (first and warm), a 20,000-delta
streamed reply (deltas/s delivered to the client), peak RSS after 1 and after N turns, and
shell (``exec_command echo hi``) and patch (``apply_patch`` add file) turn latency under
approvalPolicy ``never`` / sandbox ``danger-full-access``.

pycodex and the reference binary (when installed) run side by side in the same invocation,
each against its own instance of the project's mock Responses API
(``tests/support/mock_responses.py``); results are printed as ratios.

    python -m bench.bench_turns [--turns 100] [--warm 30] [--runs 3] [--deltas 20000]
                                [--tool-runs 5] [--no-reference] [--json PATH]

Targets: warm hello turn p50 ≤ 1/3 of the reference's; ≥ 20,000 deltas/s; pycodex VmHWM
after ``--turns`` turns ≤ half the reference's after one; shell and patch turns ≤ 1/2 of the
reference's.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from tests.support.mock_responses import (
    MockResponses,
    Raw,
    RecordedRequest,
    Reply,
    custom_tool_call_reply,
    function_call_reply,
    message_events,
    response_reply,
    text_reply,
)

from bench.common import (
    REFERENCE_CONFIG,
    SCRATCH,
    JsonlServer,
    Target,
    cleanup,
    fresh_home,
    median,
    percentile,
    print_table,
    targets,
)

REPO = Path(__file__).resolve().parent.parent
DELTA_BLOCK = 64 * 1024  # bytes per HTTP chunk of the pre-serialized delta stream
TOOL_OUTPUT_TYPES = ("function_call_output", "custom_tool_call_output")


# --------------------------------------------------------------------------- mock side


def fast_delta_reply(count: int) -> Reply:
    """A reply streaming ``count`` small output_text deltas, pre-serialized into 64 KB
    chunks so that the mock is never the bottleneck."""
    deltas = [f"w{i % 10} " for i in range(count)]
    reply = response_reply(message_events(deltas))
    blocks: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for event in reply.events:
        assert isinstance(event, dict)
        data = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
        current.append(data)
        size += len(data)
        if size >= DELTA_BLOCK:
            blocks.append(b"".join(current))
            current, size = [], 0
    if current:
        blocks.append(b"".join(current))
    return Reply(events=[Raw(block) for block in blocks])


def _last_user_text(request: RecordedRequest) -> str:
    for item in reversed(request.input):
        if isinstance(item, dict) and item.get("role") == "user":
            parts = item.get("content") or []
            return " ".join(p.get("text", "") for p in parts if isinstance(p, dict))
    return ""


class Scenario:
    """Chooses the mock's reply from the request, like the reference's mock does."""

    def __init__(self, delta_count: int) -> None:
        self.delta_count = delta_count
        self.delta_replies: deque[Reply] = deque()
        self.patches = itertools.count(1)

    def prepare_deltas(self) -> None:
        """Build one delta reply ahead of time (outside the measured window)."""
        self.delta_replies.append(fast_delta_reply(self.delta_count))

    def __call__(self, request: RecordedRequest) -> Reply | None:
        items = request.input
        last = items[-1] if items else {}
        if isinstance(last, dict) and last.get("type") in TOOL_OUTPUT_TYPES:
            return text_reply("Done", ".")
        text = _last_user_text(request)
        if "RUN_SHELL" in text:
            return function_call_reply("exec_command", {"cmd": "echo hi", "yield_time_ms": 1000})
        if "RUN_PATCH" in text:
            name = f"hello-{next(self.patches)}.txt"
            patch = (f"*** Begin Patch\n*** Add File: {name}\n+hi from the mock patch\n"
                     "*** End Patch\n")
            return custom_tool_call_reply("apply_patch", patch)
        if "RUN_DELTAS" in text:
            if self.delta_replies:
                return self.delta_replies.popleft()
            return fast_delta_reply(self.delta_count)
        return text_reply("Hello", " from", " the", " mock!")


def quiet(mock: MockResponses) -> MockResponses:
    """Drop the tracebacks of keep-alive connections reset when a server exits."""
    server = mock._server
    if server is not None:
        server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    return mock


def mock_alone(count: int, runs: int) -> float:
    """Deltas/s the mock streams to a bare HTTP client (median over ``runs``)."""
    rates: list[float] = []
    with MockResponses() as mock:
        for _ in range(runs):
            mock.push(fast_delta_reply(count))
            conn = http.client.HTTPConnection("127.0.0.1", mock.port)
            body = json.dumps({"model": "m", "input": []})
            start = time.perf_counter()
            conn.request("POST", "/v1/responses", body, {"content-type": "application/json"})
            response = conn.getresponse()
            chunks: list[bytes] = []
            while chunk := response.read1(1 << 20):
                chunks.append(chunk)
            elapsed = time.perf_counter() - start
            conn.close()
            seen = b"".join(chunks).count(b"event: response.output_text.delta\n")
            assert seen == count, (seen, count)
            rates.append(count / elapsed)
    return median(rates)


# --------------------------------------------------------------------------- client side


class TimedServer(JsonlServer):
    """A JsonlServer whose reader stamps each message with its arrival time (``_t``) and
    counts agent-message deltas without queueing them (so that the client is cheap)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.delta_count = 0
        self.delta_chars = 0
        self.delta_first = 0.0
        self.delta_last = 0.0
        self.lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def _pump(self) -> None:
        assert self.proc.stdout
        marker = b'"item/agentMessage/delta"'
        for line in self.proc.stdout:
            now = time.perf_counter()
            if marker in line:
                try:
                    delta = json.loads(line)["params"]["delta"]
                except (ValueError, KeyError):
                    continue
                with self.lock:
                    if not self.delta_count:
                        self.delta_first = now
                    self.delta_count += 1
                    self.delta_chars += len(delta)
                    self.delta_last = now
                continue
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                message["_t"] = now
            self.queue.put(message)
        self.queue.put(None)

    def reset_deltas(self) -> None:
        with self.lock:
            self.delta_count = self.delta_chars = 0
            self.delta_first = self.delta_last = 0.0

    def start_thread(self, cwd: Path) -> str:
        answer = self.request("thread/start", {
            "cwd": str(cwd), "approvalPolicy": "never", "sandbox": "danger-full-access"})
        assert "result" in answer, answer
        return str(answer["result"]["thread"]["id"])

    def turn(self, thread_id: str, text: str, timeout: float = 120) -> tuple[float, dict[str, Any]]:
        """Run one turn; (ms from turn/start sent to turn/completed received, completed)."""
        rid = next(self.ids)
        start = time.perf_counter()
        self.send({"method": "turn/start", "id": rid, "params": {
            "threadId": thread_id, "input": [{"type": "text", "text": text}]}})
        done = self.wait(lambda m: m.get("method") == "turn/completed"
                         and m["params"].get("threadId") == thread_id, timeout)
        turn = done["params"]["turn"]
        if turn.get("status") != "completed":
            raise RuntimeError(f"turn ended {turn.get('status')}: {turn.get('error')}")
        return (done["_t"] - start) * 1000, done


def client_alone(count: int) -> float:
    """Deltas/s this benchmark's client reads from a pipe fed by ``cat`` (its own ceiling)."""
    home = fresh_home("turns-client")
    try:
        line = json.dumps({"method": "item/agentMessage/delta", "params": {
            "threadId": "019a0000-0000-7000-8000-000000000000",
            "turnId": "019a0000-0000-7000-8000-000000000001",
            "itemId": "msg_mock000001", "delta": "w1 "}, "emittedAtMs": 1_767_225_600_000},
            separators=(",", ":"))
        feed = home / "deltas.jsonl"
        feed.write_text((line + "\n") * count + '{"method":"end"}\n')
        reader = TimedServer(Target("cat", ["cat", str(feed)]), home)
        reader.wait(lambda m: m.get("method") == "end")
        reader.close()
        return reader.delta_count / (reader.delta_last - reader.delta_first)
    finally:
        cleanup(home)


def spawn(target: Target, mock: MockResponses, label: str) -> tuple[TimedServer, Path, Path]:
    home = fresh_home(f"turns-{target.name}-{label}", REFERENCE_CONFIG.format(port=mock.port)
                      + "stream_idle_timeout_ms = 60000\n")
    work = home / "work"
    work.mkdir()
    server = TimedServer(target, home, cwd=work)
    server.initialize()
    return server, home, work


def pycodex_env(bytecode_cache: bool) -> dict[str, str]:
    """Run this checkout's ``src`` (not whatever ``pip install -e`` points at) and, unless
    disabled, cache bytecode the way an installed package has it (a ``PYTHONDONTWRITEBYTECODE``
    environment otherwise recompiles every module on each start)."""
    paths = [str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {"PYTHONPATH": os.pathsep.join(paths)}
    if bytecode_cache:
        env["PYTHONDONTWRITEBYTECODE"] = ""
        env["PYTHONPYCACHEPREFIX"] = str(SCRATCH / "pycache")
    return env


def prime(target: Target, mock: MockResponses) -> None:
    """One unmeasured process running each kind of turn (bytecode, page cache)."""
    server, home, work = spawn(target, mock, "prime")
    try:
        thread_id = server.start_thread(work)
        for text in ("hello", "hello", "RUN_SHELL please", "RUN_PATCH please"):
            server.turn(thread_id, text)
    finally:
        server.close()
        cleanup(home)


def hwm_mb(server: JsonlServer) -> float:
    return server.memory_kb().get("VmHWM", 0) / 1024


# --------------------------------------------------------------------------- scenarios


def bench_target(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    scenario = Scenario(args.deltas)
    out: dict[str, Any] = {}
    with MockResponses() as mock:
        quiet(mock).responder = scenario
        prime(target, mock)
        first_ms: list[float] = []
        hwm_one: list[float] = []
        # Extra short-lived processes: first turn on a new thread in a fresh process.
        for run in range(max(0, args.runs - 1)):
            server, home, work = spawn(target, mock, f"first{run}")
            try:
                thread_id = server.start_thread(work)
                first_ms.append(server.turn(thread_id, "hello")[0])
                time.sleep(0.05)
                hwm_one.append(hwm_mb(server))
            finally:
                server.close()
                cleanup(home)

        server, home, work = spawn(target, mock, "main")
        try:
            thread_id = server.start_thread(work)
            first_ms.append(server.turn(thread_id, "hello")[0])
            time.sleep(0.05)
            hwm_one.append(hwm_mb(server))
            warm: list[float] = []
            for index in range(1, args.turns):
                ms = server.turn(thread_id, "hello")[0]
                if index >= 2 and len(warm) < args.warm:  # turn 2 is the warm-up
                    warm.append(ms)
            time.sleep(0.05)
            out["hwm_after_n_mb"] = hwm_mb(server)
            out["rss_after_n_mb"] = server.memory_kb().get("VmRSS", 0) / 1024
            out["first_turn_ms"] = median(first_ms)
            out["first_turn_raw_ms"] = first_ms
            out["warm_turn_p50_ms"] = median(warm)
            out["warm_turn_p90_ms"] = percentile(warm, 90)
            out["warm_turn_raw_ms"] = warm
            out["hwm_after_1_mb"] = median(hwm_one)

            for kind, text in (("shell", "RUN_SHELL please"), ("patch", "RUN_PATCH please")):
                tool_thread = server.start_thread(work)
                times = [server.turn(tool_thread, text)[0] for _ in range(args.tool_runs)]
                out[f"{kind}_first_ms"] = times[0]
                out[f"{kind}_p50_ms"] = median(times[1:] or times)
                out[f"{kind}_raw_ms"] = times
            made = sorted(p.name for p in work.glob("hello-*.txt"))
            assert len(made) == args.tool_runs, made

            rates: list[float] = []
            turn_ms: list[float] = []
            cpu_us: list[float] = []
            for _ in range(args.delta_runs):
                delta_thread = server.start_thread(work)
                scenario.prepare_deltas()
                server.reset_deltas()
                cpu_before = server.cpu_seconds()
                ms, _ = server.turn(delta_thread, "RUN_DELTAS please")
                cpu_us.append((server.cpu_seconds() - cpu_before) * 1e6 / args.deltas)
                with server.lock:
                    count, chars = server.delta_count, server.delta_chars
                    span = server.delta_last - server.delta_first
                if count != args.deltas or chars != 3 * args.deltas:
                    raise RuntimeError(f"got {count} deltas ({chars} chars)")
                rates.append(count / span if span > 0 else float("inf"))
                turn_ms.append(ms)
            out["deltas_per_s"] = median(rates)
            out["deltas_per_s_raw"] = rates
            out["cpu_us_per_delta"] = median(cpu_us)
            out["cpu_us_per_delta_raw"] = cpu_us
            out["delta_turn_ms"] = median(turn_ms)
            out["delta_turn_deltas_per_s"] = args.deltas / (median(turn_ms) / 1000)
            out["hwm_end_mb"] = hwm_mb(server)
        finally:
            server.close()
            cleanup(home)
    return out


def verdicts(results: dict[str, dict[str, Any]], args: argparse.Namespace
             ) -> dict[str, dict[str, Any]]:
    """Print and return each target of issues 4 and 5: (value, limit, met)."""
    ours = results.get("pycodex", {})
    ref = results.get("reference")
    checks: dict[str, dict[str, Any]] = {}

    def check(name: str, value: float, limit: float, higher: bool = False) -> None:
        met = value >= limit if higher else value <= limit
        checks[name] = {"value": value, "limit": limit, "met": met}

    check("deltas/s ≥ 20,000", ours["deltas_per_s"], 20_000, higher=True)
    check("server CPU per delta ≤ 6 µs", ours["cpu_us_per_delta"], 6.0)
    if ref:
        for key, label in (("first_turn_ms", "first hello turn"),
                           ("warm_turn_p50_ms", "warm hello turn p50")):
            check(f"{label} ≤ 1/3 reference", ours[key], ref[key] / 3)
        check(f"VmHWM after {args.turns} turns ≤ 1/2 reference after 1",
              ours["hwm_after_n_mb"], ref["hwm_after_1_mb"] / 2)
        for key, label in (("shell_first_ms", "shell turn, first"),
                           ("shell_p50_ms", "shell turn p50"),
                           ("patch_first_ms", "patch turn, first"),
                           ("patch_p50_ms", "patch turn p50")):
            check(f"{label} ≤ 1/2 reference", ours[key], ref[key] / 2)
    print("\n## Targets\n")
    print("| target | pycodex | limit | met |")
    print("| --- | --- | --- | --- |")
    for name, row in checks.items():
        print(f"| {name} | {row['value']:,.1f} | {row['limit']:,.1f} | "
              f"{'yes' if row['met'] else 'NO'} |")
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=100,
                        help="hello turns on the main thread (RSS is read after them)")
    parser.add_argument("--warm", type=int, default=30,
                        help="warm turns sampled for the p50 (after one warm-up)")
    parser.add_argument("--runs", type=int, default=5,
                        help="fresh processes for the first-turn latency (median)")
    parser.add_argument("--deltas", type=int, default=20_000)
    parser.add_argument("--delta-runs", type=int, default=3)
    parser.add_argument("--tool-runs", type=int, default=6,
                        help="shell and patch turns each (p50 excludes the first)")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="leave PYTHONDONTWRITEBYTECODE as the environment has it")
    parser.add_argument("--json", type=Path, help="also write raw results here")
    args = parser.parse_args()
    args.turns = max(args.turns, 3)

    started = time.perf_counter()
    mock_rate = mock_alone(args.deltas, 3)
    client_rate = client_alone(max(args.deltas, 100_000))
    print(f"mock alone: {mock_rate:,.0f} deltas/s to a bare HTTP client; "
          f"client alone: {client_rate:,.0f} deltas/s read from a pipe")
    results: dict[str, dict[str, Any]] = {}
    for target in targets(not args.no_reference):
        if target.name == "pycodex":
            target.extra_env.update(pycodex_env(not args.no_bytecode_cache))
        t0 = time.perf_counter()
        results[target.name] = bench_target(target, args)
        print(f"{target.name}: done in {time.perf_counter() - t0:.1f} s")

    def pick(key: str) -> dict[str, float]:
        return {name: float(values[key]) for name, values in results.items()}

    n = args.turns
    print_table("Hello turn latency (turn/start sent → turn/completed received)", [
        ("first turn on a new thread (median of fresh processes)", pick("first_turn_ms"),
         "ms", True),
        (f"warm turn p50 ({args.warm} after one warm-up)", pick("warm_turn_p50_ms"), "ms", True),
        ("warm turn p90", pick("warm_turn_p90_ms"), "ms", True),
    ])
    print_table(f"Streaming: {args.deltas:,} output_text deltas in one reply", [
        ("deltas/s delivered (first → last delta at the client)", pick("deltas_per_s"),
         "/s", False),
        ("whole turn (turn/start → turn/completed)", pick("delta_turn_ms"), "ms", True),
        ("server CPU per delta (user + system, whole turn)", pick("cpu_us_per_delta"),
         "µs", True),
    ])
    ref_hwm = results.get("reference", {}).get("hwm_after_1_mb")
    print_table("Peak RSS (VmHWM)", [
        ("after 1 turn", pick("hwm_after_1_mb"), "MB", True),
        (f"after {n} turns", pick("hwm_after_n_mb"), "MB", True),
        (f"after {n} turns + tools + delta turns", pick("hwm_end_mb"), "MB", True),
    ])
    if ref_hwm:
        ours = results["pycodex"]["hwm_after_n_mb"]
        print(f"\npycodex after {n} turns / reference after 1 turn: {ours / ref_hwm:.2f}x "
              "(target ≤ 0.50x)")
    print_table("Tool turns (never / danger-full-access; two model requests each)", [
        ("shell turn (exec_command echo hi), first on a thread", pick("shell_first_ms"),
         "ms", True),
        (f"shell turn p50 (next {args.tool_runs - 1})", pick("shell_p50_ms"), "ms", True),
        ("patch turn (apply_patch add file), first on a thread", pick("patch_first_ms"),
         "ms", True),
        (f"patch turn p50 (next {args.tool_runs - 1})", pick("patch_p50_ms"), "ms", True),
    ])
    checks = verdicts(results, args)
    print(f"\nceilings: mock alone {mock_rate:,.0f} deltas/s, client alone {client_rate:,.0f} "
          f"deltas/s; total {time.perf_counter() - started:.1f} s")
    if args.json:
        payload = {"mock_alone_deltas_per_s": mock_rate, "client_alone_deltas_per_s": client_rate,
                   "args": vars(args) | {"json": None}, "results": results, "targets": checks}
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
