"""A span per request. A W3C ``trace`` member on the request (``traceparent``) becomes the
span's parent; spans are logged at debug level with their trace and span ids."""

from __future__ import annotations

import logging
import os
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("pycodex.rpc.trace")

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(slots=True)
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    start: float = field(default_factory=time.perf_counter)

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"


current_span: ContextVar[Span | None] = ContextVar("current_span", default=None)


def parse_traceparent(trace: Any) -> tuple[str, str] | None:
    """``(trace_id, parent_span_id)`` from a W3C trace context object, if valid."""
    if not isinstance(trace, dict):
        return None
    value = trace.get("traceparent")
    if not isinstance(value, str):
        return None
    m = _TRACEPARENT.match(value.strip().lower())
    if not m or m.group(1) == "0" * 32 or m.group(2) == "0" * 16:
        return None
    return m.group(1), m.group(2)


def start_span(name: str, trace: Any = None, **attributes: Any) -> Span:
    parent = parse_traceparent(trace)
    outer = current_span.get()
    if parent:
        trace_id, parent_id = parent
    elif outer is not None:
        trace_id, parent_id = outer.trace_id, outer.span_id
    else:
        trace_id, parent_id = os.urandom(16).hex(), None
    return Span(name, trace_id, os.urandom(8).hex(), parent_id, dict(attributes))


def end_span(span: Span, **attributes: Any) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    span.attributes.update(attributes)
    logger.debug(
        "span %s closed",
        span.name,
        extra={
            "span": span.name,
            "trace_id": span.trace_id,
            "span_id": span.span_id,
            "parent_span_id": span.parent_span_id,
            "duration_ms": round((time.perf_counter() - span.start) * 1000, 3),
            **span.attributes,
        },
    )
