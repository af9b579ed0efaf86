"""Compaction: the history replaced by a model-written summary plus what must survive it
(the initial context and the most recent user messages)."""

from __future__ import annotations

from pycodex.core.turn.history import ResponseItem, message, message_text

COMPACT_PROMPT = (
    "You are handing this task over to another assistant that will continue it. Write a "
    "concise, structured summary of the conversation so far: the user's goal, what has been "
    "done and decided, important facts, constraints and preferences, and the next steps."
)

SUMMARY_PREFIX = (
    "Another assistant worked on this task before you and left this summary of the "
    "conversation so far. Build on it instead of repeating work:\n"
)

#: Token budget for the user messages kept verbatim across a compaction.
KEEP_USER_TOKENS = 20_000


def compact_prompt(configured: object) -> ResponseItem:
    """The request appended to the history to ask for the summary."""
    text = configured if isinstance(configured, str) and configured else COMPACT_PROMPT
    return message("user", text)


def summary_of(produced: list[ResponseItem]) -> str:
    """The summary the model wrote: its last assistant message."""
    for item in reversed(produced):
        if item.get("type") == "message" and item.get("role") == "assistant":
            return message_text(item)
    return ""


def compacted_history(history: list[ResponseItem], summary: str) -> list[ResponseItem]:
    """The history after compaction."""
    initial: list[ResponseItem] = []
    users: list[ResponseItem] = []
    for item in history:
        if item.get("type") != "message":
            continue
        text = message_text(item)
        if item.get("role") == "developer" or text.startswith(
            ("<environment_context>", "# AGENTS.md instructions")
        ):
            if len(initial) < 4:
                initial.append(item)
        elif item.get("role") == "user" and not text.startswith(
            ("<turn_aborted>", SUMMARY_PREFIX)
        ):
            users.append(item)
    kept: list[ResponseItem] = []
    budget = KEEP_USER_TOKENS
    for item in reversed(users):
        cost = _approx_tokens(message_text(item))
        if cost > budget:
            break
        kept.insert(0, item)
        budget -= cost
    return [*initial, *kept, message("user", SUMMARY_PREFIX + summary)]


def _approx_tokens(text: str) -> int:
    return (len(text.encode()) + 3) // 4
