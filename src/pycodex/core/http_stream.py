"""Streaming POSTs for model requests: the transport under :mod:`pycodex.core.model_client`.

Two implementations of one small interface (:class:`StreamTransport`):

* :class:`H11Transport` (the default): HTTP/1.1 on asyncio streams, with ``h11`` doing the
  protocol (framing, chunked bodies, keep-alive rules) and a keep-alive pool per origin.
  Importing it costs ~5 ms where httpx + httpcore + anyio cost ~40 ms, which is most of a
  fresh process's first turn (see docs/decisions.md).
* :class:`HttpxTransport`: ``httpx.AsyncClient``, used when a proxy is configured in the
  environment (``HTTP(S)_PROXY``/``ALL_PROXY``, honoured with ``NO_PROXY`` as httpx does).

TLS verification follows httpx's defaults: ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else
the certifi bundle. Failures surface as :class:`HttpTransportError` (connection, protocol or
body errors) or its subclass :class:`HttpTimeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import threading
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import h11

if TYPE_CHECKING:
    import httpx

__all__ = [
    "H11Transport",
    "HttpTimeout",
    "HttpTransportError",
    "HttpxTransport",
    "ResponseHeaders",
    "StreamResponse",
    "StreamTransport",
    "default_transport",
    "load_tls_context",
    "proxy_configured",
    "release_later",
]

READ_SIZE = 65536
CLOSE_WAIT_S = 0.5
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


class HttpTransportError(Exception):
    """The request could not be sent or its answer could not be read."""


class HttpTimeout(HttpTransportError):
    """Connecting, sending or waiting for the next bytes took longer than allowed."""


class ResponseHeaders(Mapping[str, str]):
    """Response headers looked up case-insensitively; repeated names are joined by ``, ``."""

    __slots__ = ("_items",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        items: dict[str, str] = {}
        for name, value in raw:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            items[key] = f"{items[key]}, {text}" if key in items else text
        self._items = items

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class StreamResponse(Protocol):
    """An answer whose body has not been read yet."""

    status_code: int
    headers: Mapping[str, str]

    def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body as it arrives (bytes as sent, no decoding)."""

    async def aread(self) -> bytes:
        """The whole (remaining) body."""

    async def aclose(self) -> None:
        """Release the connection (closing it unless the body was read to the end)."""


class StreamTransport(Protocol):
    """Sends one POST and returns as soon as the status line and headers are in."""

    async def post(self, url: str, headers: Mapping[str, str], body: bytes, *,
                   connect_timeout: float, read_timeout: float) -> StreamResponse:
        """Raises :class:`HttpTransportError` (or :class:`HttpTimeout`)."""


_draining: set[asyncio.Task[None]] = set()


def release_later(response: StreamResponse, chunks: AsyncIterator[bytes],
                  timeout: float = 1.0) -> None:
    """Read what is left of ``response``'s body (``chunks``, its ``aiter_raw`` being
    iterated) on a background task, for at most ``timeout`` seconds, then close it: a body
    read to its end gives the connection back to the pool. The caller does not wait (a
    server may hold the last bytes of a body back for a while, e.g. under Nagle)."""

    async def finish() -> None:
        try:
            async with asyncio.timeout(timeout):
                async for _chunk in chunks:
                    pass
        except (TimeoutError, HttpTransportError):
            pass
        finally:
            await response.aclose()

    task = asyncio.get_running_loop().create_task(finish())
    _draining.add(task)
    task.add_done_callback(_draining.discard)


# --------------------------------------------------------------------------- TLS

_tls_lock = threading.Lock()
_tls_context: ssl.SSLContext | None = None


def load_tls_context() -> ssl.SSLContext:
    """The verifying client context, built once (loading a CA bundle takes ~20 ms, so the
    server's warm-up thread calls this ahead of the first https request)."""
    global _tls_context
    with _tls_lock:
        if _tls_context is None:
            cafile = os.environ.get("SSL_CERT_FILE") or None
            capath = None if cafile else os.environ.get("SSL_CERT_DIR") or None
            if cafile is None and capath is None:
                import certifi

                cafile = certifi.where()
            context = ssl.create_default_context(cafile=cafile, capath=capath)
            context.set_alpn_protocols(["http/1.1"])
            _tls_context = context
        return _tls_context


