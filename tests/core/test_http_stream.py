"""The model-request transport (pycodex.core.http_stream): keep-alive, stale connections,
TLS verification, malformed answers, proxy selection — against real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycodex.core import http_stream
from pycodex.core.http_stream import (
    H11Transport,
    HttpTimeout,
    HttpTransportError,
    HttpxTransport,
    ResponseHeaders,
    default_transport,
)
from pycodex.core.model_client import Completed, ModelClient, ModelError
from pycodex.core.providers import ProviderInfo, StaticTokenSource
from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses, text_reply

REQUEST: dict[str, Any] = {"model": "gpt-5.5", "input": [], "tools": []}


def client(base_url: str, transport: Any = None, **kw: Any) -> ModelClient:
    provider = ProviderInfo(id="mock", name="mock", base_url=base_url, request_max_retries=0,
                            stream_max_retries=0, stream_idle_timeout_ms=5_000, **kw)
    return ModelClient(provider, StaticTokenSource("k"), transport=transport)


async def run(model: ModelClient) -> list[Any]:
    return [event async for event in model.stream(REQUEST)]


async def settled(transport: H11Transport, idle: int = 1) -> None:
    """Wait until the background read of the last body has given its connection back."""
    for _ in range(500):
        if sum(len(pool) for pool in transport._idle.values()) >= idle:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the connection never went back to the pool")


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in http_stream.PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


async def test_kept_alive_connection_is_reused(mock: MockResponses) -> None:
    transport = H11Transport()
    model = client(mock.base_url, transport)
    for text in ("one", "two", "three"):
        mock.push(text_reply(text))
        assert isinstance((await run(model))[-1], Completed)
        await settled(transport)  # the end of the body is read in the background
    ports = {request.client_port for request in mock.requests}
    assert len(mock.requests) == 3 and len(ports) == 1
    await transport.aclose()


async def test_the_pool_keeps_as_many_idle_connections_as_there_were_streams(
    mock: MockResponses,
) -> None:
    transport = H11Transport(max_idle_per_origin=2)
    model = client(mock.base_url, transport)
    for _ in range(6):
        mock.push(text_reply("x"))
    streams = [model.stream(REQUEST) for _ in range(6)]
    for stream in streams:  # six turns at once: each holds its connection while the next opens
        await anext(stream)
    for stream in streams:
        assert isinstance([event async for event in stream][-1], Completed)
    await settled(transport, idle=6)
    first = {request.client_port for request in mock.requests}
    assert len(first) == 6
    for _ in range(6):
        mock.push(text_reply("y"))
    await asyncio.gather(*(run(model) for _ in range(6)))
    assert {request.client_port for request in mock.requests[6:]} == first  # none reopened
    await transport.aclose()


async def test_connection_closed_by_the_server_while_idle_is_replaced(
    mock: MockResponses,
) -> None:
    transport = H11Transport()
    model = client(mock.base_url, transport)
    closing = text_reply("a")
    closing.end = "eof-close"
    mock.push(closing)
    await run(model)
    for _ in range(2):  # right away (EOF not seen yet) and after the loop noticed it
        mock.push(text_reply("b"))
        assert isinstance((await run(model))[-1], Completed)
        await asyncio.sleep(0.05)
    assert len(mock.requests) == 3
    assert mock.requests[0].client_port != mock.requests[1].client_port
    await transport.aclose()


async def test_a_body_that_does_not_end_after_completed_is_closed_in_the_background(
    mock: MockResponses,
) -> None:
    stalling = text_reply("done")
    stalling.end, stalling.stall_seconds = "stall", 10
    mock.push(stalling)
    started = time.monotonic()
    events = await run(client(mock.base_url, H11Transport()))
    assert isinstance(events[-1], Completed)
    assert time.monotonic() - started < 3  # not the 10 s the body stalls for
    closed = await asyncio.to_thread(mock.requests[0].closed_by_client.wait, 5)
    assert closed and time.monotonic() - started >= 0.9  # after release_later's 1 s


async def test_an_unread_body_closes_the_connection(mock: MockResponses) -> None:
    transport = H11Transport()
    mock.push(text_reply("x"), text_reply("y"))
    response = await transport.post(f"{mock.base_url}/responses", {}, b"{}",
                                    connect_timeout=5, read_timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    await response.aclose()
    response = await transport.post(f"{mock.base_url}/responses", {}, b"{}",
                                    connect_timeout=5, read_timeout=5)
    body = await response.aread()
    assert b"response.completed" in body
    await response.aclose()
    assert mock.requests[0].client_port != mock.requests[1].client_port
    await transport.aclose()


def test_response_headers_are_case_insensitive_and_joined() -> None:
    headers = ResponseHeaders([(b"X-Codex-Primary-Used-Percent", b"5"), (b"Vary", b"a"),
                               (b"vary", b"b")])
    assert headers["x-codex-primary-used-percent"] == "5"
    assert headers.get("VARY") == "a, b"
    assert sorted(headers) == ["vary", "x-codex-primary-used-percent"]
    assert len(headers) == 2


@contextlib.contextmanager
def raw_server(answer: bytes, close: bool = True) -> Iterator[int]:
    """A TCP server that reads one request and writes ``answer`` verbatim."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(answer)
                if not close:
                    conn.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        listener.close()


