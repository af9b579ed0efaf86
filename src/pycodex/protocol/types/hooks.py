"""Wire types of the hooks family: ``hooks/list`` and the ``hook/started`` /
``hook/completed`` notifications of hook runs."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import msgspec

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec

HookEventName = Literal[
    "preModelRequest", "postModelRequest", "preToolUse", "permissionRequest", "postToolUse",
    "preCompact", "postCompact", "sessionStart", "sessionEnd", "userPromptSubmit",
    "subagentStart", "subagentStop", "stop", "interrupt",
]
HookSource = Literal[
    "system", "user", "project", "mdm", "sessionFlags", "plugin", "cloudRequirements",
    "cloudManagedConfig", "legacyManagedConfigFile", "legacyManagedConfigMdm", "unknown",
]
HookTrustStatus = Literal["managed", "untrusted", "trusted", "modified"]
HookRunStatus = Literal["running", "completed", "failed", "blocked", "stopped"]
HookOutputEntryKind = Literal["warning", "stop", "feedback", "context", "error"]


class HookMetadata(WireStruct):
    """A configured command handler as ``hooks/list`` shows it."""

    #: The reference 0.171 sends the handler's fields too, but its schema bundles leave them
    #: out: published only in the experimental export.
    __experimental__: ClassVar[dict[str, str]] = {
        "handler_type": "handlerType", "command": "command", "is_async": "async",
    }

    key: str
    event_name: HookEventName
    handler_type: Literal["command"]
    command: str
    is_async: bool = msgspec.field(name="async")
    matcher: str | None
    timeout_sec: int
    status_message: str | None
    additional_context_limit: int | None
    source_path: str
    source: HookSource
    plugin_id: str | None
    environment_id: str | None
    display_order: int
    enabled: bool
    is_managed: bool
    current_hash: str
    trust_status: HookTrustStatus


class HookErrorInfo(WireStruct):
    path: str
    message: str


class HooksListEntry(WireStruct):
    cwd: str
    hooks: list[HookMetadata]
    warnings: list[str]
    errors: list[HookErrorInfo]


class HooksListParams(WireStruct):
    cwds: list[str] = msgspec.field(default_factory=list)
    thread_id: str | None = None


class HooksListResponse(WireStruct):
    data: list[HooksListEntry]


class HookOutputEntry(WireStruct):
    kind: HookOutputEntryKind
    text: str


class HookRunSummary(WireStruct):
    id: str
    event_name: HookEventName
    handler_type: Literal["command", "mcpTool", "prompt", "agent"]
    execution_mode: Literal["sync", "async"]
    scope: Literal["thread", "turn"]
    source_path: str
    source: HookSource
    display_order: int
    status: HookRunStatus
    status_message: str | None
    started_at: int
    completed_at: int | None
    duration_ms: int | None
    entries: list[HookOutputEntry]


class HookStartedNotification(WireStruct):
    thread_id: str
    turn_id: str | None
    run: HookRunSummary


class HookCompletedNotification(WireStruct):
    thread_id: str
    turn_id: str | None
    run: HookRunSummary


REQUESTS: list[MethodSpec] = [
    MethodSpec("hooks/list", HooksListParams, HooksListResponse),
]
NOTIFICATIONS: dict[str, Any] = {
    "hook/started": HookStartedNotification,
    "hook/completed": HookCompletedNotification,
}
