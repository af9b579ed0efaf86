"""The method table: every client request, server notification and server request pycodex
speaks, with its wire types. One source of truth for dispatch, gating and schema export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """A client→server request: its params type (``None`` = takes no params), its result
    type (for schema export) and whether the whole method needs ``experimentalApi``."""

    name: str
    params: Any
    result: Any
    experimental: bool = False
    family: str = ""
    """The method family (``protocol.types`` and ``api`` module name); set by the table."""
    served: bool = True
    """False for a method published with its types but without a handler yet: dispatch
    answers it like an unknown method (``-32600 Invalid request: unknown variant …``)."""


@dataclass(frozen=True, slots=True)
class ServerRequestSpec:
    """A server→client request with its params and response types."""

    name: str
    params: Any
    result: Any