async def test_malformed_status_line_is_a_connection_error() -> None:
    with raw_server(b"NOT HTTP AT ALL\r\n\r\n") as port, pytest.raises(ModelError) as info:
        await run(client(f"http://127.0.0.1:{port}/v1", H11Transport()))
    assert info.value.message == "Connection failed: error sending request"
    assert "invalid HTTP response" in info.value.extra["cause"]


async def test_body_cut_short_is_a_stream_error() -> None:
    head = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"content-length: 1000\r\n\r\ndata: {}\n\n")
    with raw_server(head) as port, pytest.raises(ModelError) as info:
        await run(client(f"http://127.0.0.1:{port}/v1", H11Transport()))
    assert info.value.message == ("stream disconnected before completion: Transport error: "
                                  "network error: error decoding response body")


async def test_server_that_never_answers_times_out() -> None:
    transport = H11Transport()
    with raw_server(b"", close=False) as port, pytest.raises(HttpTimeout):
        await transport.post(f"http://127.0.0.1:{port}/v1/responses", {}, b"{}",
                             connect_timeout=2, read_timeout=0.3)
    await transport.aclose()


async def test_header_that_http_cannot_carry_is_a_clear_error(mock: MockResponses) -> None:
    model = client(mock.base_url, H11Transport(), http_headers={"x-team": "équipe"})
    with pytest.raises(ModelError) as info:
        await run(model)
    assert info.value.kind == "connection"
    assert "invalid request" in info.value.extra["cause"]
    assert mock.requests == []


async def test_unsupported_url_scheme() -> None:
    with pytest.raises(HttpTransportError, match="unsupported URL"):
        await H11Transport().post("ftp://example.com/x", {}, b"", connect_timeout=1,
                                  read_timeout=1)


def test_proxy_variables_select_httpx(monkeypatch: pytest.MonkeyPatch, no_proxy: None) -> None:
    async def chosen() -> Any:
        return default_transport()

    assert isinstance(asyncio.run(chosen()), H11Transport)
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    assert isinstance(asyncio.run(chosen()), HttpxTransport)
    monkeypatch.delenv("https_proxy")
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:9")
    assert http_stream.proxy_configured()


# --------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (it makes the test certificate)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_mock(certificate: tuple[Path, Path]) -> Iterator[MockResponses]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with MockResponses(tls=context) as server:
        yield server


