"""The process-wide credentials: API key, managed ChatGPT tokens (``auth.json``) or
host-supplied ChatGPT tokens kept in memory (``chatgptAuthTokens``).

The model client uses it as its token source::

    token = await manager.bearer()           # Authorization: Bearer <token>, or None
    account = manager.chatgpt_account_id()   # ChatGPT-Account-Id header, or None
    ... got HTTP 401 ...
    if await manager.on_unauthorized():      # refreshed: retry the request once
        ...
    # AuthRefreshError (with the client-facing text) when a refresh was attempted and
    # failed; False when this kind of credential cannot be refreshed (API key, none).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from pycodex.auth import storage
from pycodex.auth.errors import AuthRefreshError
from pycodex.auth.jwt import TokenClaims, normalize_plan_type, parse_claims, try_parse_claims
from pycodex.redaction import register_secret

logger = logging.getLogger(__name__)

#: Refresh a managed access token this long before its ``exp``.
EXPIRY_MARGIN_S = 60


@dataclass(frozen=True, slots=True)
class ExternalTokens:
    """Tokens supplied by the host app (``account/login/start`` ``chatgptAuthTokens`` or
    an ``account/chatgptAuthTokens/refresh`` answer)."""

    access_token: str
    chatgpt_account_id: str
    chatgpt_plan_type: str | None = None


#: ``refresher(previous_account_id) -> ExternalTokens``; raises :class:`AuthRefreshError`.
ExternalRefresher = Callable[[str | None], Awaitable[ExternalTokens]]


@dataclass(frozen=True, slots=True)
class _External:
    access_token: str
    account_id: str
    plan_type: str
    claims: TokenClaims


class AuthManager:
    """Owns the active credentials; safe to share between coroutines."""

    def __init__(
        self, codex_home: Path, *, refresher: ExternalRefresher | None = None
    ) -> None:
        self.codex_home = codex_home
        #: Asks the host app for fresh external tokens (injected by the api layer).
        self.refresher = refresher
        self._file: storage.AuthFile | None = None
        self._external: _External | None = None
        self._lock = asyncio.Lock()
        self.reload()

    # -- state ------------------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read ``auth.json`` (external tokens, if any, stay in charge)."""
        try:
            self._file = storage.load(self.codex_home)
        except (OSError, ValueError) as exc:
            logger.warning("ignoring unreadable auth.json: %s", exc)
            self._file = None

    def auth_mode(self) -> str | None:
        """``"apikey"``, ``"chatgpt"``, ``"chatgptAuthTokens"`` or ``None``."""
        if self._external is not None:
            return "chatgptAuthTokens"
        return self._file.resolved_mode if self._file is not None else None

    @property
    def is_external(self) -> bool:
        return self._external is not None

    def is_chatgpt(self) -> bool:
        return self.auth_mode() in ("chatgpt", "chatgptAuthTokens")

    def api_key(self) -> str | None:
        if self.auth_mode() == "apikey" and self._file is not None:
            return self._file.api_key
        return None

    def _managed_claims(self) -> TokenClaims:
        tokens = self._file.tokens if self._file is not None else None
        return try_parse_claims(tokens.id_token if tokens else None)

    def claims(self) -> TokenClaims:
        """Claims of the active ChatGPT identity (empty for API-key or no auth)."""
        if self._external is not None:
            return self._external.claims
        if self.auth_mode() == "chatgpt":
            return self._managed_claims()
        return TokenClaims()

    def plan_type(self) -> str | None:
        """Wire ``PlanType`` of the active ChatGPT identity, else ``None``."""
        if self._external is not None:
            return self._external.plan_type
        if self.auth_mode() == "chatgpt":
            return self._managed_claims().plan_type
        return None

    def chatgpt_account_id(self) -> str | None:
        """Value for the ``ChatGPT-Account-Id`` header, if any."""
        if self._external is not None:
            return self._external.account_id
        if self.auth_mode() == "chatgpt" and self._file is not None and self._file.tokens:
            return self._file.tokens.account_id or self._managed_claims().account_id
        return None

    def current_token(self) -> str | None:
        """The bearer token as it stands, without any refresh (never logged)."""
        token = self._current_token()
        register_secret(token)
        return token

    def _current_token(self) -> str | None:
        mode = self.auth_mode()
        if self._external is not None:
            return self._external.access_token
        if mode == "apikey":
            return self.api_key()
        if mode == "chatgpt" and self._file is not None and self._file.tokens:
            return self._file.tokens.access_token or None
        return None

    # -- token source -----------------------------------------------------------------------
    async def bearer(self) -> str | None:
        """The token to send as ``Authorization: Bearer``; refreshes an expired managed
        ChatGPT access token first (a failed proactive refresh keeps the old token)."""
        if self.auth_mode() == "chatgpt" and self._access_token_expired():
            try:
                await self.refresh_managed()
            except AuthRefreshError as exc:
                logger.warning("proactive token refresh failed: %s", exc.message)
        return self.current_token()

    async def on_unauthorized(self) -> bool:
        """Called after an HTTP 401: refresh the credentials once.

        Returns ``True`` when fresh credentials are in place (retry the request), ``False``
        when the active credentials cannot be refreshed. Raises :class:`AuthRefreshError`
        when a refresh was attempted and failed; callers surface their original 401 error.
        """
        before = self.current_token()
        async with self._lock:
            if self.current_token() != before:
                return True  # another request refreshed while we waited
            if self._external is not None:
                await self._refresh_external()
                return True
            if self.auth_mode() == "chatgpt":
                await self._refresh_managed_locked()
                return True
        return False

    def _access_token_expired(self) -> bool:
        tokens = self._file.tokens if self._file is not None else None
        if tokens is None or not tokens.refresh_token:
            return False
        exp = try_parse_claims(tokens.access_token).expires_at
        return exp is not None and exp - EXPIRY_MARGIN_S <= time.time()

    async def _refresh_external(self) -> None:
        if self.refresher is None or self._external is None:
            raise AuthRefreshError("auth refresh request canceled: channel closed")
        tokens = await self.refresher(self._external.account_id)
        try:
            self._external = _make_external(tokens)
        except ValueError as exc:
            raise AuthRefreshError(str(exc)) from None

    async def refresh_managed(self) -> None:
        """Run the refresh-token grant for managed ChatGPT auth and persist the result."""
        async with self._lock:
            await self._refresh_managed_locked()

    async def _refresh_managed_locked(self) -> None:
        from pycodex.auth import oauth

        current = self._file
        if current is None or current.tokens is None or not current.tokens.refresh_token:
            raise AuthRefreshError("Token data is not available.")
        try:
            fresh = await oauth.refresh_tokens(current.tokens.refresh_token)
        except OSError as exc:
            raise AuthRefreshError(str(exc)) from None
        id_token = fresh["id_token"] or current.tokens.id_token
        tokens = storage.StoredTokens(
            id_token=id_token,
            access_token=fresh["access_token"] or current.tokens.access_token,
            refresh_token=fresh["refresh_token"] or current.tokens.refresh_token,
            account_id=current.tokens.account_id or try_parse_claims(id_token).account_id,
        )
        updated = storage.AuthFile(
            auth_mode=current.auth_mode,
            api_key=current.api_key,
            tokens=tokens,
            last_refresh=storage.now_rfc3339(),
        )
        try:
            storage.save(self.codex_home, updated)
        except OSError as exc:
            raise AuthRefreshError(f"failed to save refreshed tokens: {exc}") from None
        self._file = updated

    # -- changes ----------------------------------------------------------------------------
    def login_api_key(self, api_key: str) -> None:
        """Persist an API key (replaces any stored credentials). Raises ``OSError``."""
        auth = storage.AuthFile(auth_mode="apikey", api_key=api_key)
        storage.save(self.codex_home, auth)
        self._file = auth
        self._external = None

    def login_chatgpt(
        self, id_token: str, access_token: str, refresh_token: str, api_key: str | None = None
    ) -> None:
        """Persist managed ChatGPT tokens from a finished login. Raises ``OSError`` or
        ``ValueError`` (bad id token)."""
        claims = parse_claims(id_token)
        tokens = storage.StoredTokens(id_token, access_token, refresh_token, claims.account_id)
        auth = storage.AuthFile(
            auth_mode="chatgpt", api_key=api_key, tokens=tokens, last_refresh=storage.now_rfc3339()
        )
        storage.save(self.codex_home, auth)
        self._file = auth
        self._external = None

    def set_external(self, tokens: ExternalTokens) -> None:
        """Use host-supplied tokens (memory only). Raises ``ValueError`` with the reason
        when the access token is not a readable JWT."""
        self._external = _make_external(tokens)

    def logout(self) -> None:
        """Forget every credential and remove ``auth.json``. Raises ``OSError``."""
        self._external = None
        storage.delete(self.codex_home)
        self._file = None


def _make_external(tokens: ExternalTokens) -> _External:
    claims = parse_claims(tokens.access_token)
    if tokens.chatgpt_plan_type is not None:
        plan = normalize_plan_type(tokens.chatgpt_plan_type)
    else:
        plan = claims.plan_type or "unknown"
    return _External(tokens.access_token, tokens.chatgpt_account_id, plan, claims)
