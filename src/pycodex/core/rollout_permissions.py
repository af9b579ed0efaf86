"""The ``permission_profile`` of the reference's ``thread_settings_applied`` event ↔ a
sandbox policy. The reference skips an event without one, and records no sandbox policy in
it, so pycodex writes the profile a policy stands for and reads a policy back from it."""

from __future__ import annotations

from typing import Any

#: folders inside a writable root that stay read-only (when they exist)
PROTECTED = (".git", ".agents", ".codex", ".aws")


def _entry(path: dict[str, Any], access: str, **extra: Any) -> dict[str, Any]:
    return {"path": path, "access": access, **extra}


def _special(kind: str) -> dict[str, Any]:
    return {"type": "special", "value": {"kind": kind}}


def _path(path: str) -> dict[str, Any]:
    return {"type": "path", "path": path}


def profile_of(policy: dict[str, Any], cwd: str) -> dict[str, Any] | None:
    """The reference's profile for a wire sandbox policy (``None``: an external sandbox,
    which it records otherwise)."""
    kind = policy.get("type")
    if kind == "dangerFullAccess":
        return {"type": "disabled"}
    if kind not in ("readOnly", "workspaceWrite"):
        return None
    entries = [_entry(_special("root"), "read")]
    if kind == "workspaceWrite":
        roots = [cwd, *(str(root) for root in policy.get("writableRoots") or [])]
        entries += [_entry(_path(root), "write") for root in roots]
        if not policy.get("excludeSlashTmp"):
            entries.append(_entry(_special("slash_tmp"), "write"))
        if not policy.get("excludeTmpdirEnvVar"):
            entries.append(_entry(_special("tmpdir"), "write"))
        entries += [_entry(_path(f"{root}/{name}"), "read", missing_path_behavior="skip")
                    for root in roots for name in PROTECTED]
    return {"type": "managed", "file_system": {"type": "restricted", "entries": entries},
            "network": "enabled" if policy.get("networkAccess") else "restricted"}


def policy_of(profile: Any, cwd: str | None) -> dict[str, Any] | None:
    """The sandbox policy (rollout spelling) a recorded profile stands for, ``None`` when
    it is not one pycodex knows."""
    if not isinstance(profile, dict):
        return None
    if profile.get("type") == "disabled":
        return {"type": "danger-full-access"}
    file_system = profile.get("file_system")
    if profile.get("type") != "managed" or not isinstance(file_system, dict):
        return None
    network = profile.get("network") == "enabled"
    writes = [entry.get("path") for entry in file_system.get("entries") or []
              if isinstance(entry, dict) and entry.get("access") == "write"]
    if not writes:
        return {"type": "read-only", "network_access": network}
    paths = [w["path"] for w in writes if isinstance(w, dict) and w.get("type") == "path"]
    specials = [w.get("value", {}).get("kind") for w in writes
                if isinstance(w, dict) and w.get("type") == "special"]
    return {"type": "workspace-write", "network_access": network,
            "writable_roots": [path for path in paths if path != cwd],
            "exclude_tmpdir_env_var": "tmpdir" not in specials,
            "exclude_slash_tmp": "slash_tmp" not in specials}
