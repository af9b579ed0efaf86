"""``plugin/*``, ``marketplace/*`` and ``app/*``: local marketplaces read from disk, local
plugins installed into the plugin cache, and, with no ChatGPT login, the remote catalog
refused before any network call (other texts when the ``plugins`` feature is off); app
lists are empty offline."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pycodex.api import plugin_views as views
from pycodex.api.config import config_service
from pycodex.api.config_writes import write_user_config
from pycodex.api.context import RequestContext
from pycodex.api.router import route
from pycodex.core import features
from pycodex.core.plugins import marketplace
from pycodex.core.plugins.marketplace import Marketplace, MarketplacePlugin
from pycodex.core.plugins.store import (
    PluginStore,
    PluginStoreError,
    is_enabled,
    plugin_id,
    split_id,
)
from pycodex.protocol.errors import internal_error, invalid_request
from pycodex.protocol.types import plugins as t

_REMOTE_AUTH = "chatgpt authentication required for remote plugin catalog"
#: What each remote operation says it was doing when the catalog refused it.
REMOTE_ACTIONS = {
    "plugin/skill/read": "read remote plugin skill details",
    "plugin/share/save": "save remote plugin share",
    "plugin/share/updateTargets": "update remote plugin share targets",
    "plugin/share/list": "list remote plugin shares",
    "plugin/share/checkout": "checkout plugin share",
    "plugin/share/delete": "delete remote plugin share",
}
SHARING_DISABLED = "plugin sharing is not enabled"
BAD_SOURCE = (
    "invalid marketplace source format; expected owner/repo, a git URL, or a local "
    "marketplace path"
)
_OWNER_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(@[^\s]+)?")
_GIT_URL = re.compile(r"(https?://|ssh://|git@|git://|file://)\S+")


def _plugins_on(ctx: RequestContext) -> bool:
    return features.enabled("plugins", ctx.app.get(config_service).effective())


def _one_source(method: str, params: t.PluginReadParams | t.PluginInstallParams) -> None:
    if (params.marketplace_path is None) == (params.remote_marketplace_name is None):
        raise invalid_request(
            f"{method} requires exactly one of marketplacePath or remoteMarketplaceName")


def _catalog(config: dict[str, Any], cwds: list[str] | None
             ) -> tuple[list[Marketplace], list[dict[str, Any]]]:
    """The marketplaces found from the user's home, ``cwds`` and the local marketplaces
    added to ``config``, and the load errors."""
    roots = [Path(c) for c in cwds or []]
    roots += marketplace.configured_local_roots(config).values()
    found, errors = [], []
    for path in marketplace.discover(roots, Path.home()):
        try:
            found.append(marketplace.load_marketplace(path))
        except marketplace.MarketplaceError as exc:
            errors.append({"marketplacePath": str(path), "message": str(exc)})
    return found, errors


def _entries(ctx: RequestContext, cwds: list[str] | None,
             keep: Callable[[MarketplacePlugin, bool], bool]
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Marketplace entries with the plugins ``keep(plugin, installed)`` selects; one left
    with no plugin is not listed (as the reference)."""
    config = ctx.app.get(config_service).effective()
    if not features.enabled("plugins", config):
        return [], []
    store = _store(ctx)
    found, errors = _catalog(config, cwds)
    entries = []
    for market in found:
        plugins = []
        for plugin in market.plugins:
            installed = store.active_version(plugin.name, market.name) is not None
            if keep(plugin, installed):
                pid = plugin_id(plugin.name, market.name)
                plugins.append(views.summary(market, plugin, installed=installed,
                                             enabled=is_enabled(config, pid)))
        if plugins:
            entries.append(views.marketplace_entry(market, plugins))
    return entries, errors


@route("plugin/list")
async def plugin_list(ctx: RequestContext, params: t.PluginListParams) -> t.PluginListResponse:
    entries, errors = _entries(ctx, params.cwds, lambda plugin, installed: True)
    return t.PluginListResponse(marketplaces=entries, marketplace_load_errors=errors,
                                featured_plugin_ids=[])


