"""Thread controls beyond turns: the user's shell command and background terminals."""

from __future__ import annotations

from pycodex.api.context import RequestContext
from pycodex.api.local_stores import parse_id
from pycodex.api.router import route
from pycodex.api.sessions import engine_for
from pycodex.protocol.errors import invalid_request
from pycodex.protocol.types.thread_controls import (
    ThreadBackgroundTerminalsListParams,
    ThreadBackgroundTerminalsListResponse,
    ThreadShellCommandParams,
    ThreadShellCommandResponse,
)


@route("thread/shellCommand")
async def thread_shell_command(ctx: RequestContext, params: ThreadShellCommandParams
                               ) -> ThreadShellCommandResponse:
    """Run the user's ``!cmd`` in the thread's cwd; its item streams on the thread."""
    thread_id = parse_id(params.thread_id)
    if not params.command.strip():
        raise invalid_request("command must not be empty")
    engine = await engine_for(ctx, thread_id)
    engine.shell_command(params.command, params.timeout_ms)
    return ThreadShellCommandResponse()


@route("thread/backgroundTerminals/list")
async def thread_background_terminals_list(
    ctx: RequestContext, params: ThreadBackgroundTerminalsListParams
) -> ThreadBackgroundTerminalsListResponse:
    """The thread's background terminals; pycodex keeps none beyond a turn's tools."""
    parse_id(params.thread_id)
    return ThreadBackgroundTerminalsListResponse(data=[], next_cursor=None)
