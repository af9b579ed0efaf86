"""What the model client yields (:data:`ModelEvent`) and raises (:class:`ModelError`).

Kept apart from the HTTP code so the turn engine and the wire translators can import them
without pulling in the transport. The events are frozen ``msgspec`` structs: defining one
costs a few microseconds where a slotted dataclass costs ~0.3 ms at import, and they are
created per streamed delta.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec


class TokenUsage(msgspec.Struct, frozen=True):
    """Token counts of one model call (``response.completed`` → ``usage``)."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def from_responses(cls, usage: dict[str, Any]) -> TokenUsage:
        def num(value: Any) -> int:
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        input_details = usage.get("input_tokens_details") or {}
        output_details = usage.get("output_tokens_details") or {}
        return cls(
            input_tokens=num(usage.get("input_tokens")),
            cached_input_tokens=num(input_details.get("cached_tokens")),
            output_tokens=num(usage.get("output_tokens")),
            reasoning_output_tokens=num(output_details.get("reasoning_tokens")),
            total_tokens=num(usage.get("total_tokens")),
        )

    def to_wire(self) -> dict[str, int]:
        """The app-server ``TokenUsageBreakdown`` shape (camelCase)."""
        return {
            "totalTokens": self.total_tokens,
            "inputTokens": self.input_tokens,
            "cachedInputTokens": self.cached_input_tokens,
            "outputTokens": self.output_tokens,
            "reasoningOutputTokens": self.reasoning_output_tokens,
        }


class Created(msgspec.Struct, frozen=True):
    """``response.created``: the model started answering."""

    response_id: str | None = None


class OutputItemAdded(msgspec.Struct, frozen=True):
    """``response.output_item.added``: a message/reasoning/tool-call item began."""

    item: dict[str, Any]


class OutputTextDelta(msgspec.Struct, frozen=True, tag_field="type",
                      tag="response.output_text.delta"):
    """``response.output_text.delta`` (tagged: its payload decodes straight into it)."""

    delta: str
    item_id: str | None = None
    output_index: int | None = None
    content_index: int | None = None


class ReasoningSummaryTextDelta(msgspec.Struct, frozen=True):
    delta: str
    summary_index: int
    item_id: str | None = None


class ReasoningSummaryPartAdded(msgspec.Struct, frozen=True):
    summary_index: int
    item_id: str | None = None


class ReasoningTextDelta(msgspec.Struct, frozen=True):
    delta: str
    content_index: int
    item_id: str | None = None


class ToolCallInputDelta(msgspec.Struct, frozen=True):
    """Streaming arguments of a ``function_call`` (``kind="function"``) or the input of a
    ``custom_tool_call`` (``kind="custom"``); only useful for live apply_patch progress."""

    delta: str
    kind: str
    item_id: str | None = None


class OutputItemDone(msgspec.Struct, frozen=True):
    """``response.output_item.done``: the complete, authoritative item."""

    item: dict[str, Any]


class Completed(msgspec.Struct, frozen=True):
    """``response.completed``. ``end_turn`` is the optional server hint (False = sample
    again)."""

    response_id: str
    usage: TokenUsage | None = None
    end_turn: bool | None = None


class RateLimits(msgspec.Struct, frozen=True):
    """A ``RateLimitSnapshot`` (wire shape, camelCase) read from response headers. One is
    always sent for ``limitId: "codex"`` after a successful HTTP answer (all-null windows
    when the provider sends no ``x-codex-*`` headers), plus one per other limit family."""

    snapshot: dict[str, Any]


class ServedModel(msgspec.Struct, frozen=True):
    """The model the server says answered (``openai-model`` response header)."""

    model: str


class SafetyBuffering(msgspec.Struct, frozen=True):
    """A ``safety_buffering`` object (on any Responses event, or on its ``response``): the
    service buffers the answer for extra checks. ``retry_model`` is the model it suggests."""

    use_cases: list[str]
    reasons: list[str]
    retry_model: str | None = None


class ResponseMetadata(msgspec.Struct, frozen=True):
    """What the service says about the answer besides its items: the account verifications
    ``response.metadata`` recommends (wire names, e.g. ``trusted_access_for_cyber``,
    deduplicated) and/or the ``safety_buffering`` an event carried."""

    verifications: tuple[str, ...] = ()
    safety: SafetyBuffering | None = None


class BufferingFallback(msgspec.Struct, frozen=True):
    """The ``x-codex-safety-buffering-faster-model`` answer header: the model to suggest
    when a ``safety_buffering`` object names none."""

    model: str


class StreamRetry(msgspec.Struct, frozen=True):
    """The sampling request failed with a retryable error and will be sent again after
    ``delay`` seconds. The engine should drop any partial output of the failed attempt
    and tell the client (``error`` with ``willRetry: true``, see :meth:`to_turn_error`)."""

    attempt: int
    max_retries: int
    delay: float
    error: ModelError

    @property
    def message(self) -> str:
        return f"Reconnecting... {self.attempt}/{self.max_retries}"

    def to_turn_error(self) -> dict[str, Any]:
        """``TurnError`` for the ``error`` notification sent while retrying."""
        return {
            "message": self.message,
            "codexErrorInfo": {"responseStreamDisconnected": {"httpStatusCode": None}},
            "additionalDetails": self.error.message,
        }


ModelEvent = (
    Created
    | OutputItemAdded
    | OutputTextDelta
    | ReasoningSummaryTextDelta
    | ReasoningSummaryPartAdded
    | ReasoningTextDelta
    | ServedModel
    | ResponseMetadata
    | BufferingFallback
    | ToolCallInputDelta
    | OutputItemDone
    | Completed
    | RateLimits
    | StreamRetry
)


@dataclass(eq=False)
class ModelError(Exception):
    """A sampling request failed for good (or, internally, before a retry).

    ``codex_error_info`` is the wire value of ``CodexErrorInfo`` (a string such as
    ``"internalServerError"`` or a dict such as ``{"httpConnectionFailed":
    {"httpStatusCode": 502}}``). ``kind`` is a stable tag for the engine:
    ``http``, ``connection``, ``stream``, ``context_window``, ``usage_limit``, ``quota``,
    ``usage_not_included``, ``server_overloaded``, ``invalid_request``, ``invalid_image``,
    ``unauthorized``, ``incomplete``, ``rate_limited``, ``config``.
    """

    message: str
    codex_error_info: Any = "other"
    http_status: int | None = None
    kind: str = "other"
    #: the whole sampling request may be sent again (stream-level retry)
    retryable: bool = False
    #: server-requested delay before a retry, seconds
    retry_after: float | None = None
    #: the HTTP request may be re-sent right away by the request-level retry loop
    request_retryable: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def to_turn_error(self) -> dict[str, Any]:
        """``TurnError`` wire shape: ``{message, codexErrorInfo, additionalDetails}``."""
        return {
            "message": self.message,
            "codexErrorInfo": self.codex_error_info,
            "additionalDetails": None,
        }
