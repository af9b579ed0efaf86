"""Handler registration: ``@route("config/read")`` binds a coroutine to a method name."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

from pycodex.api.context import RequestContext

Handler = Callable[[RequestContext, Any], Awaitable[Any]]

_HANDLERS: dict[str, Handler] = {}

#: api modules that register handlers; imported on first dispatch.
MODULES = (
    "misc",
    "config",
    "external_agent",
    "threads",
    "turns",
    "models",
    "account",
    "command_exec",
    "fs",
    "features",
    "model_providers",
    "account_extras",
    "plugins",
    "sections",
    "attachments",
    "goals",
    "feedback",
    "windows_sandbox",
    "import_history",
    "thread_controls",
    "review",
    "thread_search",
    "initialize",
    "mcp",
    "skills",
    "hooks",
)


def route(method: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[method] = fn
        return fn

    return register


def handler_for(method: str, family: str) -> Handler | None:
    """The handler of ``method``, importing its family's api module on first use so that
    start-up does not pay for modules a session never touches."""
    handler = _HANDLERS.get(method)
    if handler is None and family:
        _import_family(family)
        handler = _HANDLERS.get(method)
    if handler is None:
        handler = handlers().get(method)
    return handler


@cache
def _import_family(family: str) -> None:
    try:
        importlib.import_module(f"pycodex.api.{family}")
    except ModuleNotFoundError as exc:
        if exc.name != f"pycodex.api.{family}":
            raise


@cache
def handlers() -> dict[str, Handler]:
    """Every registered handler (imports all api modules)."""
    for name in MODULES:
        _import_family(name)
    return _HANDLERS
