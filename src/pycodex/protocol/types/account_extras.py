"""Wire types of the account extras: gateway OAuth, security setup, token usage, reset
credits, workspace messages, credit nudges and the Bedrock GovCloud check."""

from __future__ import annotations

from typing import Any, Literal

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec

GatewayOAuthStatus = Literal["notReady", "started", "succeeded", "failed"]


# -- account/gatewayOAuth/* --------------------------------------------------------------------
class GatewayOAuthReadParams(WireStruct):
    model_provider: str | None = None


class GatewayOAuthReadResponse(WireStruct):
    provider_id: str
    provider_name: str
    required: bool
    supports_device_auth: bool
    status: GatewayOAuthStatus | None
    error: str | None


class GatewayOAuthLoginParams(WireStruct):
    model_provider: str | None = None
    device_auth: bool = False


class GatewayOAuthPrompt(WireStruct):
    login_id: str
    user_code: str
    verification_url: str


class GatewayOAuthLoginResponse(WireStruct):
    prompt: GatewayOAuthPrompt | None


class GatewayOAuthCancelResponse(WireStruct):
    pass


class GatewayOAuthChangedNotification(WireStruct):
    provider_id: str
    status: GatewayOAuthStatus
    error: str | None = None
    auth_url: str | None = None
    login_id: str | None = None


# -- ChatGPT-only reads and actions ------------------------------------------------------------
class GetAccountSecuritySetupResponse(WireStruct):
    notice: dict[str, Any] | None


class GetAccountTokenUsageParams(WireStruct):
    thread_id: str | None = None


class GetAccountTokenUsageResponse(WireStruct):
    summary: dict[str, Any]
    daily_usage_buckets: list[dict[str, Any]] | None = None
    thread_usage: dict[str, Any] | None = None


class ConsumeAccountRateLimitResetCreditParams(WireStruct):
    idempotency_key: str
    credit_id: str | None = None


class ConsumeAccountRateLimitResetCreditResponse(WireStruct):
    outcome: Literal["reset", "nothingToReset", "noCredit", "alreadyRedeemed"]


class GetWorkspaceMessagesResponse(WireStruct):
    feature_enabled: bool
    messages: list[dict[str, Any]]


class SendAddCreditsNudgeEmailParams(WireStruct):
    credit_type: Literal["credits", "usage_limit"]


class SendAddCreditsNudgeEmailResponse(WireStruct):
    status: Literal["sent", "cooldown_active"]


# -- account/bedrock/checkGovCloudRequirements (experimental) ----------------------------------
class BedrockCheckGovCloudRequirementsParams(WireStruct):
    pass


class BedrockCheckGovCloudRequirementsResponse(WireStruct):
    is_gov_cloud: bool
    should_warn: bool


REQUESTS: list[MethodSpec] = [
    MethodSpec(
        "account/gatewayOAuth/read", GatewayOAuthReadParams | None, GatewayOAuthReadResponse
    ),
    MethodSpec(
        "account/gatewayOAuth/login", GatewayOAuthLoginParams | None, GatewayOAuthLoginResponse
    ),
    MethodSpec("account/gatewayOAuth/cancel", None, GatewayOAuthCancelResponse),
    MethodSpec("account/securitySetup/read", None, GetAccountSecuritySetupResponse),
    MethodSpec(
        "account/usage/read", GetAccountTokenUsageParams | None, GetAccountTokenUsageResponse
    ),
    MethodSpec(
        "account/rateLimitResetCredit/consume",
        ConsumeAccountRateLimitResetCreditParams,
        ConsumeAccountRateLimitResetCreditResponse,
    ),
    MethodSpec("account/workspaceMessages/read", None, GetWorkspaceMessagesResponse),
    MethodSpec(
        "account/sendAddCreditsNudgeEmail",
        SendAddCreditsNudgeEmailParams,
        SendAddCreditsNudgeEmailResponse,
    ),
    MethodSpec(
        "account/bedrock/checkGovCloudRequirements",
        BedrockCheckGovCloudRequirementsParams,
        BedrockCheckGovCloudRequirementsResponse,
        experimental=True,
    ),
]
NOTIFICATIONS: dict[str, Any] = {
    "account/gatewayOAuth/changed": GatewayOAuthChangedNotification,
}