@route("plugin/installed")
async def plugin_installed(
    ctx: RequestContext, params: t.PluginInstalledParams
) -> t.PluginInstalledResponse:
    """Installed plugins of the discovered marketplaces, plus the uninstalled ones named in
    ``installSuggestionPluginNames``."""
    suggested = set(params.install_suggestion_plugin_names or [])
    entries, errors = _entries(
        ctx, params.cwds, lambda plugin, installed: installed or plugin.name in suggested)
    return t.PluginInstalledResponse(marketplaces=entries, marketplace_load_errors=errors)


@route("plugin/reconcile")
async def plugin_reconcile(
    ctx: RequestContext, params: t.PluginReconcileParams
) -> t.PluginReconcileResponse:
    return t.PluginReconcileResponse(changed_plugins=[], failed_remote_plugin_ids=[],
                                     failed_materialization_remote_plugin_ids=[])


@route("marketplace/upgrade")
async def marketplace_upgrade(
    ctx: RequestContext, params: t.MarketplaceUpgradeParams
) -> t.MarketplaceUpgradeResponse:
    """Only Git marketplaces are upgraded, and pycodex adds none (no network)."""
    if params.marketplace_name is not None:
        raise invalid_request(
            f"marketplace `{params.marketplace_name}` is not configured as a Git marketplace")
    return t.MarketplaceUpgradeResponse(selected_marketplaces=[], upgraded_roots=[], errors=[])


@route("marketplace/add")
async def marketplace_add(
    ctx: RequestContext, params: t.MarketplaceAddParams
) -> t.MarketplaceAddResponse:
    """A local folder holding ``.agents/plugins/marketplace.json`` is recorded under
    ``[marketplaces.<name>]``; Git sources would need the network."""
    source = params.source.strip()
    local = Path(source).expanduser()
    looks_local = local.is_absolute() or source.startswith((".", "~"))
    if not looks_local and (_OWNER_REPO.fullmatch(source) or _GIT_URL.fullmatch(source)):
        raise internal_error(
            f"cannot add Git marketplace `{source}`: pycodex does not fetch marketplaces "
            "over the network; clone it and add the local folder")
    if not (looks_local or local.exists()):
        raise invalid_request(BAD_SOURCE)
    try:
        root = (ctx.app.options.cwd / local).resolve(strict=True)
    except OSError as exc:
        raise invalid_request("failed to resolve local marketplace source path: "
                              f"{os.strerror(exc.errno or 2)} (os error {exc.errno})") from None
    try:
        market = marketplace.load_marketplace(root / marketplace.MARKETPLACE_RELATIVE_PATH)
    except marketplace.MarketplaceError as exc:
        raise invalid_request(str(exc)) from None
    configured = marketplace.configured_local_roots(ctx.app.get(config_service).effective())
    already = configured.get(market.name) == root
    if not already:
        await write_user_config(ctx, [(f"marketplaces.{market.name}",
                                       {"source_type": "local", "source": str(root)})])
    return t.MarketplaceAddResponse(marketplace_name=market.name, installed_root=str(root),
                                    already_added=already)


@route("marketplace/remove")
async def marketplace_remove(
    ctx: RequestContext, params: t.MarketplaceRemoveParams
) -> t.MarketplaceRemoveResponse:
    name = params.marketplace_name
    configured = marketplace.configured_local_roots(ctx.app.get(config_service).effective())
    if name not in configured:
        raise invalid_request(f"marketplace `{name}` is not configured or installed")
    await write_user_config(ctx, [(f"marketplaces.{name}", None)])
    return t.MarketplaceRemoveResponse(marketplace_name=name, installed_root=None)


def _store(ctx: RequestContext) -> PluginStore:
    return PluginStore(ctx.app.options.codex_home)


def _local_plugin(path: str, name: str) -> tuple[Marketplace, MarketplacePlugin]:
    try:
        market = marketplace.load_marketplace(Path(path))
        return market, market.plugin(name)
    except marketplace.MarketplaceError as exc:
        raise invalid_request(str(exc)) from None


@route("plugin/read")
async def plugin_read(ctx: RequestContext, params: t.PluginReadParams) -> t.PluginReadResponse:
    _one_source("plugin/read", params)
    if params.marketplace_path is None:
        if not _plugins_on(ctx):
            raise invalid_request(
                "remote plugin read is not enabled for marketplace "
                f"{params.remote_marketplace_name}")
        raise invalid_request(f"read remote plugin details: {_REMOTE_AUTH}")
    if not _plugins_on(ctx):
        raise invalid_request("plugins feature is disabled")
    market, plugin = _local_plugin(params.marketplace_path, params.plugin_name)
    pid = plugin_id(plugin.name, market.name)
    installed = _store(ctx).active_version(plugin.name, market.name) is not None
    config = ctx.app.get(config_service).effective()
    summary = views.summary(market, plugin, installed=installed,
                            enabled=is_enabled(config, pid))
    return t.PluginReadResponse(plugin=views.detail(market, plugin, summary))


