"""``initialize``: the handshake that opens a connection (client info, capabilities,
notification opt-outs, the experimental-API opt-in) and fixes the process originator."""

from __future__ import annotations

import asyncio
from typing import Any

from pycodex.api.context import DEFERRED, RequestContext
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


@route("initialize")
async def initialize(ctx: RequestContext, params: InitializeParams) -> Any:
    """Answer first, then mark the connection initialized and send it the start-up warnings."""
    state = ctx.connection
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
    app = ctx.app
    if not app.originator_fixed:
        app.originator = originator(info.name)
        app.originator_fixed = True
    ctx.respond(
        InitializeResponse(
            user_agent=user_agent(app.originator, info.name, info.version),
            codex_home=str(app.options.codex_home),
            platform_family=platform_family(),
            platform_os=platform_os(),
        )
    )
    state.initialized = True
    task = asyncio.get_running_loop().create_task(
        _send_startup_warnings(ctx), name="startup-warnings")
    _WARNING_TASKS.add(task)
    task.add_done_callback(_WARNING_TASKS.discard)
    return DEFERRED


#: Start-up warning sends in progress (a task nobody references may be collected).
_WARNING_TASKS: set[asyncio.Task[None]] = set()


async def _send_startup_warnings(ctx: RequestContext) -> None:
    """The start-up warnings, computed once the answer has been written: the connection
    writer was woken by the answer before this task was created, so it runs first."""
    await asyncio.sleep(0)
    for warning in ctx.app.startup_warnings:
        ctx.outgoing.notify("configWarning", warning, to=[ctx.connection_id])