@pytest.fixture
def fresh_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_stream, "_tls_context", None)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.mark.parametrize("kind", ["h11", "httpx"])
async def test_https_with_a_trusted_certificate(
    kind: str, tls_mock: MockResponses, certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch, fresh_tls_context: None,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    assert tls_mock.base_url.startswith("https://")
    transport = H11Transport() if kind == "h11" else HttpxTransport()
    tls_mock.push(text_reply("over tls"), text_reply("again"))
    model = client(tls_mock.base_url, transport)
    assert isinstance((await run(model))[-1], Completed)
    if isinstance(transport, H11Transport):
        await settled(transport)
    else:
        await asyncio.sleep(0.05)
    assert isinstance((await run(model))[-1], Completed)
    assert tls_mock.requests[0].headers["authorization"] == "Bearer k"
    if kind == "h11":
        assert tls_mock.requests[0].client_port == tls_mock.requests[1].client_port
    await transport.aclose()


async def test_https_with_an_untrusted_certificate_fails(
    tls_mock: MockResponses, fresh_tls_context: None,
) -> None:
    with pytest.raises(ModelError) as info:
        await run(client(tls_mock.base_url, H11Transport()))
    assert info.value.kind == "connection"
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.extra["cause"]
    assert tls_mock.requests == []


async def test_server_runs_turns_against_an_https_provider(
    tls_mock: MockResponses, certificate: tuple[Path, Path], codex_home: Path, workdir: Path,
) -> None:
    """The spawned server, its provider on https: the CA comes from SSL_CERT_FILE, the
    connection is kept alive across turns."""
    (codex_home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "mock"\napproval_policy = "never"\n'
        'sandbox_mode = "danger-full-access"\n\n' + tls_mock.provider_toml())
    tls_mock.push(text_reply("secure"), text_reply("still secure"))
    env = {"MOCK_API_KEY": "k", "SSL_CERT_FILE": str(certificate[0])}
    async with AppServerClient(codex_home, cwd=workdir, env=env) as server:
        await server.initialize()
        started = await server.request("thread/start", {"cwd": str(workdir)})
        thread_id = started["thread"]["id"]
        for expected in ("secure", "still secure"):
            turn = await server.request("turn/start", {
                "threadId": thread_id, "input": [{"type": "text", "text": "hi"}]})
            turn_id = turn["turn"]["id"]
            done = await server.wait_notification(
                "turn/completed", where=lambda p, t=turn_id: p["turn"]["id"] == t)
            assert done["turn"]["status"] == "completed"
            message = await server.wait_notification(
                "item/completed", where=lambda p, t=turn_id: p["item"]["type"] == "agentMessage"
                and p["turnId"] == t)
            assert message["item"]["text"] == expected
    assert [r.path for r in tls_mock.requests] == ["/v1/responses"] * 2
    assert tls_mock.requests[0].client_port == tls_mock.requests[1].client_port


async def test_closing_a_tls_stream_does_not_wait_for_a_silent_peer(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, fresh_tls_context: None,
) -> None:
    """An interrupted turn closes its stream at once even when the TLS peer never answers
    the close (asyncio would otherwise wait up to its 30 s shutdown timeout)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    release = threading.Event()

    def serve() -> None:
        with contextlib.suppress(OSError), listener:
            raw, _ = listener.accept()
            with context.wrap_socket(raw, server_side=True) as conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                             b"transfer-encoding: chunked\r\n\r\n"
                             b"b\r\ndata: {}\n\n\r\n")
                release.wait(10)  # never reads again: no close_notify answer

    threading.Thread(target=serve, daemon=True).start()
    transport = H11Transport()
    response = await transport.post(f"https://127.0.0.1:{port}/v1/responses", {}, b"{}",
                                    connect_timeout=5, read_timeout=5)
    chunks = response.aiter_raw()
    assert (await chunks.__anext__()).startswith(b"data:")
    started = time.monotonic()
    await response.aclose()
    assert time.monotonic() - started < 5  # not asyncio's 30 s TLS shutdown wait
    release.set()


# --------------------------------------------------------------------------- fuzz

_HEADS = [
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\n",
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 3\r\n\r\n",
    b"",
]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.sampled_from(_HEADS), tail=st.binary(max_size=300),
       cut=st.integers(min_value=0, max_value=400))
def test_any_answer_ends_in_events_or_a_model_error(head: bytes, tail: bytes, cut: int) -> None:
    """Whatever bytes the server sends (a valid head with a garbage body, a torn head,
    pure noise) the model client ends: with events, or a ModelError, never a hang or an
    unexpected exception."""
    answer = (head + tail)[: cut + len(head) // 2]

    async def run_one(port: int) -> None:
        model = client(f"http://127.0.0.1:{port}/v1", H11Transport())
        model.provider = msgspec.structs.replace(model.provider, stream_idle_timeout_ms=500)
        with contextlib.suppress(ModelError):  # anything else (or a hang) fails the test
            await asyncio.wait_for(run(model), 5)

    with raw_server(answer) as port:
        asyncio.run(run_one(port))
