"""Backpressure, tracing and per-connection state (issue 2 §3, §5, §8)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.conftest import ServerFactory

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


async def test_every_request_in_a_burst_gets_exactly_one_answer(spawn: ServerFactory) -> None:
    client = await spawn(initialize=False, process=True)  # one stdio write
    await client.initialize(experimental=True)
    count = 3000
    burst = b"".join(
        json.dumps(
            {"method": "mock/experimentalMethod", "id": f"b{i}", "params": {"value": str(i)}}
        ).encode()
        + b"\n"
        for i in range(count)
    )
    for i in range(count):
        client._methods[f"b{i}"] = "mock/experimentalMethod"
    await client.send_raw(burst)
    seen: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    while sum(seen.values()) < count:
        message = await client.next_message(timeout=30)
        assert message is not None, "server closed stdout during the burst"
        rid = message.get("id")
        if isinstance(rid, str) and rid.startswith("b"):
            seen[rid] += 1
            if "result" in message:
                assert message["result"] == {"echoed": rid[1:]}
                outcomes["ok"] += 1
            else:
                assert message["error"] == {
                    "code": -32001,
                    "message": "Server overloaded; retry later.",
                }
                outcomes["overloaded"] += 1
    assert len(seen) == count and set(seen.values()) == {1}
    assert outcomes["ok"] > 0
    # Still healthy afterwards.
    assert await client.request("mock/experimentalMethod", {"value": "after"}) == {
        "echoed": "after"
    }


async def test_trace_context_becomes_the_span_parent(spawn: ServerFactory) -> None:
    client = await spawn(env={"PYCODEX_LOG": "debug", "LOG_FORMAT": "json"})
    await client.send(
        {
            "method": "collaborationMode/list",
            "id": 41,
            "params": {},
            "trace": {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
        }
    )
    await client.wait_for(lambda m: m.get("id") == 41)
    await client.request_raw("collaborationMode/list", {})
    await client.close()
    events = [json.loads(line) for line in client.stderr_lines if line.startswith("{")]
    spans = [e for e in events if e.get("span") == "request"]
    traced = [e for e in spans if e.get("request_id") == 41]
    assert len(traced) == 1
    assert traced[0]["trace_id"] == TRACE_ID
    assert traced[0]["parent_span_id"] == PARENT_ID
    assert traced[0]["method"] == "collaborationMode/list"
    assert traced[0]["outcome"] == "error -32600"
    untraced = [e for e in spans if e.get("request_id") != 41 and e.get("parent_span_id") is None]
    assert untraced and all(len(e["trace_id"]) == 32 for e in untraced)


async def test_json_log_format_is_one_object_per_line(spawn: ServerFactory) -> None:
    client = await spawn(env={"LOG_FORMAT": "json"})
    await client.send_raw(b"{oops\n")
    await client.request_raw("foo/x", {})
    await client.close()
    assert client.stderr_lines
    for line in client.stderr_lines:
        event = json.loads(line)
        assert {"timestamp", "level", "target", "message"} <= set(event)
    assert any("Failed to deserialize JSONRPCMessage" in json.loads(x)["message"]
               for x in client.stderr_lines)


async def test_opt_out_suppresses_exactly_the_named_notifications(
    spawn: ServerFactory, codex_home: Path
) -> None:
    (codex_home / "config.toml").write_text("model = [unclosed\n")
    plain = await spawn()
    warning = await plain.wait_notification("configWarning")
    assert warning["summary"] == "Invalid configuration; using defaults."

    opted = await spawn(initialize=False)
    await opted.initialize(opt_out=["configWarning", "config"])
    # A later request is answered, and no configWarning arrived before its answer.
    await opted.request_raw("foo/bar", {})
    assert opted.notifications("configWarning") == []

    prefix = await spawn(initialize=False)
    await prefix.initialize(opt_out=["configWarn"])  # exact names only, no prefixes
    await prefix.wait_notification("configWarning")
