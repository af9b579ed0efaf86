"""The spawned stdio server answers its first ``initialize`` before the event loop exists
(issue 16): what is imported by the time that answer is written, and that the connection
carries on exactly as one whose handshake went through the event loop."""

from __future__ import annotations

import asyncio
import json
import platform
import signal
import sys
from pathlib import Path

import pytest

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient, server_command, server_env

#: Runs ``python -m pycodex app-server`` and, at each write to stdout, records the start of
#: each message written and which modules the process has imported by then (one JSON line
#: each write; a write may carry several messages).
RECORDING_SERVER = """
import json, os, runpy, sys
target, write = sys.argv.pop(1), os.write
def recording_write(fd, data):
    if fd == 1:
        with open(target, "a") as fh:
            heads = [line[:20].decode(errors="replace") for line in bytes(data).split(b"\\n")]
            fh.write(json.dumps([heads, sorted(sys.modules)]))
            fh.write("\\n")
    return write(fd, data)
os.write = recording_write
sys.argv[:] = ["pycodex", "app-server"]
runpy.run_module("pycodex", run_name="__main__", alter_sys=True)
"""


def _modules_at(record: Path, answer_id: int) -> set[str]:
    """The modules imported when the write carrying the answer to ``answer_id`` began."""
    for line in record.read_text().splitlines():
        heads, modules = json.loads(line)
        if any(head.startswith(f'{{"id":{answer_id},') for head in heads):
            return set(modules)
    raise AssertionError(f"no write carried the answer to {answer_id}")


#: Modules the first answers do not need; none may be imported before the answer is out.
NOT_BEFORE_THE_ANSWER = (
    "asyncio",
    "ssl",
    "socket",
    "sqlite3",
    "concurrent.futures",
    "tomlkit",
    "h11",
    "pycodex.rpc.server",
    "pycodex.rpc.writer",
    "pycodex.api.config",
    "pycodex.api.threads",
    "pycodex.protocol.types.threads",
    "pycodex.core.turn.engine",
)

#: Families a ``thread/list`` does not need (the whole table would import them).
OTHER_FAMILIES = (
    "pycodex.protocol.types.plugins",
    "pycodex.protocol.types.fs",
    "pycodex.protocol.types.account_extras",
    "pycodex.protocol.types.command_exec",
)


async def test_initialize_is_answered_before_the_event_loop_is_imported(
    codex_home: Path, tmp_path: Path
) -> None:
    record = tmp_path / "writes.jsonl"
    async with AppServerClient(
        codex_home, command=[sys.executable, "-c", RECORDING_SERVER, str(record)]
    ) as client:
        answer = await client.initialize()
        assert answer["codexHome"] == str(codex_home)
        modules = _modules_at(record, 1)
        assert "pycodex.api.initialize" in modules  # the recording is of this answer
        assert sorted(modules.intersection(NOT_BEFORE_THE_ANSWER)) == []
        # Everything else arrives once the event loop runs; the first real request imports
        # its own family's types, not the whole method table's.
        assert await client.request("thread/list", {}) == {
            "data": [], "readStates": {}, "nextCursor": None, "backwardsCursor": None}
        modules = _modules_at(record, 2)
        assert {"asyncio", "pycodex.protocol.types.threads"} <= modules
        assert sorted(modules.intersection(OTHER_FAMILIES)) == []
    assert client.proc is not None and client.proc.returncode == 0


def test_the_served_families_hint_matches_the_method_table() -> None:
    from pycodex.protocol.served_families import SERVED_FAMILIES
    from pycodex.protocol.types import client_requests

    table = {name: spec.family for name, spec in client_requests().items()}
    assert table == SERVED_FAMILIES, (
        "regenerate: python -m pycodex.protocol.served_families "
        "> src/pycodex/protocol/served_families.py")


async def test_the_connection_carries_on_after_the_early_answer(
    spawn: ServerFactory, codex_home: Path
) -> None:
    (codex_home / "config.toml").write_text("model = [unclosed\n")
    server = await spawn(process=True, initialize=False)
    await server.initialize(opt_out=["thread/started"])
    # The start-up warnings still come, after the answer.
    warning = await server.wait_notification("configWarning")
    assert warning["summary"] == "Invalid configuration; using defaults."
    again = await server.request_raw(
        "initialize", {"clientInfo": {"name": "again", "title": None, "version": "1"}})
    assert again["error"] == {"code": -32600, "message": "Already initialized"}
    # The negotiated state is the one the early handshake recorded: gated without opt-in.
    gated = await server.request_raw("mock/experimentalMethod", {})
    assert gated["error"]["message"] == (
        "mock/experimentalMethod requires experimentalApi capability")


