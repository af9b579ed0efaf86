"""OAuth tokens of streamable-HTTP MCP servers, stored as the reference stores them without an
OS keyring: ``$CODEX_HOME/.credentials.json``, one entry per server keyed
``<name>|<16 hex of sha256 of {"type":"http","url":...,"headers":{}}>``, written atomically
with mode 0600 (an emptied store removes the file). Token values are never logged; a
credentials file that cannot be read counts as holding no tokens (and is left as is)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import msgspec

from pycodex.atomic import atomic_write

__all__ = ["CREDENTIALS_FILE", "StoredMcpTokens", "delete", "load", "needs_refresh", "save",
           "store_key"]

logger = logging.getLogger(__name__)

CREDENTIALS_FILE = ".credentials.json"
#: as the reference: a token that expires within this margin is refreshed first
_REFRESH_SKEW_MS = 30_000


class StoredMcpTokens(msgspec.Struct, kw_only=True, omit_defaults=False):
    """One server's entry (the reference's field names)."""

    server_name: str
    server_url: str
    issuer: str | None = None
    client_id: str
    access_token: str
    expires_at: int | None = None
    """Unix milliseconds."""
    refresh_token: str | None = None
    scopes: list[str] = msgspec.field(default_factory=list)

    def __repr__(self) -> str:  # never show the secrets
        return f"StoredMcpTokens(server_name={self.server_name!r}, url={self.server_url!r})"


def store_key(server_name: str, server_url: str) -> str:
    payload = json.dumps({"type": "http", "url": server_url, "headers": {}},
                         separators=(",", ":"), ensure_ascii=False)
    return f"{server_name}|{hashlib.sha256(payload.encode()).hexdigest()[:16]}"


def _path(codex_home: Path) -> Path:
    return codex_home / CREDENTIALS_FILE


def _read(codex_home: Path) -> dict[str, Any]:
    try:
        raw = _path(codex_home).read_bytes()
    except FileNotFoundError:
        return {}
    try:
        store = json.loads(raw)
    except ValueError:
        raise ValueError(f"failed to parse credentials file at {_path(codex_home)}") from None
    if not isinstance(store, dict):
        raise ValueError(f"failed to parse credentials file at {_path(codex_home)}")
    return store


def _write(codex_home: Path, store: dict[str, Any]) -> None:
    path = _path(codex_home)
    if not store:
        path.unlink(missing_ok=True)
        return
    codex_home.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(store, separators=(",", ":")).encode(), mode=0o600,
                 durable=True, follow_symlinks=False)


def load(codex_home: Path, server_name: str, server_url: str) -> StoredMcpTokens | None:
    """The stored tokens of a server (None when there are none or the file is unusable)."""
    try:
        entry = _read(codex_home).get(store_key(server_name, server_url))
        return None if entry is None else msgspec.convert(entry, StoredMcpTokens)
    except (OSError, ValueError, msgspec.ValidationError) as exc:
        logger.warning("MCP OAuth credentials of `%s` unreadable: %s", server_name,
                       type(exc).__name__)
        return None


def save(codex_home: Path, tokens: StoredMcpTokens) -> None:
    """Store (or replace) one server's tokens; raises ``OSError``/``ValueError``."""
    store = _read(codex_home)
    store[store_key(tokens.server_name, tokens.server_url)] = msgspec.to_builtins(tokens)
    _write(codex_home, store)


def delete(codex_home: Path, server_name: str, server_url: str) -> bool:
    store = _read(codex_home)
    if store.pop(store_key(server_name, server_url), None) is None:
        return False
    _write(codex_home, store)
    return True


def needs_refresh(tokens: StoredMcpTokens, now_ms: int | None = None) -> bool:
    if tokens.expires_at is None:
        return False
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return now + _REFRESH_SKEW_MS >= tokens.expires_at
