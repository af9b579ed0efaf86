"""JSON-RPC message pieces that need no event loop: decoding a message, checking a request id,
encoding and shaping an answer. Shared by the server and the answer sent before the loop."""

from __future__ import annotations

import logging
from typing import Any

import msgspec

#: The server logs what it cannot read under its own name, wherever the reading happens.
logger = logging.getLogger("pycodex.rpc.server")

#: Request ids are strings or signed 64-bit integers.
_ID_MIN, _ID_MAX = -(2**63), 2**63 - 1

# Out-of-range floats (1e999) decode to inf instead of failing the whole message.
_decoder = msgspec.json.Decoder(float_hook=float)
_encoder = msgspec.json.Encoder()

#: What :func:`decode` fails with.
DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def decode(data: bytes | str) -> Any:
    """One JSON message; raises one of :data:`DECODE_ERRORS`."""
    return _decoder.decode(data)


#: One message as JSON bytes (the encoder's bound method: no extra call per streamed delta).
encode = _encoder.encode


def log_unreadable(reason: object) -> None:
    logger.error("Failed to deserialize JSONRPCMessage: %s", reason)


def valid_request_id(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, int) and not isinstance(value, bool) and _ID_MIN <= value <= _ID_MAX


def response(request_id: int | str, result: Any) -> dict[str, Any]:
    """The answer carrying ``result`` (``null`` is sent as ``{}``)."""
    return {"id": request_id, "result": {} if result is None else result}
