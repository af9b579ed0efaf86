"""The MCP servers of one loaded thread: started in parallel when the thread loads, each
announced with ``mcpServer/startupStatus/updated`` (starting → ready | failed); turns
never wait for them — a model request lists the servers ready at that moment."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import msgspec

from pycodex.config.mcp import McpServerConfig
from pycodex.core.errors import Unavailable
from pycodex.core.mcp.connection import McpConnection
from pycodex.core.mcp.naming import model_parameters, namespace_of, sanitize
from pycodex.protocol.types.mcp import (
    McpServerElicitationRequestParams,
    McpServerStatus,
    McpServerStatusUpdatedNotification,
)

__all__ = ["McpHost", "McpManager", "UnknownMcpServer", "as_sent", "namespace_entry",
           "server_status"]

logger = logging.getLogger(__name__)


class McpHost(Protocol):
    """What the servers of a thread need from it (``api.engine_host.ThreadHost`` has it)."""

    thread_id: str

    async def emit(self, notification: msgspec.Struct) -> None: ...

    async def ask(self, params: msgspec.Struct) -> Any: ...

    async def waiting(self, flag: str, on: bool) -> None: ...


class UnknownMcpServer(Unavailable):
    def __init__(self, server: str) -> None:
        super().__init__(f"unknown MCP server '{server}'")


_RUNTIME = {"starting": "starting", "ready": "connected", "failed": "failed",
            "cancelled": "cancelled"}


def _dump(model: Any) -> Any:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def server_status(config: McpServerConfig, conn: McpConnection | None, *,
                  runtime: bool) -> McpServerStatus:
    """One ``McpServerStatus`` entry; ``runtime`` adds the thread's ``runtimeStatus``."""
    init = conn.init_result if conn is not None else None
    info = _dump(init.server_info) if init is not None else None
    if info is not None:
        info.setdefault("description", None)
    runtime_status: str = "disabled" if not config.enabled else \
        _RUNTIME[conn.state] if conn is not None else "notStarted"
    origin = None
    if config.url is not None:
        parts = urlsplit(config.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        origin = f"{parts.scheme}://{parts.hostname}:{port}"
    auth = conn.auth_status if conn is not None else \
        "bearerToken" if config.url is not None and config.bearer_token_env_var else "unsupported"
    status = msgspec.convert({
        "name": config.name,
        "runtimeStatus": runtime_status if runtime else None,
        "serverInfo": info,
        "serverCapabilities": _dump(init.capabilities) if init is not None else None,
        "tools": {t.name: _dump(t) for t in conn.tools} if conn is not None else {},
        "toolListMeta": conn.tool_list_meta if conn is not None else None,
        "toolsError": conn.error if conn is not None and conn.state == "failed" else None,
        "resources": [_dump(r) for r in conn.resources] if conn is not None else [],
        "resourceTemplates": ([_dump(r) for r in conn.resource_templates]
                              if conn is not None else []),
        "authStatus": auth,
        "httpOrigin": origin,
        "pluginId": None,
        "environmentId": None,
    }, McpServerStatus)
    if conn is None:
        return status
    # tools, resources and templates go out as the server sent them (no added null keys)
    return msgspec.structs.replace(
        status, tools={t.name: _raw(t) for t in conn.tools},
        resources=[_raw(r) for r in conn.resources],
        resource_templates=[_raw(r) for r in conn.resource_templates])


def _raw(model: Any) -> Any:
    return msgspec.Raw(msgspec.json.encode(
        model.model_dump(by_alias=True, exclude_unset=True, mode="json")))


def namespace_entry(conn: McpConnection, tools: list[Any], *,
                    deferred: bool) -> dict[str, Any]:
    """A server's ``namespace`` tool entry for the model with ``tools`` in it; ``deferred``
    marks them found through ``tool_search``."""
    entries = []
    for tool in tools:
        entry = {"type": "function", "name": sanitize(tool.name),
                 "description": tool.description or "", "strict": False}
        if deferred:
            entry["defer_loading"] = True
        entry["parameters"] = model_parameters(tool.input_schema)
        entries.append(entry)
    return {"type": "namespace", "name": namespace_of(conn.name),
            "description": conn.instructions or f"Tools of the `{conn.name}` MCP server.",
            "tools": entries}


def as_sent(params: Any, schema: Any) -> Any:
    """``params`` with its ``requestedSchema`` sent exactly as given (the typed schema
    would add the optional keys the server left out)."""
    if schema is None or not hasattr(params, "requested_schema"):
        return params
    return msgspec.structs.replace(params, requested_schema=msgspec.Raw(msgspec.json.encode(
        schema)))


class McpManager:
    """The configured servers of one thread and their connections."""

    def __init__(self, host: McpHost, *, codex_home: Path | None = None) -> None:
        self.host = host
        #: where OAuth tokens of HTTP servers are stored (None: no stored tokens are used)
        self.codex_home = codex_home
        self.configs: list[McpServerConfig] = []
        self.connections: dict[str, McpConnection] = {}
        #: the turn whose tool call is running, for elicitations the server sends meanwhile
        self.current_turn: str | None = None
        self._watchers: set[asyncio.Task[None]] = set()

    async def start(self, configs: list[McpServerConfig],
                    quiet: frozenset[str] = frozenset()) -> None:
        """Start every enabled server; ``starting`` is announced before this returns
        (except for the ``quiet`` ones, restarted servers that were ready)."""
        self.configs = list(configs)
        started = [McpConnection(c, self._elicit, codex_home=self.codex_home)
                   for c in configs if c.enabled]
        for conn in started:
            self.connections[conn.name] = conn
            if conn.name not in quiet:
                await self._announce(conn)
        for conn in started:
            conn.start()
            watcher = asyncio.get_running_loop().create_task(self._watch(conn))
            self._watchers.add(watcher)
            watcher.add_done_callback(self._watchers.discard)

    async def reload(self, configs: list[McpServerConfig]) -> None:
        """Stop every server and start the (re-read) set afresh; servers that were ready
        are announced only once ready again (as the reference does)."""
        ready = frozenset(c.name for c in self.ready())
        await self.close()
        await self.start(configs, quiet=ready)

    async def close(self) -> None:
        connections = list(self.connections.values())
        self.connections = {}
        for watcher in list(self._watchers):
            watcher.cancel()
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)

    async def _announce(self, conn: McpConnection) -> None:
        error = None
        if conn.state == "failed" and conn.logged_out:  # the reference's words
            error = (f"The {conn.name} MCP server is not logged in. "
                     f"Run `codex mcp login {conn.name}`.")
        elif conn.state == "failed":
            error = f"MCP client for `{conn.name}` failed to start: {conn.error}"
        await self.host.emit(McpServerStatusUpdatedNotification(
            thread_id=self.host.thread_id, name=conn.name, status=conn.state, error=error,
            failure_reason=None, environment_id=None))

    async def _watch(self, conn: McpConnection) -> None:
        await conn.settled.wait()
        if self.connections.get(conn.name) is conn:
            await self._announce(conn)

    # -- lookups -------------------------------------------------------------------------
    def connection(self, server: str) -> McpConnection:
        conn = self.connections.get(server)
        if conn is None:
            raise UnknownMcpServer(server)
        return conn

    def config(self, server: str) -> McpServerConfig | None:
        return next((c for c in self.configs if c.name == server), None)

    def statuses(self) -> list[McpServerStatus]:
        return [server_status(c, self.connections.get(c.name), runtime=True)
                for c in sorted(self.configs, key=lambda c: c.name)]

    def ready(self) -> list[McpConnection]:
        return [c for c in self.connections.values() if c.state == "ready"]

    def model_tools(self) -> list[dict[str, Any]]:
        """One ``namespace`` entry per ready server with its tools (direct presentation)."""
        specs: list[dict[str, Any]] = []
        for conn in sorted(self.ready(), key=lambda c: c.name):
            if not conn.tools:
                continue
            specs.append(namespace_entry(
                conn, sorted(conn.tools, key=lambda t: sanitize(t.name)), deferred=False))
        return specs

    def resolve(self, namespace: str, name: str) -> tuple[McpConnection, Any] | None:
        """The (connection, tool) a model's ``namespace``/``name`` pair stands for."""
        for conn in self.ready():
            if namespace_of(conn.name) != namespace:
                continue
            for tool in conn.tools:
                if sanitize(tool.name) == name:
                    return conn, tool
        return None

    # -- server-started elicitations -----------------------------------------------------
    async def _elicit(self, server: str, request: dict[str, Any]) -> dict[str, Any]:
        wire = {"mode": "form", **request, "threadId": self.host.thread_id,
                "turnId": self.current_turn, "serverName": server, "_meta": None}
        params: Any = as_sent(msgspec.convert(wire, McpServerElicitationRequestParams),
                              request.get("requestedSchema"))
        await self.host.waiting("waitingOnApproval", True)
        try:
            answer = await self.host.ask(params)
        finally:
            await self.host.waiting("waitingOnApproval", False)
        return answer if isinstance(answer, dict) else {"action": "cancel"}
