"""The message processor: framing-independent JSON-RPC handling of every incoming message.

Transports open a connection, feed it one message (a JSONL line or a websocket text frame)
at a time and close it. Responses are routed straight to the outgoing sender. Requests of
one connection run concurrently, so their answers may come back out of order, as JSON-RPC
allows; until the dispatcher calls the connection open (the handshake) they run one at a
time, and requests sharing an ordering key run in arrival order. Notifications are handled
in order. At most :data:`INBOUND_CAPACITY` requests per connection are queued or running: a
request beyond that is answered with ``-32001 Server overloaded; retry later.``, and the
transport is paused while the connection's output is backed up, so that answer is never
dropped.

What the methods mean is the dispatcher's business (:class:`pycodex.api.dispatch.ApiDispatcher`).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pycodex.api.context import DEFERRED, AppState, ConnectionState
from pycodex.api.dispatch import ApiDispatcher
from pycodex.protocol.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    OVERLOADED_MESSAGE,
    SERVER_OVERLOADED,
    RpcError,
)
from pycodex.rpc.jsonrpc import DECODE_ERRORS, decode, log_unreadable, valid_request_id
from pycodex.rpc.outgoing import OutgoingSender, Peer
from pycodex.rpc.tracing import current_span, end_span, start_span
from pycodex.rpc.writer import ConnectionWriter, Pieces

logger = logging.getLogger(__name__)

#: Requests of one connection that may be queued or running at once.
INBOUND_CAPACITY = 128

_CLOSE = object()


def error_answer(exc: Exception) -> dict[str, Any]:
    """The ``error`` member answering a request whose handler raised ``exc``."""
    if isinstance(exc, RpcError):
        return exc.to_wire()
    return {"code": INTERNAL_ERROR, "message": str(exc) or repr(exc)}


@dataclass(eq=False)
class Connection:
    state: ConnectionState
    writer: ConnectionWriter
    inbound: asyncio.Queue[Any]
    closes_when_backed_up: bool
    task: asyncio.Task[None] | None = None
    closed: bool = False
    #: requests queued or running
    in_flight: int = 0
    running: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def id(self) -> int:
        return self.state.connection_id

    def finished(self, task: asyncio.Task[None]) -> None:
        """A request task ended (answered, failed or cancelled): free its slot."""
        self.running.discard(task)
        self.in_flight -= 1


#: Seconds a thread may hold the GIL while another waits for it (CPython's default: 0.005).
LOOP_SWITCH_INTERVAL = 0.001


class RpcServer:
    """Owns the connections and dispatches their messages to the api dispatcher."""

    def __init__(
        self, app: AppState, sender: OutgoingSender, dispatcher: ApiDispatcher | None = None
    ) -> None:
        # The loop gets the GIL back within 1 ms (not 5) of asking while a worker thread
        # computes (a long rollout read): a trivial request during a 200 MB resume took
        # 8.5-11 ms at the median before, 4-8 ms after, the resume itself no slower.
        sys.setswitchinterval(LOOP_SWITCH_INTERVAL)
        self.app = app
        self.sender = sender
        self.dispatcher = dispatcher or ApiDispatcher(app)
        self._connections: dict[int, Connection] = {}
        #: ordering key -> the last request queued under it
        self._tails: dict[str, asyncio.Future[None]] = {}

    # -- connection lifecycle ----------------------------------------------------------
    def open_connection(
        self,
        send: Callable[[bytes], Awaitable[None]],
        *,
        newline: bool,
        on_backed_up: Callable[[], None] | None = None,
        send_frames: Callable[[list[bytes | Pieces]], Awaitable[None]] | None = None,
        state: ConnectionState | None = None,
    ) -> Connection:
        """Register a connection; ``send`` writes one chunk to the peer (``send_frames``,
        when given, writes a batch of messages at once). ``state`` is that of a connection
        whose first request was answered before the event loop existed
        (:func:`pycodex.rpc.before_loop.answer_before_loop`)."""
        if state is None:
            state = self.dispatcher.new_connection()
        writer = ConnectionWriter(
            send, batch=newline, on_backed_up=on_backed_up, send_frames=send_frames
        )
        # Room for the requests plus as many notifications: only the requests count towards
        # the bound, so a queued notification never costs a request its slot.
        inbound: asyncio.Queue[Any] = asyncio.Queue(2 * INBOUND_CAPACITY)
        conn = Connection(state, writer, inbound, on_backed_up is not None)
        self._connections[conn.id] = conn
        self.sender.add_peer(Peer(state, writer, newline))
        writer.start()
        conn.task = asyncio.get_running_loop().create_task(
            self._process(conn), name=f"connection-{conn.id}"
        )
        if state.initialized:
            self.dispatcher.handshake_answered(state)
        return conn

    async def close_connection(self, conn: Connection, *, flush: bool = True) -> None:
        """Stop reading from ``conn``: finish its requests (briefly), flush, forget it."""
        if conn.closed:
            return
        conn.closed = True
        while True:
            try:
                conn.inbound.put_nowait(_CLOSE)
                break
            except asyncio.QueueFull:  # the peer is gone: drop what it queued
                conn.inbound.get_nowait()
        grace = 2.0 if flush else 0
        if conn.task is not None:
            await _finish(conn.task, grace)
        if conn.running:
            _, late = await asyncio.wait(list(conn.running), timeout=grace)
            for task in late:
                task.cancel()
        self._connections.pop(conn.id, None)
        self.sender.remove_peer(conn.id)
        self.dispatcher.connection_closed(conn.id)
        await conn.writer.close(timeout=2.0 if flush else 0)

    # -- incoming ----------------------------------------------------------------------
    async def feed(self, conn: Connection, data: bytes | str) -> None:
        """Handle one framed message from ``conn``. Awaits while ``conn`` is backed up.

        Any input is survivable: what cannot be read is logged and dropped.
        """
        if conn.closed:
            return
        try:
            await self._take(conn, data)
        except Exception:  # a bug must cost this message only, never the connection
            logger.exception("dropping a message that could not be handled")
            return
        if conn.writer.backed_up and not conn.closes_when_backed_up:
            await conn.writer.wait_writable()
        elif conn.in_flight > INBOUND_CAPACITY // 2:
            # A burst read in one go: let the queued requests run before the next line, so
            # the bound refuses what the server cannot keep up with, not what came together.
            await asyncio.sleep(0)

    async def _take(self, conn: Connection, data: bytes | str) -> None:
        """Decode and classify one message: queue it, route it, or log and drop it."""
        try:
            message = decode(data)
        except DECODE_ERRORS as exc:
            log_unreadable(exc)
            return
        if not isinstance(message, dict):
            log_unreadable("not a JSON object")
            return
        method = message.get("method")
        if method is not None:
            if not isinstance(method, str):
                log_unreadable("method is not a string")
            elif "id" in message:
                self._accept_request(conn, message)
            else:
                await conn.inbound.put(message)
        elif "id" in message and ("result" in message or "error" in message):
            self.sender.resolve(conn.id, message)
        else:
            log_unreadable("not a request, response or notification")

    def _accept_request(self, conn: Connection, message: dict[str, Any]) -> None:
        request_id = message["id"]
        if not valid_request_id(request_id):
            # Never echo an id the client could not have meant; JSON-RPC 2.0 answers null.
            log_unreadable("invalid request id")
            self.sender.send_raw(
                conn.id,
                {
                    "id": None,
                    "error": {
                        "code": INVALID_REQUEST,
                        "message": "Invalid request: id must be a string or a signed 64-bit "
                        "integer",
                    },
                },
            )
            return
        if conn.in_flight >= INBOUND_CAPACITY or conn.inbound.full():
            self.sender.send_error(
                conn.id, request_id, {"code": SERVER_OVERLOADED, "message": OVERLOADED_MESSAGE}
            )
            return
        conn.in_flight += 1
        conn.inbound.put_nowait(message)

    async def _process(self, conn: Connection) -> None:
        while True:
            message = await conn.inbound.get()
            if message is _CLOSE:
                return
            if "id" not in message:
                self.dispatcher.handle_notification(conn.state, message["method"])
            elif not self.dispatcher.is_open(conn.state):
                await self._run_request(conn, message)
            else:
                self._start_request(conn, message)

    def _start_request(self, conn: Connection, message: dict[str, Any]) -> None:
        key = self.dispatcher.ordering_key(message["method"], message)
        previous = self._tails.get(key) if key is not None else None
        task = asyncio.get_running_loop().create_task(
            self._run_after(previous, conn, message), name=f"request-{conn.id}-{message['id']}"
        )
        conn.running.add(task)
        task.add_done_callback(conn.finished)
        if key is not None:
            # The task itself is the next one's turn: done however it ends, even cancelled
            # before it started.
            self._tails[key] = task
            task.add_done_callback(lambda _: self._release(key, task))

    def _release(self, key: str, task: asyncio.Task[None]) -> None:
        if self._tails.get(key) is task:
            del self._tails[key]

    async def _run_after(
        self, previous: asyncio.Future[None] | None, conn: Connection, message: dict[str, Any]
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # its outcome is its own business
        await self._handle_request(conn, message)

    async def _run_request(self, conn: Connection, message: dict[str, Any]) -> None:
        try:
            await self._handle_request(conn, message)
        finally:
            conn.in_flight -= 1

    async def _handle_request(self, conn: Connection, message: dict[str, Any]) -> None:
        request_id = message["id"]
        method = message["method"]
        span = start_span("request", message.get("trace"), method=method, request_id=request_id)
        token = current_span.set(span)
        outcome = "ok"
        answered = False

        def respond(result: Any = None, error: Any = None) -> None:
            nonlocal answered
            if answered:
                return
            answered = True
            if error is not None:
                wire = error.to_wire() if isinstance(error, RpcError) else error
                self.sender.send_error(conn.id, request_id, wire)
            else:
                self.sender.send_response(conn.id, request_id, result)

        try:
            result = await self.dispatcher.handle_request(
                conn.state, request_id, method, message, respond
            )
            if result is not DEFERRED:
                respond(result)
        except Exception as exc:
            answer = error_answer(exc)
            outcome = f"error {answer['code']}"
            if answered:
                # Every request gets exactly one answer: a failure after it went out is logged.
                logger.exception("handler for %s failed after answering", method)
            else:
                if not isinstance(exc, RpcError):
                    logger.exception("handler for %s failed", method)
                respond(error=answer)
        finally:
            current_span.reset(token)
            end_span(span, outcome=outcome)

    async def shutdown(self) -> None:
        """Close every connection and run the app's shutdown hooks (flush rollouts...)."""
        for conn in list(self._connections.values()):
            await self.close_connection(conn, flush=False)
        await self.dispatcher.shutdown()


async def _finish(task: asyncio.Task[None], grace: float) -> None:
    try:
        await asyncio.wait_for(asyncio.shield(task), grace)
    except (TimeoutError, asyncio.CancelledError):
        task.cancel()
