"""``initialize`` and the connection-level types."""

from __future__ import annotations

from typing import Any

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec, ServerRequestSpec


class ClientInfo(WireStruct):
    name: str
    version: str
    title: str | None = None


class InitializeCapabilities(WireStruct):
    experimental_api: bool = False
    opt_out_notification_methods: list[str] | None = None
    request_attestation: bool = False
    mcp_server_openai_form_elicitation: bool = False
    explicit_gateway_oauth: bool = False
    extensions: dict[str, Any] | None = None
    required_human_approval: bool = False


class InitializeParams(WireStruct):
    client_info: ClientInfo
    capabilities: InitializeCapabilities | None = None


class InitializeResponse(WireStruct):
    user_agent: str
    codex_home: str
    platform_family: str
    platform_os: str


class ConfigWarningNotification(WireStruct, omit_defaults=True):
    summary: str
    details: str | None
    path: str | None = None
    range: dict[str, Any] | None = None


class ChatgptAuthTokensRefreshParams(WireStruct):
    reason: str
    previous_account_id: str | None = None


class ChatgptAuthTokensRefreshResponse(WireStruct):
    access_token: str
    chatgpt_account_id: str
    chatgpt_plan_type: str | None = None


REQUESTS = [MethodSpec("initialize", InitializeParams, InitializeResponse)]
NOTIFICATIONS: dict[str, Any] = {"configWarning": ConfigWarningNotification}
SERVER_REQUESTS = [
    ServerRequestSpec(
        "account/chatgptAuthTokens/refresh",
        ChatgptAuthTokensRefreshParams,
        ChatgptAuthTokensRefreshResponse,
    )
]
