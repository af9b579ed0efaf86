"""``modelProvider/*``: list the configured providers, edit one, pick the default, and read
what the default provider supports."""

from __future__ import annotations

from typing import Any

import msgspec

from pycodex.api.config import config_service
from pycodex.api.config_writes import write_user_config
from pycodex.api.context import RequestContext
from pycodex.api.router import route
from pycodex.core import provider_settings as ps
from pycodex.protocol.base import is_set
from pycodex.protocol.errors import invalid_request
from pycodex.protocol.types import model_providers as t


def _summary(s: ps.ProviderSummary) -> t.ModelProviderSummary:
    return msgspec.convert(
        {"id": s.id, "name": s.name, "canEdit": s.can_edit, "baseUrl": s.base_url,
         "settings": s.settings},
        t.ModelProviderSummary,
    )


def _sent(patch: msgspec.Struct, *names: str) -> dict[str, Any]:
    """The patch fields the client sent (an omitted field keeps its value)."""
    return {name: getattr(patch, name) for name in names if is_set(getattr(patch, name))}


@route("modelProvider/list")
async def model_provider_list(
    ctx: RequestContext, params: t.ModelProviderListParams
) -> t.ModelProviderListResponse:
    config = ctx.app.get(config_service).effective()
    return t.ModelProviderListResponse(
        data=[_summary(s) for s in ps.list_providers(config)],
        default_provider_id=ps.default_provider_id(config),
        can_change_default=True,
    )


@route("modelProvider/config/write")
async def model_provider_config_write(
    ctx: RequestContext, params: t.ModelProviderConfigWriteParams
) -> t.ModelProviderConfigWriteResponse:
    service = ctx.app.get(config_service)
    patch = params.settings
    try:
        if isinstance(patch, t.CustomGatewayProviderSettingsPatch):
            fields = _sent(patch, "name", "base_url", "env_key")
            provider_id, edits = ps.gateway_edits(service.effective(), patch.provider_id, fields)
        elif isinstance(patch, t.BedrockProviderSettingsPatch):
            provider_id = patch.provider_id
            edits = ps.cloud_edits(provider_id, _sent(patch, "profile", "region"))
        else:
            provider_id = patch.provider_id
            edits = ps.cloud_edits(
                provider_id, _sent(patch, "project_id", "location", "credential_file"))
    except ps.ProviderSettingsError as exc:
        raise invalid_request(exc.message, {"config_write_error_code": exc.code}) from None
    if edits:
        await write_user_config(ctx, edits)
    tables = service.effective().get("model_providers") or {}
    return t.ModelProviderConfigWriteResponse(
        provider=_summary(ps.summarize(provider_id, tables.get(provider_id) or {})))


@route("modelProvider/default/set")
async def model_provider_default_set(
    ctx: RequestContext, params: t.ModelProviderDefaultSetParams
) -> dict[str, Any]:
    if not ps.is_configured(ctx.app.get(config_service).effective(), params.provider_id):
        raise invalid_request(
            f"Model provider `{params.provider_id}` is not configured.",
            {"config_write_error_code": "configValidationError"},
        )
    return await write_user_config(ctx, [("model_provider", params.provider_id)])


@route("modelProvider/capabilities/read")
async def model_provider_capabilities_read(
    ctx: RequestContext, params: t.ModelProviderCapabilitiesReadParams
) -> t.ModelProviderCapabilitiesReadResponse:
    """Both hosted tools need the Responses API; a Chat Completions provider has neither."""
    config = ctx.app.get(config_service).effective()
    table = (config.get("model_providers") or {}).get(ps.default_provider_id(config)) or {}
    responses = table.get("wire_api", "responses") != "chat"
    return t.ModelProviderCapabilitiesReadResponse(
        image_generation=responses, web_search=responses)
