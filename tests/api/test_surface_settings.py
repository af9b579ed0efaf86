"""Settings surfaces of reference 0.171 (spec reference-0171.md §2.1, §2.2, §2.7, §2.8):
feature flags, permission profiles, model providers, account extras and the offline
plugin/marketplace/app answers, driven over stdio against a spawned server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient

CONFIG = """# my settings
model = "gpt-5.5"  # keep me
model_provider = "gw"

[model_providers.gw]
name = "Gateway"
base_url = "http://127.0.0.1:9/v1"
env_key = "GW_KEY"

[permissions.review]
description = "Read the repo, write nowhere"
"""


async def error_of(client: AppServerClient, method: str, params: Any = None) -> tuple[int, str]:
    answer = await client.request_raw(method, params)
    assert "error" in answer, answer
    return answer["error"]["code"], answer["error"]["message"]


@pytest.fixture
def configured(codex_home: Path) -> Path:
    (codex_home / "config.toml").write_text(CONFIG)
    return codex_home


# -- feature flags ---------------------------------------------------------------------------------
async def test_feature_list_pages_and_reflects_config(
    spawn: ServerFactory, configured: Path
) -> None:
    with (configured / "config.toml").open("a") as fh:
        fh.write("\n[features]\ngoals = true\n")
    client = await spawn()
    whole = await client.request("experimentalFeature/list", {})
    names = [f["name"] for f in whole["data"]]
    assert whole["nextCursor"] is None and "plugins" in names
    goals = next(f for f in whole["data"] if f["name"] == "goals")
    assert goals["stage"] == "beta" and goals["enabled"] is True
    assert goals["defaultEnabled"] is False and goals["displayName"]
    stable = next(f for f in whole["data"] if f["stage"] == "stable")
    assert (stable["displayName"], stable["description"], stable["announcement"]) == (
        None, None, None)
    first = await client.request("experimentalFeature/list", {"limit": 2})
    assert [f["name"] for f in first["data"]] == names[:2] and first["nextCursor"] == "2"
    rest = await client.request("experimentalFeature/list", {"cursor": "2"})
    assert [f["name"] for f in rest["data"]] == names[2:]
    assert await error_of(client, "experimentalFeature/list", {"cursor": "abc"}) == (
        -32600, "invalid cursor: abc")


async def test_feature_enablement_persists_and_ignores_unknown_names(
    spawn: ServerFactory, configured: Path
) -> None:
    client = await spawn()
    answer = await client.request(
        "experimentalFeature/enablement/set",
        {"enablement": {"goals": True, "plugins": False, "no_such_flag": True}})
    assert answer == {"enablement": {"goals": True, "plugins": False}}
    assert await client.request(
        "experimentalFeature/enablement/set", {"enablement": {}}) == {"enablement": {}}
    text = (configured / "config.toml").read_text()
    assert "# my settings" in text and "# keep me" in text and "no_such_flag" not in text
    await client.close()

    again = await spawn()
    listed = {f["name"]: f["enabled"]
              for f in (await again.request("experimentalFeature/list", {}))["data"]}
    assert listed["goals"] is True and listed["plugins"] is False
    # with plugins off, the remote plugin answers change as in the reference
    assert await error_of(again, "plugin/share/list", {}) == (
        -32600, "plugin sharing is not enabled")


# -- permission profiles ---------------------------------------------------------------------------
async def test_permission_profiles_builtins_then_user_profiles(
    spawn: ServerFactory, configured: Path
) -> None:
    client = await spawn()
    answer = await client.request("permissionProfile/list", {})
    assert answer == {"data": [
        {"id": ":read-only", "description": None, "allowed": True},
        {"id": ":workspace", "description": None, "allowed": True},
        {"id": ":danger-full-access", "description": None, "allowed": True},
        {"id": "review", "description": "Read the repo, write nowhere", "allowed": True},
    ], "nextCursor": None}
    page = await client.request("permissionProfile/list", {"limit": 1, "cursor": "1"})
    assert [p["id"] for p in page["data"]] == [":workspace"] and page["nextCursor"] == "2"
    assert await error_of(client, "permissionProfile/list", {"cursor": "zz"}) == (
        -32600, "invalid cursor: zz")


# -- model providers -------------------------------------------------------------------------------
async def test_model_provider_list_and_capabilities(
    spawn: ServerFactory, configured: Path
) -> None:
    client = await spawn()
    answer = await client.request("modelProvider/list", {})
    assert answer == {"data": [
        {"id": "gw", "name": "Gateway", "canEdit": True, "baseUrl": "http://127.0.0.1:9/v1",
         "settings": {"type": "customGateway",
                      "auth": {"mode": "environmentVariable", "envKey": "GW_KEY"}}},
        {"id": "openai", "name": "OpenAI", "canEdit": False, "baseUrl": None,
         "settings": {"type": "openai"}},
    ], "defaultProviderId": "gw", "canChangeDefault": True}
    assert await client.request("modelProvider/capabilities/read", {}) == {
        "imageGeneration": True, "webSearch": True}


async def test_model_provider_writes_survive_a_restart(
    spawn: ServerFactory, configured: Path
) -> None:
    client = await spawn()
    created = await client.request("modelProvider/config/write", {"settings": {
        "type": "customGateway", "name": "My GW", "baseUrl": "http://127.0.0.1:1234/v1"}})
    assert created == {"provider": {
        "id": "my-gw", "name": "My GW", "canEdit": True, "baseUrl": "http://127.0.0.1:1234/v1",
        "settings": {"type": "customGateway", "auth": {"mode": "none"}}}}
    renamed = await client.request("modelProvider/config/write", {"settings": {
        "type": "customGateway", "providerId": "gw", "name": "Renamed", "envKey": None}})
    assert renamed["provider"]["name"] == "Renamed"
    assert renamed["provider"]["settings"]["auth"] == {"mode": "none"}
    bedrock = await client.request("modelProvider/config/write", {"settings": {
        "type": "bedrock", "providerId": "amazon-bedrock", "region": "us-east-1"}})
    assert bedrock["provider"]["settings"] == {
        "type": "bedrock", "profile": None, "region": "us-east-1"}
    written = await client.request("modelProvider/default/set", {"providerId": "my-gw"})
    assert written["status"] == "ok" and written["version"].startswith("sha256:")
    assert written["filePath"] == str(configured / "config.toml")
    assert written["overriddenMetadata"] is None
    await client.close()

    again = await spawn()
    listed = await again.request("modelProvider/list", {})
    assert listed["defaultProviderId"] == "my-gw"
    assert [p["id"] for p in listed["data"]] == ["amazon-bedrock", "gw", "my-gw", "openai"]
    assert "# keep me" in (configured / "config.toml").read_text()


@pytest.mark.parametrize(("settings", "code", "message"), [
    ({"type": "customGateway"}, "configValidationError", "Enter a provider name."),
    ({"type": "customGateway", "name": " "}, "configValidationError", "Enter a provider name."),
    ({"type": "customGateway", "providerId": "nope", "name": "x"}, "configPathNotFound",
     "Unknown provider ID."),
    ({"type": "customGateway", "providerId": "openai", "name": "x"}, "configValidationError",
     "A custom provider or gateway cannot use a built-in provider ID."),
    ({"type": "customGateway", "name": "x", "baseUrl": "notaurl"}, "configValidationError",
     "Enter an HTTP(S) base URL without credentials, a query, or a fragment."),
])
async def test_model_provider_write_rejections_change_nothing(
    spawn: ServerFactory, configured: Path, settings: dict[str, Any], code: str, message: str
) -> None:
    client = await spawn()
    answer = await client.request_raw("modelProvider/config/write", {"settings": settings})
    assert answer["error"] == {"code": -32600, "message": message,
                               "data": {"config_write_error_code": code}}
    assert (configured / "config.toml").read_text() == CONFIG


async def test_model_provider_default_set_unknown_id(
    spawn: ServerFactory, configured: Path
) -> None:
    client = await spawn()
    answer = await client.request_raw("modelProvider/default/set", {"providerId": "nope"})
    assert answer["error"] == {
        "code": -32600, "message": "Model provider `nope` is not configured.",
        "data": {"config_write_error_code": "configValidationError"}}


# -- account extras --------------------------------------------------------------------------------
async def test_account_extras_offline(spawn: ServerFactory, configured: Path) -> None:
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    assert await client.request("account/gatewayOAuth/read", None) == {
        "providerId": "gw", "providerName": "Gateway", "required": False,
        "supportsDeviceAuth": False, "status": None, "error": None}
    openai = await client.request("account/gatewayOAuth/read", {"modelProvider": "openai"})
    assert openai["providerName"] == "OpenAI"
    unknown = await client.request_raw("account/gatewayOAuth/read", {"modelProvider": "nope"})
    assert unknown["error"]["data"] == {"type": "modelProviderNotConfigured",
                                        "modelProvider": "nope"}
    assert await error_of(client, "account/gatewayOAuth/login", None) == (
        -32600, "The selected provider does not use gateway OAuth")
    assert await client.request("account/gatewayOAuth/cancel", None) == {}
    assert await client.request("account/securitySetup/read", None) == {"notice": None}
    assert await client.request("account/bedrock/checkGovCloudRequirements", {}) == {
        "isGovCloud": False, "shouldWarn": False}
    for method, params, text in [
        ("account/usage/read", None, "to read token usage"),
        ("account/rateLimitResetCredit/consume", {"idempotencyKey": "k"},
         "for rate limit reset credits"),
        ("account/workspaceMessages/read", None, "to read workspace messages"),
        ("account/sendAddCreditsNudgeEmail", {"creditType": "credits"},
         "to notify workspace owner"),
    ]:
        assert await error_of(client, method, params) == (
            -32600, f"codex account authentication required {text}")


# -- plugins, marketplaces, apps -------------------------------------------------------------------
async def test_plugins_marketplaces_apps_offline(spawn: ServerFactory, tmp_path: Path) -> None:
    client = await spawn()
    assert await client.request("plugin/list", {}) == {
        "marketplaces": [], "marketplaceLoadErrors": [], "featuredPluginIds": []}
    assert await client.request("plugin/installed", {"cwds": [str(tmp_path)]}) == {
        "marketplaces": [], "marketplaceLoadErrors": []}
    assert await client.request("plugin/reconcile", {}) == {
        "changedPlugins": [], "failedRemotePluginIds": [],
        "failedMaterializationRemotePluginIds": []}
    assert await client.request("marketplace/upgrade", {}) == {
        "selectedMarketplaces": [], "upgradedRoots": [], "errors": []}
    assert await client.request("app/read", {"appIds": ["x"]}) == {
        "apps": [], "missingAppIds": ["x"]}
    assert await client.request("app/list", {}) == {"data": [], "nextCursor": None}
    assert await client.request("app/installed", {}) == {"apps": []}
    assert await client.request("plugin/uninstall", {"pluginId": "p@local"}) == {}
    missing = tmp_path / "nowhere" / "marketplace.json"
    auth = "chatgpt authentication required for remote plugin catalog"
    for method, params, text in [
        ("marketplace/add", {"source": "???"},
         "invalid marketplace source format; expected owner/repo, a git URL, or a local "
         "marketplace path"),
        ("marketplace/remove", {"marketplaceName": "foo"},
         "marketplace `foo` is not configured or installed"),
        ("plugin/read", {"pluginName": "p"},
         "plugin/read requires exactly one of marketplacePath or remoteMarketplaceName"),
        ("plugin/install", {"pluginName": "p"},
         "plugin/install requires exactly one of marketplacePath or remoteMarketplaceName"),
        ("plugin/install", {"pluginName": "p", "marketplacePath": str(missing)},
         f"marketplace file `{missing}` does not exist"),
        ("plugin/install", {"pluginName": "p", "remoteMarketplaceName": "openai-curated"},
         f"read remote plugin details before install: {auth}"),
        ("plugin/skill/read",
         {"remoteMarketplaceName": "m", "remotePluginId": "p", "skillName": "s"},
         f"read remote plugin skill details: {auth}"),
        ("plugin/share/save", {"pluginPath": str(tmp_path)}, f"save remote plugin share: {auth}"),
        ("plugin/share/list", {}, f"list remote plugin shares: {auth}"),
        ("plugin/share/updateTargets",
         {"remotePluginId": "p", "discoverability": "PRIVATE", "shareTargets": []},
         f"update remote plugin share targets: {auth}"),
        ("plugin/share/checkout", {"remotePluginId": "p"}, f"checkout plugin share: {auth}"),
        ("plugin/share/delete", {"remotePluginId": "p"}, f"delete remote plugin share: {auth}"),
        ("plugin/uninstall", {"pluginId": "p"},
         f"resolve remote plugin before uninstall: {auth}"),
    ]:
        assert await error_of(client, method, params) == (-32600, text), method
