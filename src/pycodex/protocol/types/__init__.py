"""Wire types, one module per method family. Each family module exports ``REQUESTS``
(a list of :class:`~pycodex.protocol.methods.MethodSpec`), ``NOTIFICATIONS`` (method → params
type) and optionally ``SERVER_REQUESTS``."""

from __future__ import annotations

import dataclasses
import importlib
from functools import cache
from types import ModuleType
from typing import Any

from pycodex.protocol.methods import MethodSpec, ServerRequestSpec

FAMILIES = (
    "initialize",
    "threads",
    "turns",
    "config",
    "external_agent",
    "models",
    "account",
    "command_exec",
    "fs",
    "misc",
    "skills",
    "hooks",
)


@cache
def _modules() -> tuple[ModuleType, ...]:
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in FAMILIES)


@cache
def client_requests() -> dict[str, MethodSpec]:
    table: dict[str, MethodSpec] = {}
    for module in _modules():
        family = module.__name__.rsplit(".", 1)[-1]
        for spec in getattr(module, "REQUESTS", ()):
            table[spec.name] = dataclasses.replace(spec, family=family)
    return table


@cache
def server_notifications() -> dict[str, Any]:
    table: dict[str, Any] = {}
    for module in _modules():
        table.update(getattr(module, "NOTIFICATIONS", {}))
    return table


@cache
def server_requests() -> dict[str, ServerRequestSpec]:
    table: dict[str, ServerRequestSpec] = {}
    for module in _modules():
        for spec in getattr(module, "SERVER_REQUESTS", ()):
            table[spec.name] = spec
    return table
