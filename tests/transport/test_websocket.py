"""The websocket transport (issue 2 item 5; protocol §2.1–§2.3), driven as a real client:
spawn ``pycodex app-server --listen ws://127.0.0.1:0``, read the bound port from the stderr
banner, then speak HTTP and websocket to it. Every JSON-RPC message received is checked
against the reference schema bundle."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.client import server_command, server_env, wait_for_line
from tests.support.ws import TIMEOUT, WsClient, WsServer, running

TOKEN = "capability-token-for-tests"
SECRET = "s" * 64
ISSUER = "pycodex-tests"
AUDIENCE = "app-server"


# -- server processes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("ws-home")
    (home / "token.txt").write_text(f"  {TOKEN}\n")
    (home / "secret.txt").write_text(f"{SECRET}\n")
    return home


@pytest.fixture(scope="module")
def open_server(module_home: Path) -> Iterator[WsServer]:
    with running(module_home) as server:
        yield server


@pytest.fixture(scope="module")
def token_server(module_home: Path) -> Iterator[WsServer]:
    with running(module_home, "--ws-auth", "capability-token",
                 "--ws-token-file", str(module_home / "token.txt")) as server:
        yield server


@pytest.fixture(scope="module")
def jwt_server(module_home: Path) -> Iterator[WsServer]:
    with running(module_home, "--ws-auth", "signed-bearer-token",
                 "--ws-shared-secret-file", "secret.txt",  # relative: resolved against cwd
                 "--ws-issuer", ISSUER, "--ws-audience", AUDIENCE) as server:
        yield server


# -- clients ---------------------------------------------------------------------------------


@pytest.fixture
async def clients() -> AsyncIterator[Any]:
    """``await clients(server, token=None, **connect_kw)`` → a connected :class:`WsClient`."""
    opened: list[WsClient] = []

    async def factory(server: WsServer, token: str | None = None, **kw: Any) -> WsClient:
        headers = kw.pop("additional_headers", None)
        if token is not None:
            headers = {"Authorization": f"Bearer {token}"}
        ws = await connect(server.url, additional_headers=headers, proxy=None,
                           open_timeout=TIMEOUT, **kw)
        client = WsClient(ws)
        opened.append(client)
        return client

    yield factory
    for client in opened:
        await client.ws.close()
    for client in opened:
        assert not client.violations, "schema violations:\n" + "\n".join(client.violations)


async def rejected(server: WsServer, headers: dict[str, str] | None = None,
                   origin: str | None = None) -> tuple[int, bytes]:
    """Status and body of a refused upgrade."""
    with pytest.raises(InvalidStatus) as info:
        ws = await connect(server.url, additional_headers=headers, origin=origin,  # type: ignore[arg-type]
                           proxy=None, open_timeout=TIMEOUT)
        await ws.close()
    return info.value.response.status_code, bytes(info.value.response.body)


async def http(server: WsServer, request: str) -> tuple[int, dict[str, str], bytes]:
    """Send one raw HTTP/1.1 request; return status, lower-cased headers and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request.replace("\n", "\r\n").encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    pairs = (line.partition(":") for line in lines[1:] if line)
    headers = {name.lower(): value.strip() for name, _, value in pairs}
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length and not request.startswith("HEAD") else b""
    writer.close()
    return status, headers, body


def bearer(claims: dict[str, Any], *, key: str = SECRET, algorithm: str = "HS256"
           ) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm=algorithm)}"}


# -- HTTP routes and Origin ------------------------------------------------------------------


async def test_banner_reports_bound_port_and_loopback_note(open_server: WsServer) -> None:
    port = open_server.port
    assert port > 0
    assert [line for line in open_server.stderr_lines if line.startswith("  ")][:4] == [
        f"  listening on: ws://127.0.0.1:{port}",
        f"  readyz: http://127.0.0.1:{port}/readyz",
        f"  healthz: http://127.0.0.1:{port}/healthz",
        "  note: binds localhost only (use SSH port-forwarding for remote access)",
    ]


@pytest.mark.parametrize("request_text", [
    "GET /readyz HTTP/1.1\nHost: x\n\n",
    "GET /healthz HTTP/1.1\nHost: x\n\n",
    "GET /readyz?probe=1 HTTP/1.1\nHost: x\n\n",
    "HEAD /healthz HTTP/1.1\nHost: x\n\n",
])
async def test_health_routes_answer_200(token_server: WsServer, request_text: str) -> None:
    # Health routes need no auth even when the listener requires it.
    status, headers, body = await http(token_server, request_text)
    assert (status, headers["content-length"], body) == (200, "0", b"")


