"""``skills/list``, ``skills/config/write``, ``skills/extraRoots/set`` and the
``skills/changed`` notification (skill files watched on disk)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Hashable
from pathlib import Path

from pycodex.api.context import AppState, RequestContext
from pycodex.api.router import route
from pycodex.core.skills.catalog import SkillsCatalog, catalog_for
from pycodex.core.skills.model import Skill, SkillLoad
from pycodex.protocol.base import UNSET
from pycodex.protocol.errors import internal_error, invalid_params, invalid_request
from pycodex.protocol.types.skills import (
    SkillDependencies,
    SkillErrorInfo,
    SkillMetadata,
    SkillsChangedNotification,
    SkillsConfigWriteParams,
    SkillsConfigWriteResponse,
    SkillsExtraRootsSetParams,
    SkillsExtraRootsSetResponse,
    SkillsListEntry,
    SkillsListParams,
    SkillsListResponse,
)

NOT_ABSOLUTE = "Invalid request: AbsolutePathBuf deserialized without a base path"


class SkillsService:
    """The process catalog plus the watches that turn file changes into ``skills/changed``."""

    def __init__(self, app: AppState) -> None:
        from pycodex.api.config import config_service

        self.app = app
        self.catalog: SkillsCatalog = catalog_for(app.options.codex_home)
        self.catalog.listeners.append(self._announce)
        app.get(config_service).add_change_listener(
            lambda: self.catalog.invalidate(notify=False))
        self._watcher: object | None = None

    def _announce(self) -> None:
        self.app.outgoing.notify("skills/changed", SkillsChangedNotification())

    def _changed(self, key: Hashable, paths: list[str]) -> None:
        self.catalog.invalidate()

    def watch(self, load: SkillLoad) -> None:
        """Watch every root and every skill folder of ``load`` (idempotent)."""
        from pycodex.core.fs_watch import FsWatcher

        if self._watcher is None:
            self._watcher = FsWatcher(self._changed, debounce_s=0.2)
        watcher = self._watcher
        assert isinstance(watcher, FsWatcher)
        folders = {str(root) for root in load.roots if root.is_dir()}
        folders.update(str(skill.path.parent) for skill in load.skills)
        folders.update(str(error.path.parent) for error in load.errors)
        for folder in folders:
            if folder not in watcher:
                watcher.add(folder, folder)


def skills_service(app: AppState) -> SkillsService:
    """``app.get(skills_service)``."""
    return SkillsService(app)


def skill_wire(skill: Skill) -> SkillMetadata:
    return SkillMetadata(
        name=skill.name, description=skill.description,
        short_description=skill.short_description or UNSET,
        interface=UNSET if skill.interface is None else skill.interface,
        dependencies=SkillDependencies(tools=list(skill.dependencies))
        if skill.dependencies else UNSET,
        path=str(skill.path), scope=skill.scope, enabled=skill.enabled, plugin_id=None)


@route("skills/list")
async def skills_list(ctx: RequestContext, params: SkillsListParams) -> SkillsListResponse:
    from pycodex.api.config import config_service

    service = ctx.app.get(skills_service)
    config = ctx.app.get(config_service)
    cwds = params.cwds or [str(ctx.app.options.cwd)]
    data = []
    for raw in cwds:
        cwd = config.resolve_cwd(raw)
        load = await asyncio.to_thread(service.catalog.load, cwd, config.cli_overrides,
                                       force_reload=params.force_reload)
        service.watch(load)
        data.append(SkillsListEntry(
            cwd=raw, skills=[skill_wire(s) for s in load.skills],
            errors=[SkillErrorInfo(path=str(e.path), message=e.message) for e in load.errors]))
    return SkillsListResponse(data=data)


@route("skills/config/write")
async def skills_config_write(ctx: RequestContext, params: SkillsConfigWriteParams
                              ) -> SkillsConfigWriteResponse:
    from pycodex.api.config import config_service
    from pycodex.config.service import ConfigError, ConfigWriteError, Edit

    if (params.path is None) == (params.name is None):
        raise invalid_params("skills/config/write requires exactly one of path or name")
    if params.path is not None and not os.path.isabs(params.path):
        raise invalid_request(NOT_ABSOLUTE)
    config = ctx.app.get(config_service)
    stack = await asyncio.to_thread(config.stack)
    user = stack.user()
    skills = user.config.get("skills") if user is not None else None
    current = skills.get("config") if isinstance(skills, dict) else None
    entries = [e for e in current if isinstance(e, dict)] if isinstance(current, list) else []
    key, value = ("path", params.path) if params.path is not None else ("name", params.name)
    kept = [e for e in entries if not (e.get(key) == value and
                                       ({"path", "name"} - {key}).isdisjoint(e))]
    if not params.enabled:
        kept.append({key: value, "enabled": False})
    try:
        await config.write([Edit(key_path="skills.config", value=kept or None,
                                 merge_strategy="replace")])
    except (ConfigError, ConfigWriteError) as exc:
        raise internal_error(f"failed to update skill settings: {exc}") from None
    service = ctx.app.get(skills_service)
    service.catalog.invalidate()
    return SkillsConfigWriteResponse(effective_enabled=params.enabled)


@route("skills/extraRoots/set")
async def skills_extra_roots_set(ctx: RequestContext, params: SkillsExtraRootsSetParams
                                 ) -> SkillsExtraRootsSetResponse:
    if not all(os.path.isabs(root) for root in params.extra_roots):
        raise invalid_request(NOT_ABSOLUTE)
    service = ctx.app.get(skills_service)
    service.catalog.set_extra_roots([Path(os.path.normpath(r)) for r in params.extra_roots])
    return SkillsExtraRootsSetResponse()
