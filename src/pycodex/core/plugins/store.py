"""The installed-plugin cache: ``$CODEX_HOME/plugins/cache/<marketplace>/<plugin>/<version>``
holds a copy of each installed plugin; ``[plugins."<plugin>@<marketplace>"]`` in
``config.toml`` says whether it is enabled. Skills and MCP servers of installed plugins
are found from here (:func:`installed_plugins`)."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from pycodex.core.plugins.manifest import load_manifest

CACHE_DIR = Path("plugins/cache")
DEFAULT_VERSION = "local"
_VERSION = re.compile(r"[A-Za-z0-9._+-]+")
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")


class PluginStoreError(Exception):
    """An install or uninstall that could not be done; the message is the client's error."""


class InstalledPlugin(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    """``<plugin>@<marketplace>``"""
    root: Path
    version: str
    enabled: bool


def plugin_id(plugin: str, marketplace: str) -> str:
    return f"{plugin}@{marketplace}"


def split_id(text: str) -> tuple[str, str]:
    """``(plugin, marketplace)`` of a local plugin id."""
    plugin, _, marketplace = text.partition("@")
    for part, what in ((plugin, "plugin name"), (marketplace, "marketplace name")):
        if not part or part in (".", "..") or not _SEGMENT.fullmatch(part):
            raise PluginStoreError(f"invalid plugin id `{text}`: bad {what}")
    return plugin, marketplace


class PluginStore:
    def __init__(self, codex_home: Path) -> None:
        self.root = codex_home / CACHE_DIR

    def base(self, plugin: str, marketplace: str) -> Path:
        return self.root / marketplace / plugin

    def active_version(self, plugin: str, marketplace: str) -> str | None:
        """The installed version (``local`` wins, else the highest name)."""
        try:
            versions = sorted(p.name for p in self.base(plugin, marketplace).iterdir()
                              if p.is_dir() and _VERSION.fullmatch(p.name)
                              and p.name not in (".", ".."))
        except OSError:
            return None
        if not versions:
            return None
        return DEFAULT_VERSION if DEFAULT_VERSION in versions else versions[-1]

    def install(self, source: Path, plugin: str, marketplace: str) -> Path:
        """Copy ``source`` into the cache as the only version of the plugin; the previous
        copy is replaced in one rename, so readers never see a half-copied plugin."""
        manifest = load_manifest(source)
        if not source.is_dir():
            raise PluginStoreError(f"plugin source path is not a directory: {source}")
        if manifest is None:
            raise PluginStoreError(f"missing plugin manifest: {source / '.codex-plugin'}")
        if manifest.name != plugin:
            raise PluginStoreError(
                f"plugin manifest name `{manifest.name}` does not match marketplace plugin "
                f"name `{plugin}`")
        version = manifest.version or DEFAULT_VERSION
        if not _VERSION.fullmatch(version) or version in (".", ".."):
            raise PluginStoreError(f"invalid plugin version `{version}`")
        target = self.base(plugin, marketplace)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="plugin-install-", dir=target.parent))
        try:
            shutil.copytree(source, staging / plugin / version, symlinks=False)
            old = None
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix="plugin-backup-", dir=target.parent))
                target.rename(old / plugin)
            (staging / plugin).rename(target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target / version

    def uninstall(self, plugin: str, marketplace: str) -> None:
        shutil.rmtree(self.base(plugin, marketplace), ignore_errors=True)


def _enabled(config: Mapping[str, Any], pid: str) -> bool:
    table = config.get("plugins")
    entry = table.get(pid) if isinstance(table, Mapping) else None
    value = entry.get("enabled") if isinstance(entry, Mapping) else None
    return value if isinstance(value, bool) else True


def installed_plugins(codex_home: Path, config: Mapping[str, Any]) -> list[InstalledPlugin]:
    """Every plugin in the cache with its active copy and whether ``config`` enables it.
    A plugin's skills are under ``<root>/skills``, its MCP servers in ``<root>/.mcp.json``."""
    store = PluginStore(codex_home)
    found = []
    marketplaces = sorted(store.root.iterdir()) if store.root.is_dir() else []
    for marketplace in marketplaces:
        for plugin in sorted(marketplace.iterdir()) if marketplace.is_dir() else []:
            version = store.active_version(plugin.name, marketplace.name)
            if version is None:
                continue
            pid = plugin_id(plugin.name, marketplace.name)
            found.append(InstalledPlugin(id=pid, root=plugin / version, version=version,
                                         enabled=_enabled(config, pid)))
    return found


def is_enabled(config: Mapping[str, Any], pid: str) -> bool:
    return _enabled(config, pid)
