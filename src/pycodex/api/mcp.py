"""MCP methods: server status, direct tool calls and resource reads, config reload; and the
start of a loaded thread's servers (``start_thread_servers``, called once ``thread/started``
is out)."""

from __future__ import annotations

import asyncio
import importlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from pycodex.api.config import config_service
from pycodex.api.context import RequestContext
from pycodex.api.engine_host import ThreadHost
from pycodex.api.router import route
from pycodex.config.mcp import McpServerConfig, parse_mcp_servers
from pycodex.core.errors import NotFound
from pycodex.core.ids import uuid7
from pycodex.core.threads import LoadedThread
from pycodex.protocol.errors import INTERNAL_ERROR, INVALID_REQUEST, RpcError
from pycodex.protocol.types.mcp import (
    ListMcpServerStatusParams,
    ListMcpServerStatusResponse,
    McpResourceReadParams,
    McpServerEventStreamStartParams,
    McpServerEventStreamStopParams,
    McpServerOauthLoginCompletedNotification,
    McpServerOauthLoginParams,
    McpServerOauthLoginResponse,
    McpServerStatus,
    McpServerStatusUpdatedNotification,
    McpServerToolCallParams,
)

if TYPE_CHECKING:
    from pycodex.core.mcp.connection import McpCallError, McpConnection
    from pycodex.core.mcp.manager import McpManager

logger = logging.getLogger(__name__)


def server_configs(config: dict[str, Any]) -> list[McpServerConfig]:
    """The ``[mcp_servers]`` of an effective config (bad entries logged and skipped)."""
    servers, warnings = parse_mcp_servers(config)
    for warning in warnings:
        logger.warning("%s", warning)
    return servers


def _current_configs(ctx: RequestContext, cwd: str | None = None) -> list[McpServerConfig]:
    return server_configs(ctx.app.get(config_service).effective(Path(cwd) if cwd else None))


_BACKGROUND: set[asyncio.Task[Any]] = set()
#: threads whose servers are being started: the task that gives them their manager
_STARTING: dict[str, asyncio.Task[McpManager]] = {}


def _background(task: asyncio.Task[Any]) -> None:
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


def start_thread_servers(ctx: RequestContext, thread: LoadedThread) -> None:
    """Start a just-loaded thread's MCP servers in the background. Nothing of the ``mcp``
    SDK is imported for threads without servers; with servers, the import (~1.5 s) runs in
    a worker thread after ``starting`` is announced, so it holds up no request or turn.
    Servers already started for the ``required`` check are adopted instead."""
    from pycodex.api.threads import thread_manager

    pending = thread.mcp
    if pending is not None and isinstance(pending.host, _Pending):
        host = ThreadHost(ctx, ctx.app.get(thread_manager), thread)
        _background(asyncio.get_running_loop().create_task(_adopt(thread, host, pending)))
        return
    configs = server_configs(thread.settings.config)
    if not configs:
        return
    host = ThreadHost(ctx, ctx.app.get(thread_manager), thread)
    task = asyncio.get_running_loop().create_task(
        _start(thread, host, configs, ctx.app.options.codex_home))
    _STARTING[thread.id] = task
    task.add_done_callback(lambda _t: _STARTING.pop(thread.id, None))
    _background(task)


async def _start(thread: LoadedThread, host: ThreadHost, configs: list[McpServerConfig],
                 codex_home: Path) -> McpManager:
    enabled = [c.name for c in configs if c.enabled]
    for name in enabled:
        await host.emit(McpServerStatusUpdatedNotification(
            thread_id=thread.id, name=name, status="starting", error=None,
            failure_reason=None, environment_id=None))
    module = await asyncio.to_thread(importlib.import_module, "pycodex.core.mcp.manager")
    manager: McpManager = module.McpManager(host, codex_home=codex_home)
    thread.mcp = manager
    await manager.start(configs, quiet=frozenset(enabled))
    return manager


class _Pending:
    """The host of a thread's servers started before the thread is announced (to check
    its ``required`` ones): notifications are held until the thread adopts the servers;
    elicitations are declined (nobody to ask yet)."""

    thread_id = ""

    def __init__(self) -> None:
        self.held: list[McpServerStatusUpdatedNotification] = []

    async def emit(self, notification: msgspec.Struct) -> None:
        assert isinstance(notification, McpServerStatusUpdatedNotification)
        self.held.append(notification)

    async def ask(self, params: msgspec.Struct) -> Any:
        return {"action": "decline", "content": None}

    async def waiting(self, flag: str, on: bool) -> None:
        return None


async def start_before_thread(ctx: RequestContext, thread: LoadedThread) -> McpManager:
    """Start a not yet announced thread's servers (``thread.mcp``); returns once its
    ``required`` ones settled."""
    module = await asyncio.to_thread(importlib.import_module, "pycodex.core.mcp.manager")
    manager: McpManager = module.McpManager(_Pending(), codex_home=ctx.app.options.codex_home)
    thread.mcp = manager
    await manager.start(server_configs(thread.settings.config))
    await asyncio.gather(*(c.settled.wait() for c in manager.connections.values()
                           if c.config.required))
    return manager


