"""``required`` MCP servers (``engine.md`` §10.1): a thread request whose config has one that
cannot start fails as the reference's does. Apart from ``api.mcp`` so that thread requests
without required servers do not import it before they answer."""

from __future__ import annotations

from typing import Any

from pycodex.api.context import RequestContext
from pycodex.protocol.errors import INTERNAL_ERROR, RpcError

__all__ = ["require_servers"]


def _any_required(config: dict[str, Any]) -> bool:
    servers = config.get("mcp_servers")
    return isinstance(servers, dict) and any(
        isinstance(entry, dict) and entry.get("required") is True for entry in servers.values())


async def require_servers(ctx: RequestContext, config: dict[str, Any], action: str) -> None:
    """Fail ``thread/start`` (``action`` "creating"), ``thread/fork`` ("forking") or
    ``thread/resume`` ("resuming") as the reference does when a ``required`` server of the
    thread's config cannot start. They are started once to find out (and stopped again:
    the thread starts its servers afresh once loaded)."""
    if not _any_required(config):  # the common case, decided without importing api.mcp
        return
    from pycodex.api.mcp import connect_once, server_configs

    required = [c for c in server_configs(config) if c.enabled and c.required]
    if not required:
        return
    manager = await connect_once(ctx, required)
    try:
        failed = [c for c in manager.connections.values() if c.state != "ready"]
    finally:
        await manager.close()
    if failed:
        causes = "; ".join(f"{c.name}: {c.cause or c.error}" for c in failed)
        raise RpcError(INTERNAL_ERROR, f"error {action} thread: Fatal error: Failed to "
                       f"initialize session: required MCP servers failed to initialize: {causes}")
