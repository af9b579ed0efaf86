"""Effective thread settings from the config layers and the request's typed overrides."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

from pycodex.core.host import TurnSettings
from pycodex.core.threads import ThreadSettings
from pycodex.core.turn_context import PersistedSettings
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
    persisted: PersistedSettings | None = None,
    resume: bool = False,
) -> ThreadSettings:
    """Merge request overrides, the thread's recorded settings (``persisted``, from its last
    ``turn_context``), the config and the defaults into :class:`ThreadSettings`.

    As the reference: a resumed thread keeps its recorded model over the configured one, a
    fork takes the configured model; both keep the recorded cwd, approval policy and
    per-turn choices, while a configured ``sandbox_mode`` wins over the recorded sandbox."""
    p = persisted or PersistedSettings()
    explicit_model = bool(overrides.model or overrides.model_provider or "model" in config)
    model = overrides.model
    if not model and resume and not overrides.model_provider:
        model = p.model
    model = model or _str(config.get("model"))
    recorded_model = bool(p.model) and model == p.model
    if not model and not explicit_model:
        model, recorded_model = p.model, bool(p.model)
    if not model:
        from pycodex.core.models_catalog import default_model

        model = default_model()  # the catalog's default, as the reference
    provider = overrides.model_provider or _str(config.get("model_provider")) or DEFAULT_PROVIDER
    effort = _str(config.get("model_reasoning_effort"))
    if recorded_model and (resume or effort is None) and p.effort is not None:
        effort = p.effort
    approval = _approval(
        overrides.approval_policy if overrides.approval_policy is not None
        else p.approval_policy if p.approval_policy is not None
        else config.get("approval_policy", DEFAULT_APPROVAL)
    )
    # a permission profile the thread chose by its id outlives a restart and goes to a
    # fork (as the reference restores it), over a configured sandbox_mode
    chosen = p.active_permission_profile if not overrides.sandbox else None
    mode = overrides.sandbox or (None if chosen else _str(config.get("sandbox_mode")))
    policy = p.sandbox_policy if mode is None else None
    mode = mode or (sandbox_mode_of(policy) if policy is not None else DEFAULT_SANDBOX)
    if mode not in _SANDBOX_MODES:
        raise ConfigError(f"unknown sandbox_mode `{mode}`")
    default_sandbox = overrides.sandbox is None and "sandbox_mode" not in config and (
        policy is None or isinstance(policy, ReadOnlySandboxPolicy))
    profile = chosen or ({"id": ":read-only", "extends": None} if default_sandbox else None)
    if isinstance(overrides.service_tier, UnsetType):
        tier = p.service_tier or _str(config.get("service_tier"))
    else:
        tier = overrides.service_tier
    cwd = resolve_cwd(overrides.cwd, server_cwd) if overrides.cwd else (p.cwd or server_cwd)
    return ThreadSettings(
        model=model,
        model_provider=provider,
        cwd=cwd,
        approval_policy=approval,
        approvals_reviewer=overrides.approvals_reviewer
        or p.approvals_reviewer
        or _str(config.get("approvals_reviewer"))
        or "user",
        sandbox_mode=mode,
        sandbox_policy=policy or sandbox_policy(mode, config),
        reasoning_effort=effort,
        service_tier=tier,
        base_instructions=overrides.base_instructions or _str(config.get("instructions")),
        developer_instructions=overrides.developer_instructions
        or _str(config.get("developer_instructions")),
        personality=overrides.personality or p.personality or _str(config.get("personality")),
        summary=p.summary,
        collaboration_mode=p.collaboration_mode or "default",
        active_permission_profile=profile,
        config=config,
    )


def sandbox_mode_of(policy: SandboxPolicy) -> str:
    """The ``sandbox_mode`` spelling of a sandbox policy."""
    if isinstance(policy, DangerFullAccessSandboxPolicy):
        return "danger-full-access"
    if isinstance(policy, WorkspaceWriteSandboxPolicy):
        return "workspace-write"
    return "read-only"


class TurnOverrides(msgspec.Struct):
    """``turn/start`` settings that hold for this turn and the later ones (``None`` = keep)."""

    model: str | None = None
    effort: str | None = None
    summary: str | None = None
    personality: str | None = None
    service_tier: str | None = None
    cwd: str | None = None
    approval_policy: AskForApproval | None = None
    approvals_reviewer: str | None = None
    sandbox_policy: SandboxPolicy | None = None
    collaboration_mode: str | None = None
    developer_instructions: str | None = None


def apply_turn_overrides(settings: ThreadSettings, o: TurnOverrides, server_cwd: str) -> None:
    """Make the overrides the thread's settings (the next ``turn_context`` records them)."""
    if o.cwd is not None:
        settings.cwd = resolve_cwd(o.cwd, server_cwd)
    if o.approval_policy is not None:
        settings.approval_policy = o.approval_policy
    if o.approvals_reviewer is not None:
        settings.approvals_reviewer = o.approvals_reviewer
    if o.sandbox_policy is not None:
        settings.sandbox_policy = o.sandbox_policy
        settings.sandbox_mode = sandbox_mode_of(o.sandbox_policy)
        if not isinstance(o.sandbox_policy, ReadOnlySandboxPolicy):
            settings.active_permission_profile = None
    for name in ("model", "summary", "personality", "service_tier", "collaboration_mode",
                 "developer_instructions"):
        value = getattr(o, name)
        if value is not None:
            setattr(settings, name, value)
    if o.effort is not None:
        settings.reasoning_effort = o.effort


def recorded(s: ThreadSettings) -> PersistedSettings:
    """A loaded thread's settings as a fork takes them over (like a recorded turn)."""
    return PersistedSettings(
        model=s.model, effort=s.reasoning_effort, cwd=s.cwd, approval_policy=s.approval_policy,
        approvals_reviewer=s.approvals_reviewer, sandbox_policy=s.sandbox_policy,
        summary=s.summary, personality=s.personality, service_tier=s.service_tier,
        collaboration_mode=s.collaboration_mode,
        active_permission_profile=s.active_permission_profile)


def turn_settings(s: ThreadSettings) -> TurnSettings:
    """The engine's view of a thread's settings (wire shapes as plain values)."""
    return TurnSettings(
        model=s.model,
        provider_id=s.model_provider,
        cwd=Path(s.cwd),
        approval_policy=msgspec.to_builtins(s.approval_policy),
        sandbox_policy=msgspec.to_builtins(s.sandbox_policy),
        effort=s.reasoning_effort,
        summary=s.summary or s.config.get("model_reasoning_summary"),
        personality=s.personality,
        service_tier=s.service_tier,
        base_instructions=s.base_instructions,
        developer_instructions=s.developer_instructions,
        dynamic_tools=list(s.dynamic_tools or []),
        approvals_reviewer=s.approvals_reviewer,
        collaboration_mode=s.collaboration_mode,
        config=s.config,
        active_permission_profile=s.active_permission_profile,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
