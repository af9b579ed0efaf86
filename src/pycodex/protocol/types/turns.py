"""turn/start, turn/steer, turn/interrupt and thread/compact/start."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec
from pycodex.protocol.types.items import AskForApproval, SandboxPolicy, UserInput


class CollaborationModeSettings(msgspec.Struct, kw_only=True):
    model: str | None = None
    reasoning_effort: str | None = None
    developer_instructions: str | None = None


class CollaborationMode(msgspec.Struct, kw_only=True):
    mode: str
    settings: CollaborationModeSettings | None = None


class TurnStartParams(WireStruct):
    __experimental__: ClassVar[dict[str, str]] = {
        "collaboration_mode": "collaborationMode",
        "responsesapi_client_metadata": "responsesapiClientMetadata",
    }

    thread_id: str
    input: list[UserInput]
    cwd: str | None = None
    approval_policy: AskForApproval | None = None
    approvals_reviewer: str | None = None
    sandbox_policy: SandboxPolicy | None = None
    model: str | None = None
    service_tier: str | None = None
    effort: str | None = None
    summary: str | None = None
    personality: str | None = None
    output_schema: Any = None
    collaboration_mode: CollaborationMode | None = None
    responsesapi_client_metadata: dict[str, str] | None = None
    client_user_message_id: str | None = None


class TurnStartResponse(WireStruct):
    turn: dict[str, Any]


class TurnSteerParams(WireStruct):
    __experimental__: ClassVar[dict[str, str]] = {
        "responsesapi_client_metadata": "responsesapiClientMetadata"
    }

    thread_id: str
    input: list[UserInput]
    expected_turn_id: str
    responsesapi_client_metadata: dict[str, str] | None = None


class TurnSteerResponse(WireStruct):
    turn_id: str


class TurnInterruptParams(WireStruct):
    thread_id: str
    turn_id: str


class TurnInterruptResponse(WireStruct):
    pass


class ThreadCompactStartParams(WireStruct):
    thread_id: str


class ThreadCompactStartResponse(WireStruct):
    pass


class ThreadInjectItemsParams(WireStruct):
    thread_id: str
    items: list[Any]


class ThreadInjectItemsResponse(WireStruct):
    pass


class TurnStartedNotification(WireStruct):
    thread_id: str
    turn: dict[str, Any]


class TurnCompletedNotification(WireStruct):
    thread_id: str
    turn: dict[str, Any]


class ItemNotification(WireStruct):
    thread_id: str
    turn_id: str
    item: dict[str, Any]


class DeltaNotification(WireStruct):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class ErrorNotification(WireStruct):
    error: dict[str, Any]
    will_retry: bool
    thread_id: str
    turn_id: str


class TokenUsageUpdatedNotification(WireStruct):
    thread_id: str
    turn_id: str
    token_usage: dict[str, Any]


REQUESTS = [
    MethodSpec("turn/start", TurnStartParams, TurnStartResponse),
    MethodSpec("turn/steer", TurnSteerParams, TurnSteerResponse),
    MethodSpec("turn/interrupt", TurnInterruptParams, TurnInterruptResponse),
    MethodSpec("thread/compact/start", ThreadCompactStartParams, ThreadCompactStartResponse),
    MethodSpec("thread/inject_items", ThreadInjectItemsParams, ThreadInjectItemsResponse),
]
NOTIFICATIONS: dict[str, Any] = {
    "turn/started": TurnStartedNotification,
    "turn/completed": TurnCompletedNotification,
    "item/started": ItemNotification,
    "item/completed": ItemNotification,
    "item/agentMessage/delta": DeltaNotification,
    "item/commandExecution/outputDelta": DeltaNotification,
    "error": ErrorNotification,
    "thread/tokenUsage/updated": TokenUsageUpdatedNotification,
}
