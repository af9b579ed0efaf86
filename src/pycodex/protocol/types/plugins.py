"""Wire types of plugins, marketplaces and apps (``plugin/*``, ``marketplace/*``,
``app/*``)."""

from __future__ import annotations

from typing import Any, Literal

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec


# -- marketplaces ------------------------------------------------------------------------------
class MarketplaceAddParams(WireStruct):
    source: str
    ref_name: str | None = None
    sparse_paths: list[str] | None = None


class MarketplaceRemoveParams(WireStruct):
    marketplace_name: str


class MarketplaceAddResponse(WireStruct):
    marketplace_name: str
    installed_root: str
    already_added: bool


class MarketplaceRemoveResponse(WireStruct):
    marketplace_name: str
    installed_root: str | None = None


class MarketplaceUpgradeParams(WireStruct):
    marketplace_name: str | None = None


class MarketplaceUpgradeResponse(WireStruct):
    selected_marketplaces: list[str]
    upgraded_roots: list[str]
    errors: list[dict[str, Any]]


# -- plugins -----------------------------------------------------------------------------------
class PluginListParams(WireStruct):
    cwds: list[str] | None = None
    force_refetch: bool = False
    marketplace_kinds: list[str] | None = None


class PluginListResponse(WireStruct):
    marketplaces: list[dict[str, Any]]
    marketplace_load_errors: list[dict[str, Any]]
    featured_plugin_ids: list[str]


class PluginInstalledParams(WireStruct):
    cwds: list[str] | None = None
    install_suggestion_plugin_names: list[str] | None = None


class PluginInstalledResponse(WireStruct):
    marketplaces: list[dict[str, Any]]
    marketplace_load_errors: list[dict[str, Any]]


class PluginReconcileParams(WireStruct):
    reason: str | None = None


class PluginReconcileResponse(WireStruct):
    changed_plugins: list[dict[str, Any]]
    failed_remote_plugin_ids: list[str]
    failed_materialization_remote_plugin_ids: list[str]


class PluginReadParams(WireStruct):
    plugin_name: str
    marketplace_path: str | None = None
    remote_marketplace_name: str | None = None


class PluginInstallParams(WireStruct):
    plugin_name: str
    marketplace_path: str | None = None
    remote_marketplace_name: str | None = None
    install_attempt_id: str | None = None


class PluginReadResponse(WireStruct):
    plugin: dict[str, Any]


PluginAuthPolicy = Literal["ON_INSTALL", "ON_USE"]


class PluginInstallResponse(WireStruct):
    auth_policy: PluginAuthPolicy
    apps_needing_auth: list[dict[str, Any]]


class PluginUninstallParams(WireStruct):
    plugin_id: str


class PluginSkillReadParams(WireStruct):
    remote_marketplace_name: str
    remote_plugin_id: str
    skill_name: str


class PluginSkillReadResponse(WireStruct):
    contents: str | None = None


PluginShareDiscoverability = Literal["LISTED", "UNLISTED", "PRIVATE"]


class PluginShareSaveParams(WireStruct):
    plugin_path: str
    remote_plugin_id: str | None = None
    discoverability: str | None = None
    share_targets: list[Any] | None = None


class PluginShareUpdateTargetsParams(WireStruct):
    remote_plugin_id: str
    discoverability: PluginShareDiscoverability
    share_targets: list[Any]


class PluginShareSaveResponse(WireStruct):
    remote_plugin_id: str
    share_url: str
    can_publish_to_workspace: bool | None = None


class PluginShareUpdateTargetsResponse(WireStruct):
    discoverability: PluginShareDiscoverability
    principals: list[dict[str, Any]]


class PluginShareListParams(WireStruct):
    pass


class PluginShareListResponse(WireStruct):
    data: list[dict[str, Any]]


class PluginShareCheckoutParams(WireStruct):
    remote_plugin_id: str


class PluginShareCheckoutResponse(WireStruct):
    remote_plugin_id: str
    plugin_id: str
    plugin_name: str
    plugin_path: str
    marketplace_name: str
    marketplace_path: str
    remote_version: str | None = None


class PluginShareDeleteParams(WireStruct):
    remote_plugin_id: str


# -- apps --------------------------------------------------------------------------------------
class AppsReadParams(WireStruct):
    app_ids: list[str]
    include_tools: bool = False
    thread_id: str | None = None


class AppsReadResponse(WireStruct):
    apps: list[dict[str, Any]]
    missing_app_ids: list[str]


class AppsListParams(WireStruct):
    cursor: str | None = None
    limit: int | None = None
    force_refetch: bool = False
    thread_id: str | None = None


class AppsListResponse(WireStruct):
    data: list[dict[str, Any]]
    next_cursor: str | None


class AppsInstalledParams(WireStruct):
    force_refresh: bool = False
    thread_id: str | None = None


class AppsInstalledResponse(WireStruct):
    apps: list[dict[str, Any]]


class AppListUpdatedNotification(WireStruct):
    data: list[dict[str, Any]]


_ANY = dict[str, Any]
REQUESTS: list[MethodSpec] = [
    MethodSpec("marketplace/add", MarketplaceAddParams, MarketplaceAddResponse),
    MethodSpec("marketplace/remove", MarketplaceRemoveParams, MarketplaceRemoveResponse),
    MethodSpec("marketplace/upgrade", MarketplaceUpgradeParams, MarketplaceUpgradeResponse),
    MethodSpec("plugin/list", PluginListParams, PluginListResponse),
    MethodSpec("plugin/installed", PluginInstalledParams, PluginInstalledResponse),
    MethodSpec("plugin/reconcile", PluginReconcileParams, PluginReconcileResponse),
    MethodSpec("plugin/read", PluginReadParams, PluginReadResponse),
    MethodSpec("plugin/skill/read", PluginSkillReadParams, PluginSkillReadResponse),
    MethodSpec("plugin/share/save", PluginShareSaveParams, PluginShareSaveResponse),
    MethodSpec(
        "plugin/share/updateTargets",
        PluginShareUpdateTargetsParams,
        PluginShareUpdateTargetsResponse,
    ),
    MethodSpec("plugin/share/list", PluginShareListParams, PluginShareListResponse),
    MethodSpec(
        "plugin/share/checkout", PluginShareCheckoutParams, PluginShareCheckoutResponse
    ),
    MethodSpec("plugin/share/delete", PluginShareDeleteParams, _ANY),
    MethodSpec("plugin/install", PluginInstallParams, PluginInstallResponse),
    MethodSpec("plugin/uninstall", PluginUninstallParams, _ANY),
    MethodSpec("app/read", AppsReadParams, AppsReadResponse),
    MethodSpec("app/list", AppsListParams, AppsListResponse),
    MethodSpec("app/installed", AppsInstalledParams, AppsInstalledResponse),
]
NOTIFICATIONS: dict[str, Any] = {"app/list/updated": AppListUpdatedNotification}
