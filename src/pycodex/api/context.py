"""What a handler sees: its connection's state, the server state and the outgoing sender."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


@dataclass
class ConnectionState:
    """What the server knows of one client connection (negotiated by ``initialize``)."""

    connection_id: int
    initialized: bool = False
    experimental_api: bool = False
    opt_out: frozenset[str] = frozenset()
    client_name: str | None = None
    client_version: str | None = None
    request_attestation: bool = False


class Outgoing(Protocol):
    """The one way messages leave the server."""

    def notify(self, method: str, params: Any, to: Iterable[int] | None = None) -> None:
        """Send a notification to the given connections, or to every initialized one."""

    async def notify_async(self, method: str, params: Any, to: Iterable[int] | None = None) -> None:
        """Like :meth:`notify` but waits while a receiving stdio connection is backed up."""

    async def notify_many(self, messages: list[tuple[str, Any]],
                          to: Iterable[int] | None = None) -> None:
        """:meth:`notify_async` for each ``(method, params)``, in order, with one wait."""

    async def request(
        self,
        connection_id: int,
        method: str,
        params: Any,
        *,
        timeout: float | None = None,
        thread_id: str | None = None,
    ) -> Any:
        """Send a server→client request and wait for the client's result.

        Raises :class:`ClientRequestError` on an error answer, a timeout, or when the
        connection closes first.
        """

    def cancel_thread_requests(self, thread_id: str, data: Any) -> list[int]:
        """Abandon every pending request tied to ``thread_id``; returns their ids."""

    def connection_ids(self) -> list[int]:
        """Ids of all initialized connections."""


class ClientRequestError(Exception):
    """A server→client request did not get a result."""

    def __init__(self, kind: str, message: str, code: int | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.kind = kind  # "error" | "timeout" | "canceled"
        self.message = message
        self.code = code
        self.data = data


@dataclass
class ServerOptions:
    """Process-wide settings fixed at start-up."""

    codex_home: Path
    cli_overrides: list[tuple[str, Any]] = field(default_factory=list)
    cwd: Path = field(default_factory=Path.cwd)


class AppState:
    """Server-wide state: options, the outgoing sender, start-up warnings and services.

    Services are built lazily on first use by a factory function and cached, so start-up
    pays only for what a session touches.
    """

    def __init__(self, options: ServerOptions, outgoing: Outgoing) -> None:
        self.options = options
        self.outgoing = outgoing
        self._startup_warnings: list[dict[str, Any]] | None = None
        #: Computes the start-up warnings; run on first use, after the first
        #: ``initialize`` answer has been sent, to keep start-up off the critical path.
        self.startup_warnings_factory: Callable[[AppState], list[dict[str, Any]]] = (
            lambda app: []
        )
        self._services: dict[Callable[[AppState], Any], Any] = {}
        #: services are built once even when a warm-up thread asks at the same time
        self._services_lock = threading.RLock()
        self.shutdown_hooks: list[Callable[[], Any]] = []
        #: Called with a connection id when that connection closes (kill its processes,
        #: drop its subscriptions and watches...).
        self.connection_closed_hooks: list[Callable[[int], None]] = []
        #: Process-wide originator, set by the first ``initialize``.
        self.originator: str = "codex_app_server"
        #: Whether an ``initialize`` already fixed :attr:`originator`.
        self.originator_fixed = False

    @property
    def startup_warnings(self) -> list[dict[str, Any]]:
        """``configWarning`` payloads for problems found at start-up (computed once)."""
        if self._startup_warnings is None:
            self._startup_warnings = self.startup_warnings_factory(self)
        return self._startup_warnings

    def get(self, factory: Callable[[AppState], T]) -> T:
        try:
            return self._services[factory]  # type: ignore[no-any-return]
        except KeyError:
            pass
        with self._services_lock:
            if factory not in self._services:
                self._services[factory] = factory(self)
            return self._services[factory]  # type: ignore[no-any-return]

    def peek(self, factory: Callable[[AppState], T]) -> T | None:
        """The service if it was already built, else ``None``."""
        return self._services.get(factory)


class Responder(Protocol):
    def __call__(self, result: Any = None, error: Any = None) -> None: ...


@dataclass
class RequestContext:
    """Everything a handler needs for one request."""

    app: AppState
    connection: ConnectionState
    request_id: int | str
    method: str
    respond: Responder
    """Answer later (for handlers that returned :data:`DEFERRED`): a result or an RpcError."""

    @property
    def outgoing(self) -> Outgoing:
        return self.app.outgoing

    @property
    def connection_id(self) -> int:
        return self.connection.connection_id


class _Deferred:
    def __repr__(self) -> str:
        return "DEFERRED"


DEFERRED: Any = _Deferred()
"""Returned by a handler that will answer later through ``ctx.respond``."""
