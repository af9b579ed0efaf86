"""Wire types of the `account` method family: login, logout, account and rate-limit reads."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec

#: ``AuthMode`` values pycodex produces.
AuthMode = Literal["apikey", "chatgpt", "chatgptAuthTokens"]

#: ``PlanType`` wire values (lowercase); anything else is reported as ``unknown``.
PLAN_TYPES: frozenset[str] = frozenset(
    {
        "free",
        "go",
        "plus",
        "pro",
        "prolite",
        "promax",
        "team",
        "self_serve_business_prolite",
        "self_serve_business_usage_based",
        "business",
        "ent26",
        "enterprise_cbp_automation",
        "enterprise_cbp_usage_based",
        "enterprise",
        "edu",
        "edu_plus",
        "edu_pro",
        "sci",
        "sci_plus",
        "unknown",
    }
)


# -- account/login/start -------------------------------------------------------------------
class ApiKeyLoginParams(WireStruct, tag_field="type", tag="apiKey"):
    api_key: str


class ChatgptLoginParams(WireStruct, tag_field="type", tag="chatgpt"):
    app_brand: Literal["codex", "chatgpt"] | None = None
    codex_streamlined_login: bool = False
    use_hosted_login_success_page: bool = False


class ChatgptDeviceCodeLoginParams(WireStruct, tag_field="type", tag="chatgptDeviceCode"):
    pass


class ChatgptAuthTokensLoginParams(WireStruct, tag_field="type", tag="chatgptAuthTokens"):
    """External (host-managed) ChatGPT tokens; experimental."""

    __experimental_descriptor__: ClassVar[str] = "account/login/start.chatgptAuthTokens"

    access_token: str
    chatgpt_account_id: str
    chatgpt_plan_type: str | None = None


class AmazonBedrockLoginParams(WireStruct, tag_field="type", tag="amazonBedrock"):
    __experimental_descriptor__: ClassVar[str] = "account/login/start.amazonBedrock"

    api_key: str
    region: str


class AmazonBedrockAccessKeysLoginParams(
    WireStruct, tag_field="type", tag="amazonBedrockAccessKeys"
):
    __experimental_descriptor__: ClassVar[str] = "account/login/start.amazonBedrockAccessKeys"

    access_key_id: str
    region: str
    secret_access_key: str
    session_token: str | None = None


LoginAccountParams = (
    ApiKeyLoginParams
    | ChatgptLoginParams
    | ChatgptDeviceCodeLoginParams
    | ChatgptAuthTokensLoginParams
    | AmazonBedrockLoginParams
    | AmazonBedrockAccessKeysLoginParams
)


class ApiKeyLoginResponse(WireStruct, tag_field="type", tag="apiKey"):
    pass


class ChatgptLoginResponse(WireStruct, tag_field="type", tag="chatgpt"):
    login_id: str
    auth_url: str


class ChatgptDeviceCodeLoginResponse(WireStruct, tag_field="type", tag="chatgptDeviceCode"):
    login_id: str
    verification_url: str
    user_code: str


class ChatgptAuthTokensLoginResponse(WireStruct, tag_field="type", tag="chatgptAuthTokens"):
    pass


class AmazonBedrockLoginResponse(WireStruct, tag_field="type", tag="amazonBedrock"):
    pass


LoginAccountResponse = (
    ApiKeyLoginResponse
    | ChatgptLoginResponse
    | ChatgptDeviceCodeLoginResponse
    | ChatgptAuthTokensLoginResponse
    | AmazonBedrockLoginResponse
)


# -- account/login/cancel, account/logout --------------------------------------------------
class CancelLoginAccountParams(WireStruct):
    login_id: str


class CancelLoginAccountResponse(WireStruct):
    status: Literal["canceled", "notFound"]


class LogoutAccountResponse(WireStruct):
    pass


# -- account/read --------------------------------------------------------------------------
class GetAccountParams(WireStruct):
    refresh_token: bool = False


class ApiKeyAccount(WireStruct, tag_field="type", tag="apiKey"):
    pass


class ChatgptAccount(WireStruct, tag_field="type", tag="chatgpt"):
    email: str | None
    plan_type: str


Account = ApiKeyAccount | ChatgptAccount


class GetAccountResponse(WireStruct):
    #: Not in the stable schema (left out of the stable export).
    __experimental__: ClassVar[dict[str, str]] = {"workspace_routing": "workspaceRouting"}

    account: Account | None
    user_id: str | None
    requires_openai_auth: bool
    workspace_routing: dict[str, Any] | None = None


# -- getAuthStatus (legacy v1) -------------------------------------------------------------
class GetAuthStatusParams(WireStruct):
    include_token: bool | None = None
    refresh_token: bool | None = None


class GetAuthStatusResponse(WireStruct):
    auth_method: AuthMode | None
    auth_token: str | None
    requires_openai_auth: bool | None


# -- account/rateLimits/read ---------------------------------------------------------------
class RateLimitWindow(WireStruct):
    used_percent: int
    window_duration_mins: int | None
    resets_at: int | None


class CreditsSnapshot(WireStruct):
    has_credits: bool
    unlimited: bool
    balance: str | None


class RateLimitSnapshot(WireStruct, kw_only=True):
    limit_id: str | None
    limit_name: str | None
    normal_model_slug: str | None = None
    primary: RateLimitWindow | None
    secondary: RateLimitWindow | None
    credits: CreditsSnapshot | None
    individual_limit: dict[str, Any] | None = None
    spend_control_reached: bool | None = None
    plan_type: str | None
    rate_limit_reached_type: str | None = None


class GetAccountRateLimitsResponse(WireStruct, kw_only=True):
    ordinary_usage_allowed: bool | None = None
    rate_limits: RateLimitSnapshot
    rate_limits_by_limit_id: dict[str, RateLimitSnapshot] | None
    rate_limit_reset_credits: dict[str, Any] | None = None
    account_id: str | None = None
    rate_limit_upsell: Any = None


# -- notifications -------------------------------------------------------------------------
class AccountLoginCompletedNotification(WireStruct):
    login_id: str | None
    success: bool
    error: str | None
    onboarding_entrypoint: str | None = None


#: Why ``account/updated`` was sent (0.171): routing discovery finished for the same owner.
AccountUpdateReason = Literal["workspaceRoutingReady", "unknown"]


class AccountUpdatedNotification(WireStruct):
    auth_mode: AuthMode | None
    plan_type: str | None
    reason: AccountUpdateReason | None = None


class AccountRateLimitsUpdatedNotification(WireStruct):
    rate_limits: RateLimitSnapshot


REQUESTS: list[MethodSpec] = [
    MethodSpec("account/login/start", LoginAccountParams, LoginAccountResponse),
    MethodSpec("account/login/cancel", CancelLoginAccountParams, CancelLoginAccountResponse),
    MethodSpec("account/logout", None, LogoutAccountResponse),
    MethodSpec("account/read", GetAccountParams, GetAccountResponse),
    MethodSpec("account/rateLimits/read", None, GetAccountRateLimitsResponse),
    MethodSpec("getAuthStatus", GetAuthStatusParams, GetAuthStatusResponse),
]
NOTIFICATIONS: dict[str, Any] = {
    "account/login/completed": AccountLoginCompletedNotification,
    "account/updated": AccountUpdatedNotification,
    "account/rateLimits/updated": AccountRateLimitsUpdatedNotification,
}
