"""Whether a planned patch may be applied without asking (engine.md §4.4)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pycodex.core.tools.apply_patch import FileChange
from pycodex.core.write_guard import WriteGuard

__all__ = [
    "PATCH_REJECTED_OUTSIDE_PROJECT",
    "PATCH_REJECTED_READ_ONLY",
    "SANDBOX_RETRY_REASON",
    "SafetyCheck",
    "assess_patch_safety",
    "is_path_writable",
    "is_write_patch_constrained",
    "patch_write_guard",
    "sandbox_retry_asks",
    "writable_roots",
]

PATCH_REJECTED_OUTSIDE_PROJECT = (
    "writing outside of the project; rejected by user approval settings"
)
PATCH_REJECTED_READ_ONLY = (
    "writing is blocked by read-only sandbox; rejected by user approval settings"
)
#: Why the user is asked after a sandboxed write was refused (as the reference words it).
SANDBOX_RETRY_REASON = "command failed; retry without sandbox?"
READ_ONLY_SUBDIRS = (".git", ".codex", ".agents")
_UNRESTRICTED = ("dangerFullAccess", "externalSandbox")


@dataclass(frozen=True)
class SafetyCheck:
    """Decision: auto-approve (maybe inside the platform sandbox), ask, or reject."""

    decision: Literal["auto_approve", "ask_user", "reject"]
    reason: str | None = None
    sandboxed: bool = False


def writable_roots(
    sandbox_policy: Mapping[str, Any], cwd: str, env: Mapping[str, str] | None = None
) -> list[str] | None:
    """Writable roots of a wire `SandboxPolicy` (None means the whole disk is writable)."""
    kind = sandbox_policy.get("type")
    if kind in _UNRESTRICTED:
        return None
    if kind != "workspaceWrite":
        return []
    environ = os.environ if env is None else env
    roots = [cwd, *(sandbox_policy.get("writableRoots") or [])]
    if not sandbox_policy.get("excludeSlashTmp", False):
        roots.append("/tmp")
    tmpdir = environ.get("TMPDIR")
    if tmpdir and not sandbox_policy.get("excludeTmpdirEnvVar", False):
        roots.append(tmpdir)
    return [os.path.normpath(r) for r in roots]


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def is_path_writable(path: str, roots: list[str] | None) -> bool:
    """True when `path` (absolute) may be written under `roots`."""
    if roots is None:
        return True
    target = os.path.normpath(path)
    for root in roots:
        if not _under(target, root):
            continue
        if any(_under(target, os.path.join(root, sub)) for sub in READ_ONLY_SUBDIRS):
            continue
        return True
    return False


def is_write_patch_constrained(
    changes: Iterable[FileChange],
    sandbox_policy: Mapping[str, Any],
    cwd: str,
    env: Mapping[str, str] | None = None,
) -> bool:
    """True when every touched path (sources and move targets) is writable."""
    roots = writable_roots(sandbox_policy, cwd, env)
    for change in changes:
        for path in (change.path, change.move_path):
            if path is None:
                continue
            absolute = path if os.path.isabs(path) else os.path.join(cwd, path)
            if not is_path_writable(absolute, roots):
                return False
    return True


def _rejects_sandbox_approval(policy: str | Mapping[str, Any]) -> bool:
    if isinstance(policy, Mapping):
        granular = policy.get("granular")
        return isinstance(granular, Mapping) and not granular.get("sandbox_approval", False)
    return policy == "never"


def _rejection_reason(sandbox_policy: Mapping[str, Any], cwd: str) -> str:
    roots = writable_roots(sandbox_policy, cwd, {})
    if roots is not None and not roots:
        return PATCH_REJECTED_READ_ONLY
    return PATCH_REJECTED_OUTSIDE_PROJECT


def assess_patch_safety(
    changes: list[FileChange],
    approval_policy: str | Mapping[str, Any],
    sandbox_policy: Mapping[str, Any],
    cwd: str,
    *,
    platform_sandbox: bool = True,
    env: Mapping[str, str] | None = None,
) -> SafetyCheck:
    """Decide how a planned patch proceeds under the approval and sandbox policies."""
    if not changes:
        return SafetyCheck("reject", "empty patch")
    if approval_policy == "untrusted":
        return SafetyCheck("ask_user")
    rejects = _rejects_sandbox_approval(approval_policy)
    constrained = is_write_patch_constrained(changes, sandbox_policy, cwd, env)
    if constrained or approval_policy == "on-failure":
        if sandbox_policy.get("type") in _UNRESTRICTED:
            return SafetyCheck("auto_approve")
        if platform_sandbox:
            return SafetyCheck("auto_approve", sandboxed=True)
    if rejects:
        return SafetyCheck("reject", _rejection_reason(sandbox_policy, cwd))
    return SafetyCheck("ask_user")


def patch_write_guard(
    changes: list[FileChange],
    sandbox_policy: Mapping[str, Any],
    cwd: str,
    *,
    approved: bool = False,
    env: Mapping[str, str] | None = None,
) -> WriteGuard:
    """The confinement of a patch's writes.

    The sandbox's rules, on resolved paths. When the user approved a patch that writes
    outside the writable roots, the paths it names are allowed too (as the reference
    grants them); approving a patch that stays inside grants nothing more.
    """
    guard = WriteGuard.for_policy(sandbox_policy, cwd, env)
    if approved and not is_write_patch_constrained(changes, sandbox_policy, cwd, env):
        paths = [p for c in changes for p in (c.path, c.move_path) if p is not None]
        guard = guard.approving(paths)
    return guard


def sandbox_retry_asks(approval_policy: str | Mapping[str, Any]) -> bool:
    """True when a write the sandbox refused is put to the user (retry without sandbox)."""
    return approval_policy != "untrusted" and not _rejects_sandbox_approval(approval_policy)
