"""Local marketplaces and plugins (spec reference-0171.md §2.1): a marketplace on disk is
listed and read, a local plugin is installed into $CODEX_HOME/plugins/cache with the
skills and MCP servers it brings and enabled in config.toml, survives a restart, and is
uninstalled again; over stdio against a spawned server."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.conftest import ServerFactory
from tests.support.plugins import SKILL, make_marketplace


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    return root


async def test_local_plugin_list_read_install_uninstall(
    spawn: ServerFactory, codex_home: Path, repo: Path
) -> None:
    market = make_marketplace(repo)
    cwds = {"cwds": [str(repo)]}
    client = await spawn()
    listed = await client.request("plugin/list", cwds)
    assert listed["marketplaceLoadErrors"] == [] and listed["featuredPluginIds"] == []
    [entry] = listed["marketplaces"]
    assert (entry["name"], entry["path"], entry["interface"]) == (
        "local-mkt", str(market), {"displayName": "Local Market"})
    hello, gone = entry["plugins"]
    assert hello["id"] == "hello@local-mkt" and hello["localVersion"] == "1.2.0"
    assert hello["source"] == {"type": "local", "path": str(repo / "plugins" / "hello")}
    assert (hello["installed"], hello["enabled"], hello["installPolicy"]) == (
        False, False, "AVAILABLE")
    assert hello["interface"]["displayName"] == "Hello Plugin"
    assert hello["interface"]["category"] == "Productivity"
    assert gone["installPolicy"] == "NOT_AVAILABLE" and gone["interface"] is None
    assert await client.request("plugin/installed", cwds) == {
        "marketplaces": [], "marketplaceLoadErrors": []}

    read = (await client.request("plugin/read", {
        "pluginName": "hello", "marketplacePath": str(market)}))["plugin"]
    assert read["description"] == "Says hello" and read["mcpServers"] == ["hello-time"]
    assert read["skills"] == [{
        "name": "hello:greet", "description": "Greet the user warmly", "shortDescription": None,
        "interface": None, "path": str(repo / "plugins/hello/skills/greet/SKILL.md"),
        "enabled": True}]
    for params, text in [
        ({"pluginName": "nope", "marketplacePath": str(market)},
         "plugin `nope` was not found in marketplace `local-mkt`"),
        ({"pluginName": "gone", "marketplacePath": str(market)},
         "plugin `gone` is not available for install in marketplace `local-mkt`"),
    ]:
        answer = await client.request_raw("plugin/install", params)
        assert answer["error"] == {"code": -32600, "message": text}

    installed = await client.request("plugin/install", {
        "pluginName": "hello", "marketplacePath": str(market)})
    assert installed == {"authPolicy": "ON_INSTALL", "appsNeedingAuth": []}
    cached = codex_home / "plugins/cache/local-mkt/hello/1.2.0"
    assert (cached / "skills/greet/SKILL.md").read_text() == SKILL
    assert "hello-time" in (cached / ".mcp.json").read_text()
    config = tomllib.loads((codex_home / "config.toml").read_text())
    assert config["plugins"] == {"hello@local-mkt": {"enabled": True}}
    await client.close()

    client = await spawn()
    now = await client.request("plugin/installed", cwds)
    [entry] = now["marketplaces"]
    assert [(p["id"], p["installed"], p["enabled"]) for p in entry["plugins"]] == [
        ("hello@local-mkt", True, True)]
    suggested = await client.request("plugin/installed", {
        **cwds, "installSuggestionPluginNames": ["gone"]})
    assert [p["name"] for p in suggested["marketplaces"][0]["plugins"]] == ["hello", "gone"]

    assert await client.request("plugin/uninstall", {"pluginId": "hello@local-mkt"}) == {}
    assert not (codex_home / "plugins/cache/local-mkt/hello").exists()
    assert "plugins" not in tomllib.loads((codex_home / "config.toml").read_text())
    assert await client.request("plugin/installed", cwds) == {
        "marketplaces": [], "marketplaceLoadErrors": []}


async def test_broken_marketplace_is_reported_not_fatal(
    spawn: ServerFactory, repo: Path
) -> None:
    market = repo / ".agents" / "plugins" / "marketplace.json"
    market.parent.mkdir(parents=True)
    market.write_text("{not json")
    client = await spawn()
    listed = await client.request("plugin/list", {"cwds": [str(repo)]})
    assert listed["marketplaces"] == []
    [error] = listed["marketplaceLoadErrors"]
    assert error["marketplacePath"] == str(market)
    assert error["message"].startswith(f"invalid marketplace file `{market}`: ")


async def test_plugins_feature_off(spawn: ServerFactory, repo: Path) -> None:
    market = make_marketplace(repo)
    client = await spawn(args=("--disable", "plugins"))
    assert await client.request("plugin/list", {"cwds": [str(repo)]}) == {
        "marketplaces": [], "marketplaceLoadErrors": [], "featuredPluginIds": []}
    answer = await client.request_raw("plugin/read", {
        "pluginName": "hello", "marketplacePath": str(market)})
    assert answer["error"] == {"code": -32600, "message": "plugins feature is disabled"}


async def test_local_marketplace_add_remove_survives_a_restart(
    spawn: ServerFactory, codex_home: Path, repo: Path
) -> None:
    make_marketplace(repo)
    client = await spawn()
    added = await client.request("marketplace/add", {"source": str(repo)})
    assert added == {"marketplaceName": "local-mkt", "installedRoot": str(repo),
                     "alreadyAdded": False}
    again = await client.request("marketplace/add", {"source": str(repo)})
    assert again["alreadyAdded"] is True
    config = tomllib.loads((codex_home / "config.toml").read_text())
    assert config["marketplaces"] == {"local-mkt": {"source_type": "local",
                                                    "source": str(repo)}}
    missing = await client.request_raw("marketplace/add", {"source": str(repo / "none")})
    assert missing["error"] == {
        "code": -32600, "message": "failed to resolve local marketplace source path: "
        "No such file or directory (os error 2)"}
    upgrade = await client.request_raw("marketplace/upgrade", {"marketplaceName": "local-mkt"})
    assert upgrade["error"] == {
        "code": -32600, "message": "marketplace `local-mkt` is not configured as a Git marketplace"}
    await client.close()

    client = await spawn()
    listed = await client.request("plugin/list", {})  # no cwds: the added marketplace
    assert [m["name"] for m in listed["marketplaces"]] == ["local-mkt"]
    assert await client.request("marketplace/remove", {"marketplaceName": "local-mkt"}) == {
        "marketplaceName": "local-mkt", "installedRoot": None}
    assert (await client.request("plugin/list", {}))["marketplaces"] == []
    gone = await client.request_raw("marketplace/remove", {"marketplaceName": "local-mkt"})
    assert gone["error"]["message"] == "marketplace `local-mkt` is not configured or installed"
