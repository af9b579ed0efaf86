"""Wire types of the skills family: ``skills/list``, ``skills/config/write``,
``skills/extraRoots/set`` and the ``skills/changed`` notification."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from pycodex.protocol.base import UnsetType, WireStruct
from pycodex.protocol.methods import MethodSpec

SkillScope = Literal["user", "repo", "system", "admin"]


class SkillInterface(WireStruct):
    display_name: str | None = None
    short_description: str | None = None
    icon_small: str | None = None
    icon_large: str | None = None
    icon_small_url: str | None = None
    icon_large_url: str | None = None
    brand_color: str | None = None
    default_prompt: str | None = None


class SkillToolDependency(WireStruct):
    type: str
    value: str
    description: str | None = None
    transport: str | None = None
    command: str | None = None
    url: str | None = None


class SkillDependencies(WireStruct):
    tools: list[SkillToolDependency]


class SkillMetadata(WireStruct):
    """One skill as ``skills/list`` shows it; optional parts the skill does not have are
    left out of the object (as the reference does)."""

    name: str
    description: str
    short_description: str | UnsetType
    interface: SkillInterface | UnsetType
    dependencies: SkillDependencies | UnsetType
    path: str
    scope: SkillScope
    enabled: bool
    plugin_id: str | None


class SkillErrorInfo(WireStruct):
    path: str
    message: str


class SkillsListEntry(WireStruct):
    cwd: str
    skills: list[SkillMetadata]
    errors: list[SkillErrorInfo]


class SkillsListParams(WireStruct):
    cwds: list[str] = msgspec.field(default_factory=list)
    force_reload: bool = False


class SkillsListResponse(WireStruct):
    data: list[SkillsListEntry]


class SkillsConfigWriteParams(WireStruct):
    enabled: bool
    path: str | None = None
    name: str | None = None


class SkillsConfigWriteResponse(WireStruct):
    effective_enabled: bool


class SkillsExtraRootsSetParams(WireStruct):
    extra_roots: list[str]


class SkillsExtraRootsSetResponse(WireStruct):
    pass


class SkillsChangedNotification(WireStruct):
    pass


REQUESTS: list[MethodSpec] = [
    MethodSpec("skills/list", SkillsListParams, SkillsListResponse),
    MethodSpec("skills/config/write", SkillsConfigWriteParams, SkillsConfigWriteResponse),
    MethodSpec("skills/extraRoots/set", SkillsExtraRootsSetParams, SkillsExtraRootsSetResponse),
]
NOTIFICATIONS: dict[str, Any] = {
    "skills/changed": SkillsChangedNotification,
}
