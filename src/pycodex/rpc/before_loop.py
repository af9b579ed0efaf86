"""A connection's first request answered before the event loop exists, so that a spawned
stdio server answers ``initialize`` without waiting for ``asyncio`` and the rest of the server
to be imported. The dispatcher decides which requests qualify and runs their one
implementation; anything else goes through :meth:`RpcServer.feed` like every message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycodex.rpc.jsonrpc import DECODE_ERRORS, decode, encode, response, valid_request_id
from pycodex.rpc.tracing import end_span, start_span

if TYPE_CHECKING:
    from pycodex.api.context import ConnectionState
    from pycodex.api.dispatch import ApiDispatcher


def answer_before_loop(
    dispatcher: ApiDispatcher, state: ConnectionState, data: bytes
) -> bytes | None:
    """The encoded answer to the message ``data`` when it is a request the dispatcher answers
    without an event loop and that succeeds; otherwise ``None``, nothing has changed, and
    ``data`` must be fed to the server."""
    try:
        message: Any = decode(data)
    except DECODE_ERRORS:
        return None
    if not (
        isinstance(message, dict)
        and isinstance(message.get("method"), str)
        and "id" in message
        and valid_request_id(message["id"])
    ):
        return None
    span = start_span(
        "request", message.get("trace"), method=message["method"], request_id=message["id"]
    )
    try:
        result = dispatcher.answer_before_loop(state, message)
    except Exception:  # the server answers it again, error and all
        return None
    if result is None:
        return None
    end_span(span, outcome="ok")
    return encode(response(message["id"], result))