async def test_health_route_refuses_other_methods(open_server: WsServer) -> None:
    status, headers, _ = await http(
        open_server, "POST /readyz HTTP/1.1\nHost: x\nContent-Length: 0\n\n"
    )
    assert status == 405 and headers["allow"] == "GET,HEAD"


@pytest.mark.parametrize("request_text", [
    "GET /readyz HTTP/1.1\nHost: x\nOrigin: http://localhost\n\n",
    "GET /healthz HTTP/1.1\nHost: x\nOrigin: null\n\n",
])
async def test_origin_is_forbidden_on_health_routes(open_server: WsServer, request_text: str
                                                    ) -> None:
    status, _, body = await http(open_server, request_text)
    assert (status, body) == (403, b"")


async def test_origin_is_forbidden_on_upgrades(open_server: WsServer, token_server: WsServer
                                               ) -> None:
    assert await rejected(open_server, origin="http://localhost:3000") == (403, b"")
    # Even with a valid token: the Origin check comes first.
    assert await rejected(token_server, {"Authorization": f"Bearer {TOKEN}"},
                          origin="https://example.com") == (403, b"")


@pytest.mark.parametrize(("request_text", "status", "body"), [
    ("GET / HTTP/1.1\nHost: x\n\n", 400, b"Connection header did not include 'upgrade'"),
    ("GET /x HTTP/1.1\nHost: x\nConnection: Upgrade\nUpgrade: h2c\n\n", 400,
     b"`Upgrade` header did not include 'websocket'"),
    ("GET / HTTP/1.1\nHost: x\nConnection: Upgrade\nUpgrade: websocket\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n\n", 400,
     b"`Sec-WebSocket-Version` header did not include '13'"),
    ("GET / HTTP/1.1\nHost: x\nConnection: Upgrade\nUpgrade: websocket\n"
     "Sec-WebSocket-Version: 13\n\n", 400, b"`Sec-WebSocket-Key` header missing"),
])
async def test_non_upgrade_requests_are_refused(open_server: WsServer, request_text: str,
                                                status: int, body: bytes) -> None:
    got_status, headers, got_body = await http(open_server, request_text)
    assert (got_status, got_body) == (status, body)
    assert headers["content-type"] == "text/plain; charset=utf-8"


# -- capability token ------------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "body"), [
    (None, b"missing websocket bearer token"),
    ({"Authorization": f"Basic {TOKEN}"}, b"invalid authorization header"),
    ({"Authorization": "Bearer"}, b"invalid authorization header"),
    ({"Authorization": "Bearer    "}, b"invalid authorization header"),
    ({"Authorization": f"Bearer{TOKEN}"}, b"invalid authorization header"),
    ({"Authorization": "Bearer not-the-token"}, b"invalid websocket bearer token"),
    ({"Authorization": f"Bearer {TOKEN}x"}, b"invalid websocket bearer token"),
])
async def test_capability_token_failures(token_server: WsServer, headers: dict[str, str] | None,
                                         body: bytes) -> None:
    assert await rejected(token_server, headers) == (401, body)


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}", f"bearer   {TOKEN}  ", f"BEARER {TOKEN}"])
async def test_capability_token_accepted(token_server: WsServer, clients: Any, header: str
                                         ) -> None:
    client = await clients(token_server, token=None,
                           additional_headers={"Authorization": header})
    result = await client.initialize()
    assert result["platformFamily"] == "unix"


async def test_capability_token_sha256_flag(module_home: Path, clients: Any) -> None:
    digest = hashlib.sha256(TOKEN.encode()).hexdigest().upper()
    with running(module_home, "--ws-auth", "capability-token", "--ws-token-sha256", digest
                 ) as server:
        assert await rejected(server, {"Authorization": "Bearer nope"}) == (
            401, b"invalid websocket bearer token")
        client = await clients(server, token=TOKEN)
        assert "userAgent" in await client.initialize()


async def test_tokens_are_not_logged(module_home: Path, clients: Any) -> None:
    with running(module_home, "--ws-auth", "capability-token",
                 "--ws-token-file", str(module_home / "token.txt"),
                 env={"PYCODEX_LOG": "debug"}) as server:
        client = await clients(server, token=TOKEN)
        await client.initialize()
        assert await rejected(server, {"Authorization": "Bearer wrong-secret-value"}) == (
            401, b"invalid websocket bearer token")
        await client.ws.close()
        await asyncio.sleep(0.2)
        # the header dump is there, redacted
        assert await wait_for_line(server.stderr_lines, "Authorization")
        assert TOKEN not in server.stderr
        assert "wrong-secret-value" not in server.stderr