# --------------------------------------------------------------------------- h11


class _Connection:
    """One HTTP/1.1 connection: its socket streams and h11 state."""

    __slots__ = ("h11", "origin", "reader", "writer")

    def __init__(self, origin: tuple[str, str, int], reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)

    def reusable(self) -> bool:
        return (self.h11.our_state is h11.IDLE and self.h11.their_state is h11.IDLE
                and not self.reader.at_eof() and not self.writer.is_closing())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()

    async def aclose(self) -> None:
        """Close and wait until the socket is gone (the server sees it at once). A TLS
        peer that does not answer the close is cut off after ``CLOSE_WAIT_S``."""
        self.close()
        try:
            async with asyncio.timeout(CLOSE_WAIT_S):
                await self.writer.wait_closed()
        except TimeoutError:
            self.writer.transport.abort()
        except Exception:
            pass

    async def next_event(self, read_timeout: float) -> Any:
        """The next h11 event, reading from the socket as needed."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise HttpTransportError(f"invalid HTTP response: {exc}") from None
            if event is not h11.NEED_DATA:
                return event
            try:
                async with asyncio.timeout(read_timeout):
                    data = await self.reader.read(READ_SIZE)
            except TimeoutError:
                raise HttpTimeout("timed out waiting for the server") from None
            except OSError as exc:
                raise HttpTransportError(f"connection lost: {exc}") from None
            try:
                self.h11.receive_data(data)
            except h11.RemoteProtocolError as exc:
                raise HttpTransportError(f"invalid HTTP response: {exc}") from None


class _H11Response:
    """The answer on one :class:`_Connection`; the body streams from the socket."""

    def __init__(self, pool: H11Transport, connection: _Connection, head: h11.Response,
                 read_timeout: float) -> None:
        self.status_code = head.status_code
        self.headers: Mapping[str, str] = ResponseHeaders(list(head.headers))
        self._pool = pool
        self._connection: _Connection | None = connection
        self._read_timeout = read_timeout
        pool._stream_opened()

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            return
        while True:
            event = await connection.next_event(self._read_timeout)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._release(connection)
                return
            else:  # ConnectionClosed before the end of the body
                raise HttpTransportError("connection closed before the end of the body")

    async def aread(self) -> bytes:
        return b"".join([chunk async for chunk in self.aiter_raw()])

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:  # body not read to its end: the socket cannot be reused
            self._pool._stream_finished()
            await connection.aclose()

    def _release(self, connection: _Connection) -> None:
        self._connection = None
        self._pool._stream_finished()
        try:
            connection.h11.start_next_cycle()
        except h11.LocalProtocolError:  # the server asked to close, or HTTP/1.0
            connection.close()
            return
        self._pool.give_back(connection)


class H11Transport:
    """HTTP/1.1 client with a keep-alive pool, for one event loop (see module docstring)."""

    def __init__(self, max_idle_per_origin: int = 4) -> None:
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._max_idle = max_idle_per_origin
        #: Responses being read now, and the most there ever were at once: the pool keeps
        #: that many idle connections (as many as there are concurrent turns).
        self._streaming = 0
        self._peak_streaming = 0

    def _stream_opened(self) -> None:
        self._streaming += 1
        self._peak_streaming = max(self._peak_streaming, self._streaming)

    def _stream_finished(self) -> None:
        self._streaming -= 1

    async def post(self, url: str, headers: Mapping[str, str], body: bytes, *,
                   connect_timeout: float, read_timeout: float) -> StreamResponse:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise HttpTransportError(f"unsupported URL: {url}")
        port = parts.port or (443 if scheme == "https" else 80)
        origin = (scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rpartition("@")[2]
        try:
            request = h11.Request(method="POST", target=target, headers=[
                ("host", host), *headers.items(), ("content-length", str(len(body)))])
        except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
            raise HttpTransportError(f"invalid request: {exc}") from None
        while True:
            connection, reused = self._take(origin), True
            if connection is None:
                connection, reused = await self._connect(origin, connect_timeout), False
            try:
                return await self._exchange(connection, request, body, read_timeout)
            except HttpTimeout:
                connection.close()
                raise
            except HttpTransportError:
                connection.close()
                # A kept-alive socket the server closed meanwhile fails before any answer:
                # go on with the next idle connection, or a fresh one, which is final.
                if not reused:
                    raise
            except BaseException:
                connection.close()
                raise

    async def _exchange(self, connection: _Connection, request: h11.Request, body: bytes,
                        read_timeout: float) -> StreamResponse:
        conn = connection.h11
        try:
            data = conn.send(request) or b""
            data += conn.send(h11.Data(data=body)) or b""
            data += conn.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError as exc:
            raise HttpTransportError(f"cannot send request: {exc}") from None
        try:
            connection.writer.write(data)
            async with asyncio.timeout(read_timeout):
                await connection.writer.drain()
        except TimeoutError:
            raise HttpTimeout("timed out sending the request") from None
        except OSError as exc:
            raise HttpTransportError(f"connection lost: {exc}") from None
        while True:
            event = await connection.next_event(read_timeout)
            if isinstance(event, h11.Response):
                return _H11Response(self, connection, event, read_timeout)
            if not isinstance(event, h11.InformationalResponse):
                raise HttpTransportError("connection closed before the response")

    async def _connect(self, origin: tuple[str, str, int],
                       connect_timeout: float) -> _Connection:
        scheme, host, port = origin
        tls = load_tls_context() if scheme == "https" else None
        try:
            async with asyncio.timeout(connect_timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None,
                    limit=READ_SIZE * 4)
        except TimeoutError:
            raise HttpTimeout(f"timed out connecting to {host}:{port}") from None
        except (OSError, ssl.SSLError) as exc:
            raise HttpTransportError(f"cannot connect to {host}:{port}: {exc}") from None
        return _Connection(origin, reader, writer)

    def _take(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.reusable():
                return connection
            connection.close()
        return None

    def give_back(self, connection: _Connection) -> None:
        idle = self._idle.setdefault(connection.origin, [])
        if len(idle) >= max(self._max_idle, self._peak_streaming) or not connection.reusable():
            connection.close()
        else:
            idle.append(connection)

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


# --------------------------------------------------------------------------- httpx


class _HttpxResponse:
    """Adapts an ``httpx.Response`` opened with ``stream=True``."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code = response.status_code
        self.headers: Mapping[str, str] = response.headers

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        import httpx

        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.TimeoutException:
            raise HttpTimeout("timed out waiting for the server") from None
        except httpx.TransportError as exc:
            raise HttpTransportError(str(exc) or type(exc).__name__) from None

    async def aread(self) -> bytes:
        return b"".join([chunk async for chunk in self.aiter_raw()])

    async def aclose(self) -> None:
        await self._response.aclose()


