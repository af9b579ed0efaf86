"""An OAuth-protected MCP streamable-HTTP server for tests, on the official ``mcp`` SDK: one
process serves the MCP endpoint ``/mcp`` (bearer tokens required) and a minimal in-memory
authorization server (metadata, dynamic client registration, ``/authorize`` that approves at
once by redirecting to the client's callback, ``/token`` with refresh).

Run ``python -m tests.support.oauth_mcp_server PORT [ACCESS_TOKEN_TTL [open | split AS_PORT]]``;
it prints ``ready`` once listening (``open``: no OAuth at all; ``split``: the authorization
server answers on ``AS_PORT`` only, another origin than the MCP endpoint's). ``GET /stats``
reports how many tokens were issued and refreshed."""

from __future__ import annotations

import secrets
import sys
import time
import warnings
from typing import Any

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class MemoryAuthServer:
    """Approves every authorization request; tokens live for ``ttl`` seconds."""

    def __init__(self, ttl: int) -> None:
        self.ttl = ttl
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.stats = {"issued": 0, "refreshed": 0}

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        assert client_info.client_id is not None
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client: OAuthClientInformationFull,
                        params: AuthorizationParams) -> str:
        code = secrets.token_urlsafe(16)
        assert client.client_id is not None
        self.codes[code] = AuthorizationCode(
            code=code, scopes=params.scopes or [], expires_at=time.time() + 300,
            client_id=client.client_id, code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource)
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client: OAuthClientInformationFull,
                                      authorization_code: str) -> AuthorizationCode | None:
        return self.codes.get(authorization_code)

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access[access] = AccessToken(token=access, client_id=client_id, scopes=scopes,
                                          expires_at=int(time.time()) + self.ttl,
                                          resource=resource)
        self.refresh[refresh] = RefreshToken(token=refresh, client_id=client_id, scopes=scopes,
                                             resource=resource)
        return OAuthToken(access_token=access, token_type="Bearer", expires_in=self.ttl,
                          refresh_token=refresh, scope=" ".join(scopes) or None)

    async def exchange_authorization_code(self, client: OAuthClientInformationFull,
                                          authorization_code: AuthorizationCode) -> OAuthToken:
        self.codes.pop(authorization_code.code, None)
        self.stats["issued"] += 1
        return self._issue(authorization_code.client_id, authorization_code.scopes,
                           authorization_code.resource)

    async def load_refresh_token(self, client: OAuthClientInformationFull,
                                 refresh_token: str) -> RefreshToken | None:
        return self.refresh.get(refresh_token)

    async def exchange_refresh_token(self, client: OAuthClientInformationFull,
                                     refresh_token: RefreshToken,
                                     scopes: list[str]) -> OAuthToken:
        self.refresh.pop(refresh_token.token, None)
        self.stats["refreshed"] += 1
        return self._issue(refresh_token.client_id, scopes or refresh_token.scopes,
                           refresh_token.resource)

    async def load_access_token(self, token: str) -> AccessToken | None:
        access = self.access.get(token)
        if access is None or (access.expires_at is not None and access.expires_at < time.time()):
            return None
        return access

    async def revoke_token(self, token: Any) -> None:
        self.access.pop(getattr(token, "token", ""), None)


def build(port: int, ttl: int, *, protected: bool = True, issuer: str | None = None) -> Any:
    """The server; without ``protected`` it serves ``/mcp`` openly and knows no OAuth."""
    base = f"http://127.0.0.1:{port}"
    provider = MemoryAuthServer(ttl)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auth = AuthSettings(issuer_url=issuer or base, resource_server_url=f"{base}/mcp",
                            validate_token_resource=False,
                            client_registration_options=ClientRegistrationOptions(enabled=True))
    server = (MCPServer("oauth-test", version="1.0.0", auth_server_provider=provider, auth=auth)
              if protected else MCPServer("open-test", version="1.0.0"))

    @server.tool()
    def whoami() -> str:
        """Say who is calling."""
        return "an authorized client"

    @server.custom_route("/stats", methods=["GET"])
    async def stats(request: Request) -> Response:
        return JSONResponse(provider.stats)

    return server


#: what only the authorization server answers
_AS_PATHS = ("/authorize", "/token", "/register", "/revoke", "/.well-known/oauth-authorization")


def split_origins(app: Any, as_port: int) -> Any:
    """``app`` answering authorization-server paths on ``as_port`` only, the rest elsewhere."""
    async def routed(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            on_as = scope["server"][1] == as_port
            if on_as != scope["path"].startswith(_AS_PATHS):
                await Response(status_code=404)(scope, receive, send)
                return
        await app(scope, receive, send)
    return routed


def main() -> None:
    import anyio
    import uvicorn

    port = int(sys.argv[1])
    ttl = int(sys.argv[2]) if len(sys.argv) > 2 else 3600
    protected = sys.argv[3:4] != ["open"]
    as_port = int(sys.argv[4]) if sys.argv[3:4] == ["split"] else None
    app = build(port, ttl, protected=protected,
                issuer=f"http://127.0.0.1:{as_port}" if as_port else None).streamable_http_app()
    ports = [port] if as_port is None else [port, as_port]
    if as_port is not None:
        app = split_origins(app, as_port)
    servers = [uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=p, log_level="warning",
                                             lifespan="on" if p == port else "off"))
               for p in ports]

    async def run() -> None:
        async with anyio.create_task_group() as group:
            for server in servers:
                group.start_soon(server.serve)
            while not all(server.started for server in servers):
                await anyio.sleep(0.02)
            print("ready", flush=True)

    anyio.run(run)


if __name__ == "__main__":
    main()
