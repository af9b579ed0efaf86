"""The JSON a command hook may print, per event, as strict as the reference reads it: an
unknown field or a value of the wrong kind makes the whole output invalid (the run fails
with ``hook returned invalid <label> JSON output``), so a typo never passes silently."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from pycodex.core.hooks.events import kebab

#: the ``hookEventName`` values a ``hookSpecificOutput`` may carry
HookEventNameWire = Literal["PreToolUse", "PermissionRequest", "PostToolUse", "SessionStart",
                            "UserPromptSubmit", "Stop"]


class _Wire(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    pass


class _Universal(_Wire):
    continue_: bool = msgspec.field(default=True, name="continue")
    stop_reason: str | None = None
    suppress_output: bool = False
    system_message: str | None = None


class _Context(_Wire):
    hook_event_name: HookEventNameWire
    additional_context: str | None = None


class _PreToolSpecific(_Context):
    permission_decision: Literal["allow", "deny", "ask"] | None = None
    permission_decision_reason: str | None = None
    updated_input: Any = None


class _PostToolSpecific(_Context):
    updated_mcp_tool_output: Any = msgspec.field(default=None, name="updatedMCPToolOutput")


class _PermissionDecision(_Wire):
    behavior: Literal["allow", "deny"]
    updated_input: Any = None
    updated_permissions: Any = None
    message: str | None = None
    interrupt: bool = False


class _PermissionSpecific(_Wire):
    hook_event_name: HookEventNameWire
    decision: _PermissionDecision | None = None


class SessionStartOutput(_Universal):
    hook_specific_output: _Context | None = None


class UserPromptSubmitOutput(_Universal):
    decision: Literal["block"] | None = None
    reason: str | None = None
    hook_specific_output: _Context | None = None


class PreToolUseOutput(_Universal):
    decision: Literal["approve", "block"] | None = None
    reason: str | None = None
    hook_specific_output: _PreToolSpecific | None = None


class PostToolUseOutput(_Universal):
    decision: Literal["block"] | None = None
    reason: str | None = None
    hook_specific_output: _PostToolSpecific | None = None


class PermissionRequestOutput(_Universal):
    hook_specific_output: _PermissionSpecific | None = None


class StopOutput(_Universal):
    decision: Literal["block"] | None = None
    reason: str | None = None


class StatelessOutput(_Universal):
    """Events whose output is only reported (compaction, model requests, session end)."""


#: events whose output is only reported; a failing run's error is the hook's stderr
STATELESS = frozenset({"PreCompact", "PostCompact", "SessionEnd"})
#: events whose stdout is not read at all (only how the hook exited counts)
UNREAD = frozenset({"PreModelRequest", "PostModelRequest"})

#: event → (its output's shape, the label of its "invalid JSON output" error)
STRICT: dict[str, tuple[type[_Wire], str]] = {
    **{event: (StatelessOutput, f"{event} hook") for event in STATELESS},
    "SessionStart": (SessionStartOutput, "session start"),
    "UserPromptSubmit": (UserPromptSubmitOutput, "user prompt submit"),
    "PreToolUse": (PreToolUseOutput, "pre-tool-use"),
    "PostToolUse": (PostToolUseOutput, "post-tool-use"),
    "PermissionRequest": (PermissionRequestOutput, "permission-request"),
    "Stop": (StopOutput, "stop hook"),
}


#: events whose stdout must be JSON when not empty
JSON_ONLY = frozenset({"Stop"})


def label(event: str) -> str:
    """How the "invalid JSON output" error names ``event``."""
    entry = STRICT.get(event)
    return entry[1] if entry is not None else kebab(event)


def invalid(event: str, data: dict[str, Any]) -> str | None:
    """The error for an output ``event`` cannot read, else ``None`` (events without a
    strict shape accept anything)."""
    entry = STRICT.get(event)
    if entry is None:
        return None
    try:
        msgspec.convert(data, entry[0])
    except msgspec.ValidationError:
        return f"hook returned invalid {entry[1]} JSON output"
    return None
