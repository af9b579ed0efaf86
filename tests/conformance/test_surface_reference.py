"""The same requests of the 0.171 families pycodex added (settings, plugins, sections,
attachments, goals, account extras, feedback, Windows sandbox, import history) sent to the
reference binary and to pycodex: each gets the same kind of answer, the same error code
and text, and results of the same key shape. Runs when the reference is installed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.support.client import AppServerClient
from tests.support.conformance import diff_shapes, key_shape
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.reference import REFERENCE, needs_reference
from tests.support.turns import write_config

pytestmark = needs_reference

PINNED = "01984de2-8f74-7c91-a3b2-5c5e937cf318"
UNKNOWN = "01984de2-0000-7c91-a3b2-5c5e937cf318"
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

#: (method, params); "$T" is the thread started first, "$DIR" a fresh folder per server.
SCRIPT: list[tuple[str, Any]] = [
    ("plugin/installed", {}),
    ("plugin/list", {}),
    ("plugin/reconcile", {}),
    ("marketplace/upgrade", {}),
    ("marketplace/add", {"source": "???"}),
    ("marketplace/remove", {"marketplaceName": "foo"}),
    ("plugin/read", {"pluginName": "p"}),
    ("plugin/install", {"pluginName": "p"}),
    ("plugin/install", {"pluginName": "p", "marketplacePath": "$DIR/none/marketplace.json"}),
    ("plugin/install", {"pluginName": "p", "remoteMarketplaceName": "openai-curated"}),
    ("plugin/skill/read", {"remoteMarketplaceName": "m", "remotePluginId": "p",
                           "skillName": "s"}),
    ("plugin/share/list", {}),
    ("plugin/share/updateTargets", {"remotePluginId": "p", "discoverability": "PRIVATE",
                                    "shareTargets": []}),
    ("plugin/share/delete", {"remotePluginId": "p"}),
    ("plugin/uninstall", {"pluginId": "p"}),
    ("plugin/uninstall", {"pluginId": "p@local"}),
    ("app/read", {"appIds": ["x"]}),
    ("app/list", {}),
    ("app/installed", {}),
    ("permissionProfile/list", {}),
    ("permissionProfile/list", {"limit": 1, "cursor": "1"}),
    ("permissionProfile/list", {"cursor": "zz"}),
    ("experimentalFeature/list", {"limit": 2}),
    ("experimentalFeature/list", {"cursor": "abc"}),
    ("experimentalFeature/enablement/set", {"enablement": {"no_such_flag": True}}),
    ("account/bedrock/checkGovCloudRequirements", {}),
    ("account/bedrock/checkGovCloudRequirements", None),
    ("modelProvider/list", {}),
    ("modelProvider/capabilities/read", {}),
    ("modelProvider/config/write", {"settings": {"type": "customGateway"}}),
    ("modelProvider/config/write", {"settings": {"type": "customGateway", "name": "x",
                                                 "baseUrl": "notaurl"}}),
    ("modelProvider/config/write", {"settings": {"type": "customGateway",
                                                 "providerId": "openai", "name": "x"}}),
    ("modelProvider/config/write", {"settings": {"type": "customGateway",
                                                 "providerId": "nope", "name": "x"}}),
    ("modelProvider/config/write", {"settings": {"type": "customGateway", "name": "My GW",
                                                 "baseUrl": "http://127.0.0.1:1/v1"}}),
    ("modelProvider/default/set", {"providerId": "nope"}),
    ("modelProvider/default/set", {"providerId": "my-gw"}),
    ("account/gatewayOAuth/read", None),
    ("account/gatewayOAuth/read", {"modelProvider": "nope"}),
    ("account/gatewayOAuth/login", None),
    ("account/gatewayOAuth/cancel", None),
    ("account/securitySetup/read", None),
    ("account/usage/read", None),
    ("account/rateLimitResetCredit/consume", {"idempotencyKey": "k"}),
    ("account/workspaceMessages/read", None),
    ("account/sendAddCreditsNudgeEmail", {"creditType": "credits"}),
    ("windowsSandbox/readiness", None),
    ("windowsSandbox/setupStart", {"mode": "elevated"}),
    ("externalAgentConfig/import/recordHistory", {"providerId": "c", "itemTypeResults": []}),
    ("externalAgentConfig/import/readHistories", None),
    ("feedback/save", {"classification": "bug", "savePath": "rel.zip"}),
    ("feedback/save", {"classification": "bug", "savePath": "$DIR/f.zip"}),
    ("feedback/save", {"classification": "bug", "savePath": "$DIR/f.zip"}),
    ("threadSection/list", {}),
    ("threadSection/create", {"name": ""}),
    ("threadSection/create", {"name": "Play", "appearance": {"color": "blue", "icon": "s"}}),
    ("threadSection/list", {"limit": 1}),
    ("threadSection/list", {"cursor": "zz"}),
    ("threadSection/update", {"sectionId": "nope", "name": "x"}),
    ("threadSection/update", {"sectionId": PINNED, "name": "x"}),
    ("threadSection/delete", {"sectionId": PINNED}),
    ("threadSection/delete", {"sectionId": UNKNOWN}),
    ("thread/section/move", {"threadId": "$T", "sectionId": PINNED}),
    ("thread/section/move", {"threadId": "$T", "sectionId": UNKNOWN}),
    ("thread/section/move", {"threadId": "$T", "sectionId": None}),
    ("thread/section/move", {"threadId": UNKNOWN, "sectionId": None}),
    ("thread/attachment/add", {"threadId": "$T", "attachmentType": "pr", "identityKey": "k",
                               "payload": {"a": 1}}),
    ("thread/attachment/add", {"threadId": "$T", "attachmentType": "pr", "identityKey": "k",
                               "payload": {"a": 2}}),
    ("thread/attachment/add", {"threadId": UNKNOWN, "attachmentType": "pr",
                               "identityKey": "k", "payload": {}}),
    ("thread/attachment/list", {"threadId": "$T"}),
    ("thread/attachmentOwner/list", {"attachmentType": "pr", "identityKey": "k"}),
    ("thread/attachmentOwner/list", {"attachmentType": "pr", "identityKey": "k",
                                     "archived": True}),
    ("thread/attachment/remove", {"threadId": "$T", "attachmentType": "pr",
                                  "identityKey": "k"}),
    ("thread/attachment/list", {"threadId": UNKNOWN}),
    ("thread/attachment/list", {"threadId": "x"}),
    ("thread/attachment/remove", {"threadId": UNKNOWN, "attachmentType": "pr",
                                  "identityKey": "k"}),
    ("thread/attachment/add", {"threadId": "x", "attachmentType": "pr", "identityKey": "k",
                               "payload": 1}),
    ("thread/section/move", {"threadId": "x", "sectionId": None}),
    ("thread/goal/get", {"threadId": "x"}),
    ("threadSection/list", {"limit": 0}),
    ("thread/goal/get", {"threadId": "$T"}),
    ("thread/goal/get", {"threadId": UNKNOWN}),
    ("thread/goal/clear", {"threadId": "$T"}),
    ("thread/goal/set", {"threadId": "$T"}),
    ("thread/goal/set", {"threadId": "$T", "objective": " "}),
    ("thread/goal/set", {"threadId": "$T", "objective": "a", "status": "paused"}),
    ("thread/goal/set", {"threadId": "$T", "tokenBudget": 0}),
    ("thread/goal/set", {"threadId": "$T", "objective": "b", "status": "complete"}),
    ("thread/goal/get", {"threadId": "$T"}),
    ("thread/goal/clear", {"threadId": "$T"}),
]


def differences(script: list[tuple[str, Any]], results: dict[str, list[Any]]) -> list[str]:
    """Where pycodex's answers differ from the reference's: the answer kind, an error's
    code and text, a result's key shape."""
    problems = []
    for (method, _), ref, ours in zip(script, results["reference"], results["pycodex"],
                                      strict=True):
        if ref[0] != ours[0] or (ref[0] == "error" and ref != ours):
            problems.append(f"{method}: reference {ref} != pycodex {ours}")
        elif ref[0] == "result":
            problems += [f"{method}{p}" for p in diff_shapes(ref[1], ours[1])]
    return problems


