"""WebSocket transport: one JSON-RPC message per text frame, plus ``/readyz`` and
``/healthz`` on the same listener.

Every HTTP request carrying an ``Origin`` header is refused with 403 (browsers cannot be
used to reach the server cross-site); authentication, when configured, is checked on the
upgrade request, before any JSON-RPC traffic. Output is written in batches; a client that
stops reading (its unsent output passes a generous byte bound, or stays backed up with no
write completing for a while) is disconnected ("slow consumer") rather than growing
memory without bound or holding its turns up. Clients that offer
``x-codex-app-server-compression: zstd-stream-v1`` get compressed binary frames
(``ws_compression.py``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import sys
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from pycodex.rpc.server import Connection, RpcServer
from pycodex.rpc.writer import Pieces
from pycodex.transport.listen import ListenError
from pycodex.transport.ws_auth import WsAuth, WsAuthError, authorize, format_host_port, is_loopback

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection
    from websockets.http11 import Request, Response

logger = logging.getLogger(__name__)

HEALTH_PATHS = ("/readyz", "/healthz")
#: Largest accepted incoming frame (the stdio transport accepts lines up to 64 MiB too).
MAX_FRAME = 64 * 1024 * 1024
#: Close code sent to a client disconnected for not reading its messages.
SLOW_CONSUMER_CLOSE = 1008
#: Upgrade-answer header with the largest message sent unfragmented (control socket).
MAX_UNFRAGMENTED_HEADER = "x-codex-websocket-max-unfragmented-message-bytes"
#: Close code sent to a client whose compressed message cannot be decoded or is too big.
MESSAGE_TOO_BIG_CLOSE = 1009
#: Seconds a disconnected slow consumer gets to acknowledge the close before the TCP
#: connection is dropped.
SLOW_CONSUMER_GRACE = 1.0


def _response(status: HTTPStatus, body: str = "", *, allow: str | None = None) -> Response:
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    headers = Headers()
    if body:
        headers["Content-Type"] = "text/plain; charset=utf-8"
    if allow is not None:
        headers["Allow"] = allow
    headers["Content-Length"] = str(len(body.encode()))
    return Response(status.value, status.phrase, headers, body.encode())


def _header_tokens(request: Request, name: str) -> list[str]:
    return [
        token.strip().lower()
        for value in request.headers.get_all(name)
        for token in value.split(",")
    ]


def _upgrade_problem(request: Request) -> str | None:
    """The reason a request is not a valid websocket upgrade (reference texts), or None."""
    if "upgrade" not in _header_tokens(request, "Connection"):
        return "Connection header did not include 'upgrade'"
    if "websocket" not in _header_tokens(request, "Upgrade"):
        return "`Upgrade` header did not include 'websocket'"
    if request.headers.get("Sec-WebSocket-Version", "").strip() != "13":
        return "`Sec-WebSocket-Version` header did not include '13'"
    if "Sec-WebSocket-Key" not in request.headers:
        return "`Sec-WebSocket-Key` header missing"
    return None


def make_process_request(auth: WsAuth | None) -> Any:
    """The upgrade-time hook: Origin refusal, health routes, upgrade checks, auth."""

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if "Origin" in request.headers:
            logger.info("refusing websocket request with an Origin header")
            return _response(HTTPStatus.FORBIDDEN)
        path = request.path.partition("?")[0]
        if path in HEALTH_PATHS:
            if request.method not in ("GET", "HEAD"):
                return _response(HTTPStatus.METHOD_NOT_ALLOWED, allow="GET,HEAD")
            return _response(HTTPStatus.OK)
        if request.method != "GET":
            return _response(HTTPStatus.METHOD_NOT_ALLOWED, "Request method must be `GET`")
        problem = _upgrade_problem(request)
        if problem is not None:
            return _response(HTTPStatus.BAD_REQUEST, problem)
        try:
            authorize(auth, request.headers.get("Authorization"))
        except WsAuthError as exc:
            logger.info("websocket upgrade rejected: %s", exc)
            return _response(HTTPStatus.UNAUTHORIZED, str(exc))
        return None

    return process_request


def make_process_response(max_unfragmented: int | None = None) -> Any:
    """The upgrade-answer hook: agree to ``zstd-stream-v1`` when the client offers it, and
    announce ``max_unfragmented`` (the control socket does, like the reference)."""

    def process_response(
        connection: ServerConnection, request: Request, response: Response
    ) -> Response:
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            return response
        if max_unfragmented is not None:
            response.headers[MAX_UNFRAGMENTED_HEADER] = str(max_unfragmented)
        if _offers_compression(request):
            from pycodex.transport.ws_compression import HEADER, ZSTD_STREAM_V1

            response.headers[HEADER] = ZSTD_STREAM_V1
        return response

    return process_response


def _offers_compression(request: Request) -> bool:
    from pycodex.transport.ws_compression import HEADER, wants_zstd_stream

    return wants_zstd_stream(request.headers.get_all(HEADER))


def make_handler(server: RpcServer) -> Any:
    """The per-connection coroutine: feed messages to ``server`` until the peer leaves.

    Output is written in batches (every frame queued since the last write, one flush). With
    ``zstd-stream-v1`` negotiated, messages travel as binary frames of one zstd stream per
    direction; otherwise as text frames.
    """
    from websockets.exceptions import ConnectionClosed

    async def handler(ws: ServerConnection) -> None:
        codec = None
        if ws.request is not None and _offers_compression(ws.request):
            from pycodex.transport.ws_compression import ZstdStreamCodec

            codec = ZstdStreamCodec(MAX_FRAME)

        async def send(data: bytes) -> None:
            await send_frames([data])

        async def send_frames(frames: list[bytes | Pieces]) -> None:
            # checks the state; on leaving, writes what the library queued (a pong...), drains
            async with ws.send_context():
                plain: list[bytes] = []
                for frame in frames:
                    if not isinstance(frame, Pieces):
                        plain.append(frame if codec is None else codec.compress(frame))
                        continue
                    # a big answer: one fragment per piece, the loop free in between
                    if plain:
                        ws.transport.write(data_frames(
                            TEXT_FRAME if codec is None else BINARY_FRAME, plain))
                        plain = []
                    last = len(frame.parts) - 1
                    for index, part in enumerate(frame.parts):
                        if codec is not None:
                            part = codec.compress_part(part, last=index == last)
                        ws.transport.write(fragment_header(
                            _TEXT if codec is None else _BINARY, index, last, len(part)))
                        ws.transport.write(part)
                        await asyncio.sleep(0)
                if plain:
                    ws.transport.write(data_frames(
                        TEXT_FRAME if codec is None else BINARY_FRAME, plain))

        async def disconnect(code: int, reason: str) -> None:
            # Stop queueing output for it at once, then close without waiting long for a
            # peer that is not reading anyway.
            await server.close_connection(conn, flush=False)
            _release_reader(conn)
            try:
                await asyncio.wait_for(ws.close(code, reason), SLOW_CONSUMER_GRACE)
            except TimeoutError:  # the close frame is stuck behind unread data
                ws.transport.abort()

        def in_background(coro: Any) -> None:
            task = asyncio.get_running_loop().create_task(coro)
            _background.add(task)
            task.add_done_callback(_background.discard)

        def slow_consumer() -> None:
            logger.warning(
                "disconnecting websocket client %s: slow consumer (%d bytes unsent)",
                conn.id,
                conn.writer.unsent_bytes,
            )
            in_background(disconnect(SLOW_CONSUMER_CLOSE, "slow consumer"))

        conn = server.open_connection(
            send, newline=False, on_backed_up=slow_consumer, send_frames=send_frames
        )
        logger.info(
            "websocket client %s connected from %s%s",
            conn.id,
            _peer(ws),
            " (zstd-stream-v1)" if codec is not None else "",
        )
        try:
            async for frame in ws:
                if conn.closed:  # disconnected as a slow consumer: discard until closed
                    continue
                if isinstance(frame, str):
                    await server.feed(conn, frame)
                elif codec is not None:
                    from pycodex.transport.ws_compression import CompressionError

                    try:
                        message = codec.decompress(frame)
                    except CompressionError as exc:
                        logger.warning("closing websocket client %s: %s", conn.id, exc)
                        in_background(disconnect(MESSAGE_TOO_BIG_CLOSE, "invalid message"))
                        continue
                    await server.feed(conn, message)
                else:
                    logger.warning("dropping binary websocket frame from client %s", conn.id)
        except ConnectionClosed:
            pass
        finally:
            logger.info("websocket client %s disconnected", conn.id)
            await server.close_connection(conn)

    return handler


_background: set[asyncio.Task[None]] = set()

#: First header byte of an unfragmented server data frame: FIN + the opcode (RFC 6455 §5.2).
_FIN, _CONTINUATION, _TEXT, _BINARY = 0x80, 0x0, 0x1, 0x2
TEXT_FRAME = _FIN | _TEXT
BINARY_FRAME = _FIN | _BINARY


def data_frames(first: int, messages: list[bytes]) -> bytes:
    """``messages`` as consecutive unmasked, unfragmented data frames, in one buffer.

    Server frames carry no mask and no extension is ever negotiated (``compression=None``),
    so a frame is its 2-, 4- or 10-byte header and the payload, as the library's
    ``Frame.serialize`` would write it; built here because the library's path (frame
    object, checks, a ``BytesIO`` per frame) cost ~1.9 µs a message, most of a streamed
    delta's transport cost.
    """
    parts: list[bytes] = []
    for message in messages:
        length = len(message)
        parts.append(_SHORT_HEADERS[first][length] if length < 126 else _header(first, length))
        parts.append(message)
    return b"".join(parts)


def fragment_header(opcode: int, index: int, last: int, length: int) -> bytes:
    """The header of fragment ``index`` (of ``0..last``) of one data message: the message's
    opcode on the first, continuation on the others, FIN on the last (RFC 6455 §5.4)."""
    fin = _FIN if index == last else 0
    return _header(fin | (opcode if index == 0 else _CONTINUATION), length)


def _header(first: int, length: int) -> bytes:
    if length < 126:
        return bytes((first, length))
    if length < 65536:
        return struct.pack("!BBH", first, 126, length)
    return struct.pack("!BBQ", first, 127, length)


_SHORT_HEADERS = {first: [bytes((first, length)) for length in range(126)]
                  for first in (TEXT_FRAME, BINARY_FRAME)}


def _release_reader(conn: Connection) -> None:
    """Empty a closed connection's inbound queue so a reader blocked on it can move on."""
    while True:
        try:
            conn.inbound.get_nowait()
        except asyncio.QueueEmpty:
            return


