"""Where skills live for a working directory, and the scan of those roots.

Roots, highest precedence first: every project ``.codex/skills`` from the cwd up to the
project root (trusted or not), ``$CODEX_HOME/skills`` and ``$HOME/.agents/skills`` (user),
``$CODEX_HOME/skills/.system`` (system), ``/etc/codex/skills`` (admin), roots added with
``skills/extraRoots/set`` (user), then ``.agents/skills`` of every directory from the
project root down to the cwd (repo).
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from pycodex.config.layers import LayerStack, project_root, system_dir
from pycodex.core.skills.model import SCOPE_RANK, Scope, Skill, SkillError, SkillLoad
from pycodex.core.skills.system import known_skill

logger = logging.getLogger(__name__)

SKILL_FILE = "SKILL.md"
SYSTEM_DIR = ".system"
MAX_SCAN_DEPTH = 6
MAX_DIRS_PER_ROOT = 2000


def system_root(codex_home: Path) -> Path:
    return codex_home / "skills" / SYSTEM_DIR


def skill_roots(codex_home: Path, cwd: Path, stack: LayerStack,
                extra_roots: Iterable[Path] = (), home: Path | None = None
                ) -> list[tuple[Path, Scope]]:
    """Every root to scan for ``cwd`` with its scope, highest precedence first."""
    roots: list[tuple[Path, Scope]] = []
    for layer in stack.highest_first():
        folder = layer.source.get("dotCodexFolder")
        if layer.kind == "project" and isinstance(folder, str):
            roots.append((Path(folder) / "skills", "repo"))
    roots.append((codex_home / "skills", "user"))
    if home is not None:
        roots.append((home / ".agents" / "skills", "user"))
    roots.append((system_root(codex_home), "system"))
    roots.append((system_dir() / "skills", "admin"))
    roots.extend((Path(root), "user") for root in extra_roots)
    markers = _root_markers(stack)
    top = project_root(cwd, markers) if markers else cwd
    chain = [cwd, *(p for p in cwd.parents if p == top or top in p.parents)]
    for directory in reversed(chain):
        candidate = directory / ".agents" / "skills"
        if candidate.is_dir():
            roots.append((candidate, "repo"))
    seen: set[Path] = set()
    unique = []
    for path, scope in roots:
        if path not in seen:
            seen.add(path)
            unique.append((path, scope))
    return unique


def _root_markers(stack: LayerStack) -> list[str]:
    merged: dict[str, object] = {}
    for layer in stack.enabled():
        if layer.kind != "project":
            merged.update(layer.config)
    markers = merged.get("project_root_markers")
    if isinstance(markers, list) and all(isinstance(m, str) for m in markers):
        return [str(m) for m in markers]
    return [".git"]


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


def scan(roots: list[tuple[Path, Scope]]) -> SkillLoad:
    """Parse every ``SKILL.md`` under the roots (breadth first, dot entries skipped); the
    first root that reaches a file wins. Errors of system skills are not reported."""
    skills: list[Skill] = []
    errors: list[SkillError] = []
    seen: set[Path] = set()
    for root, scope in roots:
        for path in _skill_files(_resolved(root), follow_links=scope != "system"):
            resolved = _resolved(path)
            if resolved in seen:
                continue
            seen.add(resolved)
            known = known_skill(resolved, _resolved(root)) if scope == "system" else None
            if known is not None:
                skills.append(known)
                continue
            from pycodex.core.skills.parse import SkillParseError, parse_skill

            try:
                skills.append(parse_skill(resolved, _resolved(root), scope))
            except SkillParseError as exc:
                if scope != "system":
                    errors.append(SkillError(path=path, message=str(exc)))
    skills.sort(key=lambda s: (SCOPE_RANK[s.scope], s.name, str(s.path)))
    return SkillLoad(skills=tuple(skills), errors=tuple(errors),
                     roots=tuple(root for root, _ in roots))


def _skill_files(root: Path, *, follow_links: bool) -> list[Path]:
    if not root.is_dir():
        return []
    found: list[Path] = []
    visited = {root}
    queue: deque[tuple[Path, int]] = deque([(root, 0)])
    while queue:
        directory, depth = queue.popleft()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            logger.warning("failed to read skills dir %s: %s", directory, exc)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                if entry.is_symlink() and not follow_links:
                    continue
                if entry.is_dir():
                    target = _resolved(path)
                    if depth + 1 <= MAX_SCAN_DEPTH and target not in visited \
                            and len(visited) < MAX_DIRS_PER_ROOT:
                        visited.add(target)
                        queue.append((target, depth + 1))
                elif entry.name == SKILL_FILE and entry.is_file():
                    found.append(path)
            except OSError:
                continue
    return found
