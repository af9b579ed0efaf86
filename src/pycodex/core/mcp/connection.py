"""One client connection to one MCP server, on the official ``mcp`` SDK.

The SDK's transports and sessions are anyio context managers that must be entered and left
in one task, so each connection lives in its own task: connect, ``initialize``, list tools
(then resources and templates, whose failure is not fatal), report ready, then wait until
closed. Calls from other tasks go through the open :class:`mcp.ClientSession`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, cast

import anyio
import mcp_types as types
from mcp.client.session import ClientRequestContext, ClientSession
from mcp.shared.exceptions import MCPError

from pycodex.config.mcp import McpServerConfig
from pycodex.core.errors import Unavailable

__all__ = ["ConnectionState", "ElicitFn", "McpCallError", "McpConnection"]

logger = logging.getLogger(__name__)

ConnectionState = Literal["starting", "ready", "failed", "cancelled"]
AuthStatus = Literal["unknown", "unsupported", "notLoggedIn", "bearerToken", "oAuth"]
#: ``elicit(server_name, request) -> answer``: a server's ``elicitation/create`` params (wire
#: shape) forwarded to the client; returns ``{action, content}``.
ElicitFn = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
ProgressFn = Callable[[str], Awaitable[None]]

#: Parent variables a stdio server inherits (``engine.md`` §10.2), besides ``env_vars``.
_INHERITED_ENV = ("HOME", "LOGNAME", "PATH", "SHELL", "USER", "__CF_USER_TEXT_ENCODING",
                  "LANG", "LC_ALL", "TERM", "TMPDIR", "TZ")
_CLIENT_INFO = types.Implementation(name="codex-mcp-client", title="Codex", version="0.171.0")


class McpCallError(Unavailable):
    """A request to an MCP server failed; ``code`` is the server's JSON-RPC code, if any."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def describe_error(exc: BaseException) -> str:
    """An error as the reference words it (``No such file or directory (os error 2)``)."""
    exc = _leaf(exc)
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{exc.strerror} (os error {exc.errno})"
    if isinstance(exc, MCPError):
        return f"MCP error {exc.code}: {exc.error.message}"
    return str(exc) or type(exc).__name__


def stdio_environment(config: McpServerConfig) -> dict[str, str]:
    """The stdio child's clean environment: a few parent variables, ``env_vars``, ``env``."""
    env = {key: os.environ[key] for key in (*_INHERITED_ENV, *config.env_vars)
           if key in os.environ}
    env.update(config.env)
    return env


def http_headers(config: McpServerConfig) -> dict[str, str]:
    """Headers of a streamable-HTTP server: static ones, ones read from the environment,
    and the bearer token (never logged)."""
    headers = dict(config.http_headers)
    for header, var in config.env_http_headers.items():
        value = os.environ.get(var)
        if value:
            headers[header] = value
    if config.bearer_token_env_var:
        token = os.environ.get(config.bearer_token_env_var)
        if token:
            headers["Authorization"] = f"Bearer {token}"
    return headers