class HttpxTransport:
    """``httpx.AsyncClient`` behind :class:`StreamTransport` (honours proxy variables)."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client

    async def post(self, url: str, headers: Mapping[str, str], body: bytes, *,
                   connect_timeout: float, read_timeout: float) -> StreamResponse:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=None, follow_redirects=False,
                                             verify=load_tls_context())
        timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout,
                                write=read_timeout, pool=read_timeout)
        try:
            request = self._client.build_request("POST", url, content=body,
                                                 headers=dict(headers), timeout=timeout)
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise HttpTimeout("timed out sending the request") from None
        except httpx.TransportError as exc:
            raise HttpTransportError(str(exc) or type(exc).__name__) from None
        return _HttpxResponse(response)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


# --------------------------------------------------------------------------- choice


def proxy_configured() -> bool:
    """True when the environment names an HTTP proxy (any case, as httpx reads them)."""
    return any(os.environ.get(name) or os.environ.get(name.upper())
               for name in PROXY_VARIABLES)


_transports: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[bool, StreamTransport]
] = weakref.WeakKeyDictionary()


def default_transport() -> StreamTransport:
    """This event loop's shared transport: httpx when a proxy is configured, else h11."""
    via_proxy = proxy_configured()
    per_loop = _transports.setdefault(asyncio.get_running_loop(), {})
    transport = per_loop.get(via_proxy)
    if transport is None:
        transport = HttpxTransport() if via_proxy else H11Transport()
        per_loop[via_proxy] = transport
    return transport
