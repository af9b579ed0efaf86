"""The JSON-RPC method of each notification and server-request params type: how the typed
events the engine and services emit find their method (core never spells one)."""

from __future__ import annotations

import types
import typing

from pycodex.core.host import Notification, ServerRequest
from pycodex.protocol.types import server_notifications, server_requests


def _methods() -> dict[type, str]:
    """Method of each notification / server-request params type (types registered under
    more than one method are left out: they cannot be sent by type)."""
    table: dict[type, str] = {}
    seen: set[type] = set()
    pairs = [*server_notifications().items(),
             *((spec.name, spec.params) for spec in server_requests().values())]
    # a union of params structs (``mcpServer/elicitation/request``) is sent by any member
    pairs = [(method, member) for method, params in pairs
             for member in (typing.get_args(params) if isinstance(params, types.UnionType)
                            else (params,))]
    for method, params in pairs:
        if params in seen:
            table.pop(params, None)
        else:
            table[params] = method
        seen.add(params)
    return table


#: The reverse of the protocol tables, filled on first use (deltas look it up per chunk).
_METHOD_BY_TYPE: dict[type, str] = {}


def method_of(params: Notification | ServerRequest) -> str:
    """The JSON-RPC method that sends ``params``."""
    method = _METHOD_BY_TYPE.get(type(params))
    if method is None:
        _METHOD_BY_TYPE.update(_methods())
        method = _METHOD_BY_TYPE.get(type(params))
        if method is None:
            raise TypeError(f"{type(params).__name__} is not registered under one method")
    return method
