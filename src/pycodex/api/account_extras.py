"""Account extras answered locally: gateway OAuth state for the configured providers (none
of which use it), no security notice, a GovCloud check that never warns, and the
ChatGPT-account actions refused before any network call."""

from __future__ import annotations

from typing import Any

from pycodex.api.config import config_service
from pycodex.api.context import RequestContext
from pycodex.api.models import _check_provider
from pycodex.api.router import route
from pycodex.core import provider_settings
from pycodex.protocol.errors import invalid_request
from pycodex.protocol.types import account_extras as t

NOT_GATEWAY_OAUTH = "The selected provider does not use gateway OAuth"
#: The refusal of each method that needs a Codex (ChatGPT) account.
ACCOUNT_REQUIRED = {
    "account/usage/read": "read token usage",
    "account/rateLimitResetCredit/consume": "for rate limit reset credits",
    "account/workspaceMessages/read": "read workspace messages",
    "account/sendAddCreditsNudgeEmail": "notify workspace owner",
}


def _provider(ctx: RequestContext, requested: str | None) -> provider_settings.ProviderSummary:
    """The requested provider (the default one when omitted); an unknown id gets the
    "no longer configured" error ``model/list`` gives."""
    config = ctx.app.get(config_service).effective()
    provider_id = requested or provider_settings.default_provider_id(config)
    _check_provider(ctx, provider_id)
    table = (config.get("model_providers") or {}).get(provider_id) or {}
    return provider_settings.summarize(provider_id, table)


@route("account/gatewayOAuth/read")
async def gateway_oauth_read(
    ctx: RequestContext, params: t.GatewayOAuthReadParams | None
) -> t.GatewayOAuthReadResponse:
    provider = _provider(ctx, params.model_provider if params else None)
    return t.GatewayOAuthReadResponse(
        provider_id=provider.id, provider_name=provider.name, required=False,
        supports_device_auth=False, status=None, error=None)


@route("account/gatewayOAuth/login")
async def gateway_oauth_login(
    ctx: RequestContext, params: t.GatewayOAuthLoginParams | None
) -> t.GatewayOAuthLoginResponse:
    _provider(ctx, params.model_provider if params else None)
    raise invalid_request(NOT_GATEWAY_OAUTH)


@route("account/gatewayOAuth/cancel")
async def gateway_oauth_cancel(ctx: RequestContext, params: None) -> t.GatewayOAuthCancelResponse:
    return t.GatewayOAuthCancelResponse()


@route("account/securitySetup/read")
async def security_setup_read(
    ctx: RequestContext, params: None
) -> t.GetAccountSecuritySetupResponse:
    return t.GetAccountSecuritySetupResponse(notice=None)


@route("account/bedrock/checkGovCloudRequirements")
async def bedrock_check_gov_cloud(
    ctx: RequestContext, params: t.BedrockCheckGovCloudRequirementsParams | None
) -> t.BedrockCheckGovCloudRequirementsResponse:
    return t.BedrockCheckGovCloudRequirementsResponse(is_gov_cloud=False, should_warn=False)


async def _account_required(ctx: RequestContext, params: Any) -> Any:
    raise invalid_request(f"codex account authentication required {_purpose(ctx.method)}")


def _purpose(method: str) -> str:
    purpose = ACCOUNT_REQUIRED[method]
    return purpose if purpose.startswith("for ") else f"to {purpose}"


for _method in ACCOUNT_REQUIRED:
    route(_method)(_account_required)
