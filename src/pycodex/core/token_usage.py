"""Token accounting for a thread: totals across turns and the last model call."""

from __future__ import annotations

from typing import Any

import msgspec

from pycodex.core.model_events import TokenUsage
from pycodex.protocol.types.turns import ThreadTokenUsage, TokenUsageBreakdown

_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens",
           "total_tokens")


def _wire(usage: TokenUsage) -> TokenUsageBreakdown:
    return TokenUsageBreakdown(
        total_tokens=usage.total_tokens, input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens, cache_write_input_tokens=0,
        output_tokens=usage.output_tokens,
        reasoning_output_tokens=usage.reasoning_output_tokens)


def _rollout(usage: TokenUsage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_input_tokens": 0,
        "output_tokens": usage.output_tokens,
        "reasoning_output_tokens": usage.reasoning_output_tokens,
        "total_tokens": usage.total_tokens,
    }


def add(a: TokenUsage, b: TokenUsage) -> TokenUsage:
    return TokenUsage(**{f: getattr(a, f) + getattr(b, f) for f in _FIELDS})


class TokenLedger(msgspec.Struct):
    total: TokenUsage = msgspec.field(default_factory=TokenUsage)
    last: TokenUsage = msgspec.field(default_factory=TokenUsage)
    context_window: int | None = None

    def record(self, usage: TokenUsage) -> None:
        self.total = add(self.total, usage)
        self.last = usage

    def to_wire(self) -> ThreadTokenUsage:
        return ThreadTokenUsage(total=_wire(self.total), last=_wire(self.last),
                                model_context_window=self.context_window)

    def to_rollout(self) -> dict[str, Any]:
        return {
            "total_token_usage": _rollout(self.total),
            "last_token_usage": _rollout(self.last),
            "model_context_window": self.context_window,
        }

    @classmethod
    def from_rollout(cls, info: dict[str, Any] | None) -> TokenLedger:
        ledger = cls()
        if not isinstance(info, dict):
            return ledger

        def usage(raw: Any) -> TokenUsage:
            raw = raw if isinstance(raw, dict) else {}
            return TokenUsage(**{f: int(raw.get(f) or 0) for f in _FIELDS})

        ledger.total = usage(info.get("total_token_usage"))
        ledger.last = usage(info.get("last_token_usage"))
        window = info.get("model_context_window")
        ledger.context_window = window if isinstance(window, int) else None
        return ledger
