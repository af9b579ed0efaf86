"""No input kills the server (issue 11 item 2): any line or frame, of any size, depth,
encoding or shape, is answered or dropped with a log line, and the next one is served."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient, wait_for_line
from tests.support.ws import running

BAD_ID = {
    "code": -32600,
    "message": "Invalid request: id must be a string or a signed 64-bit integer",
}
UNREADABLE = "Failed to deserialize JSONRPCMessage"


async def still_serves(client: AppServerClient, rid: str) -> None:
    answer = await client.request_raw("thread/loaded/list", {}, request_id=rid)
    assert answer["result"] == {"data": [], "nextCursor": None}


@pytest.fixture
async def stdio(spawn: ServerFactory) -> AppServerClient:
    return await spawn(process=True)  # the stdio framing is under test


async def test_deep_nesting_is_dropped_and_the_next_line_served(stdio: AppServerClient) -> None:
    await stdio.send_raw(b"[" * 100_000 + b"\n")
    await stdio.send_raw(b'{"id": 1, "method": "x", "params": ' + b"{" * 50_000 + b"\n")
    await still_serves(stdio, "after-nesting")
    assert [m["id"] for m in stdio.received if "id" in m] == [1, "after-nesting"]
    assert await wait_for_line(stdio.stderr_lines, "maximum recursion depth")


async def test_invalid_utf8_is_dropped_and_the_next_line_served(stdio: AppServerClient) -> None:
    await stdio.send_raw(b"\xff\xfe\xfd\n")
    await stdio.send_raw(b'{"id": "u", "method": "foo/\xff", "params": {}}\n')
    await still_serves(stdio, "after-utf8")
    assert await wait_for_line(stdio.stderr_lines, UNREADABLE)


@pytest.mark.parametrize(
    "raw_id", ["1.5", "18446744073709551615", "9223372036854775808", "true", "null", '{"x":1}',
               "[1]", "-1e400"],
)
async def test_an_unreadable_id_is_never_echoed(stdio: AppServerClient, raw_id: str) -> None:
    await stdio.send_raw(b'{"id": %s, "method": "thread/loaded/list", "params": {}}\n'
                         % raw_id.encode())
    answer = await stdio.wait_for(lambda m: "id" in m and "method" not in m and m["id"] != 1)
    assert answer == {"id": None, "error": BAD_ID}
    await still_serves(stdio, "after-id")


@pytest.mark.parametrize("request_id", [-(2**63), 2**63 - 1, "", "x" * 10_000])
async def test_extreme_but_valid_ids_are_echoed(
    stdio: AppServerClient, request_id: Any
) -> None:
    answer = await stdio.request_raw("thread/loaded/list", {}, request_id=request_id)
    assert answer["id"] == request_id and "result" in answer


async def test_extreme_numbers_in_params_are_read(stdio: AppServerClient) -> None:
    # Out-of-range floats and huge integers decode; the method is what is wrong here.
    await stdio.send_raw(b'{"id": "e", "method": "foo/x", "params": {"a": 1e999, '
                         b'"b": 123456789012345678901234567890123, "c": -1e-999}}\n')
    answer = await stdio.wait_for(lambda m: m.get("id") == "e")
    assert answer["error"]["code"] == -32600
    assert answer["error"]["message"].startswith("Invalid request: unknown variant `foo/x`")


async def test_a_line_over_the_limit_is_dropped_and_the_next_served(
    stdio: AppServerClient,
) -> None:
    from pycodex.transport.stdio import MAX_LINE

    filler = b"a" * (MAX_LINE + 1024)
    await stdio.send_raw(b'{"id": "huge", "method": "foo/x", "params": {"a": "' + filler
                         + b'"}}\n')
    await still_serves(stdio, "after-huge")
    assert not [m for m in stdio.received if m.get("id") == "huge"]
    assert await wait_for_line(stdio.stderr_lines, "line longer than")


async def test_a_big_line_under_the_limit_is_answered(stdio: AppServerClient) -> None:
    filler = "a" * 8_000_000
    answer = await stdio.request_raw("foo/x", {"a": filler}, request_id="big")
    assert answer["error"]["code"] == -32600


async def test_hostile_websocket_frames_are_dropped_and_the_next_served(tmp_path: Path) -> None:
    with running(tmp_path) as server:
        async with connect(server.url, max_size=None) as ws:
            await ws.send(json.dumps({"id": 0, "method": "initialize", "params": {
                "clientInfo": {"name": "pytest", "version": "1"}}}))
            assert "result" in json.loads(await ws.recv())
            await ws.send("[" * 100_000)
            await ws.send(b"\xff\xfe\xfd")
            await ws.send('{"id": 1.5, "method": "thread/loaded/list", "params": {}}')
            await ws.send('{"id": "e", "method": "foo/x", "params": {"a": 1e999}}')
            await ws.send('{"id": "ok", "method": "thread/loaded/list", "params": {}}')
            answers = []
            while not answers or answers[-1].get("id") != "ok":
                message = json.loads(await ws.recv())
                if "method" not in message:
                    answers.append(message)
    assert answers[0] == {"id": None, "error": BAD_ID}
    assert answers[1]["id"] == "e" and answers[1]["error"]["code"] == -32600
    assert answers[2] == {"id": "ok", "result": {"data": [], "nextCursor": None}}
