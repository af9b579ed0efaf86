"""turn/start, turn/steer, turn/interrupt, thread/compact/start, thread/inject_items and
the notifications and server requests of running turns (item ones live in ``items``)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import msgspec

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec
from pycodex.protocol.types import items
from pycodex.protocol.types.items import (
    AskForApproval,
    SandboxPolicy,
    Turn,
    TurnError,
    UserInput,
)


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
    turn: Turn


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


# -- notifications the turn engine sends ------------------------------------------------
# One params type per method (the outbound facade finds the method by the type).


class TurnStartedNotification(WireStruct):
    thread_id: str
    turn: Turn


class TurnCompletedNotification(WireStruct):
    thread_id: str
    turn: Turn


class ErrorNotification(WireStruct):
    error: TurnError
    will_retry: bool
    thread_id: str
    turn_id: str


class TokenUsageBreakdown(WireStruct):
    total_tokens: int
    input_tokens: int
    cached_input_tokens: int
    cache_write_input_tokens: int
    output_tokens: int
    reasoning_output_tokens: int


class ThreadTokenUsage(WireStruct):
    total: TokenUsageBreakdown
    last: TokenUsageBreakdown
    model_context_window: int | None


class TokenUsageUpdatedNotification(WireStruct):
    thread_id: str
    turn_id: str
    token_usage: ThreadTokenUsage


class TurnPlanStep(WireStruct):
    step: str
    status: Literal["pending", "inProgress", "completed"]


class TurnPlanUpdatedNotification(WireStruct):
    thread_id: str
    turn_id: str
    explanation: str | None
    plan: list[TurnPlanStep]


class TurnDiffUpdatedNotification(WireStruct):
    thread_id: str
    turn_id: str
    diff: str


class ServerRequestResolvedNotification(WireStruct):
    thread_id: str
    request_id: int | str


class ThreadCompactedNotification(WireStruct):
    """``thread/compacted``: the thread's history was replaced by a summary."""

    thread_id: str
    turn_id: str


class WarningNotification(WireStruct):
    message: str
    thread_id: str | None = None


class ModelReroutedNotification(WireStruct):
    thread_id: str
    turn_id: str
    from_model: str
    to_model: str
    reason: str


class ModelVerificationNotification(WireStruct):
    """The service asks for extra account verification (``ModelVerification`` values)."""

    thread_id: str
    turn_id: str
    verifications: list[Literal["trustedAccessForCyber"]]


class TurnModerationMetadataNotification(WireStruct):
    """Opaque moderation metadata of a turn (any JSON). Published; the reference 0.171 and
    pycodex do not send it (docs/conformance.md)."""

    thread_id: str
    turn_id: str
    metadata: Any


class ModelSafetyBufferingUpdatedNotification(WireStruct):
    """The service holds the answer back for extra safety checks (``fasterModel``: the model
    it suggests retrying with)."""

    thread_id: str
    turn_id: str
    model: str
    use_cases: list[str]
    reasons: list[str]
    show_buffering_ui: bool
    faster_model: str | None = None


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
    "turn/plan/updated": TurnPlanUpdatedNotification,
    "turn/diff/updated": TurnDiffUpdatedNotification,
    "error": ErrorNotification,
    "thread/tokenUsage/updated": TokenUsageUpdatedNotification,
    "serverRequest/resolved": ServerRequestResolvedNotification,
    "thread/compacted": ThreadCompactedNotification,
    "warning": WarningNotification,
    "model/rerouted": ModelReroutedNotification,
    "model/verification": ModelVerificationNotification,
    "turn/moderationMetadata": TurnModerationMetadataNotification,
    "model/safetyBuffering/updated": ModelSafetyBufferingUpdatedNotification,
    **items.NOTIFICATIONS,
}
SERVER_REQUESTS = items.SERVER_REQUESTS
