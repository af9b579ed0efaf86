"""``windowsSandbox/*`` on a non-Windows host: never configured, and a setup that starts
and at once reports that it only works on Windows."""

from __future__ import annotations

from typing import Any

from pycodex.api.context import DEFERRED, RequestContext
from pycodex.api.router import route
from pycodex.protocol.types import windows_sandbox as t

#: The setup's name in the failure text, by mode.
_SETUP_NAMES = {"elevated": "elevated", "unelevated": "legacy"}


@route("windowsSandbox/readiness")
async def readiness(ctx: RequestContext, params: None) -> t.WindowsSandboxReadinessResponse:
    return t.WindowsSandboxReadinessResponse(status="notConfigured")


@route("windowsSandbox/setupStart")
async def setup_start(ctx: RequestContext, params: t.WindowsSandboxSetupStartParams) -> Any:
    """Answers ``started``, then sends the failed ``windowsSandbox/setupCompleted`` to the
    requesting connection."""
    ctx.respond(t.WindowsSandboxSetupStartResponse(started=True))
    ctx.outgoing.notify("windowsSandbox/setupCompleted", t.WindowsSandboxSetupCompletedNotification(
        mode=params.mode, success=False,
        error=f"{_SETUP_NAMES[params.mode]} Windows sandbox setup is only supported on Windows"),
        to=[ctx.connection_id])
    return DEFERRED
