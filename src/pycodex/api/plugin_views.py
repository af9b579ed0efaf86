"""Wire shapes of local marketplaces and plugins (``PluginMarketplaceEntry``,
``PluginSummary``, ``PluginDetail``) as the reference fills them for local plugins."""

from __future__ import annotations

from typing import Any

from pycodex.core.plugins import manifest as manifests
from pycodex.core.plugins.marketplace import Marketplace, MarketplacePlugin
from pycodex.core.plugins.store import plugin_id

_TEXT_KEYS = ("displayName", "shortDescription", "longDescription", "developerName",
              "category", "websiteUrl", "privacyPolicyUrl", "termsOfServiceUrl", "brandColor",
              "composerIcon", "composerIconUrl", "logo", "logoDark", "logoUrl", "logoUrlDark")


def _interface(raw: dict[str, Any] | None, category: str | None) -> dict[str, Any] | None:
    if raw is None and category is None:
        return None
    raw = raw or {}
    out: dict[str, Any] = {}
    for key in _TEXT_KEYS:
        value = raw.get(key)
        out[key] = value if isinstance(value, str) else None
    if category is not None:
        out["category"] = category  # the marketplace's taxonomy wins
    prompts = raw.get("defaultPrompt")
    out["defaultPrompt"] = ([p[:128] for p in prompts if isinstance(p, str)][:3]
                            if isinstance(prompts, list) else None)
    for key in ("capabilities", "screenshots", "screenshotUrls"):
        value = raw.get(key)
        out[key] = [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
    order = ("displayName", "shortDescription", "longDescription", "developerName",
             "category", "capabilities", "websiteUrl", "privacyPolicyUrl",
             "termsOfServiceUrl", "defaultPrompt", "brandColor", "composerIcon",
             "composerIconUrl", "logo", "logoDark", "logoUrl", "logoUrlDark", "screenshots",
             "screenshotUrls")
    return {key: out[key] for key in order}


def summary(marketplace: Marketplace, plugin: MarketplacePlugin, *, installed: bool,
            enabled: bool) -> dict[str, Any]:
    manifest = manifests.load_manifest(plugin.source_path)
    return {
        "id": plugin_id(plugin.name, marketplace.name), "remotePluginId": None,
        "version": None, "localVersion": manifest.version if manifest else None,
        "name": plugin.name, "shareContext": None,
        "source": {"type": "local", "path": str(plugin.source_path)},
        "installed": installed, "installedAt": None, "enabled": installed and enabled,
        "installPolicy": plugin.install_policy, "installPolicySource": None,
        "mustShowInstallationInterstitial": None, "authPolicy": plugin.auth_policy,
        "availability": "AVAILABLE", "disabledReason": None, "eligiblePlanTypes": None,
        "interface": _interface(manifest.interface if manifest else None, plugin.category),
        "keywords": [],
    }


def marketplace_entry(marketplace: Marketplace, plugins: list[dict[str, Any]]
                      ) -> dict[str, Any]:
    interface = ({"displayName": marketplace.display_name}
                 if marketplace.display_name is not None else None)
    return {"name": marketplace.name, "path": str(marketplace.path), "interface": interface,
            "plugins": plugins}


def detail(marketplace: Marketplace, plugin: MarketplacePlugin, summary_: dict[str, Any]
           ) -> dict[str, Any]:
    root = plugin.source_path
    manifest = manifests.load_manifest(root)
    return {
        "marketplaceName": marketplace.name, "marketplacePath": str(marketplace.path),
        "summary": summary_, "shareUrl": None,
        "description": manifest.description if manifest else None,
        "skills": [{"name": s.name, "description": s.description, "shortDescription": None,
                    "interface": None, "path": str(s.path), "enabled": True}
                   for s in manifests.skills(root, plugin.name)],
        "onboardingSkill": None, "hooks": [], "apps": [], "appTemplates": [],
        "mcpServers": list(manifests.mcp_servers(root)), "scheduledTasks": None,
    }
