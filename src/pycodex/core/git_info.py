"""The repository a thread works in: HEAD's commit, its branch and the ``origin`` URL.

Recorded in the rollout's ``session_meta`` (``git: {commit_hash, branch, repository_url}``,
as the reference writes it) and shown as ``Thread.gitInfo``. Read straight from the
repository's files (``HEAD``, refs, ``packed-refs``, ``config``; worktrees and ``gitdir:``
files included) rather than by running ``git`` three times: a thread start in a directory
that is not a repository costs a few ``stat`` calls.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["collect_git_info", "find_git_dirs"]

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_SECTION = re.compile(r'^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]')
_MAX_REF_DEPTH = 5


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def find_git_dirs(cwd: Path) -> tuple[Path, Path] | None:
    """``(git_dir, common_dir)`` of the repository containing ``cwd`` (they differ in a
    linked worktree), or None outside any repository."""
    for folder in (cwd, *cwd.parents):
        dotgit = folder / ".git"
        if dotgit.is_dir():
            git_dir = dotgit
        elif dotgit.is_file():
            text = _read(dotgit) or ""
            pointer = next((line[len("gitdir:"):].strip() for line in text.splitlines()
                            if line.startswith("gitdir:")), "")
            if not pointer:
                continue
            git_dir = (folder / pointer).resolve()
        else:
            continue
        if not (git_dir / "HEAD").is_file():
            continue
        common = git_dir
        common_pointer = (_read(git_dir / "commondir") or "").strip()
        if common_pointer:
            common = (git_dir / common_pointer).resolve()
        return git_dir, common
    return None


def _resolve_ref(git_dir: Path, common: Path, ref: str) -> str | None:
    """The commit a ref points to (loose ref files, symbolic refs, then packed-refs)."""
    for _ in range(_MAX_REF_DEPTH):
        for base in (git_dir, common):
            text = _read(base / ref)
            if text is None:
                continue
            value = text.strip()
            if value.startswith("ref:"):
                ref = value[4:].strip()
                break
            return value if _SHA.match(value) else None
        else:
            packed = _read(common / "packed-refs") or ""
            for line in packed.splitlines():
                sha, _, name = line.partition(" ")
                if name.strip() == ref and _SHA.match(sha):
                    return sha
            return None
    return None


def _origin_url(config: str) -> str | None:
    """``remote.origin.url`` from a git config file (the last value wins, as in git)."""
    section: tuple[str, str | None] | None = None
    url: str | None = None
    for raw in config.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        match = _SECTION.match(line)
        if match:
            section = (match.group(1).lower(), match.group(2))
            line = line[match.end():].strip()
            if not line:
                continue
        if section != ("remote", "origin"):
            continue
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() == "url":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            url = value or None
    return url


def collect_git_info(cwd: Path) -> dict[str, str] | None:
    """``{commit_hash?, branch?, repository_url?}`` for ``cwd``, or None outside a
    repository. An unborn branch (no commit yet) and a detached HEAD have no branch."""
    found = find_git_dirs(cwd)
    if found is None:
        return None
    git_dir, common = found
    head = (_read(git_dir / "HEAD") or "").strip()
    sha: str | None = None
    branch: str | None = None
    if head.startswith("ref:"):
        ref = head[4:].strip()
        sha = _resolve_ref(git_dir, common, ref)
        if sha is not None and ref.startswith("refs/heads/"):
            branch = ref[len("refs/heads/"):]
    elif _SHA.match(head):
        sha = head
    url = _origin_url(_read(common / "config") or "")
    info = {"commit_hash": sha, "branch": branch, "repository_url": url}
    return {key: value for key, value in info.items() if value}
