"""``$CODEX_HOME/auth.json``: read, write atomically with mode 0600, delete.

The file layout matches the reference CLI so either can read what the other wrote::

    {"auth_mode": "apikey"|"chatgpt", "OPENAI_API_KEY": str|null,
     "tokens": {"id_token", "access_token", "refresh_token", "account_id"},
     "last_refresh": "<RFC 3339>"}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pycodex.atomic import atomic_write

AUTH_FILE = "auth.json"
#: Where an unusable ``auth.json`` is kept when new credentials replace it.
UNUSABLE_FILE = "auth.json.unusable"


@dataclass(slots=True)
class StoredTokens:
    id_token: str
    access_token: str
    refresh_token: str
    account_id: str | None = None


@dataclass(slots=True)
class AuthFile:
    """The parsed contents of ``auth.json``."""

    auth_mode: str | None = None
    api_key: str | None = None
    tokens: StoredTokens | None = None
    last_refresh: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.auth_mode is not None:
            data["auth_mode"] = self.auth_mode
        data["OPENAI_API_KEY"] = self.api_key
        if self.tokens is not None:
            data["tokens"] = {
                "id_token": self.tokens.id_token,
                "access_token": self.tokens.access_token,
                "refresh_token": self.tokens.refresh_token,
                "account_id": self.tokens.account_id,
            }
        if self.last_refresh is not None:
            data["last_refresh"] = self.last_refresh
        return data

    @property
    def resolved_mode(self) -> str | None:
        """The mode the file stands for (older files carry no ``auth_mode``)."""
        if self.auth_mode in ("apikey", "chatgpt"):
            return self.auth_mode
        if self.api_key:
            return "apikey"
        if self.tokens is not None:
            return "chatgpt"
        return None


def auth_file_path(codex_home: Path) -> Path:
    return codex_home / AUTH_FILE


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class AuthFileError(ValueError):
    """``auth.json`` exists but cannot be used (truncated, not JSON, not an object)."""


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    # The messages name the file and the position, never its content (secrets).
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise AuthFileError(f"{path} is not valid UTF-8; fix it or log in again") from None
    except json.JSONDecodeError as exc:
        raise AuthFileError(
            f"{path} is not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno});"
            " fix it or log in again"
        ) from None
    if not isinstance(data, dict):
        raise AuthFileError(f"{path} is not a JSON object; fix it or log in again")
    return data


def load(codex_home: Path) -> AuthFile | None:
    """The stored credentials, or ``None`` when there is no ``auth.json``.

    Raises :class:`AuthFileError` (a ``ValueError``) when the file cannot be used and
    ``OSError`` when it cannot be read."""
    path = auth_file_path(codex_home)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    data = _parse(path, raw)
    tokens = data.get("tokens")
    stored: StoredTokens | None = None
    if isinstance(tokens, dict):
        stored = StoredTokens(
            id_token=_opt_str(tokens.get("id_token")) or "",
            access_token=_opt_str(tokens.get("access_token")) or "",
            refresh_token=_opt_str(tokens.get("refresh_token")) or "",
            account_id=_opt_str(tokens.get("account_id")),
        )
    return AuthFile(
        auth_mode=_opt_str(data.get("auth_mode")),
        api_key=_opt_str(data.get("OPENAI_API_KEY")),
        tokens=stored,
        last_refresh=_opt_str(data.get("last_refresh")),
    )


def _keep_unusable(path: Path) -> None:
    """Move an ``auth.json`` that cannot be used aside (``auth.json.unusable``, 0600) so
    that replacing it loses nothing the user may still want to repair."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return
    try:
        _parse(path, raw)
    except AuthFileError:
        atomic_write(path.with_name(UNUSABLE_FILE), raw, mode=0o600, durable=True,
                     follow_symlinks=False)


def save(codex_home: Path, auth: AuthFile) -> None:
    """Write ``auth.json`` atomically: a 0600 temp file in the same directory, fsync,
    ``os.replace``. The secret never exists on disk with wider permissions. A file there
    that cannot be used is kept as ``auth.json.unusable`` first."""
    codex_home.mkdir(parents=True, exist_ok=True)
    _keep_unusable(auth_file_path(codex_home))
    payload = json.dumps(auth.to_json(), indent=2).encode()
    atomic_write(auth_file_path(codex_home), payload, mode=0o600, durable=True,
                 follow_symlinks=False)


def delete(codex_home: Path) -> bool:
    """Remove ``auth.json``; ``True`` if it existed."""
    try:
        auth_file_path(codex_home).unlink()
    except FileNotFoundError:
        return False
    return True
