"""gitInfo of new threads: read from the repository's files, checked against what the git
command reports for the same repositories, and seen end to end through thread/start,
the rollout's session_meta and thread/list."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pycodex.core.git_info import collect_git_info
from tests.conftest import ServerFactory
from tests.support.mock_responses import MockResponses, text_reply

ORIGIN = "https://example.com/team/project.git"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
         "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false", *args],
        cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def what_git_says(cwd: Path) -> dict[str, str]:
    """The reference's three questions, asked of git itself."""
    def ask(*args: str) -> str | None:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None

    branch = ask("rev-parse", "--abbrev-ref", "HEAD")
    info = {"commit_hash": ask("rev-parse", "HEAD"),
            "branch": None if branch == "HEAD" else branch,
            "repository_url": ask("remote", "get-url", "origin")}
    return {key: value for key, value in info.items() if value}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "a.txt").write_text("a\n")
    git(root, "add", "a.txt")
    git(root, "commit", "-q", "-m", "first")
    git(root, "remote", "add", "origin", ORIGIN)
    return root


def test_branch_commit_and_origin(repo: Path) -> None:
    info = collect_git_info(repo)
    assert info == what_git_says(repo)
    assert info is not None and info["branch"] == "main" and info["repository_url"] == ORIGIN
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    assert collect_git_info(sub) == info


def test_packed_refs_and_a_second_commit(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature/x")
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-q", "-m", "second")
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "feature" / "x").exists()
    assert collect_git_info(repo) == what_git_says(repo)
    assert collect_git_info(repo)["branch"] == "feature/x"  # type: ignore[index]


def test_detached_head_has_no_branch(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", sha)
    assert collect_git_info(repo) == what_git_says(repo) == {
        "commit_hash": sha, "repository_url": ORIGIN}


def test_unborn_branch_and_no_remote(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    assert collect_git_info(tmp_path) == what_git_says(tmp_path) == {}


def test_linked_worktree(repo: Path, tmp_path: Path) -> None:
    tree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "side", str(tree))
    assert (tree / ".git").is_file()
    info = collect_git_info(tree)
    assert info == what_git_says(tree)
    assert info is not None and info["branch"] == "side" and info["repository_url"] == ORIGIN


def test_origin_url_from_a_config_with_other_remotes_and_comments(repo: Path) -> None:
    git(repo, "remote", "add", "upstream", "https://example.com/upstream.git")
    git(repo, "remote", "set-url", "origin", "git@example.com:team/project.git")
    with (repo / ".git" / "config").open("a") as config:
        config.write("# trailing comment\n[core]\n\teditor = vi\n")
    assert collect_git_info(repo) == what_git_says(repo)


def test_not_a_repository(tmp_path: Path) -> None:
    assert collect_git_info(tmp_path) is None


async def test_thread_in_a_repository_carries_git_info(
    spawn: ServerFactory, codex_home: Path, repo: Path,
) -> None:
    with MockResponses() as mock:
        (codex_home / "config.toml").write_text(
            'model = "gpt-5.5"\nmodel_provider = "mock"\napproval_policy = "never"\n'
            'sandbox_mode = "danger-full-access"\n\n' + mock.provider_toml())
        mock.push(text_reply("ok"))
        client = await spawn(env={"MOCK_API_KEY": "k"})
        started = await client.request("thread/start", {"cwd": str(repo)})
        thread = started["thread"]
        sha = git(repo, "rev-parse", "HEAD")
        expected: dict[str, Any] = {"sha": sha, "branch": "main", "originUrl": ORIGIN}
        assert thread["gitInfo"] == expected
        turn = await client.request("turn/start", {
            "threadId": thread["id"], "input": [{"type": "text", "text": "hi"}]})
        await client.wait_notification(
            "turn/completed", where=lambda p: p["turn"]["id"] == turn["turn"]["id"])
        first = json.loads(Path(thread["path"]).read_text().splitlines()[0])
        assert first["type"] == "session_meta"
        assert first["payload"]["git"] == {
            "commit_hash": sha, "branch": "main", "repository_url": ORIGIN}
        listed = await client.request("thread/list", {})
        (row,) = [t for t in listed["data"] if t["id"] == thread["id"]]
        assert row["gitInfo"] == expected
