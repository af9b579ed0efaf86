"""The Codex side of dispatch: the method table, params decoding, the handshake and
experimental gates, and which requests must run in order. The rpc layer calls it and knows
none of this."""

from __future__ import annotations

import functools
import itertools
import logging
from typing import Any

from pycodex.api.context import AppState, ConnectionState, RequestContext, Responder
from pycodex.api.errors import rpc_error
from pycodex.api.router import handler_for
from pycodex.core.errors import CodexError
from pycodex.protocol.errors import RpcError, invalid_request
from pycodex.protocol.gating import experimental_descriptor
from pycodex.protocol.methods import MethodSpec
from pycodex.protocol.served_families import SERVED_FAMILIES
from pycodex.protocol.types import client_requests, family_requests
from pycodex.protocol.validation import decode_params, unknown_method

logger = logging.getLogger(__name__)


def _method_order() -> dict[str, int]:
    from pycodex.protocol.reference_order import REFERENCE_METHOD_ORDER

    return {name: i for i, name in enumerate(REFERENCE_METHOD_ORDER)}


class ApiDispatcher:
    """Turns one decoded request into a handler call on the app's services."""

    def __init__(self, app: AppState) -> None:
        self.app = app
        self._connection_ids = itertools.count()

    @functools.cached_property
    def _table(self) -> dict[str, MethodSpec]:
        """The whole method table (it imports every served family's types): built only when
        a method is not found through :data:`SERVED_FAMILIES`."""
        return client_requests()

    def _spec(self, method: str) -> MethodSpec | None:
        """A method's spec, importing only its family's types when the hint knows it."""
        family = SERVED_FAMILIES.get(method)
        if family is not None:
            spec = family_requests(family).get(method)
            if spec is not None:
                return spec
        return self._table.get(method)

    @functools.cached_property
    def _known(self) -> list[str]:
        """The served methods in the reference's order (for the unknown-method error; built
        on first use, off the start path)."""
        order = _method_order()
        return sorted(self._table, key=lambda name: (order.get(name, 10_000), name))

    # -- connections -------------------------------------------------------------------
    def new_connection(self) -> ConnectionState:
        """The state of a new connection, with an id no other connection has."""
        return ConnectionState(connection_id=next(self._connection_ids))

    @staticmethod
    def is_open(state: ConnectionState) -> bool:
        """Until ``initialize`` succeeded a connection's requests are handled one at a time,
        so a request sent right behind ``initialize`` sees it done."""
        return state.initialized

    def connection_closed(self, connection_id: int) -> None:
        for hook in list(self.app.connection_closed_hooks):
            try:
                hook(connection_id)
            except Exception:
                logger.exception("connection-closed hook failed")

    async def shutdown(self) -> None:
        import asyncio

        for hook in reversed(self.app.shutdown_hooks):
            try:
                result = hook()
                if asyncio.iscoroutine(result):
                    await asyncio.wait_for(result, 5.0)
            except Exception:
                logger.exception("shutdown hook failed")

    # -- messages ----------------------------------------------------------------------
    @staticmethod
    def ordering_key(method: str, message: dict[str, Any]) -> str | None:
        """Requests about one thread run in arrival order (``turn/start`` then
        ``turn/steer``); everything else runs concurrently."""
        params = message.get("params")
        thread_id = params.get("threadId") if isinstance(params, dict) else None
        return f"thread:{thread_id}" if isinstance(thread_id, str) else None

    @staticmethod
    def handle_notification(state: ConnectionState, method: str) -> None:
        if method == "initialized":
            logger.debug("client %s sent initialized", state.connection_id)
        else:
            logger.info("ignoring client notification %s", method)

    async def handle_request(
        self,
        state: ConnectionState,
        request_id: int | str,
        method: str,
        message: dict[str, Any],
        respond: Responder,
    ) -> Any:
        """The handler's result, or ``DEFERRED`` when it answers through ``respond``."""
        spec = self._spec(method)
        if spec is None:
            raise unknown_method(method, self._known)
        params = self._decode(spec, message)
        if method != "initialize":
            if not state.initialized:
                raise invalid_request("Not initialized")
            if not state.experimental_api:
                if spec.experimental:
                    raise invalid_request(f"{method} requires experimentalApi capability")
                descriptor = experimental_descriptor(method, params)
                if descriptor:
                    raise invalid_request(f"{descriptor} requires experimentalApi capability")
        handler = handler_for(method, spec.family)
        if handler is None:  # a table entry without a handler is a bug; answer clearly
            raise RpcError(-32601, f"method not found: {method}")
        try:
            return await handler(
                RequestContext(self.app, state, request_id, method, respond), params
            )
        except CodexError as exc:  # engine errors get their JSON-RPC shape in one place
            raise (rpc_error(exc) or exc) from exc

    def answer_before_loop(self, state: ConnectionState, message: dict[str, Any]) -> Any:
        """The result of a request that can be answered without an event loop (stdio answers
        its first request before the loop exists), or ``None`` when it is not such a request.
        Only ``initialize`` is: the same params decoding and handshake as
        :meth:`handle_request`, raising what it raises, having changed nothing then. Call
        :meth:`handshake_answered` once the event loop runs."""
        if message.get("method") != "initialize":
            return None
        from pycodex.api.initialize import handshake

        spec = self._spec("initialize")
        assert spec is not None
        return handshake(self.app, state, self._decode(spec, message))

    def handshake_answered(self, state: ConnectionState) -> None:
        """What the ``initialize`` handler does after its answer, for a handshake answered by
        :meth:`answer_before_loop` (needs the running event loop)."""
        from pycodex.api.initialize import send_startup_warnings

        send_startup_warnings(self.app, state.connection_id)

    @staticmethod
    def _decode(spec: MethodSpec, message: dict[str, Any]) -> Any:
        if spec.params is None:
            return None
        if "params" not in message:
            raise invalid_request("Invalid request: missing field `params`")
        return decode_params(message["params"], spec.params)