# -- signed bearer token ---------------------------------------------------------------------


def _claims(**extra: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 300}
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(("headers", "body"), [
    (lambda: bearer(_claims(exp=int(time.time()) - 600)), b"expired websocket jwt"),
    (lambda: bearer(_claims(nbf=int(time.time()) + 600)), b"websocket jwt is not valid yet"),
    (lambda: bearer(_claims(iss="someone-else")), b"websocket jwt issuer mismatch"),
    (lambda: bearer(_claims(iss=None)), b"websocket jwt issuer mismatch"),
    (lambda: bearer(_claims(aud="other")), b"websocket jwt audience mismatch"),
    (lambda: bearer(_claims(aud=["a", "b"])), b"websocket jwt audience mismatch"),
    (lambda: bearer(_claims(), key="k" * 40), b"invalid websocket jwt"),
    (lambda: bearer(_claims(), algorithm="HS384"), b"invalid websocket jwt"),
    (lambda: bearer(_claims(exp=None)), b"invalid websocket jwt"),
    (lambda: bearer(_claims(exp="soon")), b"invalid websocket jwt"),
    (lambda: bearer(_claims(exp=int(time.time()) - 600, iss="x")), b"expired websocket jwt"),
    ({"Authorization": "Bearer a.b.c"}, b"invalid websocket jwt"),
    ({"Authorization": f"Bearer {TOKEN}"}, b"invalid websocket jwt"),
    (None, b"missing websocket bearer token"),
    ({"Authorization": "Token abc"}, b"invalid authorization header"),
])
async def test_jwt_failures(jwt_server: WsServer, headers: Any, body: bytes) -> None:
    resolved = headers() if callable(headers) else headers
    assert await rejected(jwt_server, resolved) == (401, body)


@pytest.mark.parametrize("claims", [
    lambda: _claims(),
    lambda: _claims(aud=["other", AUDIENCE]),
    lambda: _claims(exp=int(time.time()) - 10),  # expired, but within the 30 s default skew
    lambda: _claims(nbf=int(time.time()) + 10),  # not yet valid, but within the skew
])
async def test_jwt_accepted(jwt_server: WsServer, clients: Any,
                            claims: Callable[[], dict[str, Any]]) -> None:
    client = await clients(jwt_server, additional_headers=bearer(claims()))
    assert "userAgent" in await client.initialize()


async def test_jwt_clock_skew_flag(module_home: Path) -> None:
    with running(module_home, "--ws-auth", "signed-bearer-token", "--ws-shared-secret-file",
                 str(module_home / "secret.txt"), "--ws-max-clock-skew-seconds", "0") as server:
        # Without --ws-issuer/--ws-audience those claims are not checked.
        stale = bearer({"exp": int(time.time()) - 10, "iss": "anyone", "aud": "anything"})
        assert await rejected(server, stale) == (401, b"expired websocket jwt")
        ws = await connect(server.url, additional_headers=bearer({"exp": int(time.time()) + 60}),
                           proxy=None)
        await ws.close()


# -- start-up flag errors --------------------------------------------------------------------


