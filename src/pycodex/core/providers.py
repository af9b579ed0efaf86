"""Model providers: the built-in ones and ``[model_providers.<id>]`` from config.toml.

``resolve_provider(config, provider_id)`` returns a :class:`ProviderInfo` with defaults
filled in; :func:`provider_token_source` gives the bearer token a provider uses (its
``env_key`` variable, ``experimental_bearer_token``, or the API key of the Codex login).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import msgspec

from pycodex import PROTOCOL_VERSION
from pycodex.redaction import register_secret

WireApi = Literal["responses", "chat"]

DEFAULT_REQUEST_MAX_RETRIES = 4
DEFAULT_STREAM_MAX_RETRIES = 5
DEFAULT_STREAM_IDLE_TIMEOUT_MS = 300_000
MAX_RETRIES_CAP = 100

OPENAI_ID = "openai"
OLLAMA_ID = "ollama"
LMSTUDIO_ID = "lmstudio"
OSS_ID = "oss"
OPENAI_BASE_URL = "https://api.openai.com/v1"
OLLAMA_PORT = 11434
LMSTUDIO_PORT = 1234


class ProviderError(Exception):
    """A provider cannot be used: unknown id, bad table, missing credentials."""


class UnknownProviderError(ProviderError):
    def __init__(self, provider_id: str) -> None:
        super().__init__(f"Model provider `{provider_id}` not found")
        self.provider_id = provider_id


class MissingEnvKeyError(ProviderError):
    """``env_key`` names a variable that is unset or empty."""

    def __init__(self, var: str, instructions: str | None = None) -> None:
        text = f"Missing environment variable: `{var}`."
        if instructions:
            text += f" {instructions}"
        super().__init__(text)
        self.var = var
        self.instructions = instructions


class ProviderInfo(msgspec.Struct, frozen=True):
    """Everything the model client needs to know about one provider."""

    id: str
    name: str
    base_url: str
    wire_api: WireApi = "responses"
    env_key: str | None = None
    env_key_instructions: str | None = None
    experimental_bearer_token: str | None = None
    query_params: dict[str, str] = msgspec.field(default_factory=dict)
    http_headers: dict[str, str] = msgspec.field(default_factory=dict)
    env_http_headers: dict[str, str] = msgspec.field(default_factory=dict)
    request_max_retries: int = DEFAULT_REQUEST_MAX_RETRIES
    stream_max_retries: int = DEFAULT_STREAM_MAX_RETRIES
    stream_idle_timeout_ms: int = DEFAULT_STREAM_IDLE_TIMEOUT_MS
    requires_openai_auth: bool = False
    supports_websockets: bool = False
    builtin: bool = False

    def url(self, path: str) -> str:
        """``{base_url}/{path}`` with the provider's ``query_params`` appended."""
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        if self.query_params:
            url += ("&" if "?" in url else "?") + urlencode(self.query_params)
        return url

    @property
    def endpoint(self) -> str:
        """The streaming endpoint for this provider's wire API."""
        return self.url("chat/completions" if self.wire_api == "chat" else "responses")

    @property
    def is_azure(self) -> bool:
        name = self.name.lower()
        base = self.base_url.lower()
        return name == "azure" or any(
            marker in base
            for marker in ("openai.azure.", "cognitiveservices.azure.", "azure-api.", "azurefd.")
        )

    def extra_headers(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """Static ``http_headers`` plus ``env_http_headers`` whose variable is set."""
        env = os.environ if env is None else env
        headers = dict(self.http_headers)
        for header, var in self.env_http_headers.items():
            value = env.get(var, "").strip()
            if value:
                register_secret(value)
                headers[header] = value
        return headers

    def api_key(self, env: Mapping[str, str] | None = None) -> str | None:
        """The key from ``env_key`` (error if that variable is unset), else the literal
        ``experimental_bearer_token``, else ``None``."""
        env = os.environ if env is None else env
        if self.env_key:
            value = env.get(self.env_key, "").strip()
            if value:
                register_secret(value)
                return value
            if not self.requires_openai_auth:
                raise MissingEnvKeyError(self.env_key, self.env_key_instructions)
        if self.experimental_bearer_token:
            register_secret(self.experimental_bearer_token)
            return self.experimental_bearer_token
        return None


def _oss_base_url(default_port: int, env: Mapping[str, str]) -> str:
    if base := env.get("CODEX_OSS_BASE_URL", "").strip():
        return base
    port = env.get("CODEX_OSS_PORT", "").strip()
    return f"http://localhost:{port if port.isdigit() else default_port}/v1"


def builtin_providers(env: Mapping[str, str] | None = None) -> dict[str, ProviderInfo]:
    """The providers that exist without any config: ``openai``, ``ollama``, ``lmstudio``
    (and ``oss``, the older name of the local Ollama provider)."""
    env = os.environ if env is None else env
    openai = ProviderInfo(
        id=OPENAI_ID,
        name="OpenAI",
        base_url=env.get("OPENAI_BASE_URL", "").strip() or OPENAI_BASE_URL,
        env_key="OPENAI_API_KEY",
        http_headers={"version": PROTOCOL_VERSION},
        env_http_headers={
            "OpenAI-Organization": "OPENAI_ORGANIZATION",
            "OpenAI-Project": "OPENAI_PROJECT",
        },
        requires_openai_auth=True,
        supports_websockets=True,
        builtin=True,
    )
    ollama = ProviderInfo(
        id=OLLAMA_ID, name="gpt-oss", base_url=_oss_base_url(OLLAMA_PORT, env), builtin=True
    )
    lmstudio = ProviderInfo(
        id=LMSTUDIO_ID, name="gpt-oss", base_url=_oss_base_url(LMSTUDIO_PORT, env), builtin=True
    )
    oss = ProviderInfo(
        id=OSS_ID, name="gpt-oss", base_url=_oss_base_url(OLLAMA_PORT, env), builtin=True
    )
    return {p.id: p for p in (openai, ollama, lmstudio, oss)}


def _str_map(value: Any, key: str, provider_id: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ProviderError(f"model_providers.{provider_id}.{key} must be a table of strings")
    return {str(k): v for k, v in value.items()}


def _secret_values(values: dict[str, str]) -> dict[str, str]:
    """Configured header and query values may be credentials: keep them out of logs."""
    for value in values.values():
        register_secret(value)
    return values


def _retries(value: Any, default: int, key: str, provider_id: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProviderError(f"model_providers.{provider_id}.{key} must be a non-negative integer")
    return min(value, MAX_RETRIES_CAP)


def provider_from_table(provider_id: str, table: Mapping[str, Any]) -> ProviderInfo:
    """Build a provider from one ``[model_providers.<id>]`` table."""
    base_url = table.get("base_url")
    if base_url is None:
        base_url = OPENAI_BASE_URL
    if not isinstance(base_url, str):
        raise ProviderError(f"model_providers.{provider_id}.base_url must be a string")
    wire_api = table.get("wire_api", "responses")
    if wire_api not in ("responses", "chat"):
        raise ProviderError(
            f"model_providers.{provider_id}.wire_api must be \"responses\" or \"chat\""
        )
    idle = table.get("stream_idle_timeout_ms")
    if idle is not None and (isinstance(idle, bool) or not isinstance(idle, int) or idle <= 0):
        raise ProviderError(
            f"model_providers.{provider_id}.stream_idle_timeout_ms must be a positive integer"
        )

    def opt_str(key: str) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise ProviderError(f"model_providers.{provider_id}.{key} must be a string")
        return value or None

    return ProviderInfo(
        id=provider_id,
        name=opt_str("name") or provider_id,
        base_url=base_url,
        wire_api=wire_api,
        env_key=opt_str("env_key"),
        env_key_instructions=opt_str("env_key_instructions"),
        experimental_bearer_token=opt_str("experimental_bearer_token"),
        query_params=_secret_values(_str_map(table.get("query_params"), "query_params",
                                             provider_id)),
        http_headers=_secret_values(_str_map(table.get("http_headers"), "http_headers",
                                             provider_id)),
        env_http_headers=_str_map(table.get("env_http_headers"), "env_http_headers", provider_id),
        request_max_retries=_retries(
            table.get("request_max_retries"), DEFAULT_REQUEST_MAX_RETRIES,
            "request_max_retries", provider_id,
        ),
        stream_max_retries=_retries(
            table.get("stream_max_retries"), DEFAULT_STREAM_MAX_RETRIES,
            "stream_max_retries", provider_id,
        ),
        stream_idle_timeout_ms=idle if idle is not None else DEFAULT_STREAM_IDLE_TIMEOUT_MS,
        requires_openai_auth=bool(table.get("requires_openai_auth", False)),
        supports_websockets=bool(table.get("supports_websockets", False)),
    )


def known_provider_ids(
    config: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> list[str]:
    """Built-in provider ids followed by the ``[model_providers]`` ones."""
    ids = list(builtin_providers(env))
    table = config.get("model_providers")
    if isinstance(table, dict):
        ids += [k for k in table if k not in ids]
    return ids


def resolve_provider(
    config: Mapping[str, Any],
    provider_id: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ProviderInfo:
    """The provider ``provider_id`` (default: config ``model_provider``, else ``openai``).

    Built-in ids cannot be redefined by ``[model_providers]`` (such tables are ignored).
    Raises :class:`UnknownProviderError` for an id that is neither built in nor configured,
    :class:`ProviderError` for a malformed table.
    """
    if provider_id is None:
        configured = config.get("model_provider")
        provider_id = configured if isinstance(configured, str) and configured else OPENAI_ID
    builtins = builtin_providers(env)
    if provider_id in builtins:
        return builtins[provider_id]
    tables = config.get("model_providers")
    if isinstance(tables, dict) and isinstance(tables.get(provider_id), dict):
        return provider_from_table(provider_id, tables[provider_id])
    raise UnknownProviderError(provider_id)


# --------------------------------------------------------------------------- tokens


def read_auth_json_api_key(codex_home: Path | None) -> str | None:
    """``OPENAI_API_KEY`` stored by ``codex login --with-api-key`` in ``auth.json``."""
    if codex_home is None:
        return None
    try:
        data = json.loads((codex_home / "auth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    key = data.get("OPENAI_API_KEY") if isinstance(data, dict) else None
    if not isinstance(key, str) or not key:
        return None
    register_secret(key)
    return key


class StaticTokenSource:
    """A token source with a fixed bearer token (``None`` = no authorization header)."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    async def bearer(self) -> str | None:
        return self.token

    async def on_unauthorized(self) -> bool:
        return False


def provider_token_source(
    provider: ProviderInfo,
    codex_home: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> StaticTokenSource:
    """The bearer token for an API-key style provider: ``env_key`` value →
    ``experimental_bearer_token`` → (providers using the Codex login) the API key in
    ``auth.json``. Raises :class:`MissingEnvKeyError` when a required variable is unset.
    ChatGPT-token auth (with refresh on 401) is the auth module's job, not this one."""
    key = provider.api_key(env)
    if key is None and provider.requires_openai_auth:
        key = read_auth_json_api_key(codex_home)
    return StaticTokenSource(key)
