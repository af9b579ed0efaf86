"""The settings lines of a rollout, in the reference's format: ``turn_context`` (the
settings a turn ran with, written at every turn start) and ``thread_settings_applied``
(written by ``thread/settings/update``). The last of them restores a thread's settings when
it is resumed, forked or read after a restart."""

from __future__ import annotations

from typing import Any

import msgspec

from pycodex.core.host import TurnSettings
from pycodex.core.rollout_permissions import policy_of, profile_of
from pycodex.protocol.types.items import AskForApproval, SandboxPolicy

#: wire (camelCase) sandbox kinds ↔ the rollout's (kebab-case) ones
_SANDBOX_KINDS = {
    "dangerFullAccess": "danger-full-access",
    "readOnly": "read-only",
    "workspaceWrite": "workspace-write",
    "externalSandbox": "external-sandbox",
}
_WIRE_KINDS = {rollout: wire for wire, rollout in _SANDBOX_KINDS.items()}


class PersistedSettings(msgspec.Struct):
    """A thread's settings as its last ``turn_context`` recorded them (``None``: absent)."""

    model: str | None = None
    effort: str | None = None
    cwd: str | None = None
    approval_policy: AskForApproval | None = None
    approvals_reviewer: str | None = None
    sandbox_policy: SandboxPolicy | None = None
    summary: str | None = None
    personality: str | None = None
    service_tier: str | None = None
    collaboration_mode: str | None = None
    #: the permission profile chosen by ``thread/settings/update {permissions}``, as the
    #: wire's ``activePermissionProfile`` (``{id, extends}``)
    active_permission_profile: dict[str, Any] | None = None


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def sandbox_to_rollout(policy: dict[str, Any]) -> dict[str, Any]:
    """A wire sandbox policy in the rollout's spelling (``workspace-write``, snake_case)."""
    kind = policy.get("type")
    out: dict[str, Any] = {"type": _SANDBOX_KINDS.get(str(kind), kind)}
    out.update((_snake(key), value) for key, value in policy.items() if key != "type")
    return out


def sandbox_from_rollout(raw: Any) -> SandboxPolicy | None:
    """The wire policy of a recorded one (either spelling), ``None`` when unreadable."""
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return None
    kind = _WIRE_KINDS.get(raw["type"], raw["type"])
    fields = {_camel(key): value for key, value in raw.items() if key != "type"}
    try:
        policy: SandboxPolicy = msgspec.convert({"type": kind, **fields}, SandboxPolicy)
    except msgspec.ValidationError:
        return None
    return policy


def turn_context_payload(turn_id: str, s: TurnSettings) -> dict[str, Any]:
    """The ``turn_context`` payload of a turn starting with settings ``s``."""
    payload: dict[str, Any] = {
        "turn_id": turn_id,
        "cwd": str(s.cwd),
        "approval_policy": s.approval_policy,
        "approvals_reviewer": s.approvals_reviewer,
        **_chosen_profile(s),
        "model": s.model,
        "collaboration_mode": {"mode": s.collaboration_mode, "settings": {
            "model": s.model, "reasoning_effort": s.effort,
            "developer_instructions": s.developer_instructions}},
        "effort": s.effort,
        "summary": s.summary or "auto",
        "sandbox_policy": sandbox_to_rollout(s.sandbox_policy),
        "model_provider": s.provider_id,
    }
    if s.personality:
        payload["personality"] = s.personality
    if s.service_tier:
        payload["service_tier"] = s.service_tier
    return payload


def _chosen_profile(s: TurnSettings) -> dict[str, Any]:
    """``active_permission_profile`` as the reference records it (``extends`` only when
    set), nothing when no profile was chosen by its id."""
    profile = s.active_permission_profile
    if profile is None:
        return {}
    return {"active_permission_profile": {key: value for key, value in profile.items()
                                          if value is not None}}


