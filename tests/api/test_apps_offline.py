"""Apps without a ChatGPT login, as the reference 0.171 answers (probed on the binary): even
with the apps feature on, an app enabled in config.toml and an installed local plugin that
brings an app (``.app.json``), app/list, app/installed and app/read list no app — the
reference learns apps only from the ChatGPT connectors service. The same script runs on the
reference when it is installed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import AppServerClient
from tests.support.plugins import make_marketplace
from tests.support.reference import REFERENCE

CONFIG = ('[features]\napps = true\nplugins = true\n\n'
          '[apps.connector_calendar]\nenabled = true\n')


async def _answers(home: Path, repo: Path, command: list[str] | None) -> list[Any]:
    market = make_marketplace(repo)
    (repo / "plugins" / "hello" / ".app.json").write_text(
        json.dumps({"apps": {"calendar": {"id": "connector_calendar"}}}))
    (home / "config.toml").write_text(CONFIG)
    async with AppServerClient(home, cwd=repo, validate=command is None,
                               command=command) as client:
        await client.initialize(experimental=True)
        installed = await client.request("plugin/install", {
            "pluginName": "hello", "marketplacePath": str(market)})
        thread_id = (await client.request("thread/start", {}))["thread"]["id"]
        answers = [installed]
        for method, params in (("app/list", {}), ("app/list", {"forceRefetch": True}),
                               ("app/list", {"threadId": thread_id}), ("app/installed", {}),
                               ("app/read", {"appIds": ["connector_calendar"]})):
            answers.append(await client.request(method, params))
        if command is None:
            client.assert_valid()
        return answers


EXPECTED = [
    {"authPolicy": "ON_INSTALL", "appsNeedingAuth": []},
    {"data": [], "nextCursor": None},
    {"data": [], "nextCursor": None},
    {"data": [], "nextCursor": None},
    {"apps": []},
    {"apps": [], "missingAppIds": ["connector_calendar"]},
]


async def test_no_apps_without_a_chatgpt_login(codex_home: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    assert await _answers(codex_home, repo, None) == EXPECTED


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"reference binary not installed at {REFERENCE}")
async def test_the_reference_lists_no_apps_either(tmp_path: Path) -> None:
    home, repo = tmp_path / "home", tmp_path / "repo"
    home.mkdir()
    repo.mkdir()
    assert await _answers(home, repo, [str(REFERENCE), "app-server"]) == EXPECTED
