"""MCP servers: time from ``thread/start`` to the server's tools being ready (its
``mcpServer/startupStatus/updated`` ``ready``), and the round trip of one
``mcpServer/tool/call`` — pycodex and the reference side by side, with the same server
(``mcp-server-time``) called directly through the ``mcp`` SDK as the floor.

    python -m bench.bench_mcp [--runs 5] [--calls 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

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

SERVER_ARGS = ["-m", "mcp_server_time", "--local-timezone", "UTC"]
CLOCK = f"""
[mcp_servers.clock]
command = "{sys.executable}"
args = {SERVER_ARGS!r}
""".replace("'", '"')
CALL = {"server": "clock", "tool": "get_current_time", "arguments": {"timezone": "UTC"}}


def bench_target(target: Target, runs: int, calls: int) -> dict[str, float]:
    home = fresh_home(f"mcp-{target.name}", REFERENCE_CONFIG.format(port=9) + CLOCK)
    work = home / "work"
    work.mkdir()
    server = JsonlServer(target, home, cwd=work)
    try:
        server.initialize()
        ready: list[float] = []
        call_ms: list[float] = []
        for _ in range(runs):
            started = time.perf_counter()
            answer = server.request("thread/start", {"cwd": str(work)})
            thread_id = answer["result"]["thread"]["id"]
            server.wait(lambda m, t=thread_id: m.get("method") == "mcpServer/startupStatus/updated"
                        and m["params"]["threadId"] == t and m["params"]["status"] == "ready")
            ready.append((time.perf_counter() - started) * 1000)
            for _ in range(calls):
                began = time.perf_counter()
                result = server.request("mcpServer/tool/call", {"threadId": thread_id, **CALL})
                if "error" in result:
                    raise RuntimeError(f"{target.name}: tool call failed: {result['error']}")
                call_ms.append((time.perf_counter() - began) * 1000)
            server.request("thread/unsubscribe", {"threadId": thread_id})
        return {"ready_p50": median(ready), "ready_max": max(ready),
                "call_p50": median(call_ms), "call_p90": percentile(call_ms, 90)}
    finally:
        server.close()
        cleanup(home)


async def _direct(runs: int, calls: int) -> dict[str, float]:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    ready: list[float] = []
    call_ms: list[float] = []
    params = StdioServerParameters(command=sys.executable, args=SERVER_ARGS)
    for _ in range(runs):
        started = time.perf_counter()
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()
            ready.append((time.perf_counter() - started) * 1000)
            for _ in range(calls):
                began = time.perf_counter()
                await session.call_tool(CALL["tool"], CALL["arguments"])  # type: ignore[arg-type]
                call_ms.append((time.perf_counter() - began) * 1000)
    return {"ready_p50": median(ready), "ready_max": max(ready),
            "call_p50": median(call_ms), "call_p90": percentile(call_ms, 90)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = {t.name: bench_target(t, args.runs, args.calls) for t in targets()}
    direct = asyncio.run(_direct(args.runs, args.calls))

    def pick(key: str) -> dict[str, float]:
        return {name: values[key] for name, values in results.items()}

    print_table(f"MCP (mcp-server-time over stdio, {args.runs} threads, "
                f"{args.calls} calls each)", [
        ("thread/start → server ready, p50", pick("ready_p50"), "ms", True),
        ("thread/start → server ready, max", pick("ready_max"), "ms", True),
        ("mcpServer/tool/call round trip, p50", pick("call_p50"), "ms", True),
        ("mcpServer/tool/call round trip, p90", pick("call_p90"), "ms", True),
    ])
    print(f"\nFloor (the same server through the mcp SDK directly): ready p50 "
          f"{direct['ready_p50']:.1f} ms, call p50 {direct['call_p50']:.2f} ms, "
          f"p90 {direct['call_p90']:.2f} ms")
    if args.json:
        import json

        args.json.write_text(json.dumps({"targets": results, "direct": direct}, indent=1))


if __name__ == "__main__":
    main()
