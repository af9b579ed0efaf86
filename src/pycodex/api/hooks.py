"""``hooks/list``: the configured hook handlers of each cwd (or of a loaded thread), with
keys, hashes and trust state, plus the warnings and errors met while reading them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pycodex.api.context import RequestContext
from pycodex.api.router import route
from pycodex.core.hooks.config import HookHandler, discover, hooks_off
from pycodex.core.hooks.events import camel
from pycodex.protocol.errors import invalid_request
from pycodex.protocol.types.hooks import (
    HookErrorInfo,
    HookMetadata,
    HooksListEntry,
    HooksListParams,
    HooksListResponse,
)


def hook_wire(handler: HookHandler) -> HookMetadata:
    return HookMetadata(
        key=handler.key, event_name=camel(handler.event),  # type: ignore[arg-type]
        handler_type="command", command=handler.command, is_async=handler.is_async,
        matcher=handler.matcher, timeout_sec=handler.timeout_sec,
        status_message=handler.status_message,
        additional_context_limit=handler.additional_context_limit,
        source_path=str(handler.source_path), source=handler.source,  # type: ignore[arg-type]
        plugin_id=None, environment_id=None, display_order=handler.display_order,
        enabled=handler.enabled, is_managed=handler.trust_status == "managed",
        current_hash=handler.current_hash, trust_status=handler.trust_status)


def thread_hook_warnings(ctx: RequestContext, settings: Any) -> tuple[str, ...]:
    """Problems met reading the hooks a new thread will run, sent as ``warning`` right
    after ``thread/started`` (none when the thread turned hooks off)."""
    if hooks_off(settings.config):
        return ()
    return discover(ctx.app.options.codex_home, Path(settings.cwd)).warnings


@route("hooks/list")
async def hooks_list(ctx: RequestContext, params: HooksListParams) -> HooksListResponse:
    from pycodex.api.config import config_service

    config = ctx.app.get(config_service)
    if params.thread_id is not None:
        from pycodex.api.threads import thread_manager

        thread = ctx.app.get(thread_manager).get(params.thread_id)
        if thread is None:
            raise invalid_request(f"thread not found: {params.thread_id}")
        cwds = [str(thread.settings.cwd)]
    else:
        cwds = params.cwds or [str(ctx.app.options.cwd)]
    data = []
    for raw in cwds:
        cwd: Path = config.resolve_cwd(raw)
        hooks = await asyncio.to_thread(discover, ctx.app.options.codex_home, cwd,
                                        config.cli_overrides)
        data.append(HooksListEntry(
            cwd=raw, hooks=[hook_wire(h) for h in hooks.handlers],
            warnings=list(hooks.warnings),
            errors=[HookErrorInfo(path=str(e.path), message=e.message) for e in hooks.errors]))
    return HooksListResponse(data=data)
