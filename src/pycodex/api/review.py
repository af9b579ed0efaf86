"""``review/start``: a code review as a turn of the thread (inline delivery)."""

from __future__ import annotations

import asyncio

import msgspec

from pycodex.api.context import RequestContext
from pycodex.api.engine_host import engine_for
from pycodex.api.local_stores import parse_id
from pycodex.api.router import route
from pycodex.core.review import review_request
from pycodex.protocol.errors import internal_error, invalid_request
from pycodex.protocol.types.review import ReviewStartParams, ReviewStartResponse


@route("review/start")
async def review_start(ctx: RequestContext, params: ReviewStartParams) -> ReviewStartResponse:
    thread_id = parse_id(params.thread_id)
    engine = await engine_for(ctx, thread_id)
    target = msgspec.to_builtins(params.target)
    request = await asyncio.to_thread(review_request, target, engine.settings.cwd)
    if engine.running:
        raise invalid_request("failed to start review: a turn is already running")
    try:
        turn = engine.start_review(request.prompt, request.hint)
    except Exception as exc:
        raise internal_error(f"failed to start review: {exc}") from None
    return ReviewStartResponse(review_thread_id=thread_id, turn=turn)
