"""config/read, config/value/write, config/batchWrite and configRequirements/read, driven over
stdio the way a client does (issue 2 item 6). Expected texts and versions were measured on
the reference build."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient, ServerError

REFERENCE_EMPTY_HOME_CONFIG: dict[str, Any] = json.loads(
    '{"agents":null,"allow_login_shell":true,"allow_symlinked_codex_home":null,"analytics":null'
    ',"approval_policy":null,"approvals_reviewer":null,"apps":null,"apps_mcp_product_sku":null,'
    '"audio":null,"auto_review":null,"background_terminal_max_timeout":300000,"browser_use":nul'
    'l,"chatgpt_base_url":"https://chatgpt.com/backend-api/","check_for_update_on_startup":null'
    ',"cli_auth_credentials_store":"file","client_search_provider":null,"cloud":null,"compact_p'
    'rompt":null,"computer_use":null,"daybreak":null,"default_permissions":null,"desktop":null,'
    '"developer_instructions":null,"disable_paste_burst":null,"experimental_compact_prompt_file'
    '":null,"experimental_realtime_start_instructions":null,"experimental_realtime_webrtc_call_'
    'base_url":null,"experimental_realtime_ws_backend_prompt":null,"experimental_realtime_ws_ba'
    'se_url":null,"experimental_realtime_ws_model":null,"experimental_realtime_ws_startup_conte'
    'xt":null,"experimental_thread_store":null,"experimental_thread_store_endpoint":null,"exper'
    'imental_use_unified_exec_tool":null,"features":{"api_key_cyber_access_programs":true,"api_'
    'key_model_discovery":true,"auth_elicitation":true,"background_paginated_rollout_migration"'
    ':false,"codex_apps_mcp_2026_07_28":false,"daybreak_program_propagation":false,"mcp_2026_07'
    '_28":false,"mcp_connection_sharing":false,"mcp_lazy_stdio_startup":false,"memories":false,'
    '"mentions_v2":true,"remote_control":false,"remote_plugin":true,"tool_suggest":true,"window'
    's_sandbox_service":false},"feedback":null,"file_opener":"vscode","forced_chatgpt_workspace'
    '_id":null,"forced_login_method":null,"ghost_snapshot":null,"goals":null,"hide_agent_reason'
    'ing":false,"history":{"max_bytes":null,"persistence":"save-all"},"hooks":null,"include_app'
    's_instructions":true,"include_collaboration_mode_instructions":true,"include_environment_c'
    'ontext":true,"include_environment_context_time":true,"include_permissions_instructions":tr'
    'ue,"instructions":null,"js_repl_node_module_dirs":null,"js_repl_node_path":null,"log_dir":'
    'null,"marketplaces":{},"mcp_enterprise_managed_auth":null,"mcp_oauth_callback_port":null,"'
    'mcp_oauth_callback_url":null,"mcp_oauth_credentials_store":"auto","mcp_optional_startup_gr'
    'ace_ms":null,"mcp_servers":{},"memories":null,"model":null,"model_auto_compact_token_limit'
    '":null,"model_auto_compact_token_limit_scope":null,"model_catalog_json":null,"model_contex'
    't_window":null,"model_instructions_file":null,"model_post_turn_compact_threshold_percent":'
    'null,"model_provider":null,"model_providers":{},"model_reasoning_effort":null,"model_reaso'
    'ning_summary":null,"model_verbosity":null,"notice":null,"notify":null,"openai_base_url":nu'
    'll,"orchestrator":null,"oss_provider":null,"otel":null,"permissions":null,"personality":nu'
    'll,"plan_mode_reasoning_effort":null,"plugins":{},"profile":null,"profiles":{},"project_do'
    'c_fallback_filenames":[],"project_doc_max_bytes":32768,"project_root_markers":[".git"],"pr'
    'ojects":null,"realtime":null,"responses_api_metadata":null,"review_model":null,"sandbox_mo'
    'de":null,"sandbox_workspace_write":null,"service_tier":null,"shell_environment_policy":{"e'
    'xclude":null,"experimental_use_profile":null,"filters":null,"ignore_default_excludes":null'
    ',"include_only":null,"inherit":null,"set":null},"show_raw_agent_reasoning":null,"skills":n'
    'ull,"sqlite_home":null,"suppress_unstable_features_warning":null,"thread_unload_delay_secs'
    '":null,"tool_output_token_limit":null,"tool_suggest":null,"tools":null,"tui":null,"web_sea'
    'rch":null,"windows":null}'
)

EMPTY_VERSION = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def version(table: dict[str, Any]) -> str:
    data = json.dumps(table, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()


def user_source(home: Path) -> dict[str, Any]:
    return {"type": "user", "file": str(home / "config.toml"), "profile": None}


async def write_error(client: AppServerClient, method: str, params: dict[str, Any]) -> dict:
    with pytest.raises(ServerError) as info:
        await client.request(method, params)
    return info.value.error


# -- config/read ---------------------------------------------------------------------------


async def test_read_on_empty_home_matches_reference(cfg_spawn: ServerFactory) -> None:
    client = await cfg_spawn()
    result = await client.request("config/read", {})
    assert result == {"config": REFERENCE_EMPTY_HOME_CONFIG, "origins": {}}
    assert len(result["config"]) == 107


async def test_read_layers_origins_and_versions(
    cfg_spawn: ServerFactory, codex_home: Path, system_config: Path
) -> None:
    # The same file the reference answered with version sha256:f11c7203… for.
    (codex_home / "config.toml").write_text(
        'model = "gpt-5.5"\n# comment\nfoo = 1\n[sandbox_workspace_write]\n'
        'writable_roots = ["/a", "/b"]\n[profiles.p]\nmodel="m2"\n'
    )
    system_config.write_text('review_model = "sys"\nmodel = "sys-model"\n')
    client = await cfg_spawn(args=("-c", 'model="x"', "-c", "model_context_window=5"))
    result = await client.request("config/read", {"includeLayers": True})

    user_version = "sha256:f11c72035feb1fc24b1c8c782959a99d61b3933baf24af96a4a1dfd1663c811e"
    flags = {"type": "sessionFlags"}
    flags_version = version({"model": "x", "model_context_window": 5})
    system = {"type": "system", "file": str(system_config)}
    system_version = version({"review_model": "sys", "model": "sys-model"})
    assert result["layers"] == [
        {
            "name": flags,
            "version": flags_version,
            "config": {"model": "x", "model_context_window": 5},
        },
        {
            "name": user_source(codex_home),
            "version": user_version,
            "config": {
                "model": "gpt-5.5",
                "foo": 1,
                "sandbox_workspace_write": {"writable_roots": ["/a", "/b"]},
                "profiles": {"p": {"model": "m2"}},
            },
        },
        {
            "name": system,
            "version": system_version,
            "config": {"review_model": "sys", "model": "sys-model"},
        },
    ]
    user_meta = {"name": user_source(codex_home), "version": user_version}
    assert result["origins"] == {
        "model": {"name": flags, "version": flags_version},
        "model_context_window": {"name": flags, "version": flags_version},
        "review_model": {"name": system, "version": system_version},
        "foo": user_meta,
        "sandbox_workspace_write.writable_roots.0": user_meta,
        "sandbox_workspace_write.writable_roots.1": user_meta,
        "profiles.p.model": user_meta,
    }
    config = result["config"]
    assert config["model"] == "x"
    assert config["model_context_window"] == 5
    assert config["review_model"] == "sys"
    assert "foo" not in config  # unknown keys are not part of the typed view (reference)
    assert config["sandbox_workspace_write"] == {
        "writable_roots": ["/a", "/b"],
        "network_access": False,
        "exclude_tmpdir_env_var": False,
        "exclude_slash_tmp": False,
    }
    profile = config["profiles"]["p"]
    assert profile["model"] == "m2" and profile["sandbox_mode"] is None and len(profile) == 30
    # Without includeLayers there is no layers member at all.
    assert "layers" not in await client.request("config/read", {})


async def test_read_profile_and_effective_service(codex_home: Path) -> None:
    from pycodex.config.service import ConfigService

    (codex_home / "config.toml").write_text(
        'model = "top"\nprofile = "fast"\n[profiles.fast]\nmodel = "quick"\n'
        'model_reasoning_effort = "low"\n[profiles.other]\nmodel = "o"\n'
    )
    service = ConfigService(codex_home, [("approval_policy", "never")])
    effective = service.effective()
    assert effective["model"] == "quick"
    assert effective["model_reasoning_effort"] == "low"
    assert effective["approval_policy"] == "never"
    assert service.effective(profile="other")["model"] == "o"
    assert service.effective(overrides={"model": "call"})["model"] == "call"
    service = ConfigService(codex_home, [("model", "flag")])
    assert service.effective()["model"] == "flag"  # -c wins over the profile


def make_repo(path: Path) -> Path:
    (path / ".git").mkdir(parents=True)
    (path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return path


async def test_read_project_layers_trust_and_order(
    cfg_spawn: ServerFactory, codex_home: Path, workdir: Path
) -> None:
    trusted = make_repo(workdir / "trusted")
    (trusted / ".codex").mkdir()
    (trusted / ".codex" / "config.toml").write_text('model = "root"\nreview_model = "r"\n')
    (trusted / "a" / ".codex").mkdir(parents=True)
    (trusted / "a" / ".codex" / "config.toml").write_text('model = "deeper"\n')
    (trusted / "a" / "b").mkdir()
    plain = make_repo(workdir / "plain")
    (plain / ".codex").mkdir()
    untrusted = make_repo(workdir / "untrusted")
    (untrusted / ".codex").mkdir()
    (untrusted / ".codex" / "config.toml").write_text('model = "nope"\n')
    (codex_home / "config.toml").write_text(
        f'model = "user"\n[projects."{trusted}"]\ntrust_level = "trusted"\n'
        f'[projects."{untrusted}"]\ntrust_level = "untrusted"\n'
    )
    client = await cfg_spawn()

    result = await client.request(
        "config/read", {"includeLayers": True, "cwd": str(trusted / "a" / "b")}
    )
    projects = [layer for layer in result["layers"] if layer["name"]["type"] == "project"]
    deeper = {"type": "project", "dotCodexFolder": str(trusted / "a" / ".codex")}
    assert projects == [
        {"name": deeper, "version": version({"model": "deeper"}), "config": {"model": "deeper"}},
        {
            "name": {"type": "project", "dotCodexFolder": str(trusted / ".codex")},
            "version": version({"model": "root", "review_model": "r"}),
            "config": {"model": "root", "review_model": "r"},
        },
    ]
    assert result["config"]["model"] == "deeper"
    assert result["config"]["review_model"] == "r"
    assert result["origins"]["model"] == {"name": deeper, "version": version({"model": "deeper"})}

    # Without a cwd there are no project layers at all.
    agnostic = await client.request("config/read", {"includeLayers": True})
    assert [layer["name"]["type"] for layer in agnostic["layers"]] == ["user", "system"]
    assert agnostic["config"]["model"] == "user"

    result = await client.request("config/read", {"includeLayers": True, "cwd": str(untrusted)})
    layer = next(x for x in result["layers"] if x["name"]["type"] == "project")
    assert layer["disabledReason"] == (
        f"{untrusted} is marked as untrusted in the effective configuration. To load "
        "project-local config, hooks, and exec policies, update its trust setting. If that "
        "setting is managed by your organization, contact your administrator."
    )
    assert result["config"]["model"] == "user"

    result = await client.request("config/read", {"includeLayers": True, "cwd": str(plain)})
    layer = next(x for x in result["layers"] if x["name"]["type"] == "project")
    assert layer == {
        "name": {"type": "project", "dotCodexFolder": str(plain / ".codex")},
        "version": EMPTY_VERSION,
        "config": {},
        "disabledReason": "To load project-local config, hooks, and exec policies, add "
        f"{plain} as a trusted project in {codex_home / 'config.toml'}.",
    }


async def test_read_shows_a_mistyped_config_disabled(
    cfg_spawn: ServerFactory, codex_home: Path
) -> None:
    """The reference answers an error here; pycodex keeps answering (issue 11: a client must
    be able to read the config to repair it) with the broken file disabled and its problem."""
    client = await cfg_spawn()
    path = codex_home / "config.toml"
    path.write_text('approval_policy = "bogus"\n')
    response = await client.request("config/read", {"includeLayers": True})
    assert response["config"]["approval_policy"] is None
    assert "approval_policy" not in response["origins"]
    user = next(layer for layer in response["layers"] if layer["name"]["type"] == "user")
    assert user["name"] == user_source(codex_home)
    assert user["disabledReason"] == (
        f"failed to load configuration: {path}:1:19: unknown variant `bogus`, expected one of "
        "`untrusted`, `on-failure`, `on-request`, `granular`, `never`"
    )


# -- writes --------------------------------------------------------------------------------


async def test_write_replace_preserves_comments_and_unknown_keys(
    cfg_spawn: ServerFactory, codex_home: Path
) -> None:
    path = codex_home / "config.toml"
    path.write_text(
        '# top comment\nmodel = "gpt-5.5"   # trailing\n\n[tui]\nfoo = 1 # c\n'
        "\n# keep me\n[mystery]\nanswer = 42  # unknown table\n"
    )
    client = await cfg_spawn()
    result = await client.request(
        "config/value/write", {"keyPath": "model", "value": "m3", "mergeStrategy": "replace"}
    )
    assert path.read_text() == (
        '# top comment\nmodel = "m3"   # trailing\n\n[tui]\nfoo = 1 # c\n'
        "\n# keep me\n[mystery]\nanswer = 42  # unknown table\n"
    )
    assert result == {
        "status": "ok",
        "version": version({"model": "m3", "tui": {"foo": 1}, "mystery": {"answer": 42}}),
        "filePath": str(path),
        "overriddenMetadata": None,
    }
    read = await client.request("config/read", {"includeLayers": True})
    assert read["layers"][0]["version"] == result["version"]
    assert [p.name for p in codex_home.iterdir() if p.name.endswith(".tmp")] == []


async def test_write_tables_upsert_delete_and_nesting(
    cfg_spawn: ServerFactory, codex_home: Path
) -> None:
    path = codex_home / "config.toml"
    path.write_text('model = "m"\n\n[tui]\nfoo = 1 # c\n')
    client = await cfg_spawn()

    async def write(key: str, value: Any, strategy: str = "replace") -> dict[str, Any]:
        return await client.request(  # type: ignore[no-any-return]
            "config/value/write", {"keyPath": key, "value": value, "mergeStrategy": strategy}
        )

    await write("tui.bar", {"x": 1}, "upsert")
    await write("tui", {"y": 2}, "upsert")
    assert path.read_text() == 'model = "m"\n\n[tui]\nfoo = 1 # c\ny = 2\n\n[tui.bar]\nx = 1\n'
    await write("tui", {"z": 2})
    assert path.read_text() == 'model = "m"\n\n[tui]\nz = 2\n'
    await write("a.b.c", 1)
    assert path.read_text().endswith("\n[a.b]\nc = 1\n")
    before = await write("model", None)
    assert 'model = "m"' not in path.read_text()
    # Deleting something absent (or under a missing/non-table parent) changes nothing.
    text = path.read_text()
    assert (await write("model", None))["version"] == before["version"]
    assert (await write("nothere.at.all", None))["version"] == before["version"]
    assert (await write("tui.z.deeper", None))["version"] == before["version"]
    assert path.read_text() == text
    mixed = await write("arr", [1, "a", {"k": True}])
    read = await client.request("config/read", {"includeLayers": True})
    assert read["layers"][0]["config"]["arr"] == [1, "a", {"k": True}]
    assert read["layers"][0]["version"] == mixed["version"]


async def test_write_errors(cfg_spawn: ServerFactory, codex_home: Path, tmp_path: Path) -> None:
    path = codex_home / "config.toml"
    path.write_text('model = "m"\n')
    client = await cfg_spawn()
    write = "config/value/write"

    def validation(message: str) -> dict[str, Any]:
        return {
            "code": -32600,
            "message": message,
            "data": {"config_write_error_code": "configValidationError"},
        }

    assert await write_error(
        client,
        write,
        {
            "keyPath": "model",
            "value": "x",
            "mergeStrategy": "replace",
            "expectedVersion": "sha256:bad",
        },
    ) == {
        "code": -32600,
        "message": "Configuration was modified since last read. Fetch latest version and retry.",
        "data": {"config_write_error_code": "configVersionConflict"},
    }
    for key in ("", "  "):
        assert await write_error(
            client, write, {"keyPath": key, "value": 1, "mergeStrategy": "replace"}
        ) == validation("keyPath must not be empty")
    for other in (str(tmp_path / "x.toml"), "config.toml"):
        assert await write_error(
            client,
            write,
            {"keyPath": "model", "value": "x", "mergeStrategy": "replace", "filePath": other},
        ) == {
            "code": -32600,
            "message": "Only writes to the user config are allowed",
            "data": {"config_write_error_code": "configLayerReadonly"},
        }
    assert await write_error(
        client, write, {"keyPath": "model", "value": 5, "mergeStrategy": "replace"}
    ) == validation(
        "Invalid configuration: invalid type: integer `5`, expected a string\nin `model`\n"
    )
    assert await write_error(
        client, write, {"keyPath": "sandbox_mode", "value": "bogus", "mergeStrategy": "replace"}
    ) == validation(
        "Invalid configuration: unknown variant `bogus`, expected one of `read-only`, "
        "`workspace-write`, `danger-full-access`\nin `sandbox_mode`\n"
    )
    assert await write_error(
        client, write, {"keyPath": "t", "value": {"a": None}, "mergeStrategy": "replace"}
    ) == validation("invalid value: invalid type: null, expected any valid TOML value")
    response = await client.request_raw(write, {"keyPath": "model", "mergeStrategy": "replace"})
    assert response["error"] == {
        "code": -32600,
        "message": "Invalid request: missing field `value`",
    }
    assert path.read_text() == 'model = "m"\n'
    # The right filePath (absolute) is accepted; expectedVersion that matches is accepted.
    ok = await client.request(
        write,
        {
            "keyPath": "model",
            "value": "n",
            "mergeStrategy": "replace",
            "filePath": str(path),
            "expectedVersion": version({"model": "m"}),
        },
    )
    assert ok["version"] == version({"model": "n"})


async def test_batch_write_is_all_or_nothing(cfg_spawn: ServerFactory, codex_home: Path) -> None:
    path = codex_home / "config.toml"
    path.write_text("# mine\n")
    client = await cfg_spawn()
    error = await write_error(
        client,
        "config/batchWrite",
        {
            "edits": [
                {"keyPath": "model", "value": "b2", "mergeStrategy": "replace"},
                {"keyPath": "", "value": 1, "mergeStrategy": "replace"},
            ]
        },
    )
    assert error["data"] == {"config_write_error_code": "configValidationError"}
    assert path.read_text() == "# mine\n"
    result = await client.request(
        "config/batchWrite",
        {
            "edits": [
                {"keyPath": "model", "value": "b1", "mergeStrategy": "replace"},
                {"keyPath": "sandbox_mode", "value": "read-only", "mergeStrategy": "replace"},
            ],
            "reloadUserConfig": True,
        },
    )
    assert result["status"] == "ok"
    assert result["version"] == version({"model": "b1", "sandbox_mode": "read-only"})
    assert path.read_text() == '# mine\nmodel = "b1"\nsandbox_mode = "read-only"\n'
    empty = await client.request("config/batchWrite", {"edits": []})
    assert empty["version"] == result["version"]


async def test_write_creates_missing_user_config(
    cfg_spawn: ServerFactory, codex_home: Path
) -> None:
    client = await cfg_spawn()
    assert not (codex_home / "config.toml").exists()
    result = await client.request(
        "config/value/write",
        {
            "keyPath": "model",
            "value": None,
            "mergeStrategy": "replace",
            "expectedVersion": EMPTY_VERSION,
        },
    )
    assert result["version"] == EMPTY_VERSION
    assert (codex_home / "config.toml").read_text() == ""


async def test_write_overridden_by_session_flags(
    cfg_spawn: ServerFactory, codex_home: Path
) -> None:
    client = await cfg_spawn(args=("-c", 'model="flag"'))
    flags = {"name": {"type": "sessionFlags"}, "version": version({"model": "flag"})}
    result = await client.request(
        "config/batchWrite",
        {
            "edits": [
                {"keyPath": "review_model", "value": "x", "mergeStrategy": "replace"},
                {"keyPath": "model", "value": "mine", "mergeStrategy": "replace"},
            ]
        },
    )
    assert result == {
        "status": "okOverridden",
        "version": version({"review_model": "x", "model": "mine"}),
        "filePath": str(codex_home / "config.toml"),
        "overriddenMetadata": {
            "message": "Overridden by session flags",
            "overridingLayer": flags,
            "effectiveValue": "flag",
        },
    }
    deleted = await client.request(
        "config/value/write", {"keyPath": "model", "value": None, "mergeStrategy": "replace"}
    )
    assert deleted["status"] == "okOverridden"
    assert deleted["overriddenMetadata"]["effectiveValue"] == "flag"


async def test_write_overridden_by_legacy_managed_config(
    cfg_spawn: ServerFactory, system_config: Path
) -> None:
    managed = system_config.parent / "managed_config.toml"
    managed.write_text('sandbox_mode = "read-only"\n')
    client = await cfg_spawn()
    result = await client.request(
        "config/value/write",
        {"keyPath": "sandbox_mode", "value": "danger-full-access", "mergeStrategy": "replace"},
    )
    assert result["overriddenMetadata"] == {
        "message": f"Overridden by legacy managed_config.toml: {managed}",
        "overridingLayer": {
            "name": {"type": "legacyManagedConfigTomlFromFile", "file": str(managed)},
            "version": version({"sandbox_mode": "read-only"}),
        },
        "effectiveValue": "read-only",
    }
    read = await client.request("config/read", {"includeLayers": True})
    assert read["layers"][0]["name"]["type"] == "legacyManagedConfigTomlFromFile"
    assert read["config"]["sandbox_mode"] == "read-only"


async def test_write_waits_for_the_file_lock(cfg_spawn: ServerFactory, codex_home: Path) -> None:
    client = await cfg_spawn()
    lock = os.open(codex_home / "config.toml.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        pending = asyncio.create_task(
            client.request(
                "config/value/write", {"keyPath": "model", "value": "a", "mergeStrategy": "replace"}
            )
        )
        await asyncio.sleep(0.8)
        assert not pending.done()
        assert not (codex_home / "config.toml").exists()
        fcntl.flock(lock, fcntl.LOCK_UN)
        result = await asyncio.wait_for(pending, 10)
    finally:
        os.close(lock)
    assert result["version"] == version({"model": "a"})
    assert (codex_home / "config.toml").read_text() == 'model = "a"\n'
    # Concurrent writes from one client are serialized; none is lost.
    keys = [f"k{i}" for i in range(8)]
    await asyncio.gather(
        *(
            client.request(
                "config/value/write", {"keyPath": k, "value": 1, "mergeStrategy": "upsert"}
            )
            for k in keys
        )
    )
    read = await client.request("config/read", {"includeLayers": True})
    assert set(keys) <= set(read["layers"][0]["config"])
    assert [p.name for p in codex_home.iterdir() if p.name.endswith(".tmp")] == []


# -- start-up warnings ---------------------------------------------------------------------


async def test_unparsable_config_warns_and_server_keeps_working(
    cfg_spawn: ServerFactory, codex_home: Path
) -> None:
    path = codex_home / "config.toml"
    path.write_text('model = "u"\nfoo = [1,\nbar = \n')
    client = await cfg_spawn()
    warning = await client.wait_notification("configWarning")
    assert warning["summary"] == "Invalid configuration; using defaults."
    assert warning["path"] == str(path)
    assert warning["details"].startswith(f"{path}:3:")
    start = warning["range"]["start"]
    assert start["line"] == 3 and warning["range"]["end"] == start
    assert warning["details"].startswith(f"{path}:{start['line']}:{start['column']}: ")
    # Unlike the reference, config/read keeps answering: the file is shown disabled.
    read = await client.request("config/read", {"includeLayers": True})
    user = next(layer for layer in read["layers"] if layer["name"]["type"] == "user")
    assert user["disabledReason"] == f"failed to load configuration: {warning['details']}"
    assert user["config"] == {}
    response = await client.request_raw(
        "config/value/write", {"keyPath": "model", "value": "x", "mergeStrategy": "replace"}
    )
    assert response["error"] == {
        "code": -32603,
        "message": f"failed to load configuration: {warning['details']}",
    }
    assert await client.request("configRequirements/read") == {
        "requirements": None,
        "supportsIndependentSpeedModes": True,
    }


async def test_mistyped_config_warns_with_location(
    cfg_spawn: ServerFactory, codex_home: Path
) -> None:
    from pycodex.config.service import ConfigService

    path = codex_home / "config.toml"
    path.write_text('review_model = "ok"\nmodel = 5\n')
    client = await cfg_spawn()
    warning = await client.wait_notification("configWarning")
    assert warning == {
        "summary": "Invalid configuration; using defaults.",
        "details": f"{path}:2:9: invalid type: integer `5`, expected a string",
        "path": str(path),
        "range": {"start": {"line": 2, "column": 9}, "end": {"line": 2, "column": 9}},
    }
    assert ConfigService(codex_home).effective() == {}


# -- configRequirements/read ---------------------------------------------------------------


async def test_requirements(cfg_spawn: ServerFactory, system_config: Path) -> None:
    client = await cfg_spawn()
    assert await client.request("configRequirements/read") == {
        "requirements": None,
        "supportsIndependentSpeedModes": True,
    }
    (system_config.parent / "requirements.toml").write_text(
        'allowed_approval_policies = ["never", "on-request"]\n'
        'allowed_sandbox_modes = ["read-only", "external-sandbox"]\n'
        'allowed_web_search_modes = ["cached"]\nenforce_residency = "us"\n'
        "[features]\nmemories = false\n"
    )
    result = await client.request("configRequirements/read")
    assert result["requirements"] == {
        "allowedApprovalPolicies": ["never", "on-request"],
        "allowedApprovalsReviewers": None,
        "allowedSandboxModes": ["read-only"],
        "allowedWebSearchModes": ["cached", "disabled"],
        "featureRequirements": {"memories": False},
        "enforceResidency": "us",
        "network": None,
        "otel": None,
    }
    error = await write_error(
        client,
        "config/value/write",
        {"keyPath": "features.memories", "value": True, "mergeStrategy": "replace"},
    )
    assert error["data"] == {"config_write_error_code": "configValidationError"}
    assert error["message"].startswith("Invalid configuration: ")
