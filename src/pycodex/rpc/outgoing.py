"""The one outgoing sender: responses, notifications (with per-connection opt-outs) and
server→client requests with futures, timeouts and cancellation. Built before the event loop
exists (``asyncio``, the writer and the piecewise encoder are imported when first used)."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pycodex.api.context import ClientRequestError, ConnectionState
from pycodex.protocol.errors import INTERNAL_ERROR
from pycodex.rpc.jsonrpc import encode, response

if TYPE_CHECKING:
    import asyncio

    from pycodex.rpc import pieces
    from pycodex.rpc.writer import ConnectionWriter, Pieces

logger = logging.getLogger(__name__)


async def _encode_in_pieces(message: Any, path: list[pieces.Step], end: bytes) -> Pieces:
    import asyncio

    from pycodex.rpc import pieces
    from pycodex.rpc.writer import Pieces

    try:
        return Pieces(await pieces.encode_in_pieces(message, path, end=end))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the request is still answered
        logger.exception("could not encode an answer")
        error = {"code": INTERNAL_ERROR, "message": str(exc) or repr(exc)}
        return Pieces([encode({"id": message["id"], "error": error}) + end])


_HEADS: dict[str, bytes] = {}


def _head(method: str) -> bytes:
    """``{"method":"<method>","params":`` (cached: a stream sends the same few methods)."""
    head = _HEADS.get(method)
    if head is None:
        head = _HEADS[method] = b'{"method":' + encode(method) + b',"params":'
    return head


@dataclass(slots=True)
class Peer:
    """What the sender knows of one connection."""

    state: ConnectionState
    writer: ConnectionWriter
    newline: bool

    def frame(self, payload: bytes) -> bytes:
        return payload + b"\n" if self.newline else payload


@dataclass(slots=True)
class PendingRequest:
    future: asyncio.Future[Any]
    connection_id: int
    method: str
    thread_id: str | None


class OutgoingSender:
    """Implements :class:`pycodex.api.context.Outgoing` over the live connections."""

    def __init__(self) -> None:
        self._peers: dict[int, Peer] = {}
        self._ids = itertools.count()
        self._pending: dict[int, PendingRequest] = {}

    # -- connections -------------------------------------------------------------------
    def add_peer(self, peer: Peer) -> None:
        self._peers[peer.state.connection_id] = peer

    def remove_peer(self, connection_id: int) -> None:
        self._peers.pop(connection_id, None)
        for request_id, pending in list(self._pending.items()):
            if pending.connection_id == connection_id:
                del self._pending[request_id]
                if not pending.future.done():
                    pending.future.set_exception(
                        ClientRequestError("canceled", "connection closed")
                    )

    def connection_ids(self) -> list[int]:
        return [cid for cid, peer in self._peers.items() if peer.state.initialized]

    def peer(self, connection_id: int) -> Peer | None:
        return self._peers.get(connection_id)

    # -- responses ---------------------------------------------------------------------
    def send_raw(self, connection_id: int, message: Any) -> None:
        peer = self._peers.get(connection_id)
        if peer is not None:
            peer.writer.push(peer.frame(encode(message)))

    def send_response(self, connection_id: int, request_id: int | str, result: Any) -> None:
        import asyncio

        from pycodex.rpc import pieces

        message = response(request_id, result)
        path = pieces.long_list_path(result, pieces.MAX_DEPTH - 1)
        peer = self._peers.get(connection_id)
        if path is None or peer is None:
            self.send_raw(connection_id, message)
            return
        # a big answer (a long thread's turns): encoded a slice at a time, in its place
        path = [(False, "result"), *path]
        end = b"\n" if peer.newline else b""
        peer.writer.push_later(asyncio.get_running_loop().create_task(
            _encode_in_pieces(message, path, end), name=f"encode-answer-{request_id}"))

    def send_error(self, connection_id: int, request_id: int | str, error: dict[str, Any]) -> None:
        self.send_raw(connection_id, {"id": request_id, "error": error})

    # -- notifications -----------------------------------------------------------------
    def _targets(self, to: Iterable[int] | None) -> list[Peer]:
        if to is None:
            return [p for p in self._peers.values() if p.state.initialized]
        return [p for cid in to if (p := self._peers.get(cid)) is not None]

    def _push_notifications(self, messages: list[tuple[str, Any]],
                            to: Iterable[int] | None) -> list[Peer]:
        """Queue ``(method, params)`` notifications, in order, for the connections ``to``
        that did not opt out of them; returns the connections written to.

        Each message is ``{"method":…,"params":…,"emittedAtMs":…}``: its params encoded
        between a cached per-method head and a per-call tail (per connection: a thread
        has one subscriber far more often than several)."""
        peers = self._targets(to)
        if not peers:
            return []
        tail = b',"emittedAtMs":%d}' % int(time.time() * 1000)
        encode_params = encode
        written: list[Peer] = []
        for peer in peers:
            opt_out = peer.state.opt_out
            end = tail + b"\n" if peer.newline else tail
            frames = [b"".join((_head(method), encode_params(params), end))
                      for method, params in messages if method not in opt_out]
            if frames:
                peer.writer.push_many(frames)
                written.append(peer)
        return written

    def notify(self, method: str, params: Any, to: Iterable[int] | None = None) -> None:
        self._push_notifications([(method, params)], to)

    async def notify_async(self, method: str, params: Any, to: Iterable[int] | None = None) -> None:
        await self.notify_many([(method, params)], to)

    async def notify_many(self, messages: list[tuple[str, Any]],
                          to: Iterable[int] | None = None) -> None:
        """Like :meth:`notify` for each ``(method, params)``, in order; then waits while a
        receiving connection is backed up."""
        for peer in self._push_notifications(messages, to):
            if peer.writer.backed_up:
                await peer.writer.wait_writable()

    # -- server -> client requests -----------------------------------------------------
    async def request(
        self,
        connection_id: int,
        method: str,
        params: Any,
        *,
        timeout: float | None = None,
        thread_id: str | None = None,
    ) -> Any:
        import asyncio

        request_id, future = self.start_request(connection_id, method, params, thread_id=thread_id)
        try:
            if timeout is None:
                return await future
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            self._pending.pop(request_id, None)
            future.cancel()
            raise ClientRequestError("timeout", f"request timed out after {timeout:g}s") from None
        except asyncio.CancelledError:
            self._pending.pop(request_id, None)
            raise

    def start_request(
        self, connection_id: int, method: str, params: Any, *, thread_id: str | None = None
    ) -> tuple[int, asyncio.Future[Any]]:
        """Send a request now; the returned future resolves with the client's answer."""
        import asyncio

        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        peer = self._peers.get(connection_id)
        if peer is None:
            future.set_exception(ClientRequestError("canceled", "connection closed"))
            return request_id, future
        self._pending[request_id] = PendingRequest(future, connection_id, method, thread_id)
        peer.writer.push(peer.frame(encode({"id": request_id, "method": method, "params": params})))
        return request_id, future

    def resolve(self, connection_id: int, message: dict[str, Any]) -> None:
        """Route a client's response or error to the request waiting for it."""
        request_id = message.get("id")
        pending = self._pending.get(request_id) if isinstance(request_id, int) else None
        if pending is None or pending.connection_id != connection_id:
            logger.warning("response for unknown server request id %r", request_id)
            return
        del self._pending[request_id]  # type: ignore[arg-type]
        if pending.future.done():
            return
        if "error" in message:
            err = message.get("error")
            err = err if isinstance(err, dict) else {}
            code = err.get("code") if isinstance(err.get("code"), int) else None
            raw_text = err.get("message")
            text = raw_text if isinstance(raw_text, str) else ""
            pending.future.set_exception(ClientRequestError("error", text, code, err.get("data")))
        else:
            pending.future.set_result(message.get("result"))

    def cancel_thread_requests(self, thread_id: str, data: Any) -> list[int]:
        cancelled: list[int] = []
        for request_id, pending in list(self._pending.items()):
            if pending.thread_id == thread_id:
                del self._pending[request_id]
                cancelled.append(request_id)
                if not pending.future.done():
                    pending.future.set_exception(
                        ClientRequestError(
                            "canceled",
                            "client request resolved because the turn state was changed",
                            -32603,
                            data,
                        )
                    )
        return cancelled

    def pending_for_thread(self, thread_id: str) -> list[int]:
        return [rid for rid, p in self._pending.items() if p.thread_id == thread_id]
