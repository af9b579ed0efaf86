"""What pursuing a thread goal means for the engine: the input of the turn that starts
work on a newly set objective."""

from __future__ import annotations

from typing import Any

#: Wraps the objective so the model can tell a goal prompt from a user message.
_PROMPT = (
    "<codex_internal_context source=\"goal\">\n"
    "The user set a goal for this thread. Work toward it until it is done, then report "
    "what you did.\n\n<goal_objective>\n{objective}\n</goal_objective>\n"
    "</codex_internal_context>"
)


def goal_turn_input(objective: str) -> list[dict[str, Any]]:
    """The ``turn/start``-shaped input of a turn pursuing ``objective``."""
    return [{"type": "text", "text": _PROMPT.format(objective=objective), "text_elements": []}]
