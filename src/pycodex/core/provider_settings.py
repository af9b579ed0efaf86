"""Model providers as the settings UI sees them: a summary of each configured provider
(``modelProvider/list``) and the ``config.toml`` edits a settings patch becomes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

OPENAI_ID = "openai"
BEDROCK_IDS = ("amazon-bedrock", "amazon-bedrock-runtime")
GCP_ID = "gcp"
#: Ids a custom gateway may not take.
RESERVED_IDS = frozenset({OPENAI_ID, "ollama", "lmstudio", "oss", GCP_ID, *BEDROCK_IDS})
_DISPLAY_NAMES = {
    "amazon-bedrock": "Amazon Bedrock Mantle",
    "amazon-bedrock-runtime": "Amazon Bedrock",
    GCP_ID: "Google Cloud Vertex AI",
}
#: Keys that configure a provider's credentials outside the gateway form.
_EXTERNAL_AUTH_KEYS = ("auth", "experimental_bearer_token", "env_http_headers", "http_headers")


class ProviderSettingsError(Exception):
    """A rejected patch; ``code`` is the ``config_write_error_code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ProviderSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    can_edit: bool
    base_url: str | None
    settings: dict[str, Any]


def _opt_str(table: Mapping[str, Any], key: str) -> str | None:
    value = table.get(key)
    return value if isinstance(value, str) else None


def _providers_table(config: Mapping[str, Any]) -> Mapping[str, Any]:
    table = config.get("model_providers")
    return table if isinstance(table, Mapping) else {}


def summarize(provider_id: str, table: Mapping[str, Any]) -> ProviderSummary:
    """The summary of a configured provider (``table`` = its ``[model_providers.<id>]``)."""
    if provider_id == OPENAI_ID:
        return ProviderSummary(
            id=OPENAI_ID, name="OpenAI", can_edit=False, base_url=None,
            settings={"type": "openai"})
    if provider_id in BEDROCK_IDS:
        aws = table.get("aws")
        aws = aws if isinstance(aws, Mapping) else {}
        settings = {"type": "bedrock", "profile": _opt_str(aws, "profile"),
                    "region": _opt_str(aws, "region")}
        return ProviderSummary(id=provider_id, name=_DISPLAY_NAMES[provider_id],
                               can_edit=True, base_url=None, settings=settings)
    if provider_id == GCP_ID:
        settings = {"type": "gcp", "projectId": _opt_str(table, "project_id"),
                    "location": _opt_str(table, "location"),
                    "credentialFile": _opt_str(table, "credential_file")}
        return ProviderSummary(id=GCP_ID, name=_DISPLAY_NAMES[GCP_ID], can_edit=True,
                               base_url=None, settings=settings)
    env_key = _opt_str(table, "env_key")
    auth: dict[str, Any]
    if any(key in table for key in _EXTERNAL_AUTH_KEYS):
        auth = {"mode": "externallyConfigured", "envKey": env_key}
    elif env_key is not None:
        auth = {"mode": "environmentVariable", "envKey": env_key}
    else:
        auth = {"mode": "none"}
    return ProviderSummary(
        id=provider_id, name=_opt_str(table, "name") or provider_id, can_edit=True,
        base_url=_opt_str(table, "base_url"), settings={"type": "customGateway", "auth": auth})


def list_providers(config: Mapping[str, Any]) -> list[ProviderSummary]:
    """``openai`` and every ``[model_providers.<id>]``, sorted by id."""
    tables = dict(_providers_table(config))
    tables.setdefault(OPENAI_ID, {})
    return [summarize(pid, t if isinstance(t, Mapping) else {})
            for pid, t in sorted(tables.items())]


def default_provider_id(config: Mapping[str, Any]) -> str:
    value = config.get("model_provider")
    return value if isinstance(value, str) and value else OPENAI_ID


def is_configured(config: Mapping[str, Any], provider_id: str) -> bool:
    return provider_id == OPENAI_ID or provider_id in _providers_table(config)


# -- patches -----------------------------------------------------------------------------------
def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "provider"


def _new_id(name: str, taken: Mapping[str, Any]) -> str:
    base = _slug(name)
    candidate, n = base, 1
    while candidate in taken or candidate in RESERVED_IDS:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _check_base_url(url: str) -> None:
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.username
            or parts.password or parts.query or parts.fragment):
        raise ProviderSettingsError(
            "configValidationError",
            "Enter an HTTP(S) base URL without credentials, a query, or a fragment.")


def gateway_edits(
    config: Mapping[str, Any], provider_id: str | None, fields: Mapping[str, Any]
) -> tuple[str, list[tuple[str, Any]]]:
    """The provider id and ``(key path, value)`` edits (``None`` clears) of a custom gateway
    patch; ``fields`` holds only the patch fields that were sent (snake_case)."""
    tables = _providers_table(config)
    name = fields.get("name")
    if (provider_id is None or "name" in fields) and (
        not isinstance(name, str) or not name.strip()
    ):
        raise ProviderSettingsError("configValidationError", "Enter a provider name.")
    if provider_id is not None:
        if provider_id in RESERVED_IDS:
            raise ProviderSettingsError(
                "configValidationError",
                "A custom provider or gateway cannot use a built-in provider ID.")
        if provider_id not in tables:
            raise ProviderSettingsError("configPathNotFound", "Unknown provider ID.")
    base_url = fields.get("base_url")
    if isinstance(base_url, str):
        _check_base_url(base_url)
    pid = provider_id or _new_id(str(name), tables)
    prefix = f"model_providers.{pid}"
    edits: list[tuple[str, Any]] = []
    for key in ("base_url", "env_key", "name"):
        if key in fields:
            value = fields[key]
            edits.append((f"{prefix}.{key}", value.strip() if key == "name" else value))
    if provider_id is None:
        edits.append((f"{prefix}.wire_api", "responses"))
    return pid, edits


def cloud_edits(provider_id: str, fields: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Edits of a Bedrock (``aws.profile|region``) or GCP patch."""
    prefix = f"model_providers.{provider_id}"
    if provider_id in BEDROCK_IDS:
        prefix += ".aws"
    return [(f"{prefix}.{key}", value) for key, value in fields.items()]