async def _adopt(thread: LoadedThread, host: ThreadHost, manager: McpManager) -> None:
    """Give the thread its servers: what they announced so far, then live."""
    pending = manager.host
    assert isinstance(pending, _Pending)
    while pending.held:
        held = pending.held.pop(0)
        await host.emit(msgspec.structs.replace(held, thread_id=thread.id))
    manager.host = host


def _thread(ctx: RequestContext, thread_id: str) -> LoadedThread:
    from pycodex.api.threads import thread_manager

    thread = ctx.app.get(thread_manager).get(thread_id)
    if thread is None:
        raise NotFound(f"thread not found: {thread_id}")
    return thread


async def _thread_servers(ctx: RequestContext, thread_id: str) -> McpManager:
    from pycodex.api.threads import thread_manager
    from pycodex.core.mcp.manager import McpManager

    thread = _thread(ctx, thread_id)
    starting = _STARTING.get(thread_id)
    if starting is not None:
        await asyncio.shield(starting)
    if thread.mcp is None:  # no servers configured when it loaded
        thread.mcp = McpManager(ThreadHost(ctx, ctx.app.get(thread_manager), thread),
                                codex_home=ctx.app.options.codex_home)
    manager: McpManager = thread.mcp
    return manager


class _Silent:
    """The host of servers connected for one request only: nothing is announced, and
    elicitations are declined (no thread to ask through)."""

    thread_id = ""

    async def emit(self, notification: msgspec.Struct) -> None:
        return None

    async def ask(self, params: msgspec.Struct) -> Any:
        return {"action": "decline", "content": None}

    async def waiting(self, flag: str, on: bool) -> None:
        return None


async def connect_once(ctx: RequestContext, configs: list[McpServerConfig]) -> McpManager:
    """Connect to ``configs`` for one request; returns once every server settled."""
    from pycodex.core.mcp.manager import McpManager

    manager = McpManager(_Silent(), codex_home=ctx.app.options.codex_home)
    await manager.start(configs)
    await asyncio.gather(*(c.settled.wait() for c in manager.connections.values()))
    return manager


def _rpc(exc: McpCallError) -> RpcError:
    return RpcError(exc.code if exc.code is not None else INTERNAL_ERROR, str(exc))


# -- methods ---------------------------------------------------------------------------
@route("mcpServerStatus/list")
async def mcp_server_status_list(ctx: RequestContext, params: ListMcpServerStatusParams
                                 ) -> ListMcpServerStatusResponse:
    data: list[McpServerStatus]
    if params.thread_id is not None:
        manager = await _thread_servers(ctx, params.thread_id)
        data = [s for s in manager.statuses()
                if params.server_name is None or s.name == params.server_name]
    else:
        configs = sorted((c for c in _current_configs(ctx)
                          if params.server_name is None or c.name == params.server_name),
                         key=lambda c: c.name)
        from pycodex.core.mcp.manager import server_status

        one_off = await connect_once(ctx, configs)
        try:
            data = [server_status(c, one_off.connections.get(c.name), runtime=False)
                    for c in configs]
        finally:
            await one_off.close()
    start = 0
    if params.cursor:
        try:
            start = int(params.cursor)
        except ValueError:
            raise RpcError(INVALID_REQUEST, f"invalid cursor: {params.cursor}") from None
    if params.detail == "toolsAndAuthOnly":  # as the reference: no resources, no templates
        data = [msgspec.structs.replace(s, resources=[], resource_templates=[]) for s in data]
    end = len(data) if params.limit is None else start + max(params.limit, 1)
    next_cursor = str(end) if end < len(data) else None
    return ListMcpServerStatusResponse(data=data[start:end], next_cursor=next_cursor)


async def _ready(manager: McpManager, server: str) -> McpConnection:
    conn = manager.connection(server)
    await conn.settled.wait()
    return conn


@route("mcpServer/tool/call")
async def mcp_server_tool_call(ctx: RequestContext, params: McpServerToolCallParams) -> Any:
    from pycodex.core.mcp.connection import McpCallError

    manager = await _thread_servers(ctx, params.thread_id)
    conn = await _ready(manager, params.server)
    arguments = params.arguments if isinstance(params.arguments, dict) else None
    try:
        result = await conn.call_tool(params.tool, arguments, meta=params.meta)
    except McpCallError as exc:
        raise _rpc(exc) from None
    return result.model_dump(by_alias=True, exclude_unset=True, mode="json")