def _flag_cases(home: Path) -> list[tuple[list[str], str]]:
    token, secret = str(home / "token.txt"), str(home / "secret.txt")
    missing = str(home / "missing.txt")
    return [
        (["--ws-auth", "capability-token"],
         "`--ws-token-file` or `--ws-token-sha256` is required when "
         "`--ws-auth capability-token` is set"),
        (["--ws-token-file", token],
         "websocket auth flags require `--ws-auth capability-token` or "
         "`--ws-auth signed-bearer-token`"),
        (["--ws-issuer", "x"],
         "websocket auth flags require `--ws-auth capability-token` or "
         "`--ws-auth signed-bearer-token`"),
        (["--ws-auth", "signed-bearer-token", "--ws-token-file", token,
          "--ws-shared-secret-file", secret],
         "`--ws-token-file` and `--ws-token-sha256` require `--ws-auth capability-token`, "
         "not `signed-bearer-token`"),
        (["--ws-auth", "signed-bearer-token"],
         "`--ws-shared-secret-file` is required when `--ws-auth signed-bearer-token` is set"),
        (["--ws-auth", "capability-token", "--ws-token-file", token, "--ws-audience", "a"],
         "`--ws-shared-secret-file`, `--ws-issuer`, `--ws-audience`, and "
         "`--ws-max-clock-skew-seconds` require `--ws-auth signed-bearer-token`"),
        (["--ws-auth", "capability-token", "--ws-token-file", token, "--ws-token-sha256", "ab"],
         "`--ws-token-file` and `--ws-token-sha256` are mutually exclusive"),
        (["--ws-auth", "capability-token", "--ws-token-sha256", "zz" * 32],
         "--ws-token-sha256 must be a 64-character hex SHA-256 digest"),
        (["--ws-auth", "capability-token", "--ws-token-file", missing],
         f"failed to read websocket auth secret {missing}: No such file or directory "
         "(os error 2)"),
        (["--ws-auth", "capability-token", "--ws-token-file", "missing.txt"],  # relative
         f"failed to read websocket auth secret {missing}: No such file or directory "
         "(os error 2)"),
        (["--ws-auth", "capability-token", "--ws-token-file", str(home)],
         f"failed to read websocket auth secret {home}: Is a directory (os error 21)"),
        (["--ws-auth", "capability-token", "--ws-token-file", str(home / "blank.txt")],
         f"websocket auth secret {home / 'blank.txt'} must not be empty"),
        (["--ws-auth", "signed-bearer-token", "--ws-shared-secret-file", str(home / "bin.txt")],
         f"failed to read websocket auth secret {home / 'bin.txt'}: "
         "stream did not contain valid UTF-8"),
        (["--ws-auth", "signed-bearer-token", "--ws-shared-secret-file", str(home / "short.txt")],
         f"signed websocket bearer secret {home / 'short.txt'} must be at least 32 bytes"),
    ]


def _run_cli(home: Path, *args: str, listen: str = "ws://127.0.0.1:0"
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        server_command("--listen", listen, *args), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, env=server_env(home), cwd=str(home), timeout=TIMEOUT,
    )


def test_flag_errors(tmp_path: Path) -> None:
    home = tmp_path
    (home / "token.txt").write_text(TOKEN)
    (home / "secret.txt").write_text(SECRET)
    (home / "blank.txt").write_text(" \n\t\n")
    (home / "bin.txt").write_bytes(b"\xff\xfe" + b"x" * 40)
    (home / "short.txt").write_text("  " + "a" * 31 + "  \n")  # 31 bytes once trimmed
    failures = []
    for args, message in _flag_cases(home):
        done = _run_cli(home, *args)
        if (done.returncode, done.stderr.strip()) != (1, f"Error: {message}"):
            failures.append(f"{args}: rc={done.returncode} stderr={done.stderr!r}")
        assert done.stdout == ""
    assert not failures, "\n".join(failures)


def test_auth_flags_are_checked_for_stdio_too(tmp_path: Path) -> None:
    done = _run_cli(tmp_path, "--ws-auth", "capability-token", listen="stdio://")
    assert done.returncode == 1
    assert done.stderr.strip() == ("Error: `--ws-token-file` or `--ws-token-sha256` is required "
                                   "when `--ws-auth capability-token` is set")


@pytest.mark.parametrize(("listen", "where"), [
    ("ws://0.0.0.0:0", "0.0.0.0:0"), ("ws://[::]:0", "[::]:0"), ("ws://10.1.2.3:4567",
                                                                 "10.1.2.3:4567"),
])
def test_non_loopback_listener_requires_auth(tmp_path: Path, listen: str, where: str) -> None:
    done = _run_cli(tmp_path, listen=listen)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"Error: refusing to start non-loopback websocket listener {where} without auth; "
        "configure `--ws-auth capability-token` or `--ws-auth signed-bearer-token`"
    )


def test_non_loopback_listener_with_auth_starts(module_home: Path) -> None:
    with running(module_home, "--ws-auth", "capability-token", "--ws-token-file",
                 str(module_home / "token.txt"), listen="ws://0.0.0.0:0") as server:
        assert server.host == "0.0.0.0" and server.port > 0
        assert "  note: websocket auth is required for non-localhost listeners" in (
            server.stderr_lines)


def test_port_in_use_is_a_startup_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _run_cli(tmp_path, listen=f"ws://127.0.0.1:{port}")
    assert done.returncode == 1
    assert done.stderr.strip().endswith("(os error 98)")
    assert done.stderr.startswith("Error: ")


# -- JSON-RPC over websocket -----------------------------------------------------------------