class McpConnection:
    """A started (or starting, or failed) connection to one configured server."""

    def __init__(self, config: McpServerConfig, elicit: ElicitFn, *,
                 codex_home: Path | None = None) -> None:
        self.config = config
        self.codex_home = codex_home
        #: ``authStatus`` as the reference reports it (``notLoggedIn`` once a start-up was
        #: refused for want of a token)
        self.auth_status: AuthStatus = "unsupported" if config.url is None else \
            "bearerToken" if config.bearer_token_env_var else \
            "unknown" if config.oauth_store == "keyring" else "unsupported"
        #: the HTTP server answered 401 (it wants a token)
        self._refused = False
        #: refused, and no stored login was there to offer
        self.logged_out = False
        self.name = config.name
        self.state: ConnectionState = "starting"
        self.error: str | None = None
        #: why start-up failed, in the words of a required server's thread/start error
        self.cause: str | None = None
        self.session: ClientSession | None = None
        self.init_result: types.InitializeResult | None = None
        #: tools as listed (those allowed by ``enabled_tools``/``disabled_tools``)
        self.tools: list[types.Tool] = []
        self.tool_list_meta: dict[str, Any] | None = None
        self.resources: list[types.Resource] = []
        self.resource_templates: list[types.ResourceTemplate] = []
        self.settled = asyncio.Event()
        self._elicit = elicit
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(),
                                                            name=f"mcp-{self.name}")

    @property
    def instructions(self) -> str | None:
        return self.init_result.instructions if self.init_result is not None else None

    def tool(self, name: str) -> types.Tool | None:
        return next((t for t in self.tools if t.name == name), None)

    # -- life ----------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport())
                session = await stack.enter_async_context(ClientSession(
                    read, write, elicitation_callback=self._on_elicitation,
                    client_info=_CLIENT_INFO))
                with anyio.fail_after(self.config.startup_timeout_secs):
                    self.init_result = await session.initialize()
                    await self._list_tools(session)
                await self._list_resources(session)
                self.session = session
                self.state = "ready"
                self.settled.set()
                await self._stop.wait()
        except asyncio.CancelledError:
            self.state = "cancelled"
        except BaseException as exc:
            if self.state == "starting":
                leaf = _leaf(exc)
                if isinstance(leaf, TimeoutError):
                    self.error = (f"MCP client for `{self.name}` timed out after "
                                  f"{self.config.startup_timeout_secs:g} seconds")
                    self.cause = ("timed out handshaking with MCP server after "
                                  f"{self.config.startup_timeout_secs:g}s")
                else:
                    self.cause = describe_error(leaf)
                    if self._refused:  # words a client can tell a login is needed by
                        self.cause = "handshaking with MCP server failed: Auth required"
                        self.logged_out = self.auth_status != "oAuth"
                        if self.auth_status == "unsupported":
                            self.auth_status = "notLoggedIn"
                    self.error = f"MCP startup failed: {self.cause}"
                self.state = "failed"
            else:
                self.fail(describe_error(exc))
        finally:
            self.session = None
            if self.state == "ready":
                self.fail("MCP server connection closed")
            self.settled.set()

    def _transport(self) -> contextlib.AbstractAsyncContextManager[Any]:
        if self.config.url is not None:
            from mcp.shared._httpx_utils import create_mcp_http_client

            auth = None
            if self.codex_home is not None:
                from pycodex.core.mcp.oauth import stored_auth

                auth = stored_auth(self.config, self.codex_home)
                if auth is not None:
                    self.auth_status = "oAuth"
            client = create_mcp_http_client(headers=http_headers(self.config), auth=auth)

            async def on_response(response: Any) -> None:
                if response.status_code == 401:
                    self._refused = True

            client.event_hooks["response"].append(on_response)
            return _owned_http(self.config.url, client)
        from mcp.client.stdio import StdioServerParameters, stdio_client

        params = StdioServerParameters(command=self.config.command or "",
                                       args=list(self.config.args),
                                       env=stdio_environment(self.config),
                                       cwd=self.config.cwd)
        return stdio_client(params, errlog=sys.stderr)

    async def _list_tools(self, session: ClientSession) -> None:
        tools: list[types.Tool] = []
        cursor: str | None = None
        first = True
        while True:
            result = await session.list_tools(
                params=types.PaginatedRequestParams(cursor=cursor) if cursor else None)
            if first:
                self.tool_list_meta = result.meta
                first = False
            tools.extend(t for t in result.tools if self.config.tool_allowed(t.name))
            cursor = result.next_cursor
            if not cursor:
                break
        self.tools = tools

    async def _list_resources(self, session: ClientSession) -> None:
        """Every page of resources and of templates (a server without them is fine)."""
        for templates in (False, True):
            entries: list[Any] = []
            cursor: str | None = None
            try:
                while True:
                    page, cursor = await self._page(session, templates, cursor)
                    entries.extend(page)
                    if not cursor:
                        break
            except Exception as exc:
                logger.debug("%s: listing resources failed: %s", self.name, exc)
            if templates:
                self.resource_templates = entries
            else:
                self.resources = entries

    @staticmethod
    async def _page(session: ClientSession, templates: bool,
                    cursor: str | None) -> tuple[list[Any], str | None]:
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        if templates:
            listed = await session.list_resource_templates(params=params)
            return list(listed.resource_templates), listed.next_cursor
        result = await session.list_resources(params=params)
        return list(result.resources), result.next_cursor

    async def list_page(self, templates: bool,
                        cursor: str | None) -> tuple[list[Any], str | None]:
        """One page of the server's resources (or templates) from ``cursor``, asked live."""
        session = self._open()
        try:
            return await self._page(session, templates, cursor)
        except MCPError as exc:
            raise McpCallError(describe_error(exc), exc.code) from None

    def fail(self, error: str) -> None:
        """The server went away after start-up: reported as failed from now on."""
        self.state = "failed"
        self.error = error

    async def close(self) -> None:
        """Stop the server (the SDK closes stdin, then terminates the process tree)."""
        self._stop.set()
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), 10.0)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()

    # -- calls ---------------------------------------------------------------------------
    def _open(self) -> ClientSession:
        if self.session is None:
            raise McpCallError(self.error or f"MCP server `{self.name}` is not ready")
        return self.session

    async def call_tool(self, tool: str, arguments: dict[str, Any] | None,
                        meta: dict[str, Any] | None = None,
                        on_message: ProgressFn | None = None) -> types.CallToolResult:
        session = self._open()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            if on_message is not None and message:
                await on_message(message)

        try:
            result = await session.call_tool(
                tool, arguments, read_timeout_seconds=self.config.tool_timeout_secs,
                progress_callback=on_progress, meta=cast(Any, meta))
        except MCPError as exc:
            if self.session is None or exc.code == types.CONNECTION_CLOSED:
                self.fail(f"MCP server connection closed: {exc.error.message}")
            raise McpCallError(exc.error.message, exc.code) from None
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            self.fail("MCP server connection closed")
            raise McpCallError(describe_error(exc)) from None
        if not isinstance(result, types.CallToolResult):
            raise McpCallError("unexpected tools/call result")
        return result

    async def read_resource(self, uri: str) -> types.ReadResourceResult:
        session = self._open()
        try:
            result = await session.read_resource(uri)
        except MCPError as exc:
            raise McpCallError(describe_error(exc), exc.code) from None
        if not isinstance(result, types.ReadResourceResult):
            raise McpCallError("unexpected resources/read result")
        return result

    async def _on_elicitation(self, context: ClientRequestContext,
                              params: types.ElicitRequestParams
                              ) -> types.ElicitResult | types.ErrorData:
        request = params.model_dump(by_alias=True, exclude_none=True, mode="json")
        request.pop("_meta", None)
        try:
            answer = await self._elicit(self.name, request)
        except Exception as exc:
            return types.ErrorData(code=types.INTERNAL_ERROR, message=str(exc))
        return types.ElicitResult.model_validate(
            {"action": answer.get("action", "cancel"), "content": answer.get("content")})


@contextlib.asynccontextmanager
async def _owned_http(url: str, client: Any) -> Any:
    """The streamable-HTTP transport with an HTTP client it closes afterwards."""
    from mcp.client.streamable_http import streamable_http_client

    async with client, streamable_http_client(url, http_client=client) as streams:
        yield streams