@route("mcpServer/resource/read")
async def mcp_server_resource_read(ctx: RequestContext, params: McpResourceReadParams) -> Any:
    from pycodex.core.mcp.connection import McpCallError
    from pycodex.core.mcp.manager import UnknownMcpServer

    one_off: McpManager | None = None
    if params.thread_id is not None:
        conn = await _ready(await _thread_servers(ctx, params.thread_id), params.server)
    else:
        configs = [c for c in _current_configs(ctx) if c.name == params.server and c.enabled]
        if not configs:
            raise UnknownMcpServer(params.server)
        one_off = await connect_once(ctx, configs)
        conn = one_off.connection(params.server)
    try:
        result = await conn.read_resource(params.uri)
    except McpCallError as exc:
        raise _rpc(exc) from None
    finally:
        if one_off is not None:
            await one_off.close()
    contents = [c.model_dump(by_alias=True, exclude_none=True, mode="json")
                for c in result.contents]
    return {"contents": contents, "originCallId": None}


@route("config/mcpServer/reload")
async def config_mcp_server_reload(ctx: RequestContext, params: None) -> dict[str, Any]:
    _restart_loaded_threads(ctx)
    return {}


def _restart_loaded_threads(ctx: RequestContext) -> None:
    """Restart the servers of every loaded thread from the re-read config, in the
    background (fresh start-up notifications follow)."""
    from pycodex.api.threads import thread_manager

    for thread in ctx.app.get(thread_manager).all():
        configs = _current_configs(ctx, thread.settings.cwd)
        if thread.mcp is not None:
            _background(asyncio.get_running_loop().create_task(thread.mcp.reload(configs)))
        elif thread.id not in _STARTING and configs:
            thread.settings.config = {**thread.settings.config,
                                      "mcp_servers": _raw_servers(ctx, thread.settings.cwd)}
            start_thread_servers(ctx, thread)


def _raw_servers(ctx: RequestContext, cwd: str) -> Any:
    return ctx.app.get(config_service).effective(Path(cwd)).get("mcp_servers")


@route("mcpServer/event/stream/start")
async def mcp_server_event_stream_start(ctx: RequestContext,
                                        params: McpServerEventStreamStartParams) -> Any:
    """Event subscriptions serve hosted apps only; config servers have none (as 0.171)."""
    raise RpcError(INVALID_REQUEST, "MCP event subscriptions are only supported for hosted apps")


@route("mcpServer/event/stream/stop")
async def mcp_server_event_stream_stop(ctx: RequestContext,
                                       params: McpServerEventStreamStopParams) -> dict[str, Any]:
    """Nothing to stop: no subscription can be started (the reference answers ``{}``)."""
    return {}


@route("mcpServer/oauth/login")
async def mcp_server_oauth_login(ctx: RequestContext, params: McpServerOauthLoginParams
                                 ) -> McpServerOauthLoginResponse:
    """Answer with the authorization URL once the server led to it; the login then finishes
    in the background (the browser reaching the loopback callback) and every client gets
    ``mcpServer/oauthLogin/completed``."""
    config = ctx.app.get(config_service).effective(None)
    server = next((c for c in server_configs(config) if c.name == params.name), None)
    if server is None:
        raise RpcError(INVALID_REQUEST, f"No MCP server named '{params.name}' found.")
    if server.url is None:
        raise RpcError(INVALID_REQUEST,
                       "OAuth login is only supported for streamable HTTP servers.")
    from pycodex.core.mcp.connection import http_headers
    from pycodex.core.mcp.oauth import DEFAULT_LOGIN_TIMEOUT_SECS, OAuthLogin, OAuthLoginError

    port, callback_url = config.get("mcp_oauth_callback_port"), config.get("mcp_oauth_callback_url")
    login = OAuthLogin(
        server, ctx.app.options.codex_home,
        scopes=tuple(params.scopes) if params.scopes is not None else server.scopes,
        timeout_secs=DEFAULT_LOGIN_TIMEOUT_SECS if params.timeout_secs is None
        else max(1, params.timeout_secs),
        callback_port=port if isinstance(port, int) and not isinstance(port, bool) else None,
        callback_url=callback_url if isinstance(callback_url, str) else None,
        headers=http_headers(server))
    try:
        authorization_url = await login.start()
    except OAuthLoginError as exc:
        raise RpcError(INTERNAL_ERROR,
                       f"failed to login to MCP server '{params.name}': {exc}") from None
    login_id = uuid7()  # time-ordered, as the reference makes them

    async def finish() -> None:
        error = await login.wait()
        done = msgspec.to_builtins(McpServerOauthLoginCompletedNotification(
            name=params.name, success=error is None, error=error, login_id=login_id,
            thread_id=params.thread_id))
        if error is None:
            del done["error"]  # as the reference: no error key on success
        await ctx.outgoing.notify_async("mcpServer/oauthLogin/completed", done)
        if error is None:  # as the reference: loaded threads restart with the tokens
            _restart_loaded_threads(ctx)

    _background(asyncio.get_running_loop().create_task(finish()))
    return McpServerOauthLoginResponse(authorization_url=authorization_url, login_id=login_id)