def _fill(value: Any, thread_id: str, folder: Path) -> Any:
    text = json.dumps(value).replace("$T", thread_id).replace("$DIR", str(folder))
    return json.loads(text)


async def _run(client: AppServerClient, folder: Path) -> list[Any]:
    await client.initialize(experimental=True)
    thread_id = (await client.request("thread/start", {}))["thread"]["id"]
    answers: list[Any] = []
    for method, params in SCRIPT:
        answer = await client.request_raw(method, _fill(params, thread_id, folder))
        if "error" in answer:
            error = answer["error"]
            message = _ID.sub("<id>", error["message"]).replace(str(folder), "<dir>")
            answers.append(("error", error["code"], message))
        else:
            answers.append(("result", key_shape(answer["result"])))
    return answers


async def test_same_answers_as_the_reference(tmp_path: Path, workdir: Path) -> None:
    results: dict[str, list[Any]] = {}
    with MockResponses(default=lambda: text_reply("ok")) as mock:
        for name in ("reference", "pycodex"):
            home = tmp_path / f"home-{name}"
            folder = tmp_path / f"files-{name}"
            home.mkdir()
            folder.mkdir()
            write_config(home, mock)
            command = ([str(REFERENCE), "app-server", "--disable", "plugins"]
                       if name == "reference" else None)
            args = () if command else ("--disable", "plugins")
            async with AppServerClient(home, cwd=workdir, env={"MOCK_API_KEY": "k"},
                                       validate=command is None, command=command,
                                       args=args) as client:
                results[name] = await _run(client, folder)
                if command is None:
                    client.assert_valid()
    assert differences(SCRIPT, results) == []


