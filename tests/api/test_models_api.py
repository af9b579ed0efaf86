"""``model/list`` end to end over stdio, plus the catalog it is built from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pycodex.core import models_catalog
from tests.conftest import ServerFactory
from tests.support import paths
from tests.support.client import AppServerClient

DATA = paths.DATA

#: The 0.171.0 reference catalog, measured with ``model/list`` on the reference binary.
VISIBLE = [
    "gpt-6.2-sol",
    "gpt-6.2-astra",
    "gpt-6.1-terra",
    "gpt-6.1-sol",
    "gpt-6-astra",
    "gpt-6-sol",
    "gpt-6-luna",
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "gpt-5.6-luna",
    "gpt-5.5",
]
ALL = [
    *VISIBLE[:10],
    "gpt-daybreak-blue-latest",
    "gpt-daybreak-red-latest",
    "gpt-5.5",
    "codex-auto-review",
]


def ids(result: dict[str, Any]) -> list[str]:
    return [m["id"] for m in result["data"]]


async def test_model_list_default_page(server: AppServerClient) -> None:
    result = await server.request("model/list", {})
    assert ids(result) == VISIBLE
    assert result["nextCursor"] is None
    assert [m["id"] for m in result["data"] if m["isDefault"]] == ["gpt-6.2-sol"]
    gpt55 = result["data"][-1]
    assert gpt55["model"] == "gpt-5.5"
    assert gpt55["upgrade"] == "gpt-6-sol"
    assert gpt55["upgradeInfo"]["model"] == "gpt-6-sol"
    assert gpt55["defaultReasoningEffort"] == "medium"
    assert [e["reasoningEffort"] for e in gpt55["supportedReasoningEfforts"]] == [
        "low", "medium", "high", "xhigh",
    ]
    assert all(e["description"] for e in gpt55["supportedReasoningEfforts"])
    assert gpt55["inputModalities"] == ["text", "image"]
    assert gpt55["supportsPersonality"] is False
    assert all(m["hidden"] is False for m in result["data"])
    # every key the reference sends is present (schema validation covers the types)
    assert set(gpt55) == {
        "id", "model", "upgrade", "upgradeInfo", "availabilityNux", "displayName",
        "description", "modelSpecialty", "hidden", "supportedReasoningEfforts",
        "defaultReasoningEffort", "inputModalities", "supportsPersonality",
        "multiAgentVersion", "additionalSpeedTiers", "serviceTiers", "defaultServiceTier",
        "availableAccessPrograms", "isDefault",
    }


async def test_model_list_include_hidden(server: AppServerClient) -> None:
    result = await server.request("model/list", {"includeHidden": True})
    assert ids(result) == ALL
    assert sum(m["isDefault"] for m in result["data"]) == 1
    hidden = [m["id"] for m in result["data"] if m["hidden"]]
    assert hidden == ["gpt-daybreak-blue-latest", "gpt-daybreak-red-latest", "codex-auto-review"]


async def test_model_list_pagination_walks_all_pages(server: AppServerClient) -> None:
    seen: list[str] = []
    cursors: list[str | None] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = await server.request("model/list", params)
        assert len(page["data"]) <= 2
        seen += ids(page)
        cursor = page["nextCursor"]
        cursors.append(cursor)
        if cursor is None:
            break
    assert seen == VISIBLE
    assert cursors == ["2", "4", "6", "8", "10", None]

    hidden_page = await server.request(
        "model/list", {"limit": 3, "includeHidden": True, "cursor": "8"}
    )
    assert ids(hidden_page) == ["gpt-5.6-terra", "gpt-5.6-luna", "gpt-daybreak-blue-latest"]
    assert hidden_page["nextCursor"] == "11"

    # limit 0 behaves like 1; a cursor at the end gives an empty last page
    zero = await server.request("model/list", {"limit": 0})
    assert ids(zero) == ["gpt-6.2-sol"] and zero["nextCursor"] == "1"
    end = await server.request("model/list", {"cursor": "11", "limit": 5})
    assert end == {"data": [], "nextCursor": None}
    plus = await server.request("model/list", {"cursor": "+7"})
    assert ids(plus) == VISIBLE[7:]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cursor": "abc"}, "invalid cursor: abc"),
        ({"cursor": "-1"}, "invalid cursor: -1"),
        ({"cursor": ""}, "invalid cursor: "),
        ({"cursor": "12"}, "cursor 12 exceeds total models 11"),
        ({"limit": -1}, "Invalid request: invalid value: integer `-1`, expected u32"),
        ({"includeHidden": "yes"},
         'Invalid request: invalid type: string "yes", expected a boolean'),
    ],
)
async def test_model_list_errors(
    server: AppServerClient, params: dict[str, Any], message: str
) -> None:
    response = await server.request_raw("model/list", params)
    assert response["error"] == {"code": -32600, "message": message}


async def test_model_list_model_provider(spawn: ServerFactory, codex_home: Path) -> None:
    (codex_home / "config.toml").write_text(
        '[model_providers.mock]\nname = "mock"\nbase_url = "http://127.0.0.1:9/v1"\n'
    )
    client = await spawn()
    ok = await client.request("model/list", {"modelProvider": "mock"})
    assert ids(ok) == VISIBLE
    builtin = await client.request("model/list", {"modelProvider": "openai"})
    assert ids(builtin) == VISIBLE
    response = await client.request_raw("model/list", {"modelProvider": "nope"})
    assert response["error"] == {
        "code": -32600,
        "message": "This chat uses model provider “nope”, which is no longer configured. "
        "Restore this provider’s configuration to continue.",
        "data": {"type": "modelProviderNotConfigured", "modelProvider": "nope"},
    }


def test_catalog_metadata_and_fallback() -> None:
    info = models_catalog.get_model_info("gpt-5.5")
    assert not info.is_fallback
    assert info.context_window == 272_000
    assert info.effective_context_window == 258_400
    assert info.default_reasoning_effort == "medium"
    assert info.apply_patch_tool_type == "freeform"
    assert info.supports_parallel_tool_calls is True
    assert info.truncation_policy.mode == "tokens"
    assert info.default_verbosity == "low"

    fallback, warning = models_catalog.lookup_model("gpt-5-codex")
    assert fallback.is_fallback and fallback.slug == "gpt-5-codex"
    assert fallback.default_reasoning_effort is None
    assert fallback.default_reasoning_summary == "auto"
    assert fallback.apply_patch_tool_type is None
    assert fallback.effective_context_window == 258_400
    assert warning == (
        "Model metadata for `gpt-5-codex` not found. Defaulting to fallback metadata; "
        "this can degrade performance and cause issues."
    )
    assert models_catalog.lookup_model("gpt-5.5")[1] is None
    assert models_catalog.default_model() == "gpt-6.2-sol"
    slugs = [m.slug for m in models_catalog.list_models(include_hidden=True)]
    assert len(slugs) == len(set(slugs)) == 14


async def test_catalog_matches_the_reference_0171(server: AppServerClient) -> None:
    """Every structural field of ``model/list {includeHidden}`` equals the reference 0.171.0
    answer (recorded offline in tests/data; descriptions are pycodex's own)."""
    recorded = json.loads((DATA / "model_list.0171.json").read_text())["data"]
    result = await server.request("model/list", {"includeHidden": True})
    ours = [
        {
            **{k: m[k] for k in recorded[0] if k in m},
            "supportedReasoningEfforts": [
                e["reasoningEffort"] for e in m["supportedReasoningEfforts"]
            ],
            "serviceTierIds": [t["id"] for t in m["serviceTiers"]],
            "hasAvailabilityNux": m["availabilityNux"] is not None,
        }
        for m in result["data"]
    ]
    assert ours == recorded