def _peer(ws: ServerConnection) -> str:
    try:
        address = ws.remote_address
    except Exception:  # pragma: no cover - transport already gone
        return "?"
    return format_host_port(str(address[0]), int(address[1])) if address else "?"


def _banner(host: str, port: int) -> str:
    where = format_host_port(host, port)
    note = (
        "binds localhost only (use SSH port-forwarding for remote access)"
        if is_loopback(host)
        else "websocket auth is required for non-localhost listeners"
    )
    return (
        "pycodex app-server (WebSockets)\n"
        f"  listening on: ws://{where}\n"
        f"  readyz: http://{where}/readyz\n"
        f"  healthz: http://{where}/healthz\n"
        f"  note: {note}\n"
    )


async def serve_websocket(server: RpcServer, host: str, port: int, auth: WsAuth | None) -> None:
    """Listen on ``host:port`` until cancelled. Raises :class:`ListenError` when it cannot bind."""
    from websockets.asyncio.server import serve

    ws_logger = logging.getLogger("websockets.server")  # its lines are redacted by logs.py
    try:
        listener = await serve(
            make_handler(server),
            host,
            port,
            process_request=make_process_request(auth),
            process_response=make_process_response(),
            server_header=None,
            compression=None,
            max_size=MAX_FRAME,
            logger=ws_logger,
        )
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ListenError(f"{reason} (os error {exc.errno})") from None
    bound = _bound_port(listener, port)
    if not is_loopback(host) and auth is None:  # load_ws_auth refuses this; belt and braces
        logger.warning("websocket listener on %s accepts unauthenticated clients", host)
    sys.stderr.write(_banner(host, bound))
    sys.stderr.flush()
    async with listener:
        await listener.serve_forever()


def _bound_port(listener: Any, requested: int) -> int:
    for sock in listener.sockets:
        name = sock.getsockname()
        if len(name) >= 2:
            return int(name[1])
    return requested
