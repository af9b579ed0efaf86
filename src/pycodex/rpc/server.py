"""The message processor: framing-independent handling of every incoming message.

Transports open a connection, feed it one message (a JSONL line or a websocket text frame)
at a time and close it. Responses are routed straight to the outgoing sender; requests and
notifications go through a bounded per-connection queue processed in order, so a burst
cannot grow memory without bound: a request that finds the queue full is answered with
``-32001 Server overloaded; retry later.``, and the transport is paused while the
connection's output is backed up, so that answer is never dropped.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from pycodex.api.context import DEFERRED, AppState, RequestContext, Session
from pycodex.api.router import handler_for
from pycodex.core.platform import (
    is_valid_header_value,
    originator,
    platform_family,
    platform_os,
    user_agent,
)
from pycodex.protocol.errors import (
    INTERNAL_ERROR,
    OVERLOADED_MESSAGE,
    SERVER_OVERLOADED,
    RpcError,
    invalid_request,
)
from pycodex.protocol.gating import experimental_descriptor
from pycodex.protocol.methods import MethodSpec
from pycodex.protocol.types import client_requests
from pycodex.protocol.types.initialize import InitializeParams, InitializeResponse
from pycodex.protocol.validation import decode_params, unknown_method
from pycodex.rpc.outgoing import OutgoingSender, Peer
from pycodex.rpc.tracing import current_span, end_span, start_span
from pycodex.rpc.writer import ConnectionWriter

logger = logging.getLogger(__name__)

#: Capacity of each connection's inbound request queue.
INBOUND_CAPACITY = 128

_decoder = msgspec.json.Decoder()
_CLOSE = object()


@dataclass(eq=False)
class Connection:
    session: Session
    writer: ConnectionWriter
    inbound: asyncio.Queue[Any]
    closes_when_backed_up: bool
    task: asyncio.Task[None] | None = None
    closed: bool = False

    @property
    def id(self) -> int:
        return self.session.connection_id


def _method_order() -> dict[str, int]:
    from pycodex.protocol.reference_order import REFERENCE_METHOD_ORDER

    return {name: i for i, name in enumerate(REFERENCE_METHOD_ORDER)}


class RpcServer:
    """Owns the connections and dispatches their messages to the api handlers."""

    def __init__(self, app: AppState, sender: OutgoingSender) -> None:
        self.app = app
        self.sender = sender
        self._ids = itertools.count()
        self._connections: dict[int, Connection] = {}
        self._table = client_requests()
        order = _method_order()
        self._known = sorted(self._table, key=lambda name: (order.get(name, 10_000), name))
        self._originator: str | None = None

    # -- connection lifecycle ----------------------------------------------------------
    def open_connection(
        self,
        send: Callable[[bytes], Awaitable[None]],
        *,
        newline: bool,
        on_backed_up: Callable[[], None] | None = None,
        send_frames: Callable[[list[bytes]], Awaitable[None]] | None = None,
    ) -> Connection:
        """Register a connection; ``send`` writes one chunk to the peer (``send_frames``,
        when given, writes a batch of messages at once)."""
        session = Session(connection_id=next(self._ids))
        writer = ConnectionWriter(
            send, batch=newline, on_backed_up=on_backed_up, send_frames=send_frames
        )
        conn = Connection(
            session, writer, asyncio.Queue(INBOUND_CAPACITY), on_backed_up is not None
        )
        self._connections[conn.id] = conn
        self.sender.add_peer(Peer(session, writer, newline))
        writer.start()
        conn.task = asyncio.get_running_loop().create_task(
            self._process(conn), name=f"connection-{conn.id}"
        )
        return conn

    async def close_connection(self, conn: Connection, *, flush: bool = True) -> None:
        """Stop reading from ``conn``: finish queued requests (briefly), flush, forget it."""
        if conn.closed:
            return
        conn.closed = True
        while True:
            try:
                conn.inbound.put_nowait(_CLOSE)
                break
            except asyncio.QueueFull:  # the peer is gone: drop what it queued
                conn.inbound.get_nowait()
        if conn.task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(conn.task), 2.0 if flush else 0)
            except (TimeoutError, asyncio.CancelledError):
                conn.task.cancel()
        self._connections.pop(conn.id, None)
        self.sender.remove_peer(conn.id)
        for hook in list(self.app.connection_closed_hooks):
            try:
                hook(conn.id)
            except Exception:
                logger.exception("connection-closed hook failed")
        if flush:
            await conn.writer.close()
        else:
            await conn.writer.close(timeout=0)

    # -- incoming ----------------------------------------------------------------------
    async def feed(self, conn: Connection, data: bytes | str) -> None:
        """Handle one framed message from ``conn``. Awaits while ``conn`` is backed up."""
        if conn.closed:
            return
        try:
            message = _decoder.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            logger.error("Failed to deserialize JSONRPCMessage: %s", exc)
            return
        if not isinstance(message, dict):
            logger.error("Failed to deserialize JSONRPCMessage: not a JSON object")
            return
        method = message.get("method")
        if method is not None:
            if not isinstance(method, str):
                logger.error("Failed to deserialize JSONRPCMessage: method is not a string")
                return
            if "id" in message:
                request_id = message["id"]
                if isinstance(request_id, bool) or not isinstance(request_id, int | str):
                    logger.error("Failed to deserialize JSONRPCMessage: invalid request id")
                    return
                try:
                    conn.inbound.put_nowait(message)
                except asyncio.QueueFull:
                    self.sender.send_error(
                        conn.id,
                        request_id,
                        {"code": SERVER_OVERLOADED, "message": OVERLOADED_MESSAGE},
                    )
            else:
                await conn.inbound.put(message)
        elif "id" in message and ("result" in message or "error" in message):
            self.sender.resolve(conn.id, message)
        else:
            logger.error(
                "Failed to deserialize JSONRPCMessage: not a request, response or notification"
            )
            return
        if conn.writer.backed_up and not conn.closes_when_backed_up:
            await conn.writer.wait_writable()

    async def _process(self, conn: Connection) -> None:
        while True:
            message = await conn.inbound.get()
            if message is _CLOSE:
                return
            if "id" in message:
                await self._handle_request(conn, message)
            else:
                self._handle_notification(conn, message)

    def _handle_notification(self, conn: Connection, message: dict[str, Any]) -> None:
        method = message["method"]
        if method == "initialized":
            logger.debug("client %s sent initialized", conn.id)
        else:
            logger.info("ignoring client notification %s", method)

    async def _handle_request(self, conn: Connection, message: dict[str, Any]) -> None:
        request_id = message["id"]
        method = message["method"]
        span = start_span("request", message.get("trace"), method=method, request_id=request_id)
        token = current_span.set(span)
        outcome = "ok"
        try:
            result = await self._dispatch(conn, request_id, method, message)
            if result is not DEFERRED:
                self.sender.send_response(conn.id, request_id, result)
        except RpcError as err:
            outcome = f"error {err.code}"
            self.sender.send_error(conn.id, request_id, err.to_wire())
        except Exception as exc:
            outcome = "internal error"
            logger.exception("handler for %s failed", method)
            self.sender.send_error(
                conn.id, request_id, {"code": INTERNAL_ERROR, "message": str(exc) or repr(exc)}
            )
        finally:
            current_span.reset(token)
            end_span(span, outcome=outcome)

    async def _dispatch(
        self, conn: Connection, request_id: int | str, method: str, message: dict[str, Any]
    ) -> Any:
        spec = self._table.get(method)
        if spec is None:
            raise unknown_method(method, self._known)
        params = self._decode(spec, message)
        session = conn.session
        if method == "initialize":
            return self._initialize(conn, request_id, params)
        if not session.initialized:
            raise invalid_request("Not initialized")
        if not session.experimental_api:
            if spec.experimental:
                raise invalid_request(f"{method} requires experimentalApi capability")
            descriptor = experimental_descriptor(method, params)
            if descriptor:
                raise invalid_request(f"{descriptor} requires experimentalApi capability")
        handler = handler_for(method, spec.family)
        if handler is None:  # a table entry without a handler is a bug; answer clearly
            raise RpcError(-32601, f"method not found: {method}")
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

        ctx = RequestContext(self.app, session, request_id, method, respond)
        try:
            return await handler(ctx, params)
        except Exception:
            if not answered:
                raise
            # Every request gets exactly one answer: a failure after it went out is logged.
            logger.exception("handler for %s failed after answering", method)
            return DEFERRED

    @staticmethod
    def _decode(spec: MethodSpec, message: dict[str, Any]) -> Any:
        if spec.params is None:
            return None
        if "params" not in message:
            raise invalid_request("Invalid request: missing field `params`")
        return decode_params(message["params"], spec.params)

    def _initialize(self, conn: Connection, request_id: int | str, params: InitializeParams) -> Any:
        session = conn.session
        if session.initialized:
            raise invalid_request("Already initialized")
        info = params.client_info
        if not is_valid_header_value(info.name):
            raise invalid_request(
                f"Invalid clientInfo.name: '{info.name}'. Must be a valid HTTP header value."
            )
        caps = params.capabilities
        if caps is not None:
            session.experimental_api = caps.experimental_api
            session.opt_out = frozenset(caps.opt_out_notification_methods or ())
            session.request_attestation = caps.request_attestation
        session.client_name = info.name
        session.client_version = info.version
        if self._originator is None:
            self._originator = originator(info.name)
            self.app.originator = self._originator
        response = InitializeResponse(
            user_agent=user_agent(self._originator, info.name, info.version),
            codex_home=str(self.app.options.codex_home),
            platform_family=platform_family(),
            platform_os=platform_os(),
        )
        self.sender.send_response(conn.id, request_id, response)
        session.initialized = True
        for warning in self.app.startup_warnings:
            self.sender.notify("configWarning", warning, to=[conn.id])
        return DEFERRED

    async def shutdown(self) -> None:
        """Close every connection and run the app's shutdown hooks (flush rollouts...)."""
        for conn in list(self._connections.values()):
            await self.close_connection(conn, flush=False)
        for hook in reversed(self.app.shutdown_hooks):
            try:
                result = hook()
                if asyncio.iscoroutine(result):
                    await asyncio.wait_for(result, 5.0)
            except Exception:
                logger.exception("shutdown hook failed")