#: A local marketplace with plugins enabled ($MKT is its marketplace.json, $REPO its root).
PLUGIN_SCRIPT: list[tuple[str, Any]] = [
    ("plugin/list", {"cwds": ["$REPO"]}),
    ("plugin/installed", {"cwds": ["$REPO"]}),
    ("plugin/read", {"pluginName": "hello", "marketplacePath": "$MKT"}),
    ("plugin/read", {"pluginName": "nope", "marketplacePath": "$MKT"}),
    ("plugin/read", {"pluginName": "p", "remoteMarketplaceName": "openai-curated"}),
    ("plugin/install", {"pluginName": "gone", "marketplacePath": "$MKT"}),
    ("plugin/install", {"pluginName": "hello", "marketplacePath": "$MKT"}),
    ("plugin/installed", {"cwds": ["$REPO"]}),
    ("plugin/uninstall", {"pluginId": "hello@local-mkt"}),
    ("plugin/installed", {"cwds": ["$REPO"]}),
    ("plugin/share/list", {}),
    ("plugin/share/updateTargets", {"remotePluginId": "p", "discoverability": "PRIVATE",
                                    "shareTargets": []}),
    ("plugin/uninstall", {"pluginId": "p"}),
    ("marketplace/add", {"source": "$REPO"}),
    ("marketplace/add", {"source": "$REPO"}),
    ("marketplace/add", {"source": "$REPO/none"}),
    ("plugin/list", {}),
    ("marketplace/upgrade", {}),
    ("marketplace/upgrade", {"marketplaceName": "local-mkt"}),
    ("marketplace/remove", {"marketplaceName": "local-mkt"}),
    ("marketplace/remove", {"marketplaceName": "local-mkt"}),
    ("plugin/list", {}),
]


async def test_same_local_plugin_answers_as_the_reference(tmp_path: Path, workdir: Path) -> None:
    from tests.support.plugins import make_marketplace

    results: dict[str, list[Any]] = {}
    for name in ("reference", "pycodex"):
        home = tmp_path / f"home-{name}"
        repo = tmp_path / f"repo-{name}"
        home.mkdir()
        repo.mkdir()
        market = make_marketplace(repo)
        command = [str(REFERENCE), "app-server"] if name == "reference" else None
        async with AppServerClient(home, cwd=workdir, validate=command is None,
                                   command=command) as client:
            await client.initialize(experimental=True)
            answers: list[Any] = []
            for method, params in PLUGIN_SCRIPT:
                text = json.dumps(params).replace("$MKT", str(market)).replace(
                    "$REPO", str(repo))
                answer = await client.request_raw(method, json.loads(text))
                if "error" in answer:
                    message = answer["error"]["message"].replace(str(repo), "<repo>")
                    answers.append(("error", answer["error"]["code"], message))
                else:
                    answers.append(("result", key_shape(answer["result"], depth=4)))
            results[name] = answers
        assert (home / "plugins/cache/local-mkt").is_dir()
    assert differences(PLUGIN_SCRIPT, results) == []
