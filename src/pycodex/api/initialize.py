"""``initialize``: the handshake that opens a connection (client info, capabilities,
notification opt-outs, the experimental-API opt-in) and fixes the process originator.

:func:`handshake` is the one implementation of its semantics. It never waits, so stdio can
run it for the first request before the event loop exists (``ApiDispatcher.answer_handshake``);
the request handler below runs it for every other ``initialize``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycodex.api.context import DEFERRED, AppState, ConnectionState, RequestContext
from pycodex.api.router import route
from pycodex.core.platform import (
    is_valid_header_value,
    originator,
    platform_family,
    platform_os,
    user_agent,
)
from pycodex.protocol.errors import invalid_request
from pycodex.protocol.types.initialize import InitializeParams, InitializeResponse

if TYPE_CHECKING:
    import asyncio


def handshake(
    app: AppState, state: ConnectionState, params: InitializeParams
) -> InitializeResponse:
    """Validate ``params``, open the connection ``state`` and return the answer. Raises
    (having changed nothing) when the connection is already open or the client name is bad."""
    if state.initialized:
        raise invalid_request("Already initialized")
    info = params.client_info
    if not is_valid_header_value(info.name):
        raise invalid_request(
            f"Invalid clientInfo.name: '{info.name}'. Must be a valid HTTP header value."
        )
    caps = params.capabilities
    if caps is not None:
        state.experimental_api = caps.experimental_api
        state.opt_out = frozenset(caps.opt_out_notification_methods or ())
        state.request_attestation = caps.request_attestation
    state.client_name = info.name
    state.client_version = info.version
    if not app.originator_fixed:
        app.originator = originator(info.name)
        app.originator_fixed = True
    state.initialized = True
    return InitializeResponse(
        user_agent=user_agent(app.originator, info.name, info.version),
        codex_home=str(app.options.codex_home),
        platform_family=platform_family(),
        platform_os=platform_os(),
    )


@route("initialize")
async def initialize(ctx: RequestContext, params: InitializeParams) -> Any:
    """Answer first, then send the connection its start-up warnings."""
    ctx.respond(handshake(ctx.app, ctx.connection, params))
    send_startup_warnings(ctx.app, ctx.connection_id)
    return DEFERRED


#: Start-up warning sends in progress (a task nobody references may be collected).
_WARNING_TASKS: set[asyncio.Task[None]] = set()


def send_startup_warnings(app: AppState, connection_id: int) -> None:
    """After a handshake's answer (needs the running event loop): send that connection the
    start-up warnings, computed once the answer has been written."""
    import asyncio

    task = asyncio.get_running_loop().create_task(
        _send_startup_warnings(app, connection_id), name="startup-warnings")
    _WARNING_TASKS.add(task)
    task.add_done_callback(_WARNING_TASKS.discard)


async def _send_startup_warnings(app: AppState, connection_id: int) -> None:
    """The connection writer was woken by the answer before this task was created, so it
    runs first."""
    import asyncio

    await asyncio.sleep(0)
    for warning in app.startup_warnings:
        app.outgoing.notify("configWarning", warning, to=[connection_id])
