"""Confinement of the writes pycodex makes itself on the model's behalf (apply_patch).

A sandboxed shell command cannot write outside the writable roots, nor into the protected
folders (``.git``, ``.codex``, ``.agents``) inside them, because bubblewrap binds only those
roots read-write. Writes done in this process get no such help: a symlink inside the
workspace pointing elsewhere would carry them out. :class:`WriteGuard` applies the
sandbox's rules (:mod:`pycodex.core.sandbox`) to the *resolved* path — every symlink in the
target and its parents followed — before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pycodex.core.sandbox import PROTECTED_NAMES, SandboxPolicy, protected_paths, writable_roots

__all__ = ["WriteGuard"]


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


@dataclass(frozen=True)
class WriteGuard:
    """Which resolved paths may be written; ``roots is None`` means anywhere."""

    roots: tuple[str, ...] | None
    protected: tuple[str, ...] = ()
    approved: frozenset[str] = frozenset()

    @classmethod
    def unrestricted(cls) -> WriteGuard:
        """A guard that allows every write (no sandbox)."""
        return cls(None)

    @classmethod
    def for_policy(
        cls,
        sandbox_policy: Mapping[str, Any],
        sandbox_cwd: str,
        env: Mapping[str, str] | None = None,
    ) -> WriteGuard:
        """The guard matching a wire ``SandboxPolicy`` for a session rooted at ``sandbox_cwd``."""
        policy = SandboxPolicy.from_wire(sandbox_policy)
        if not policy.needs_wrapper:
            return cls.unrestricted()
        roots = writable_roots(policy, sandbox_cwd, env)
        protected: list[str] = []
        for root in roots:
            protected += [os.path.join(root, name) for name in PROTECTED_NAMES]
            protected += protected_paths(root)
        return cls(tuple(roots), tuple(dict.fromkeys(protected)))

    def approving(self, paths: Iterable[str]) -> WriteGuard:
        """This guard, also allowing ``paths`` (the user approved writing exactly those)."""
        resolved = {os.path.realpath(p) for p in paths}
        return WriteGuard(self.roots, self.protected, self.approved | resolved)

    def _allows_resolved(self, resolved: str) -> bool:
        if self.roots is None or resolved in self.approved:
            return True
        if any(_under(resolved, p) for p in self.protected):
            return False
        return any(_under(resolved, root) for root in self.roots)

    def allows_write(self, path: str) -> bool:
        """May the file at ``path`` be created or replaced (written through symlinks)?"""
        return self._allows_resolved(os.path.realpath(path))

    def allows_unlink(self, path: str) -> bool:
        """May the directory entry ``path`` be removed (the entry itself, not its target)?"""
        if self.roots is None:
            return True
        parent, name = os.path.split(os.path.abspath(path))
        return self._allows_resolved(os.path.join(os.path.realpath(parent), name))
