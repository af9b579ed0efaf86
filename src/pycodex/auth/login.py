"""Interactive ChatGPT sign-in: the localhost OAuth callback server (browser flow) and the
device-code flow. Both end by persisting managed tokens through the :class:`AuthManager`.

A :class:`LoginAttempt` resolves ``done`` with ``None`` on success or the error text the
server reports in ``account/login/completed``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qsl, urlencode

from pycodex.auth import oauth
from pycodex.auth.jwt import try_parse_claims
from pycodex.auth.loopback import read_target
from pycodex.auth.loopback import respond as _respond
from pycodex.auth.manager import AuthManager

logger = logging.getLogger(__name__)

_Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

DEFAULT_PORT = 1455
#: pycodex-specific: the callback port (``0`` picks a free one).
PORT_ENV = "PYCODEX_LOGIN_PORT"
LOGIN_TIMEOUT_S = 600.0
DEVICE_TIMEOUT_S = 15 * 60.0
SCOPE = "openid profile email offline_access api.connectors.read api.connectors.invoke"

_SUCCESS_PAGE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>Signed in</title></head>"
    b"<body><p>Signed in to Codex. You can close this window.</p></body></html>"
)


class LoginAttempt:
    """One in-flight sign-in; cancel it or await ``done``."""

    def __init__(self) -> None:
        self.login_id = str(uuid.uuid4())
        self.done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._task: asyncio.Task[None] | None = None
        self._server: asyncio.Server | None = None

    def finish(self, error: str | None) -> None:
        if not self.done.done():
            self.done.set_result(error)
        if self._server is not None:
            self._server.close()
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    def cancel(self, reason: str) -> None:
        """Stop the attempt; it completes with ``reason`` as its error."""
        self.finish(reason)


def workspace_error(allowed: Sequence[str], actual: str | None) -> str | None:
    """Why a token for workspace ``actual`` is refused, or ``None`` when it is allowed."""
    if not allowed:
        return None
    if actual is None:
        return (
            "Login is restricted to a specific workspace, but the token did not include an "
            "chatgpt_account_id claim."
        )
    if actual in allowed:
        return None
    return f"Login is restricted to workspace id(s) {', '.join(allowed)}."


def _pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _port() -> int:
    raw = os.environ.get(PORT_ENV)
    try:
        return int(raw) if raw else DEFAULT_PORT
    except ValueError:
        return DEFAULT_PORT


async def _persist(
    manager: AuthManager, tokens: oauth.IssuedTokens, allowed: Sequence[str]
) -> str | None:
    problem = workspace_error(allowed, try_parse_claims(tokens.id_token).account_id)
    if problem:
        return problem
    try:
        manager.login_chatgpt(tokens.id_token, tokens.access_token, tokens.refresh_token)
    except (OSError, ValueError) as exc:
        return f"Sign-in completed but credentials could not be saved locally. {exc}"
    return None


# -- browser flow ------------------------------------------------------------------------------
async def _bind(handler: _Handler, port: int) -> asyncio.Server:
    last: OSError | None = None
    for _ in range(10):
        try:
            return await asyncio.start_server(handler, "127.0.0.1", port)
        except OSError as exc:
            last = exc
            await _cancel_previous(port)
            await asyncio.sleep(0.2)
    assert last is not None
    raise last


async def _cancel_previous(port: int) -> None:
    """Ask a login server left on ``port`` (e.g. another instance) to give it up."""
    with contextlib.suppress(OSError, asyncio.TimeoutError):
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), 1.0
        )
        writer.write(b"GET /cancel HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        await writer.drain()
        await asyncio.wait_for(reader.read(), 1.0)
        writer.close()


async def start_browser_login(
    manager: AuthManager, *, originator: str, allowed_workspaces: Sequence[str] = ()
) -> tuple[LoginAttempt, str]:
    """Start the callback server; returns the attempt and the URL to open.
    Raises ``OSError`` when the server cannot listen."""
    attempt = LoginAttempt()
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(32)
    issuer_url = oauth.issuer()
    redirect_uri = ""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _serve_one(reader, writer)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                writer.close()

    async def _serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        url = await read_target(reader)
        if url.path == "/cancel":
            _respond(writer, 200, b"Login cancelled")
            attempt.finish("Login server error: Login cancelled")
            return
        if url.path != "/auth/callback":
            _respond(writer, 404, b"Not Found")
            return
        params = dict(parse_qsl(url.query))
        if params.get("state") != state:
            _respond(writer, 400, b"State mismatch")
            return
        error = await _callback(params)
        if error is None:
            _respond(writer, 200, _SUCCESS_PAGE, "text/html; charset=utf-8")
        else:
            _respond(writer, 400, error.encode())
        await writer.drain()
        attempt.finish(None if error is None else f"Login server error: {error}")

    async def _callback(params: dict[str, str]) -> str | None:
        if params.get("error"):
            detail = params.get("error_description") or params["error"]
            return f"Sign-in failed: {detail}"
        code = params.get("code")
        if not code:
            return "Missing authorization code. Sign-in could not be completed."
        try:
            tokens = await oauth.exchange_code(issuer_url, redirect_uri, verifier, code)
        except OSError as exc:
            return f"Token exchange failed: {exc}"
        return await _persist(manager, tokens, allowed_workspaces)

    server = await _bind(handle, _port())
    port = server.sockets[0].getsockname()[1]
    redirect_uri = f"http://127.0.0.1:{port}/auth/callback"
    attempt._server = server
    query = [
        ("response_type", "code"),
        ("client_id", oauth.CLIENT_ID),
        ("redirect_uri", redirect_uri),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("state", state),
        ("scope", SCOPE),
        ("id_token_add_organizations", "true"),
        ("codex_cli_simplified_flow", "true"),
        ("originator", originator),
    ]
    if allowed_workspaces:
        query.append(("allowed_workspace_id", ",".join(allowed_workspaces)))
    auth_url = f"{issuer_url}/oauth/authorize?{urlencode(query)}"

    async def expire() -> None:
        await asyncio.sleep(LOGIN_TIMEOUT_S)
        attempt.finish("Login timed out")

    attempt._task = asyncio.get_running_loop().create_task(expire())
    return attempt, auth_url


# -- device code flow --------------------------------------------------------------------------
async def start_device_login(
    manager: AuthManager, *, allowed_workspaces: Sequence[str] = ()
) -> tuple[LoginAttempt, str, str]:
    """Request a user code; returns the attempt, the verification URL and the code.
    Raises ``OSError`` with the reason when no code could be obtained."""
    issuer_url = oauth.issuer()
    api = f"{issuer_url}/api/accounts"
    status, reason, text = await oauth.post(
        f"{api}/deviceauth/usercode", json={"client_id": oauth.CLIENT_ID}
    )
    if status == 404:
        raise OSError(
            "device code login is not enabled for this Codex server. Use the browser login "
            "or verify the server URL."
        )
    if not 200 <= status < 300:
        raise OSError(f"device code request failed with status {status} {reason}".rstrip())
    try:
        payload = json.loads(text)
        device_auth_id = str(payload["device_auth_id"])
        user_code = str(payload.get("user_code") or payload["usercode"])
        interval = float(str(payload.get("interval") or "0").strip() or 0)
    except (ValueError, KeyError, TypeError) as exc:
        raise OSError(f"invalid device code response: {exc}") from None
    attempt = LoginAttempt()

    async def poll() -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEVICE_TIMEOUT_S
        body = {"device_auth_id": device_auth_id, "user_code": user_code}
        try:
            while True:
                st, rs, tx = await oauth.post(f"{api}/deviceauth/token", json=body)
                if 200 <= st < 300:
                    break
                if st not in (403, 404):
                    attempt.finish(f"device auth failed with status {st} {rs}".rstrip())
                    return
                if loop.time() >= deadline:
                    attempt.finish("device auth timed out after 15 minutes")
                    return
                await asyncio.sleep(min(interval, max(0.0, deadline - loop.time())))
            grant = json.loads(tx)
            tokens = await oauth.exchange_code(
                issuer_url,
                f"{issuer_url}/deviceauth/callback",
                str(grant["code_verifier"]),
                str(grant["authorization_code"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            attempt.finish(f"device code exchange failed: {exc}")
            return
        attempt.finish(await _persist(manager, tokens, allowed_workspaces))

    attempt._task = asyncio.get_running_loop().create_task(poll())
    return attempt, f"{issuer_url}/codex/device", user_code