def applied_thread_settings(s: TurnSettings) -> dict[str, Any]:
    """The ``thread_settings`` of a ``thread_settings_applied`` event: the reference's
    fields, plus the ones it keeps elsewhere (sandbox policy, tier, summary, personality)."""
    cwd = str(s.cwd)
    return {
        "model": s.model, "model_provider_id": s.provider_id,
        "approval_policy": s.approval_policy, "approvals_reviewer": s.approvals_reviewer,
        "requested_approvals_reviewer": s.approvals_reviewer,
        "permission_profile": profile_of(s.sandbox_policy, cwd), **_chosen_profile(s),
        "cwd": cwd, "runtime_workspace_roots": [cwd], "reasoning_effort": s.effort,
        "collaboration_mode": {"mode": s.collaboration_mode, "settings": {
            "model": s.model, "reasoning_effort": s.effort,
            "developer_instructions": s.developer_instructions}},
        "disabled_plugin_ids": [],
        "sandbox_policy": sandbox_to_rollout(s.sandbox_policy),
        "service_tier": s.service_tier, "summary": s.summary, "personality": s.personality,
    }


def _text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value else None


def persisted_settings(payload: dict[str, Any]) -> PersistedSettings:
    """What a recorded ``turn_context`` payload (ours or the reference's) says."""
    approval: AskForApproval | None = None
    try:
        if payload.get("approval_policy") is not None:
            approval = msgspec.convert(payload["approval_policy"], AskForApproval)
    except msgspec.ValidationError:
        approval = None
    mode = payload.get("collaboration_mode")
    summary = _text(payload, "summary")
    return PersistedSettings(
        model=_text(payload, "model"),
        effort=_text(payload, "effort"),
        cwd=_text(payload, "cwd"),
        approval_policy=approval,
        approvals_reviewer=_text(payload, "approvals_reviewer"),
        sandbox_policy=sandbox_from_rollout(payload.get("sandbox_policy")),
        # "auto" is also what a turn without a chosen summary records
        summary=None if summary == "auto" else summary,
        personality=_text(payload, "personality"),
        service_tier=_text(payload, "service_tier"),
        collaboration_mode=_text(mode, "mode") if isinstance(mode, dict) else None,
        active_permission_profile=_active_profile(payload),
    )


#: ``thread_settings_applied`` keys → the ``turn_context`` keys that say the same
_APPLIED_KEYS = {"model": "model", "reasoning_effort": "effort", "cwd": "cwd",
                 "approval_policy": "approval_policy",
                 "approvals_reviewer": "approvals_reviewer", "sandbox_policy": "sandbox_policy",
                 "summary": "summary", "personality": "personality",
                 "service_tier": "service_tier", "collaboration_mode": "collaboration_mode"}


def applied_settings(thread_settings: dict[str, Any], base: PersistedSettings
                     ) -> PersistedSettings:
    """``base`` (from the last ``turn_context``) updated by a later
    ``thread_settings_applied`` event: what it names wins (``null`` included), the rest
    (the reference leaves out the sandbox policy and tier) stays."""
    context = {_APPLIED_KEYS[key]: value for key, value in thread_settings.items()
               if key in _APPLIED_KEYS}
    if "sandbox_policy" not in context:  # the reference's: from its permission profile
        policy = policy_of(thread_settings.get("permission_profile"), _text(context, "cwd"))
        if policy is not None:
            context["sandbox_policy"] = policy
    applied = persisted_settings(context)
    return msgspec.structs.replace(base, **{
        field: getattr(applied, field) for field in base.__struct_fields__
        if field in context}, active_permission_profile=_active_profile(thread_settings))


def _active_profile(thread_settings: dict[str, Any]) -> dict[str, Any] | None:
    """The recorded ``active_permission_profile`` (``{id, extends?}``) in the wire's shape,
    ``None`` when absent or unreadable."""
    raw = thread_settings.get("active_permission_profile")
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        return None
    extends = raw.get("extends")
    return {"id": raw["id"], "extends": extends if isinstance(extends, str) else None}


def follow_settings_line(current: PersistedSettings, kind: str, payload: Any
                         ) -> PersistedSettings:
    """``current`` after one rollout line: a ``turn_context`` replaces it, a
    ``thread_settings_applied`` event updates it, any other line leaves it."""
    if not isinstance(payload, dict):
        return current
    if kind == "turn_context":
        return persisted_settings(payload)
    if (kind == "event_msg" and payload.get("type") == "thread_settings_applied"
            and isinstance(payload.get("thread_settings"), dict)):
        return applied_settings(payload["thread_settings"], current)
    return current
