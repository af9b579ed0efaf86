"""Wire types of experimental feature flags (``experimentalFeature/*``) and permission
profiles (``permissionProfile/list``)."""

from __future__ import annotations

from typing import Any, Literal

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec

FeatureStage = Literal["beta", "underDevelopment", "stable", "deprecated", "removed"]


class ExperimentalFeatureListParams(WireStruct):
    cursor: str | None = None
    limit: int | None = None
    thread_id: str | None = None


class ExperimentalFeature(WireStruct):
    name: str
    stage: FeatureStage
    display_name: str | None
    description: str | None
    announcement: str | None
    enabled: bool
    default_enabled: bool


class ExperimentalFeatureListResponse(WireStruct):
    data: list[ExperimentalFeature]
    next_cursor: str | None


class ExperimentalFeatureEnablementSetParams(WireStruct):
    enablement: dict[str, bool]


class ExperimentalFeatureEnablementSetResponse(WireStruct):
    enablement: dict[str, bool]


class PermissionProfileListParams(WireStruct):
    cwd: str | None = None
    cursor: str | None = None
    limit: int | None = None


class PermissionProfileSummary(WireStruct):
    id: str
    description: str | None
    allowed: bool


class PermissionProfileListResponse(WireStruct):
    data: list[PermissionProfileSummary]
    next_cursor: str | None


REQUESTS: list[MethodSpec] = [
    MethodSpec(
        "experimentalFeature/list", ExperimentalFeatureListParams, ExperimentalFeatureListResponse
    ),
    MethodSpec(
        "experimentalFeature/enablement/set",
        ExperimentalFeatureEnablementSetParams,
        ExperimentalFeatureEnablementSetResponse,
    ),
    MethodSpec(
        "permissionProfile/list", PermissionProfileListParams, PermissionProfileListResponse
    ),
]
NOTIFICATIONS: dict[str, Any] = {}
