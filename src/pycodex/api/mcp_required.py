"""``required`` MCP servers (``engine.md`` §10.1): a thread request whose config has one that
cannot start fails as the reference's does. Apart from ``api.mcp`` so that thread requests
without required servers do not import it before they answer."""

from __future__ import annotations

from typing import Any

from pycodex.api.context import RequestContext
from pycodex.core.threads import LoadedThread
from pycodex.protocol.errors import INTERNAL_ERROR, RpcError

__all__ = ["require_servers"]


def _any_required(config: dict[str, Any]) -> bool:
    servers = config.get("mcp_servers")
    return isinstance(servers, dict) and any(
        isinstance(entry, dict) and entry.get("required") is True for entry in servers.values())


async def require_servers(ctx: RequestContext, thread: LoadedThread, action: str) -> None:
    """Fail ``thread/start`` (``action`` "creating"), ``thread/fork`` ("forking") or
    ``thread/resume`` ("resuming") as the reference does when a ``required`` server of the
    thread's config cannot start. The thread's servers are started here, once: when the
    required ones are ready, the thread keeps them (their start-up notifications go out
    once it is announced); otherwise they are stopped and nothing was announced."""
    if not _any_required(thread.settings.config):  # the common case, without api.mcp
        return
    from pycodex.api.mcp import start_before_thread

    manager = await start_before_thread(ctx, thread)
    failed = [c for c in manager.connections.values() if c.config.required and c.state != "ready"]
    if failed:
        thread.mcp = None
        await manager.close()
        causes = "; ".join(f"{c.name}: {c.cause or c.error}" for c in failed)
        raise RpcError(INTERNAL_ERROR, f"error {action} thread: Fatal error: Failed to "
                       f"initialize session: required MCP servers failed to initialize: {causes}")
