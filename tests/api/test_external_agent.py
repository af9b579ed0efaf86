"""`externalAgentConfig/detect` and `externalAgentConfig/import` (issue 2 item 7), driven over
stdio with temporary HOME, CODEX_HOME and repositories."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from pycodex.config.external_agent import json_error_text, rewrite_terms
from tests.conftest import ServerFactory
from tests.support.client import AppServerClient

NO_DETAILS: dict[str, list[Any]] = {
    "plugins": [],
    "skills": [],
    "sessions": [],
    "mcpServers": [],
    "hooks": [],
    "subagents": [],
    "commands": [],
}

BINARY = b"bin\x00\xffclaude\r\n"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    (path / ".claude").mkdir(parents=True)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    (path / ".git").mkdir(parents=True)
    (path / "sub" / "deeper").mkdir(parents=True)
    return path


async def start(spawn: ServerFactory, home: Path) -> AppServerClient:
    return await spawn(env={"HOME": str(home)})


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def populate_home(home: Path, codex_home: Path) -> None:
    claude = home / ".claude"
    write(
        claude / "settings.json",
        json.dumps(
            {
                "env": {"FOO": "bar", "N": 3, "B": True, "X": None, "L": [1], "A.B": "x y"},
                "sandbox": {"enabled": True},
                "model": "opus",
            }
        ),
    )
    write(claude / "CLAUDE.md", "Use Claude Code. See CLAUDE.md; claude_code; xclaude.\n")
    write(claude / "skills" / "foo" / "SKILL.md", "---\nname: foo\n---\nA claude skill\n")
    write(claude / "skills" / "foo" / "sub" / "data.bin", BINARY)
    write(claude / "skills" / "foo" / "sub" / "skill.md", "claude-code notes\n")
    write(claude / "skills" / "Bar" / "README.txt", "Claude stays here\n")
    write(claude / "skills" / "loose.txt", "not a skill folder\n")
    write(
        codex_home / "config.toml",
        '# my settings\nmodel = "gpt-5"   # keep me\n\n'
        '[shell_environment_policy]\ninherit = "all"\n',
    )


def snapshot(*roots: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                files[str(path)] = path.read_bytes()
    return files


async def run_import(
    client: AppServerClient, items: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """Import ``items``; returns the import id, the progress notifications and the
    completed notification."""
    result = await client.request("externalAgentConfig/import", {"migrationItems": items})
    import_id = result["importId"]
    assert set(result) == {"importId"}
    uuid.UUID(import_id)
    completed = await client.wait_notification(
        "externalAgentConfig/import/completed", where=lambda p: p["importId"] == import_id
    )
    progress = [
        m["params"]
        for m in client.notifications("externalAgentConfig/import/progress")
        if m["params"]["importId"] == import_id
    ]
    return import_id, progress, completed


def success(kind: str, cwd: str | None, source: str, target: str) -> dict[str, Any]:
    return {"itemType": kind, "cwd": cwd, "source": source, "target": target, "title": None}


def failure(kind: str, cwd: str | None, message: str, error_type: str) -> dict[str, Any]:
    return {
        "itemType": kind,
        "errorType": error_type,
        "subErrorType": None,
        "failureStage": "import_request_failed",
        "message": message,
        "cwd": cwd,
        "source": None,
    }


# -- detect ---------------------------------------------------------------------------------


async def test_detect_lists_home_items_with_exact_descriptions(
    spawn: ServerFactory, home: Path, codex_home: Path
) -> None:
    populate_home(home, codex_home)
    client = await start(spawn, home)
    result = await client.request("externalAgentConfig/detect", {"includeHome": True})
    claude = home / ".claude"
    skills_target = codex_home.parent / ".agents" / "skills"
    assert result == {
        "items": [
            {
                "itemType": "CONFIG",
                "description": f"Migrate {claude / 'settings.json'} into "
                f"{codex_home / 'config.toml'}",
                "cwd": None,
                "details": None,
            },
            {
                "itemType": "SKILLS",
                "description": f"Migrate skills from {claude / 'skills'} to {skills_target}",
                "cwd": None,
                "details": {**NO_DETAILS, "skills": [{"name": "Bar"}, {"name": "foo"}]},
            },
            {
                "itemType": "AGENTS_MD",
                "description": f"Migrate {claude / 'CLAUDE.md'} to {codex_home / 'AGENTS.md'}",
                "cwd": None,
                "details": None,
            },
        ],
        "connectors": [],
    }
    # Without includeHome (default false) the home scope is not looked at.
    assert await client.request("externalAgentConfig/detect", {}) == {
        "items": [],
        "connectors": [],
    }


async def test_detect_resolves_repo_roots_and_skips_missing_cwds(
    spawn: ServerFactory, home: Path, repo: Path, tmp_path: Path
) -> None:
    write(repo / "CLAUDE.md", "Claude code here\n")
    write(repo / ".claude" / "settings.json", '{"env": {"R": "1"}}')
    write(repo / ".claude" / "skills" / "rs" / "SKILL.md", "claude\n")
    write(repo / ".agents" / "skills" / "other" / "SKILL.md", "x\n")
    plain = tmp_path / "plain" / "dir"  # no .git anywhere above: used as is
    write(plain / "CLAUDE.md", "plain claude\n")
    client = await start(spawn, home)
    result = await client.request(
        "externalAgentConfig/detect",
        {
            "cwds": [
                str(repo / "sub" / "deeper"),
                str(tmp_path / "does-not-exist"),
                str(repo / "CLAUDE.md"),
                "",
                str(plain),
            ]
        },
    )
    root = str(repo)
    repo_items = [
        {
            "itemType": "CONFIG",
            "description": f"Migrate {repo / '.claude' / 'settings.json'} into "
            f"{repo / '.codex' / 'config.toml'}",
            "cwd": root,
            "details": None,
        },
        {
            "itemType": "SKILLS",
            "description": f"Migrate skills from {repo / '.claude' / 'skills'} to "
            f"{repo / '.agents' / 'skills'}",
            "cwd": root,
            "details": {**NO_DETAILS, "skills": [{"name": "rs"}]},
        },
        {
            "itemType": "AGENTS_MD",
            "description": f"Migrate {repo / 'CLAUDE.md'} to {repo / 'AGENTS.md'}",
            "cwd": root,
            "details": None,
        },
    ]
    plain_item = {
        "itemType": "AGENTS_MD",
        "description": f"Migrate {plain / 'CLAUDE.md'} to {plain / 'AGENTS.md'}",
        "cwd": str(plain),
        "details": None,
    }
    assert result == {"items": [*repo_items, *repo_items, plain_item], "connectors": []}


async def test_detect_agents_md_fallback_and_blank_targets(
    spawn: ServerFactory, home: Path, repo: Path
) -> None:
    write(repo / "CLAUDE.md", "  \n\n")  # blank: the .claude/ copy is used instead
    write(repo / ".claude" / "CLAUDE.md", "Nested claude\n")
    write(repo / "AGENTS.md", "\n")  # blank target counts as missing
    client = await start(spawn, home)
    result = await client.request("externalAgentConfig/detect", {"cwds": [str(repo)]})
    assert result["items"] == [
        {
            "itemType": "AGENTS_MD",
            "description": f"Migrate {repo / '.claude' / 'CLAUDE.md'} to {repo / 'AGENTS.md'}",
            "cwd": str(repo),
            "details": None,
        }
    ]
    await run_import(client, result["items"])
    assert (repo / "AGENTS.md").read_text() == "Nested Codex\n"
    write(repo / "AGENTS.md", "mine\n")
    write(repo / ".claude" / "CLAUDE.md", "changed\n")
    assert (await client.request("externalAgentConfig/detect", {"cwds": [str(repo)]}))[
        "items"
    ] == []


async def test_detect_skips_config_when_nothing_would_be_added(
    spawn: ServerFactory, home: Path, codex_home: Path
) -> None:
    write(home / ".claude" / "settings.json", '{"model": "x", "env": {}, "sandbox": {}}')
    client = await start(spawn, home)
    assert (await client.request("externalAgentConfig/detect", {"includeHome": True}))[
        "items"
    ] == []
    write(home / ".claude" / "settings.json", '{"sandbox": {"enabled": true}}')
    write(codex_home / "config.toml", 'sandbox_mode = "read-only"\n')
    assert (await client.request("externalAgentConfig/detect", {"includeHome": True}))[
        "items"
    ] == []


# -- import ---------------------------------------------------------------------------------


async def test_import_applies_items_and_reports_progress(
    spawn: ServerFactory, home: Path, codex_home: Path, repo: Path
) -> None:
    populate_home(home, codex_home)
    write(repo / "CLAUDE.md", "Claude code here\n")
    os.chmod(home / ".claude" / "skills" / "foo" / "sub" / "data.bin", 0o750)
    client = await start(spawn, home)
    detected = await client.request(
        "externalAgentConfig/detect", {"includeHome": True, "cwds": [str(repo)]}
    )
    items = detected["items"]
    assert [i["itemType"] for i in items] == ["CONFIG", "SKILLS", "AGENTS_MD", "AGENTS_MD"]
    import_id, progress, completed = await run_import(client, items)

    claude = home / ".claude"
    skills = codex_home.parent / ".agents" / "skills"
    config_ok = success(
        "CONFIG", None, str(claude / "settings.json"), str(codex_home / "config.toml")
    )
    skills_ok = [success("SKILLS", None, "Bar", "Bar"), success("SKILLS", None, "foo", "foo")]
    home_md = success("AGENTS_MD", None, str(claude / "CLAUDE.md"), str(codex_home / "AGENTS.md"))
    repo_md = success("AGENTS_MD", str(repo), str(repo / "CLAUDE.md"), str(repo / "AGENTS.md"))
    assert progress == [
        {"importId": import_id, "itemTypeResults": [r]}
        for r in [
            {"itemType": "CONFIG", "successes": [config_ok], "failures": []},
            {"itemType": "SKILLS", "successes": skills_ok, "failures": []},
            {"itemType": "AGENTS_MD", "successes": [home_md], "failures": []},
            {"itemType": "AGENTS_MD", "successes": [repo_md], "failures": []},
        ]
    ]
    assert completed == {
        "importId": import_id,
        "itemTypeResults": [
            {"itemType": "CONFIG", "successes": [config_ok], "failures": []},
            {"itemType": "SKILLS", "successes": skills_ok, "failures": []},
            {"itemType": "AGENTS_MD", "successes": [home_md, repo_md], "failures": []},
        ],
    }

    # config.toml: only missing keys added, existing values and comments kept.
    assert (codex_home / "config.toml").read_text() == (
        "# my settings\n"
        'model = "gpt-5"   # keep me\n'
        'sandbox_mode = "workspace-write"\n'
        "\n"
        "[shell_environment_policy]\n"
        'inherit = "all"\n'
        "\n"
        "[shell_environment_policy.set]\n"
        'FOO = "bar"\n'
        'N = "3"\n'
        'B = "true"\n'
        '"A.B" = "x y"\n'
    )
    # Skills: SKILL.md (any case) rewritten, everything else byte for byte.
    assert (skills / "foo" / "SKILL.md").read_text() == "---\nname: foo\n---\nA Codex skill\n"
    assert (skills / "foo" / "sub" / "skill.md").read_text() == "Codex notes\n"
    assert (skills / "foo" / "sub" / "data.bin").read_bytes() == BINARY
    assert (skills / "foo" / "sub" / "data.bin").stat().st_mode & 0o777 == 0o750
    assert (skills / "Bar" / "README.txt").read_text() == "Claude stays here\n"
    assert not (skills / "loose.txt").exists()
    assert sorted(p.name for p in skills.iterdir()) == ["Bar", "foo"]
    # AGENTS.md: term rewriting.
    assert (codex_home / "AGENTS.md").read_text() == ("Use Codex. See AGENTS.md; Codex; xclaude.\n")
    assert (repo / "AGENTS.md").read_text() == "Codex here\n"


async def test_import_twice_changes_nothing(
    spawn: ServerFactory, home: Path, codex_home: Path, repo: Path
) -> None:
    populate_home(home, codex_home)
    write(repo / "CLAUDE.md", "Claude\n")
    write(repo / ".claude" / "settings.json", '{"env": {"R": "1"}}')
    write(repo / ".claude" / "skills" / "rs" / "SKILL.md", "claude\n")
    client = await start(spawn, home)
    params = {"includeHome": True, "cwds": [str(repo)]}
    items = (await client.request("externalAgentConfig/detect", params))["items"]
    assert len(items) == 6
    await run_import(client, items)
    roots = (codex_home.parent / ".agents", repo)
    first = snapshot(*roots) | {
        str(p): p.read_bytes() for p in (codex_home / "config.toml", codex_home / "AGENTS.md")
    }
    assert (repo / ".codex" / "config.toml").read_text() == (
        '[shell_environment_policy]\ninherit = "core"\n\n[shell_environment_policy.set]\nR = "1"\n'
    )

    _, _, completed = await run_import(client, items)
    assert completed["itemTypeResults"] == [
        {"itemType": kind, "successes": [], "failures": []}
        for kind in ("CONFIG", "SKILLS", "AGENTS_MD")
    ]
    second = snapshot(*roots) | {
        str(p): p.read_bytes() for p in (codex_home / "config.toml", codex_home / "AGENTS.md")
    }
    assert second == first
    assert await client.request("externalAgentConfig/detect", params) == {
        "items": [],
        "connectors": [],
    }


async def test_import_creates_config_from_scratch(
    spawn: ServerFactory, home: Path, codex_home: Path
) -> None:
    write(
        home / ".claude" / "settings.json",
        '{"env": {"Z": "1", "k-1": 2.50, "big": 12345678901234567890}, '
        '"sandbox": {"enabled": true}}',
    )
    # settings.local.json overrides settings.json.
    write(home / ".claude" / "settings.local.json", '{"env": {"Z": "local"}}')
    client = await start(spawn, home)
    await run_import(client, [{"itemType": "CONFIG", "description": "anything"}])
    assert (codex_home / "config.toml").read_text() == (
        'sandbox_mode = "workspace-write"\n'
        "\n"
        "[shell_environment_policy]\n"
        'inherit = "core"\n'
        "\n"
        "[shell_environment_policy.set]\n"
        'Z = "local"\n'
        'k-1 = "2.50"\n'
        'big = "12345678901234567890"\n'
    )


async def test_import_into_inline_and_dotted_tables_keeps_toml_valid(
    spawn: ServerFactory, home: Path, codex_home: Path
) -> None:
    import tomllib

    write(home / ".claude" / "settings.json", '{"env": {"A": "1"}, "sandbox": {"enabled": true}}')
    write(codex_home / "config.toml", 'shell_environment_policy = { inherit = "all" } # inline\n')
    client = await start(spawn, home)
    await run_import(client, [{"itemType": "CONFIG", "description": "x", "cwd": None}])
    text = (codex_home / "config.toml").read_text()
    assert "# inline" in text
    assert tomllib.loads(text) == {
        "shell_environment_policy": {"inherit": "all", "set": {"A": "1"}},
        "sandbox_mode": "workspace-write",
    }


async def test_malformed_settings_json(
    spawn: ServerFactory, home: Path, codex_home: Path, repo: Path
) -> None:
    write(home / ".claude" / "settings.json", '{"env": {"A": 1},}')
    write(repo / ".claude" / "settings.json", "[1, 2]")
    write(repo / "CLAUDE.md", "claude\n")
    client = await start(spawn, home)
    response = await client.request_raw("externalAgentConfig/detect", {"includeHome": True})
    assert response["error"] == {"code": -32603, "message": "trailing comma at line 1 column 18"}
    response = await client.request_raw("externalAgentConfig/detect", {"cwds": [str(repo)]})
    assert response["error"] == {
        "code": -32603,
        "message": "external agent settings root must be an object",
    }
    # Import reports each failure and goes on with the next item.
    _, progress, completed = await run_import(
        client,
        [
            {"itemType": "CONFIG", "description": "x", "cwd": None},
            {"itemType": "CONFIG", "description": "x", "cwd": str(repo)},
            {"itemType": "AGENTS_MD", "description": "x", "cwd": str(repo)},
        ],
    )
    error = "external_agent_config_import_error"
    assert completed["itemTypeResults"] == [
        {
            "itemType": "CONFIG",
            "successes": [],
            "failures": [
                failure("CONFIG", None, "trailing comma at line 1 column 18", error),
                failure(
                    "CONFIG", str(repo), "external agent settings root must be an object", error
                ),
            ],
        },
        {
            "itemType": "AGENTS_MD",
            "successes": [
                success("AGENTS_MD", str(repo), str(repo / "CLAUDE.md"), str(repo / "AGENTS.md"))
            ],
            "failures": [],
        },
    ]
    assert len(progress) == 3
    assert not (codex_home / "config.toml").exists()


async def test_malformed_target_toml(spawn: ServerFactory, home: Path, codex_home: Path) -> None:
    write(home / ".claude" / "settings.json", '{"env": {"A": "1"}}')
    bad = "a = 1\nmodel = = 1\n"
    write(codex_home / "config.toml", bad)
    client = await start(spawn, home)
    response = await client.request_raw("externalAgentConfig/detect", {"includeHome": True})
    assert response["error"]["code"] == -32603
    message = response["error"]["message"]
    assert message.startswith(
        "invalid existing config.toml: TOML parse error at line 2, column 9\n"
        "  |\n2 | model = = 1\n  |         ^\n"
    )
    _, _, completed = await run_import(client, [{"itemType": "CONFIG", "description": "x"}])
    assert completed["itemTypeResults"] == [
        {
            "itemType": "CONFIG",
            "successes": [],
            "failures": [failure("CONFIG", None, message, "invalid_existing_config")],
        }
    ]
    assert (codex_home / "config.toml").read_text() == bad


async def test_unreadable_sources_are_reported(
    spawn: ServerFactory, home: Path, codex_home: Path, repo: Path
) -> None:
    write(repo / "CLAUDE.md", b"\xff\xfe not utf-8")
    (repo / ".claude" / "settings.json").mkdir(parents=True)  # not a file: ignored
    write(home / ".claude" / "skills" / "s" / "SKILL.md", b"\xffbad")
    client = await start(spawn, home)
    response = await client.request_raw("externalAgentConfig/detect", {"cwds": [str(repo)]})
    assert response["error"] == {"code": -32603, "message": "stream did not contain valid UTF-8"}
    _, _, completed = await run_import(
        client,
        [
            {"itemType": "AGENTS_MD", "description": "x", "cwd": str(repo)},
            {"itemType": "CONFIG", "description": "x", "cwd": str(repo)},
            {"itemType": "SKILLS", "description": "x", "cwd": None},
        ],
    )
    error = "external_agent_config_import_error"
    utf8 = "stream did not contain valid UTF-8"
    assert completed["itemTypeResults"] == [
        {"itemType": "CONFIG", "successes": [], "failures": []},
        {"itemType": "SKILLS", "successes": [], "failures": [failure("SKILLS", None, utf8, error)]},
        {
            "itemType": "AGENTS_MD",
            "successes": [],
            "failures": [failure("AGENTS_MD", str(repo), utf8, error)],
        },
    ]
    # A failed skill copy leaves nothing behind, so a later import can retry it.
    skills = codex_home.parent / ".agents" / "skills"
    assert list(skills.iterdir()) == []
    # The server is still healthy.
    assert await client.request("externalAgentConfig/detect", {}) == {
        "items": [],
        "connectors": [],
    }


async def test_import_params_and_item_types(
    spawn: ServerFactory, home: Path, tmp_path: Path
) -> None:
    client = await start(spawn, home)
    response = await client.request_raw(
        "externalAgentConfig/import", {"migrationItems": [{"itemType": "FOO", "description": "x"}]}
    )
    assert response["error"] == {
        "code": -32600,
        "message": "Invalid request: unknown variant `FOO`, expected one of `AGENTS_MD`, "
        "`CONFIG`, `SKILLS`, `PLUGINS`, `MCP_SERVER_CONFIG`, `SUBAGENTS`, `HOOKS`, `COMMANDS`, "
        "`MEMORY`, `SESSIONS`",
    }
    response = await client.request_raw("externalAgentConfig/import", {})
    assert response["error"] == {
        "code": -32600,
        "message": "Invalid request: missing field `migrationItems`",
    }
    response = await client.request_raw(
        "externalAgentConfig/import",
        {"migrationItems": [{"itemType": "MEMORY", "description": "x"}]},
    )
    assert response["error"] == {
        "code": -32600,
        "message": "external agent memory import is disabled",
    }
    # An empty import answers with an id and reports nothing.
    empty = await client.request("externalAgentConfig/import", {"migrationItems": []})
    uuid.UUID(empty["importId"])
    # Nonexistent cwds are no-ops; unsupported kinds report empty results; plugins need details.
    _, progress, completed = await run_import(
        client,
        [
            {"itemType": "AGENTS_MD", "description": "x", "cwd": str(tmp_path / "gone")},
            {"itemType": "HOOKS", "description": "x", "cwd": None, "details": None},
            {"itemType": "PLUGINS", "description": "x", "cwd": None},
            {
                "itemType": "SKILLS",
                "description": "x",
                "cwd": "",
                "details": {"skills": [{"name": "a"}], "memory": ["m"]},
            },
        ],
    )
    assert completed["itemTypeResults"] == [
        {"itemType": "SKILLS", "successes": [], "failures": []},
        {"itemType": "AGENTS_MD", "successes": [], "failures": []},
        {
            "itemType": "PLUGINS",
            "successes": [],
            "failures": [
                {
                    "itemType": "PLUGINS",
                    "errorType": None,
                    "subErrorType": None,
                    "failureStage": "plugin_import",
                    "message": "plugins migration item is missing details",
                    "cwd": None,
                    "source": None,
                }
            ],
        },
        {"itemType": "HOOKS", "successes": [], "failures": []},
    ]
    assert len(progress) == 4
    ids = {(m.get("params") or {}).get("importId") for m in client.notifications()}
    assert empty["importId"] not in ids


# -- pure helpers ---------------------------------------------------------------------------


def test_term_rewriting_only_touches_whole_words() -> None:
    text = "Claude Code, claude-code, CLAUDE_CODE, ClaudeCode, claude.md, CLAUDE.MD.\n"
    assert rewrite_terms(text) == "Codex, Codex, Codex, Codex, AGENTS.md, AGENTS.md.\n"
    assert rewrite_terms("xclaude claudex claude9 _claude .claude/x é-claude") == (
        "xclaude claudex claude9 _claude .Codex/x é-Codex"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1', "EOF while parsing an object at line 1 column 7"),
        ('{"a": 1\n', "EOF while parsing an object at line 2 column 0"),
        ('{"a" 1}', "expected `:` at line 1 column 6"),
        ('{"é": 1 x}', "expected `,` or `}` at line 1 column 10"),
        ('{"a": [1 2]}', "expected `,` or `]` at line 1 column 10"),
        ('{"a": 1}\n\n x', "trailing characters at line 3 column 2"),
        ("", "EOF while parsing a value at line 1 column 0"),
        ('{"a": tru}', "expected ident at line 1 column 10"),
        ('{"a": [1,]}', "trailing comma at line 1 column 10"),
        ('"\\u12x"', "invalid escape at line 1 column 7"),
        ('{"a": 01}', "invalid number at line 1 column 8"),
        ("NaN", "expected value at line 1 column 1"),
        (
            '"a\tb"',
            "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 3",
        ),
        ("{bad", "key must be a string at line 1 column 2"),
        ('{"a": [1, 2.5e-3, true, null, "\\u00e9"]}', None),
    ],
)
def test_json_errors_are_worded_like_serde(text: str, message: str | None) -> None:
    assert json_error_text(text) == message