async def test_each_connection_initializes_separately(open_server: WsServer, clients: Any
                                                      ) -> None:
    first = await clients(open_server)
    second = await clients(open_server)
    one = await first.initialize("first-client")
    assert one["userAgent"].endswith("(first-client; 1.0.0)")
    # The second connection is still uninitialized.
    response = await second.request_raw("mock/experimentalMethod", {"value": "x"})
    assert response["error"] == {"code": -32600, "message": "Not initialized"}
    two = await second.initialize("second-client", experimental=True)
    assert two["userAgent"].endswith("(second-client; 1.0.0)")
    again = await first.request_raw("initialize", {"clientInfo": {"name": "x", "version": "1"}})
    assert again["error"] == {"code": -32600, "message": "Already initialized"}
    # The refusal on one connection leaves the other untouched.
    echoed = await second.request_raw("mock/experimentalMethod", {"value": "still-here"})
    assert echoed["result"] == {"echoed": "still-here"}
    gated = await first.request_raw("mock/experimentalMethod", {"value": "x"})
    assert gated["error"]["message"] == (
        "mock/experimentalMethod requires experimentalApi capability")


async def test_responses_go_to_the_connection_that_asked(open_server: WsServer, clients: Any
                                                         ) -> None:
    a, b = await clients(open_server), await clients(open_server)
    await a.initialize("a", experimental=True)
    await b.initialize("b", experimental=True)
    # Same ids on both connections, interleaved, answered each on its own connection.
    for rid in range(10, 20):
        for client, tag in ((a, "a"), (b, "b")):
            await client.send({"method": "mock/experimentalMethod", "id": rid,
                               "params": {"value": f"{tag}{rid}"}})
    for client, tag in ((a, "a"), (b, "b")):
        answers = [m for m in [await client.next_message() for _ in range(10)]
                   if m.get("method") != "configWarning"]  # e.g. no usable bubblewrap here
        while len(answers) < 10:
            answers.append(await client.next_message())
        assert answers == [{"id": rid, "result": {"echoed": f"{tag}{rid}"}}
                           for rid in range(10, 20)]


async def test_closing_one_client_leaves_the_other(open_server: WsServer, clients: Any) -> None:
    a, b = await clients(open_server), await clients(open_server)
    await a.initialize("a", experimental=True)
    await b.initialize("b", experimental=True)
    await a.send({"method": "mock/experimentalMethod", "id": 99, "params": {"value": "bye"}})
    await a.ws.close()
    for n in range(3):
        response = await b.request_raw("mock/experimentalMethod", {"value": f"v{n}"})
        assert response["result"] == {"echoed": f"v{n}"}
    c = await clients(open_server)
    assert "userAgent" in await c.initialize("c")


async def test_binary_and_malformed_frames_are_dropped(open_server: WsServer, clients: Any
                                                       ) -> None:
    client = await clients(open_server)
    await client.ws.send(b'{"method":"initialize","id":1,"params":{}}')  # binary: dropped
    await client.ws.send("not json")
    await client.ws.send('[{"method":"initialize","id":2}]')
    await client.ws.send('{"method":"x","id":3}\n{"method":"y","id":4}')
    result = await client.initialize("after-junk")
    assert result["userAgent"].endswith("(after-junk; 1.0.0)")
    assert client.received[0]["id"] == 1  # nothing was answered before
    assert await wait_for_line(open_server.stderr_lines, "dropping binary websocket frame")


async def test_ping_is_answered(open_server: WsServer, clients: Any) -> None:
    client = await clients(open_server)
    pong = await client.ws.ping()
    await asyncio.wait_for(pong, TIMEOUT)


async def test_slow_consumer_is_disconnected(open_server: WsServer, clients: Any) -> None:
    """A client that never reads is cut off once its unsent output passes the byte bound
    (64 MiB); others carry on."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", open_server.port))
    slow = await clients(open_server, sock=sock, max_queue=1, max_size=None)
    await slow.initialize("slow", experimental=True)
    bystander = await clients(open_server)
    await bystander.initialize("bystander")
    big = "x" * 1_000_000
    with contextlib.suppress(ConnectionClosed):
        for rid in range(100, 180):  # ~80 MB of answers: more than the bound
            await slow.send({"method": "mock/experimentalMethod", "id": rid,
                             "params": {"value": big}})
    # The server lets go of it without the client reading anything more.
    gone = await _wait_for_disconnect(open_server)
    assert gone, "slow consumer still connected:\n" + open_server.stderr[-2000:]
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(slow.ws.recv(), TIMEOUT)
    response = await bystander.request_raw(
        "initialize", {"clientInfo": {"name": "b", "version": "1"}})
    assert response["error"]["message"] == "Already initialized"


async def _wait_for_disconnect(server: WsServer, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"disconnecting websocket client (\d+): slow consumer", server.stderr)
        if found and f"websocket client {found.group(1)} disconnected" in server.stderr:
            return True
        await asyncio.sleep(0.05)
    return False
