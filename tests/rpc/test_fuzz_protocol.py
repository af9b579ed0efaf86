"""Throw random bytes, random JSON and random method/params at one long-lived server: it
never dies, never writes anything but JSON-RPC messages, and still answers a valid request
after each batch."""

from __future__ import annotations

import itertools
import json
import queue
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycodex.protocol.reference_order import REFERENCE_METHOD_ORDER
from tests.support.client import server_command, server_env


class SyncServer:
    def __init__(self, home: Path) -> None:
        self.proc = subprocess.Popen(
            server_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=server_env(home),
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.ids = itertools.count()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(b"")

    def write(self, data: bytes) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.write(json.dumps(message).encode() + b"\n")

    def wait_answer(self, request_id: str, timeout: float = 10) -> dict[str, Any]:
        while True:
            line = self.lines.get(timeout=timeout)
            assert line, f"server died; exit code {self.proc.poll()}"
            message = json.loads(line)
            assert isinstance(message, dict)
            assert "jsonrpc" not in message
            if "id" in message and "method" not in message:
                assert ("result" in message) != ("error" in message), message
                if "error" in message:
                    assert isinstance(message["error"]["code"], int)
                    assert isinstance(message["error"]["message"], str)
            else:
                assert isinstance(message.get("method"), str), message
            if message.get("id") == request_id and "method" not in message:
                return message

    def probe(self) -> None:
        rid = f"probe-{next(self.ids)}"
        self.send({"method": "collaborationMode/list", "id": rid, "params": {}})
        answer = self.wait_answer(rid)
        assert answer["error"]["message"] == (
            "collaborationMode/list requires experimentalApi capability"
        )


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncServer]:
    server = SyncServer(tmp_path_factory.mktemp("fuzz-home"))
    rid = "init"
    server.send({"method": "initialize", "id": rid,
                 "params": {"clientInfo": {"name": "fuzz", "version": "1"}}})
    assert "result" in server.wait_answer(rid)
    yield server
    assert server.proc.stdin
    server.proc.stdin.close()
    assert server.proc.wait(timeout=10) == 0


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.lists(st.binary(max_size=200), min_size=1, max_size=5))
def test_random_bytes(fuzz_server: SyncServer, chunks: list[bytes]) -> None:
    for chunk in chunks:
        fuzz_server.write(chunk.replace(b"\n", b" ") + b"\n")
    fuzz_server.probe()


@FUZZ
@given(st.lists(json_values, min_size=1, max_size=5))
def test_random_json(fuzz_server: SyncServer, values: list[Any]) -> None:
    for value in values:
        fuzz_server.send(value) if isinstance(value, dict) else fuzz_server.write(
            json.dumps(value).encode() + b"\n"
        )
    fuzz_server.probe()


@FUZZ
@given(
    st.sampled_from((*REFERENCE_METHOD_ORDER, "x/y", "", "initialize")),
    st.one_of(st.none(), json_values, st.dictionaries(st.text(max_size=12), json_values)),
    st.one_of(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.text(max_size=8)),
)
def test_random_requests(fuzz_server: SyncServer, method: str, params: Any, rid: Any) -> None:
    request_id = f"fz-{next(fuzz_server.ids)}-{rid}"
    fuzz_server.send({"method": method, "id": request_id, "params": params})
    answer = fuzz_server.wait_answer(request_id)
    assert "result" in answer or "error" in answer
    fuzz_server.probe()


def _nested(depth: int, opener: bytes) -> bytes:
    return opener * depth


hostile_lines = st.one_of(
    st.integers(1, 200_000).map(lambda n: _nested(n, b"[")),
    st.integers(1, 200_000).map(lambda n: b'{"id":1,"method":"x","params":' + _nested(n, b"{")),
    st.integers(1, 4_000_000).map(lambda n: b'{"id":"s","method":"x","params":"' + b"a" * n),
    st.binary(min_size=1, max_size=2000),
    st.sampled_from([b"1e999", b"-1e999", b"1e-999", b"9" * 5000, b"-" + b"9" * 400, b"0.0e0"])
    .map(lambda n: b'{"id":"n","method":"foo/x","params":{"v":' + n + b"}}"),
    st.one_of(
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(),
        st.booleans(),
        st.none(),
        st.text(max_size=50),
        st.lists(st.integers(), max_size=3),
    ).map(lambda rid: json.dumps({"id": rid, "method": "foo/x", "params": {}}).encode()),
)


@FUZZ
@given(st.lists(hostile_lines, min_size=1, max_size=4))
def test_hostile_lines(fuzz_server: SyncServer, lines: list[bytes]) -> None:
    """Deep nesting, huge and binary lines, extreme numbers and ids: the server survives
    each batch and answers the next request."""
    fuzz_server.write(b"".join(line.replace(b"\n", b" ") + b"\n" for line in lines))
    fuzz_server.probe()
