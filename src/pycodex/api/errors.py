"""The one mapping from engine errors (:mod:`pycodex.core.errors`) to JSON-RPC errors.

The dispatcher calls :func:`rpc_error` for every exception a handler raises; handlers may
also call it to answer with a specific message prefix.
"""

from __future__ import annotations

from pycodex.core.errors import CodexError, Conflict, InvalidInput, NotFound, Unavailable
from pycodex.protocol.errors import INTERNAL_ERROR, INVALID_REQUEST, RpcError

#: JSON-RPC code of each engine error class (most specific class first).
_CODES: tuple[tuple[type[CodexError], int], ...] = (
    (NotFound, INVALID_REQUEST),
    (InvalidInput, INVALID_REQUEST),
    (Conflict, INTERNAL_ERROR),
    (Unavailable, INTERNAL_ERROR),
)


def rpc_error(exc: BaseException) -> RpcError | None:
    """The JSON-RPC error answering ``exc``; ``None`` when it is not an engine error (the
    dispatcher then answers with an internal error)."""
    if isinstance(exc, RpcError):
        return exc
    if not isinstance(exc, CodexError):
        return None
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return RpcError(code, exc.message, exc.data)
    return RpcError(INTERNAL_ERROR, exc.message, exc.data)
