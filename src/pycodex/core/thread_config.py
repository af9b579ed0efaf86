"""Effective thread settings from the config layers and the request's typed overrides."""

from __future__ import annotations

import os
from typing import Any

import msgspec

from pycodex.core.threads import ThreadSettings
from pycodex.protocol.base import UNSET, UnsetType
from pycodex.protocol.types.items import (
    AskForApproval,
    DangerFullAccessSandboxPolicy,
    GranularAskForApproval,
    ReadOnlySandboxPolicy,
    SandboxPolicy,
    WorkspaceWriteSandboxPolicy,
)

DEFAULT_PROVIDER = "openai"
DEFAULT_APPROVAL = "on-request"
DEFAULT_SANDBOX = "read-only"
_SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access")
_APPROVALS = ("untrusted", "on-request", "never")


class ConfigError(Exception):
    """The config cannot produce valid settings (reported as ``error deriving config``)."""


class Overrides(msgspec.Struct):
    """Typed request overrides; ``None`` = not given."""

    model: str | None = None
    model_provider: str | None = None
    service_tier: str | UnsetType | None = UNSET
    cwd: str | None = None
    approval_policy: AskForApproval | None = None
    approvals_reviewer: str | None = None
    sandbox: str | None = None
    base_instructions: str | None = None
    developer_instructions: str | None = None
    personality: str | None = None


def sandbox_policy(mode: str, config: dict[str, Any]) -> SandboxPolicy:
    if mode == "danger-full-access":
        return DangerFullAccessSandboxPolicy()
    if mode == "workspace-write":
        ws = config.get("sandbox_workspace_write")
        ws = ws if isinstance(ws, dict) else {}
        roots = ws.get("writable_roots")
        return WorkspaceWriteSandboxPolicy(
            writable_roots=[str(r) for r in roots] if isinstance(roots, list) else [],
            network_access=bool(ws.get("network_access", False)),
            exclude_tmpdir_env_var=bool(ws.get("exclude_tmpdir_env_var", False)),
            exclude_slash_tmp=bool(ws.get("exclude_slash_tmp", False)),
        )
    return ReadOnlySandboxPolicy(network_access=False)


def _approval(value: Any) -> AskForApproval:
    if isinstance(value, str):
        if value not in _APPROVALS:
            raise ConfigError(f"unknown approval_policy `{value}`")
        return value  # type: ignore[return-value]
    if isinstance(value, GranularAskForApproval):
        return value
    if isinstance(value, dict):
        try:
            return msgspec.convert(value, GranularAskForApproval)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"invalid approval_policy: {exc}") from None
    raise ConfigError("invalid approval_policy")


def resolve_cwd(cwd: str | None, server_cwd: str) -> str:
    if not cwd:
        return server_cwd
    return os.path.normpath(os.path.join(server_cwd, os.path.expanduser(cwd)))


def resolve_settings(
    config: dict[str, Any],
    overrides: Overrides,
    server_cwd: str,
    *,
    persisted_model: str | None = None,
    persisted_effort: str | None = None,
    persisted_cwd: str | None = None,
) -> ThreadSettings:
    """Merge (request > config > persisted > defaults) into :class:`ThreadSettings`."""
    explicit_model = bool(overrides.model or overrides.model_provider or "model" in config)
    model = overrides.model or _str(config.get("model"))
    if not model and not explicit_model:
        model = persisted_model
    if not model:
        from pycodex.core.models_catalog import default_model

        model = default_model()  # the catalog's default, as the reference
    provider = overrides.model_provider or _str(config.get("model_provider")) or DEFAULT_PROVIDER
    effort = _str(config.get("model_reasoning_effort"))
    if effort is None and not explicit_model and "model_reasoning_effort" not in config:
        effort = persisted_effort
    approval = _approval(
        overrides.approval_policy
        if overrides.approval_policy is not None
        else config.get("approval_policy", DEFAULT_APPROVAL)
    )
    mode = overrides.sandbox or _str(config.get("sandbox_mode")) or DEFAULT_SANDBOX
    if mode not in _SANDBOX_MODES:
        raise ConfigError(f"unknown sandbox_mode `{mode}`")
    profile = (
        {"id": ":read-only", "extends": None}
        if overrides.sandbox is None and "sandbox_mode" not in config
        else None
    )
    if isinstance(overrides.service_tier, UnsetType):
        tier = _str(config.get("service_tier"))
    else:
        tier = overrides.service_tier
    cwd = resolve_cwd(overrides.cwd, server_cwd) if overrides.cwd else (persisted_cwd or server_cwd)
    return ThreadSettings(
        model=model,
        model_provider=provider,
        cwd=cwd,
        approval_policy=approval,
        approvals_reviewer=overrides.approvals_reviewer
        or _str(config.get("approvals_reviewer"))
        or "user",
        sandbox_mode=mode,
        sandbox_policy=sandbox_policy(mode, config),
        reasoning_effort=effort,
        service_tier=tier,
        base_instructions=overrides.base_instructions or _str(config.get("instructions")),
        developer_instructions=overrides.developer_instructions
        or _str(config.get("developer_instructions")),
        personality=overrides.personality or _str(config.get("personality")),
        active_permission_profile=profile,
        config=config,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
