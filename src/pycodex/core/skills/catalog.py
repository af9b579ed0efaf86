"""The skills of a working directory, cached per cwd until a change invalidates them.

One catalog per ``CODEX_HOME`` (a process serves one): the turn engine and the
``skills/*`` handlers share it, so ``skills/extraRoots/set`` and config writes are seen by
both.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pycodex.config.layers import load_stack
from pycodex.core.skills import system
from pycodex.core.skills.discovery import scan, skill_roots
from pycodex.core.skills.model import SkillLoad
from pycodex.core.skills.rules import config_rules, disabled_paths


class SkillsCatalog:
    def __init__(self, codex_home: Path) -> None:
        self.codex_home = codex_home
        self._extra_roots: tuple[Path, ...] = ()
        #: per (cwd, ``-c`` overrides)
        self._cache: dict[tuple[Path, str], SkillLoad] = {}
        self._lock = threading.Lock()
        #: called after every invalidation (``skills/changed``)
        self.listeners: list[Callable[[], Any]] = []

    @property
    def extra_roots(self) -> tuple[Path, ...]:
        return self._extra_roots

    def set_extra_roots(self, roots: list[Path]) -> None:
        self._extra_roots = tuple(roots)
        self.invalidate()

    def invalidate(self, *, notify: bool = True) -> None:
        with self._lock:
            self._cache.clear()
        if notify:
            for listener in list(self.listeners):
                listener()

    def load(self, cwd: Path, cli_overrides: list[tuple[str, Any]] | None = None, *,
             force_reload: bool = False) -> SkillLoad:
        """Skills visible from ``cwd`` with their enabled flags, and the files in error."""
        cwd = Path(os.path.normpath(cwd))
        key = (cwd, repr(cli_overrides or []))
        with self._lock:
            cached = None if force_reload else self._cache.get(key)
        if cached is not None:
            return cached
        system.install(self.codex_home)
        stack = load_stack(self.codex_home, list(cli_overrides or []), cwd)
        home = os.environ.get("HOME")
        roots = skill_roots(self.codex_home, cwd, stack, self._extra_roots,
                            Path(home) if home else None)
        found = scan(roots)
        off = disabled_paths(found.skills, config_rules(stack))
        if off:
            found = SkillLoad(
                skills=tuple(s if str(s.path) not in off else _disabled(s) for s in found.skills),
                errors=found.errors, roots=found.roots)
        with self._lock:
            self._cache[key] = found
        return found


def _disabled(skill: Any) -> Any:
    import msgspec

    return msgspec.structs.replace(skill, enabled=False)


_CATALOGS: dict[Path, SkillsCatalog] = {}
_CATALOGS_LOCK = threading.Lock()


def catalog_for(codex_home: Path) -> SkillsCatalog:
    """The process-wide catalog of ``codex_home``."""
    with _CATALOGS_LOCK:
        catalog = _CATALOGS.get(codex_home)
        if catalog is None:
            catalog = _CATALOGS[codex_home] = SkillsCatalog(codex_home)
        return catalog
