"""``plugin/*``, ``marketplace/*`` and ``app/*`` as the reference answers them with no
marketplace installed and no ChatGPT login: empty lists, and the remote catalog refused
before any network call (with the other texts when the ``plugins`` feature is off)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pycodex.api.config import config_service
from pycodex.api.context import RequestContext
from pycodex.api.router import route
from pycodex.core import features
from pycodex.protocol.errors import invalid_request
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


def _marketplace_file(path: str) -> None:
    if not Path(path).is_file():
        raise invalid_request(f"marketplace file `{path}` does not exist")


@route("plugin/list")
async def plugin_list(ctx: RequestContext, params: t.PluginListParams) -> t.PluginListResponse:
    return t.PluginListResponse(marketplaces=[], marketplace_load_errors=[],
                                featured_plugin_ids=[])


@route("plugin/installed")
async def plugin_installed(
    ctx: RequestContext, params: t.PluginInstalledParams
) -> t.PluginInstalledResponse:
    return t.PluginInstalledResponse(marketplaces=[], marketplace_load_errors=[])


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
    return t.MarketplaceUpgradeResponse(selected_marketplaces=[], upgraded_roots=[], errors=[])


@route("marketplace/add")
async def marketplace_add(ctx: RequestContext, params: t.MarketplaceAddParams) -> Any:
    source = params.source.strip()
    local = Path(source).expanduser()
    if not (_OWNER_REPO.fullmatch(source) or _GIT_URL.fullmatch(source) or local.exists()):
        raise invalid_request(BAD_SOURCE)
    raise invalid_request(f"adding marketplace `{source}` is not supported by pycodex yet")


@route("marketplace/remove")
async def marketplace_remove(ctx: RequestContext, params: t.MarketplaceRemoveParams) -> Any:
    raise invalid_request(
        f"marketplace `{params.marketplace_name}` is not configured or installed")


@route("plugin/read")
async def plugin_read(ctx: RequestContext, params: t.PluginReadParams) -> Any:
    _one_source("plugin/read", params)
    if params.marketplace_path is not None:
        if not _plugins_on(ctx):
            raise invalid_request("plugins feature is disabled")
        _marketplace_file(params.marketplace_path)
    raise invalid_request(f"plugin `{params.plugin_name}` was not found")


@route("plugin/install")
async def plugin_install(ctx: RequestContext, params: t.PluginInstallParams) -> Any:
    _one_source("plugin/install", params)
    if params.marketplace_path is not None:
        _marketplace_file(params.marketplace_path)
        raise invalid_request(f"plugin `{params.plugin_name}` was not found")
    if not _plugins_on(ctx):
        raise invalid_request(
            f"remote plugin install is not enabled for marketplace "
            f"{params.remote_marketplace_name}")
    raise invalid_request(f"read remote plugin details before install: {_REMOTE_AUTH}")


@route("plugin/uninstall")
async def plugin_uninstall(ctx: RequestContext, params: t.PluginUninstallParams) -> Any:
    """A local plugin id is ``<name>@<marketplace>``; none is installed, so there is
    nothing to remove. Anything else is a remote plugin."""
    if "@" in params.plugin_id:
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
