"""Hook event names in their four spellings: ``PreToolUse`` (config), ``preToolUse``
(wire), ``pre_tool_use`` (keys) and ``pre-tool-use`` (run ids)."""

from __future__ import annotations

import re

#: every event, in the order handlers are listed and numbered within one source
EVENTS: tuple[str, ...] = (
    "PreModelRequest", "PostModelRequest", "PreToolUse", "PermissionRequest", "PostToolUse",
    "PreCompact", "PostCompact", "SessionStart", "SessionEnd", "UserPromptSubmit",
    "SubagentStart", "SubagentStop", "Stop", "Interrupt",
)

#: events that belong to the thread rather than to a turn
THREAD_SCOPED = frozenset({"SessionStart", "SessionEnd"})
#: events that use a matcher (it is part of their trust hash; others ignore it)
MATCHER_EVENTS = frozenset({"PreToolUse", "PermissionRequest", "PostToolUse", "PreCompact",
                            "PostCompact", "SessionStart", "SessionEnd", "SubagentStart",
                            "SubagentStop"})
#: events that must not hold up an ending session: 1 s by default, 3 s at most
SHORT_EVENTS = frozenset({"SessionEnd", "Interrupt"})
#: events around each model request (stateless: their output is only reported)
MODEL_EVENTS = frozenset({"PreModelRequest", "PostModelRequest"})
#: events whose matcher is tested against a tool name
TOOL_EVENTS = frozenset({"PreToolUse", "PostToolUse", "PermissionRequest"})


def _words(event: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Z][a-z]*", event)]


def camel(event: str) -> str:
    return event[0].lower() + event[1:]


def snake(event: str) -> str:
    return "_".join(_words(event))


def kebab(event: str) -> str:
    return "-".join(_words(event))
