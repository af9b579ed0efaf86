"""Wire types of the ``modelProvider/*`` family: list, settings write, default, capabilities,
and the auth-recovery notifications."""

from __future__ import annotations

from typing import Any, Literal

from pycodex.protocol.base import UNSET, UnsetType, WireStruct
from pycodex.protocol.methods import MethodSpec
from pycodex.protocol.types.config import ConfigWriteResponse

BedrockProviderId = Literal["amazon-bedrock", "amazon-bedrock-runtime"]


# -- settings as listed ------------------------------------------------------------------------
class NoneGatewayAuth(WireStruct, tag_field="mode", tag="none"):
    pass


class EnvironmentVariableGatewayAuth(WireStruct, tag_field="mode", tag="environmentVariable"):
    env_key: str


class ExternallyConfiguredGatewayAuth(WireStruct, tag_field="mode", tag="externallyConfigured"):
    env_key: str | None = None


GatewayAuth = NoneGatewayAuth | EnvironmentVariableGatewayAuth | ExternallyConfiguredGatewayAuth


class OpenaiProviderSettings(WireStruct, tag_field="type", tag="openai"):
    pass


class CustomGatewayProviderSettings(WireStruct, tag_field="type", tag="customGateway"):
    auth: GatewayAuth


class BedrockProviderSettings(WireStruct, tag_field="type", tag="bedrock"):
    profile: str | None
    region: str | None


class GcpProviderSettings(WireStruct, tag_field="type", tag="gcp"):
    project_id: str | None
    location: str | None
    credential_file: str | None


ProviderSettings = (
    OpenaiProviderSettings
    | CustomGatewayProviderSettings
    | BedrockProviderSettings
    | GcpProviderSettings
)


class ModelProviderSummary(WireStruct):
    id: str
    name: str
    can_edit: bool
    base_url: str | None
    settings: ProviderSettings


# -- modelProvider/list ------------------------------------------------------------------------
class ModelProviderListParams(WireStruct):
    pass


class ModelProviderListResponse(WireStruct):
    data: list[ModelProviderSummary]
    default_provider_id: str
    can_change_default: bool


# -- modelProvider/config/write ----------------------------------------------------------------
class CustomGatewayProviderSettingsPatch(
    WireStruct, tag_field="type", tag="customGateway", forbid_unknown_fields=True
):
    """Omitted fields keep their value; an explicit ``null`` clears a nullable one."""

    provider_id: str | None = None
    name: str | UnsetType = UNSET
    base_url: str | UnsetType | None = UNSET
    env_key: str | UnsetType | None = UNSET


class BedrockProviderSettingsPatch(
    WireStruct, tag_field="type", tag="bedrock", forbid_unknown_fields=True
):
    provider_id: BedrockProviderId
    profile: str | UnsetType | None = UNSET
    region: str | UnsetType | None = UNSET


class GcpProviderSettingsPatch(WireStruct, tag_field="type", tag="gcp", forbid_unknown_fields=True):
    provider_id: Literal["gcp"]
    project_id: str | UnsetType | None = UNSET
    location: str | UnsetType | None = UNSET
    credential_file: str | UnsetType | None = UNSET


ProviderSettingsPatch = (
    CustomGatewayProviderSettingsPatch | BedrockProviderSettingsPatch | GcpProviderSettingsPatch
)


class ModelProviderConfigWriteParams(WireStruct, forbid_unknown_fields=True):
    settings: ProviderSettingsPatch


class ModelProviderConfigWriteResponse(WireStruct):
    provider: ModelProviderSummary


# -- modelProvider/default/set, modelProvider/capabilities/read --------------------------------
class ModelProviderDefaultSetParams(WireStruct):
    provider_id: str


class ModelProviderCapabilitiesReadParams(WireStruct):
    pass


class ModelProviderCapabilitiesReadResponse(WireStruct):
    image_generation: bool
    web_search: bool


# -- notifications -----------------------------------------------------------------------------
class AuthRecoveryNotification(WireStruct):
    thread_id: str
    turn_id: str
    provider: str
    message: str


REQUESTS: list[MethodSpec] = [
    MethodSpec("modelProvider/list", ModelProviderListParams, ModelProviderListResponse),
    MethodSpec(
        "modelProvider/config/write",
        ModelProviderConfigWriteParams,
        ModelProviderConfigWriteResponse,
    ),
    MethodSpec("modelProvider/default/set", ModelProviderDefaultSetParams, ConfigWriteResponse),
    MethodSpec(
        "modelProvider/capabilities/read",
        ModelProviderCapabilitiesReadParams,
        ModelProviderCapabilitiesReadResponse,
    ),
]
NOTIFICATIONS: dict[str, Any] = {
    "modelProvider/authRecoveryStarted": AuthRecoveryNotification,
    "modelProvider/authRecoveryCompleted": AuthRecoveryNotification,
}
