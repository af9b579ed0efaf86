"""Skills (extensions.md §2): discovery in every scope, ``skills/list`` with errors,
``skills/config/write`` persisted as ``[[skills.config]]``, extra roots, ``skills/changed``
on disk changes. Real SKILL.md trees in temporary directories, a spawned server."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient, ServerError
from tests.support.skills import skill_md, write_skill


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "user-home"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    (path / "a" / "b").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


@pytest.fixture
async def client(spawn: ServerFactory, home: Path, repo: Path) -> AppServerClient:
    return await spawn(env={"HOME": str(home)}, cwd=repo)


def listed(result: dict[str, object]) -> list[tuple[str, str]]:
    entry = result["data"][0]  # type: ignore[index]
    return [(s["scope"], s["name"]) for s in entry["skills"]]


async def test_every_scope_in_listing_order_with_errors(
    client: AppServerClient, codex_home: Path, home: Path, repo: Path
) -> None:
    rel = write_skill(repo / ".agents/skills", "rel", skill_md(
        "release-notes", "Draft release notes.", "metadata:\n  short-description: Notes\n"))
    write_skill(repo / "a/.agents/skills", "deep", skill_md("deep-skill", "Found from a/b."))
    write_skill(repo / "a/.agents/skills", "noname", "---\ndescription: folder name\n---\n")
    write_skill(repo / ".codex/skills", "nodesc", "---\nname: nodesc\n---\nbody\n")
    write_skill(repo / "a/.agents/skills", "nofm", "no front matter\n")
    write_skill(repo / "a/.agents/skills", "lenient", "---\nname: [oops\ndescription: x\n---\n")
    write_skill(repo / ".claude/skills", "ignored", skill_md("claude-skill", "Not scanned."))
    write_skill(codex_home / "skills", "mine", skill_md("mine", "A user skill."))
    write_skill(home / ".agents/skills", "personal", skill_md("personal", "From $HOME."))
    result = await client.request("skills/list", {"cwds": [str(repo / "a" / "b")]})
    entry = result["data"][0]
    assert entry["cwd"] == str(repo / "a" / "b")
    assert listed(result) == [
        ("repo", "[oops"), ("repo", "deep-skill"), ("repo", "noname"),
        ("repo", "release-notes"), ("user", "mine"), ("user", "personal"),
        ("system", "commit-message"), ("system", "skill-writer")]
    first = next(s for s in entry["skills"] if s["name"] == "release-notes")
    assert first == {"name": "release-notes", "description": "Draft release notes.",
                     "shortDescription": "Notes", "path": str(rel.resolve()), "scope": "repo",
                     "enabled": True, "pluginId": None}
    system = next(s for s in entry["skills"] if s["name"] == "skill-writer")
    assert system["interface"]["displayName"] == "Skill Writer"
    assert Path(system["path"]).is_relative_to(codex_home / "skills" / ".system")
    assert sorted((Path(e["path"]).parent.name, e["message"]) for e in entry["errors"]) == [
        ("nodesc", "missing field `description`"),
        ("nofm", "missing YAML frontmatter delimited by ---")]


async def test_config_write_by_path_and_name_persists(
    client: AppServerClient, spawn: ServerFactory, codex_home: Path, home: Path, repo: Path
) -> None:
    rel = write_skill(repo / ".agents/skills", "rel", skill_md("release-notes", "Notes."))
    write_skill(codex_home / "skills", "mine", skill_md("mine", "A user skill."))
    for bad in ({"enabled": False}, {"enabled": False, "name": "x", "path": str(rel)}):
        with pytest.raises(ServerError) as info:
            await client.request("skills/config/write", bad)
        assert (info.value.code, info.value.message) == (
            -32602, "skills/config/write requires exactly one of path or name")
    assert await client.request("skills/config/write", {"path": str(rel), "enabled": False}) \
        == {"effectiveEnabled": False}
    assert await client.request("skills/config/write", {"name": "mine", "enabled": False}) \
        == {"effectiveEnabled": False}
    changed = await client.wait_notification("skills/changed")
    assert changed == {}
    config = tomllib.loads((codex_home / "config.toml").read_text())
    assert config["skills"]["config"] == [{"path": str(rel), "enabled": False},
                                          {"name": "mine", "enabled": False}]
    assert "[[skills.config]]" in (codex_home / "config.toml").read_text()
    result = await client.request("skills/list", {"cwds": [str(repo)]})
    enabled = {s["name"]: s["enabled"] for s in result["data"][0]["skills"]}
    assert enabled["release-notes"] is False and enabled["mine"] is False
    # enabling again drops the entry; the setting survives a restart
    await client.request("skills/config/write", {"name": "mine", "enabled": True})
    again = await spawn(env={"HOME": str(home)}, cwd=repo)
    result = await again.request("skills/list", {"cwds": [str(repo)]})
    enabled = {s["name"]: s["enabled"] for s in result["data"][0]["skills"]}
    assert enabled["release-notes"] is False and enabled["mine"] is True


async def test_extra_roots_and_changes_on_disk(
    client: AppServerClient, tmp_path: Path, repo: Path
) -> None:
    extra = tmp_path / "extra"
    write_skill(extra, "x", skill_md("extra-skill", "From an extra root."))
    with pytest.raises(ServerError) as info:
        await client.request("skills/extraRoots/set", {"extraRoots": ["relative/path"]})
    assert (info.value.code, info.value.message) == (
        -32600, "Invalid request: AbsolutePathBuf deserialized without a base path")
    assert await client.request("skills/extraRoots/set", {"extraRoots": [str(extra)]}) == {}
    await client.wait_notification("skills/changed")  # the roots changed
    result = await client.request("skills/list", {"cwds": [str(repo)]})
    assert ("user", "extra-skill") in listed(result)
    assert len(client.notifications("skills/changed")) == 1
    # a new skill folder on disk: skills/changed, and the next list shows it
    write_skill(extra, "y", skill_md("later-skill", "Added while watched."))
    await client.wait_notification("skills/changed", timeout=10)
    result = await client.request("skills/list", {"cwds": [str(repo)]})
    assert ("user", "later-skill") in listed(result)
    await client.request("skills/extraRoots/set", {"extraRoots": []})
    result = await client.request("skills/list", {"cwds": [str(repo)], "forceReload": True})
    assert ("user", "extra-skill") not in listed(result)


async def test_empty_cwds_use_the_server_cwd(client: AppServerClient, repo: Path) -> None:
    write_skill(repo / ".agents/skills", "rel", skill_md("release-notes", "Notes."))
    result = await client.request("skills/list", {})
    assert result["data"][0]["cwd"] == str(repo)
    assert ("repo", "release-notes") in listed(result)


# -- skills in turns -------------------------------------------------------------------------
async def test_turn_context_lists_enabled_skills_and_injects_invoked_ones(
    codex_home: Path, home: Path, repo: Path, tmp_path: Path
) -> None:
    from tests.support.mock_responses import MockResponses, text_reply
    from tests.support.turns import write_config

    rel = write_skill(repo / ".agents/skills", "rel", skill_md("release-notes", "Draft notes."))
    write_skill(repo / ".agents/skills", "off", skill_md("switched-off", "Disabled one."))
    write_skill(repo / ".agents/skills", "broken", "no front matter\n")
    with MockResponses() as mock:
        write_config(codex_home, mock)
        with (codex_home / "config.toml").open("a") as fh:
            fh.write('\n[[skills.config]]\nname = "switched-off"\nenabled = false\n')
        client = AppServerClient(codex_home, cwd=repo, env={
            "MOCK_API_KEY": "k", "HOME": str(home)})
        await client.start()
        try:
            await client.initialize()
            thread = await client.request("thread/start", {"cwd": str(repo)})
            thread_id = thread["thread"]["id"]
            mock.push(text_reply("ok"))
            await client.request("turn/start", {"threadId": thread_id, "input": [
                {"type": "text", "text": "use $release-notes"},
                {"type": "skill", "name": "release-notes", "path": str(rel)},
                {"type": "skill", "name": "switched-off",
                 "path": str(repo / ".agents/skills/off/SKILL.md")}]})
            done = await client.wait_notification("turn/completed")
            assert done["turn"]["status"] == "completed"
        finally:
            await client.close()
        client.assert_valid()
        messages = [i for i in mock.requests[0].body["input"] if i.get("type") == "message"]
    developer = messages[1]
    assert developer["role"] == "developer"
    block = developer["content"][0]["text"]
    assert block.startswith("<skills_instructions>") and block.endswith("</skills_instructions>")
    assert developer["content"][1]["text"].startswith("<permissions instructions>")
    roots = dict(line[3:].split("` = `") for line in block.splitlines()
                 if line.startswith("- `r"))
    alias = {Path(v.rstrip("`")): k for k, v in roots.items()}
    repo_alias = alias[(repo / ".agents/skills").resolve()]
    assert f"- release-notes: Draft notes. (file: {repo_alias}/rel/SKILL.md)" in block
    system_alias = alias[(codex_home / "skills/.system").resolve()]
    assert f"(file: {system_alias}/skill-writer/SKILL.md)" in block
    assert "switched-off" not in block and "broken" not in block
    # the user's message holds only the text; the invoked skill follows as its own message
    texts = [(m["role"], m["content"][0]["text"]) for m in messages]
    user_at = texts.index(("user", "use $release-notes"))
    assert len(messages[user_at]["content"]) == 1
    assert texts[user_at + 1] == ("user", f"<skill>\n<name>release-notes</name>\n<path>{rel}"
                                          f"</path>\n{rel.read_text()}\n</skill>")
    assert len(texts) == user_at + 2  # the disabled skill was not injected


def test_system_skills_listed_without_yaml_match_their_parsed_files(tmp_path: Path) -> None:
    """Built-in skills are listed from their in-code metadata while their files are
    unchanged; that metadata must be what parsing the written files gives."""
    from pycodex.core.skills.discovery import system_root
    from pycodex.core.skills.parse import parse_skill
    from pycodex.core.skills.system import SYSTEM_SKILLS, install, known_skill

    install(tmp_path)
    root = system_root(tmp_path).resolve()
    for skill in SYSTEM_SKILLS:
        path = root / skill.folder / "SKILL.md"
        known = known_skill(path, root)
        assert known is not None and known == parse_skill(path, root, "system")
    edited = root / SYSTEM_SKILLS[0].folder / "SKILL.md"
    edited.write_text(edited.read_text() + "\nlocal edit\n")
    assert known_skill(edited, root) is None
