"""Wire types of the `config` method family (``config/read``, ``config/value/write``,
``config/batchWrite``, ``configRequirements/read``)."""

from __future__ import annotations

from typing import Any, Literal

from msgspec import UNSET, UnsetType

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec
from pycodex.protocol.types.config_requirements import ConfigRequirements

MergeStrategy = Literal["replace", "upsert"]
WriteStatus = Literal["ok", "okOverridden"]


class ConfigReadParams(WireStruct):
    include_layers: bool = False
    cwd: str | None = None


class ConfigLayerMetadata(WireStruct):
    name: dict[str, Any]
    version: str


class ConfigLayer(WireStruct, omit_defaults=True):
    name: dict[str, Any]
    version: str
    config: Any
    disabled_reason: str | None = None


class ConfigReadResponse(WireStruct, omit_defaults=True):
    config: dict[str, Any]
    origins: dict[str, ConfigLayerMetadata]
    layers: list[ConfigLayer] | UnsetType = UNSET


class ConfigEdit(WireStruct):
    key_path: str
    value: Any
    merge_strategy: MergeStrategy


class ConfigValueWriteParams(WireStruct):
    key_path: str
    value: Any
    merge_strategy: MergeStrategy
    file_path: str | None = None
    expected_version: str | None = None


class ConfigBatchWriteParams(WireStruct):
    edits: list[ConfigEdit]
    file_path: str | None = None
    expected_version: str | None = None
    reload_user_config: bool = False


class OverriddenMetadata(WireStruct):
    message: str
    overriding_layer: ConfigLayerMetadata
    effective_value: Any


class ConfigWriteResponse(WireStruct):
    status: WriteStatus
    version: str
    file_path: str
    overridden_metadata: OverriddenMetadata | None = None


class ConfigRequirementsReadResponse(WireStruct):
    requirements: ConfigRequirements | None
    supports_independent_speed_modes: bool | None = True


REQUESTS: list[MethodSpec] = [
    MethodSpec("config/read", ConfigReadParams, ConfigReadResponse),
    MethodSpec("config/value/write", ConfigValueWriteParams, ConfigWriteResponse),
    MethodSpec("config/batchWrite", ConfigBatchWriteParams, ConfigWriteResponse),
    MethodSpec("configRequirements/read", None, ConfigRequirementsReadResponse),
]
NOTIFICATIONS: dict[str, Any] = {}