async def test_messages_written_with_initialize_are_all_handled(spawn: ServerFactory) -> None:
    server = await spawn(process=True, initialize=False)
    await server.send_raw(b"\n  \n")  # blank lines first are skipped, like everywhere else
    hello = {"clientInfo": {"name": "burst", "title": None, "version": "1"}}
    await server.send_many([  # read together: the early answer leaves the rest to the loop
        {"id": 1, "method": "initialize", "params": hello},
        {"method": "initialized"},
        {"id": 2, "method": "thread/loaded/list", "params": {}},
        {"id": 3, "method": "config/read", "params": {}},
    ])
    first = await server.wait_for(lambda m: m.get("id") == 1)
    assert first["result"]["userAgent"].startswith("burst/")
    loaded = await server.wait_for(lambda m: m.get("id") == 2)
    assert loaded["result"] == {"data": [], "nextCursor": None}
    config = await server.wait_for(lambda m: m.get("id") == 3)
    assert config["result"]["config"]["model"] is None


async def test_an_initialize_written_in_pieces_is_answered(spawn: ServerFactory) -> None:
    server = await spawn(process=True, initialize=False)
    line = json.dumps({"id": 1, "method": "initialize", "params": {
        "clientInfo": {"name": "pieces", "title": None, "version": "1"}}}).encode() + b"\n"
    server._methods[1] = "initialize"  # sent raw, so tell the validating client what it was
    for piece in (line[:7], line[7:30], line[30:]):
        await server.send_raw(piece)
        await asyncio.sleep(0.05)  # separate reads are likely, not needed for the assert
    answer = await server.wait_for(lambda m: m.get("id") == 1)
    assert answer["result"]["userAgent"].startswith("pieces/")


async def test_a_first_message_that_is_not_initialize_goes_the_usual_way(
    spawn: ServerFactory,
) -> None:
    server = await spawn(process=True, initialize=False)
    await server.send_raw(b"{not json\n")
    refused = await server.request_raw("thread/list", {})
    assert refused["error"] == {"code": -32600, "message": "Not initialized"}
    bad = await server.request_raw(
        "initialize", {"clientInfo": {"name": "bad\nname", "title": None, "version": "1"}})
    assert bad["error"]["message"] == (
        "Invalid clientInfo.name: 'bad\nname'. Must be a valid HTTP header value.")
    answer = await server.initialize(name="good")
    assert answer["userAgent"].startswith("good/")


async def test_a_bad_first_initialize_is_answered_by_the_server_and_changes_nothing(
    spawn: ServerFactory,
) -> None:
    server = await spawn(process=True, initialize=False)
    missing = await server.request_raw("initialize", omit_params=True)
    assert missing["error"] == {
        "code": -32600, "message": "Invalid request: missing field `params`"}
    bad = await server.request_raw(
        "initialize", {"clientInfo": {"name": "\x7f", "title": None, "version": "1"}})
    assert bad["error"]["code"] == -32600
    answer = await server.initialize(name="after")
    assert answer["userAgent"].startswith("after/")


async def test_eof_right_after_initialize_exits_cleanly(spawn: ServerFactory) -> None:
    server = await spawn(process=True)
    assert await server.close() == 0


async def test_a_stop_signal_before_initialize_ends_the_server_gracefully(
    codex_home: Path,
) -> None:
    if not Path("/proc/self/syscall").exists():
        pytest.skip("needs /proc/<pid>/syscall (Linux) to see the server wait on stdin")
    proc = await asyncio.create_subprocess_exec(
        *server_command(), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=server_env(codex_home))
    assert proc.stderr is not None
    try:
        await _blocked_reading_stdin(proc.pid)
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 0
    assert b"received SIGTERM; shutting down" in await proc.stderr.read()


async def _blocked_reading_stdin(pid: int) -> None:
    """Until the process sits in ``read(0, ...)`` (syscall 0 on x86-64, 63 on arm64)."""
    read = "63" if platform.machine() in ("aarch64", "arm64") else "0"
    async with asyncio.timeout(15):
        while Path(f"/proc/{pid}/syscall").read_text().split()[:2] != [read, "0x0"]:
            await asyncio.sleep(0.01)
