"""OAuth for streamable-HTTP MCP servers, on the ``mcp`` SDK's ``OAuthClientProvider``.

:class:`CredentialStorage` is the SDK's token storage over ``auth.mcp_credentials`` (the
reference's ``.credentials.json``). :func:`stored_auth` gives a starting server the provider
that sends, and refreshes, stored tokens. :class:`OAuthLogin` is one
``mcpServer/oauth/login``: a loopback callback listener (``http://127.0.0.1:<port>/callback/
<id>``, the id derived from the server URL as the reference derives it), then the SDK's flow
(discovery, dynamic client registration, PKCE) driven by connecting to the server; it stops
at the authorization URL, which the caller hands out, and finishes once the browser comes
back to the callback with a code. Tokens are never logged."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import hashlib
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    handle_auth_metadata_response,
    handle_protected_resource_response,
)
from mcp.client.session import ClientSession
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from pydantic import PrivateAttr

from pycodex.auth import mcp_credentials
from pycodex.auth.loopback import read_target, respond
from pycodex.config.mcp import McpServerConfig

__all__ = ["DEFAULT_LOGIN_TIMEOUT_SECS", "CredentialStorage", "OAuthLogin", "OAuthLoginError",
           "callback_id", "redirect_uri_for", "stored_auth"]

logger = logging.getLogger(__name__)

DEFAULT_LOGIN_TIMEOUT_SECS = 300
KEYRING_WRITE_FAILED = "failed to write OAuth tokens to keyring"
#: how long the request waits for the server to lead to an authorization URL
_DISCOVERY_TIMEOUT_SECS = 30.0
_DONE_PAGE = (b"<!doctype html><html><head><meta charset='utf-8'><title>Signed in</title>"
              b"</head><body><p>Signed in to the MCP server. You can close this window.</p>"
              b"</body></html>")


class OAuthLoginError(Exception):
    """The login could not start or did not complete (the text is the client's to see)."""


def callback_id(server_url: str) -> str:
    """The callback path suffix: base64url of the first 9 bytes of sha256(URL sans fragment)."""
    parts = urlsplit(server_url)
    if not parts.hostname:
        raise OAuthLoginError(f"MCP server URL `{server_url}` must include a host")
    bare = urlunsplit(parts._replace(fragment=""))
    digest = hashlib.sha256(bare.encode()).digest()[:9]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class CredentialStorage:
    """The SDK's ``TokenStorage`` over ``$CODEX_HOME/.credentials.json``. A just-registered
    client is held in memory and written with the tokens it gets.

    ``mcp_oauth_credentials_store = "keyring"`` asks for the OS keyring only; pycodex has
    none to offer, so it behaves as the reference does where no keyring service runs: no
    tokens are found, and storing fails with the reference's error ("auto" falls back to
    the file, as the reference's does without a keyring)."""

    def __init__(self, codex_home: Path, server_name: str, server_url: str,
                 store: str = "auto") -> None:
        self.codex_home = codex_home
        self.server_name = server_name
        self.server_url = server_url
        self.keyring_only = store == "keyring"
        self._client: OAuthClientInformationFull | None = None

    def stored(self) -> mcp_credentials.StoredMcpTokens | None:
        if self.keyring_only:
            return None
        return mcp_credentials.load(self.codex_home, self.server_name, self.server_url)

    async def get_tokens(self) -> OAuthToken | None:
        stored = self.stored()
        if stored is None:
            return None
        expires_in = None
        if stored.expires_at is not None:
            expires_in = max(0, (stored.expires_at - int(time.time() * 1000)) // 1000)
        return OAuthToken(access_token=stored.access_token, token_type="Bearer",
                          expires_in=expires_in, refresh_token=stored.refresh_token,
                          scope=" ".join(stored.scopes) or None)

    async def set_tokens(self, tokens: OAuthToken) -> None:
        if self.keyring_only:
            raise OAuthLoginError(KEYRING_WRITE_FAILED)
        previous = self.stored()
        client = self._client
        client_id = client.client_id if client is not None else \
            previous.client_id if previous is not None else ""
        issuer = client.issuer if client is not None else \
            previous.issuer if previous is not None else None
        expires_at = (int(time.time() * 1000) + tokens.expires_in * 1000
                      if tokens.expires_in is not None else None)
        mcp_credentials.save(self.codex_home, mcp_credentials.StoredMcpTokens(
            server_name=self.server_name, server_url=self.server_url, client_id=client_id,
            issuer=issuer, access_token=tokens.access_token, expires_at=expires_at,
            refresh_token=tokens.refresh_token,
            scopes=tokens.scope.split() if tokens.scope else []))

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        if self._client is not None:
            return self._client
        stored = self.stored()
        if stored is None or not stored.client_id:
            return None
        return OAuthClientInformationFull(client_id=stored.client_id, issuer=stored.issuer,
                                          token_endpoint_auth_method="none")

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self._client = client_info


class _Provider(OAuthClientProvider):
    """The SDK provider, plus: stored tokens keep their expiry, so an expired one is
    refreshed before use; and that refresh goes to the token endpoint of the authorization
    server, discovered first (the SDK, before any 401, would post to ``<origin>/token``,
    wrong when the authorization server lives on another origin)."""

    async def _initialize(self) -> None:
        await super()._initialize()
        tokens = self.context.current_tokens
        if tokens is not None and tokens.expires_in is not None:
            self.context.update_token_expiry(tokens)

    async def _refresh_token(self) -> httpx2.Request:
        if self.context.oauth_metadata is None:
            try:
                await self._discover_metadata()
            except (httpx2.HTTPError, ValueError) as exc:  # the SDK's fallback then
                logger.info("OAuth metadata discovery for `%s` failed: %s",
                            self.context.server_url, type(exc).__name__)
        return await super()._refresh_token()

    async def _discover_metadata(self) -> None:
        """Find the authorization server (the one the stored client was registered with,
        else the one the protected resource metadata names) and read its metadata."""
        server_url = self.context.server_url
        client = self.context.client_info
        issuer = client.issuer if client is not None else None
        async with create_mcp_http_client() as http:
            if issuer is None:
                for url in build_protected_resource_metadata_discovery_urls(None, server_url):
                    prm = await handle_protected_resource_response(await http.get(url))
                    if prm is not None:
                        self.context.protected_resource_metadata = prm
                        issuer = str(prm.authorization_servers[0])
                        break
            for url in build_oauth_authorization_server_metadata_discovery_urls(issuer,
                                                                                server_url):
                ok, metadata = await handle_auth_metadata_response(await http.get(url))
                if not ok:
                    return
                if metadata is not None:
                    self.context.auth_server_url = issuer
                    self.context.oauth_metadata = metadata
                    return


class _ClientMetadata(OAuthClientMetadata):
    """Client metadata whose scope, once the login asked for scopes, stays the asked one
    (registered and requested as the reference does; the SDK would replace it with the
    scopes the server advertises)."""

    _pinned: bool = PrivateAttr(default=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "scope" and self._pinned:
            return
        super().__setattr__(name, value)


def _metadata(redirect_uri: str, scopes: tuple[str, ...] = ()) -> OAuthClientMetadata:
    metadata = _ClientMetadata.model_validate({
        "client_name": "Codex", "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        "token_endpoint_auth_method": "none", "scope": " ".join(scopes) or None})
    metadata._pinned = bool(scopes)
    return metadata


#: one provider per stored login, shared by every connection to the server, so that an
#: expired token is refreshed once (a second refresh with a rotated-out refresh token fails)
_PROVIDERS: dict[tuple[Path, str, str], _Provider] = {}


def stored_auth(config: McpServerConfig, codex_home: Path) -> OAuthClientProvider | None:
    """The auth of a starting HTTP server that has stored tokens (None without any): the
    provider already serving them, or a new one once the stored tokens changed under it
    (a new login)."""
    if config.url is None or config.bearer_token_env_var:
        return None
    storage = CredentialStorage(codex_home, config.name, config.url, config.oauth_store)
    stored = storage.stored()
    key = (codex_home, config.name, config.url)
    if stored is None:
        _PROVIDERS.pop(key, None)
        return None
    provider = _PROVIDERS.get(key)
    held = provider.context.current_tokens if provider is not None else None
    if provider is None or (held is not None and held.access_token != stored.access_token):
        redirect = f"http://127.0.0.1/callback/{callback_id(config.url)}"
        provider = _PROVIDERS[key] = _Provider(config.url, _metadata(redirect), storage)
    return provider


def redirect_uri_for(server_url: str, callback_url: str | None, port: int) -> str:
    """The redirect URI a login sends: ``mcp_oauth_callback_url`` when set, else the
    loopback listener's ``/callback``; either way with the server's callback id appended
    to the path, as the reference does."""
    base = callback_url if callback_url is not None else f"http://127.0.0.1:{port}/callback"
    parts = urlsplit(base)
    if not parts.scheme or (parts.scheme in ("http", "https") and not parts.hostname):
        raise OAuthLoginError(f"invalid MCP OAuth callback URL `{base}`")
    path = parts.path or "/"
    suffix = callback_id(server_url)
    path = f"{path}{suffix}" if path.endswith("/") else f"{path}/{suffix}"
    return urlunsplit(parts._replace(path=path))


def _bind_host(callback_url: str | None) -> str:
    """Loopback unless the configured callback URL names another host (then every
    interface, so that host can forward to it), as the reference binds."""
    host = urlsplit(callback_url).hostname if callback_url else None
    return "127.0.0.1" if host in (None, "localhost", "127.0.0.1", "::1") else "0.0.0.0"


#: the reference's (musl) texts of the errors a listener meets
_OS_ERRORS = {errno.EADDRINUSE: "Address in use", errno.EACCES: "Permission denied",
              errno.EADDRNOTAVAIL: "Address not available"}


def _os_error(exc: OSError) -> str:
    if exc.errno is None:
        return str(exc)
    text = _OS_ERRORS.get(exc.errno, exc.strerror or str(exc))
    return f"{text} (os error {exc.errno})"


def _provider_error(params: dict[str, str]) -> str:
    error, description = params.get("error"), params.get("error_description")
    if error and description:
        return f"OAuth provider returned `{error}`: {description}"
    if error:
        return f"OAuth provider returned `{error}`"
    return f"OAuth error: {description}"


class OAuthLogin:
    """One login: :meth:`start` returns the authorization URL; :meth:`wait` returns None once
    the tokens are stored, or the error text."""

    def __init__(self, config: McpServerConfig, codex_home: Path, *,
                 scopes: tuple[str, ...] = (), timeout_secs: float = DEFAULT_LOGIN_TIMEOUT_SECS,
                 callback_port: int | None = None, callback_url: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        assert config.url is not None
        self.config = config
        self.url = config.url
        self.codex_home = codex_home
        self.scopes = scopes
        self.timeout_secs = max(1.0, timeout_secs)
        self.callback_port = callback_port
        self.callback_url = callback_url
        self.headers = headers or {}
        loop = asyncio.get_running_loop()
        self._authorization_url: asyncio.Future[str] = loop.create_future()
        self._callback: asyncio.Future[AuthorizationCodeResult] = loop.create_future()
        self._listener: asyncio.Server | None = None
        self._flow: asyncio.Task[None] | None = None

    async def start(self) -> str:
        """Listen for the callback and run the flow up to the authorization URL."""
        if self.callback_port == 0:
            raise OAuthLoginError("invalid MCP OAuth callback port `0`: port must be between "
                                  "1 and 65535")
        path: list[str] = []  # known once listening: the callback comes after that
        try:
            self._listener = await asyncio.start_server(
                lambda r, w: self._serve(r, w, path[0]), _bind_host(self.callback_url),
                self.callback_port or 0)
        except OSError as exc:
            raise OAuthLoginError(_os_error(exc)) from None
        port = self._listener.sockets[0].getsockname()[1]
        try:
            redirect_uri = redirect_uri_for(self.url, self.callback_url, port)
        except OAuthLoginError:
            await self.close()
            raise
        path.append(urlsplit(redirect_uri).path)
        provider = _Provider(
            self.url, _metadata(redirect_uri, self.scopes),
            CredentialStorage(self.codex_home, self.config.name, self.url,
                              self.config.oauth_store),
            redirect_handler=self._redirect, callback_handler=self._wait_callback)
        self._flow = asyncio.get_running_loop().create_task(self._connect(provider))
        url_or_end: set[asyncio.Future[Any]] = {self._authorization_url, self._flow}
        done, _ = await asyncio.wait(url_or_end, timeout=_DISCOVERY_TIMEOUT_SECS,
                                     return_when=asyncio.FIRST_COMPLETED)
        if self._authorization_url in done:
            return self._authorization_url.result()
        await self.close()
        if self._flow in done and self._flow.exception() is not None:
            raise OAuthLoginError(_describe(self._flow.exception())) from None
        if self._flow in done:
            raise OAuthLoginError("the server did not ask for OAuth authorization")
        raise OAuthLoginError("timed out waiting for the OAuth authorization URL")

    async def wait(self) -> str | None:
        assert self._flow is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._flow), self.timeout_secs)
            return None
        except TimeoutError:
            return "timed out waiting for OAuth callback"
        except Exception as exc:
            return _describe(exc)
        finally:
            await self.close()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        if self._flow is not None and not self._flow.done():
            self._flow.cancel()
            with contextlib.suppress(BaseException):
                await self._flow

    # -- the flow ------------------------------------------------------------------------
    async def _connect(self, provider: OAuthClientProvider) -> None:
        """Connect to the server with the provider: its 401 starts the flow, and the
        connection succeeding proves the tokens."""
        from mcp.client.streamable_http import streamable_http_client

        client = create_mcp_http_client(headers=self.headers, auth=provider)
        async with client, streamable_http_client(self.url, http_client=client) as streams, \
                ClientSession(streams[0], streams[1]) as session:
            await session.initialize()

    async def _redirect(self, authorization_url: str) -> None:
        if not self._authorization_url.done():
            self._authorization_url.set_result(authorization_url)

    async def _wait_callback(self) -> AuthorizationCodeResult:
        return await self._callback

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     path: str) -> None:
        try:
            target = await read_target(reader)
            params = dict(parse_qsl(target.query))
            if target.path != path or self._callback.done():
                respond(writer, 400, b"Invalid OAuth callback")
            elif params.get("code") and params.get("state"):
                respond(writer, 200, _DONE_PAGE, "text/html; charset=utf-8")
                self._callback.set_result(AuthorizationCodeResult(
                    code=params["code"], state=params["state"], iss=params.get("iss")))
            elif params.get("error") or params.get("error_description"):
                message = _provider_error(params)
                respond(writer, 400, message.encode())
                self._callback.set_exception(OAuthLoginError(message))
            else:
                respond(writer, 400, b"Invalid OAuth callback")
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError, TimeoutError):
            pass
        finally:
            with contextlib.suppress(OSError):
                writer.close()


def _describe(exc: BaseException | None) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if exc is None:
        return "OAuth login failed"
    return str(exc) or type(exc).__name__