@route("plugin/install")
async def plugin_install(ctx: RequestContext, params: t.PluginInstallParams) -> Any:
    """Copy a local plugin into the plugin cache and enable it in ``config.toml``; its
    skills and MCP servers are then found through the cache."""
    _one_source("plugin/install", params)
    if params.marketplace_path is None:
        if not _plugins_on(ctx):
            raise invalid_request(
                f"remote plugin install is not enabled for marketplace "
                f"{params.remote_marketplace_name}")
        raise invalid_request(f"read remote plugin details before install: {_REMOTE_AUTH}")
    market, plugin = _local_plugin(params.marketplace_path, params.plugin_name)
    if plugin.install_policy == "NOT_AVAILABLE":
        raise invalid_request(f"plugin `{plugin.name}` is not available for install in "
                              f"marketplace `{market.name}`")
    if not _plugins_on(ctx):
        raise invalid_request("plugins feature is disabled")
    try:
        await asyncio.to_thread(_store(ctx).install, plugin.source_path, plugin.name,
                                market.name)
    except PluginStoreError as exc:
        raise invalid_request(str(exc)) from None
    except OSError as exc:
        raise internal_error(f"failed to install plugin: {exc}") from None
    await write_user_config(ctx, [(f"plugins.{plugin_id(plugin.name, market.name)}",
                                   {"enabled": True})])
    return {"authPolicy": plugin.auth_policy, "appsNeedingAuth": []}


@route("plugin/uninstall")
async def plugin_uninstall(ctx: RequestContext, params: t.PluginUninstallParams) -> Any:
    """A local plugin id is ``<name>@<marketplace>``: its cached copy and its
    ``config.toml`` entry are removed (nothing to do when it is not installed). Anything
    else is a remote plugin."""
    if "@" in params.plugin_id:
        try:
            name, market = split_id(params.plugin_id)
        except PluginStoreError as exc:
            raise invalid_request(str(exc)) from None
        await asyncio.to_thread(_store(ctx).uninstall, name, market)
        config = ctx.app.get(config_service).effective()
        if isinstance((config.get("plugins") or {}).get(params.plugin_id), dict):
            await write_user_config(ctx, [(f"plugins.{params.plugin_id}", None)])
        return {}
    if not _plugins_on(ctx):
        raise invalid_request("remote plugin uninstall is not enabled")
    raise invalid_request(f"resolve remote plugin before uninstall: {_REMOTE_AUTH}")


@route("plugin/skill/read")
async def plugin_skill_read(ctx: RequestContext, params: t.PluginSkillReadParams) -> Any:
    if not _plugins_on(ctx):
        raise invalid_request(
            "remote plugin skill read is not enabled for marketplace "
            f"{params.remote_marketplace_name}")
    raise invalid_request(f"{REMOTE_ACTIONS[ctx.method]}: {_REMOTE_AUTH}")


async def _plugin_share(ctx: RequestContext, params: Any) -> Any:
    if not _plugins_on(ctx):
        raise invalid_request(SHARING_DISABLED)
    raise invalid_request(f"{REMOTE_ACTIONS[ctx.method]}: {_REMOTE_AUTH}")


for _method in REMOTE_ACTIONS:
    if _method.startswith("plugin/share/"):
        route(_method)(_plugin_share)


@route("app/read")
async def app_read(ctx: RequestContext, params: t.AppsReadParams) -> t.AppsReadResponse:
    return t.AppsReadResponse(apps=[], missing_app_ids=list(params.app_ids))


@route("app/list")
async def app_list(ctx: RequestContext, params: t.AppsListParams) -> t.AppsListResponse:
    return t.AppsListResponse(data=[], next_cursor=None)


@route("app/installed")
async def app_installed(
    ctx: RequestContext, params: t.AppsInstalledParams
) -> t.AppsInstalledResponse:
    return t.AppsInstalledResponse(apps=[])
